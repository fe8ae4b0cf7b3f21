"""A client generated from the committed spec works, and the generator has nothing to warn about.

Client developers generate their code from ``openapi/openapi.json`` with openapi-python-client
(``openapi/openapi-python-client.yaml`` maps the file media types to bytes). This test does the
same into a temporary directory, fails on any warning the generator prints, then uses only the
generated functions against a real server: log in, register a document, download its slip PDF,
the register book (XLSX and CSV) and a CSV figure.

Needs the ``openapi-python-client`` command, in an environment of its own (see ``GENERATOR``);
``.ci/run`` installs it. Skipped without it, unless
``CONGVAN_REQUIRE_BROWSER`` is set (CI), where its absence is a failure.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, LiveServer, document_body, start_server

ROOT = Path(__file__).resolve().parent.parent
# The generator lives in a virtual environment of its own (it pins httpx below the version the
# app is tested with): CONGVAN_OPENAPI_PYTHON_CLIENT names its command; else it is looked up on PATH.
GENERATOR = os.environ.get("CONGVAN_OPENAPI_PYTHON_CLIENT") or shutil.which("openapi-python-client") or ""


def _generator_or_skip() -> str:
    if GENERATOR and Path(GENERATOR).exists():
        return GENERATOR
    how = "python3 -m venv /tmp/opc && /tmp/opc/bin/pip install openapi-python-client, then " \
          "CONGVAN_OPENAPI_PYTHON_CLIENT=/tmp/opc/bin/openapi-python-client"
    if os.environ.get("CONGVAN_REQUIRE_BROWSER"):
        pytest.fail(f"openapi-python-client is required here ({how})")
    pytest.skip(f"openapi-python-client is not installed ({how})")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Everything the generator printed; meanwhile its package ``congvan_client`` is importable."""
    out = tmp_path_factory.mktemp("generated")
    run = subprocess.run(
        [_generator_or_skip(), "generate", "--path", str(ROOT / "openapi/openapi.json"),
         "--config", str(ROOT / "openapi/openapi-python-client.yaml"), "--meta", "none"],
        cwd=out, capture_output=True, text=True, timeout=300,
    )
    printed = run.stdout + run.stderr
    assert run.returncode == 0, printed
    sys.path.insert(0, str(out))
    try:
        yield printed
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "congvan_client" or m.startswith("congvan_client.")]:
            del sys.modules[name]


@pytest.fixture
def server(settings, staff) -> Iterator[LiveServer]:
    live = start_server(settings)
    try:
        yield live
    finally:
        live.process.terminate()
        live.process.wait(timeout=30)


def test_the_generator_has_no_warnings(generated):
    lines = [line for line in generated.splitlines() if line.strip()]
    assert lines and all(line.startswith("Generating ") for line in lines), generated


def test_a_script_using_only_the_generated_client_downloads_the_files(generated, server):
    client_module = importlib.import_module("congvan_client.client")
    models = importlib.import_module("congvan_client.models")
    api = "congvan_client.api."
    token = importlib.import_module(api + "auth.auth_token")
    register = importlib.import_module(api + "documents.documents_register")
    slip_pdf = importlib.import_module(api + "workflow.slip_pdf")
    book_xlsx = importlib.import_module(api + "audit.audit_register_book_xlsx")
    book_csv = importlib.import_module(api + "audit.audit_register_book_csv")
    times_csv = importlib.import_module(api + "audit.audit_processing_times_csv")

    def session(username: str):
        anonymous = client_module.Client(base_url=server.base_url)
        issued = token.sync(client=anonymous, body=models.LoginForm(username=username, password=PASSWORD))
        assert isinstance(issued, models.Token), issued
        return client_module.AuthenticatedClient(base_url=server.base_url, token=issued.access_token)

    clerk = session("clerk")
    created = register.sync(client=clerk, body=models.DocumentCreate.from_dict(document_body()))
    assert isinstance(created, models.DocumentOut), created
    assert created.arrival_number >= 1

    pdf = slip_pdf.sync_detailed(document_id=created.id, client=clerk)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    auditor = session("auditor")
    year = {"from_": date(2013, 1, 1), "to": date(2013, 12, 31)}
    xlsx = book_xlsx.sync_detailed(client=auditor, **year)
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK\x03\x04")  # a zip: the XLSX container

    book = book_csv.sync_detailed(client=auditor, **year)
    assert book.status_code == 200
    rows = list(csv.reader(io.StringIO(book.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and "08/BC-BCĐ" in rows[1]  # the header and the one document

    figure = times_csv.sync_detailed(client=auditor, **year)
    assert figure.status_code == 200
    header = next(csv.reader(io.StringIO(figure.content.decode("utf-8-sig"))))
    assert header and all(header), header
