"""A PostgreSQL outage under a running server: 503 with Retry-After, one log line, no traceback per
request, nothing half-written, and the service back by itself when the database is.

The outage is real but private: the server runs on a database of its own, which is closed to new
connections (``ALLOW_CONNECTIONS false``) and whose sessions are ended (``pg_terminate_backend``),
as a restart would; the shared PostgreSQL server keeps running for everyone else.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.migrate import upgrade_to_head
from app.services import organisation as org
from app.workflow.vocabulary import Role
from tests.conftest import PASSWORD, _free_port, document_body

DOCS = "/api/v1/incoming-documents"


def _set_allowed(admin: Connection, name: str, allowed: bool) -> None:
    admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
    if not allowed:
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        for _ in range(100):
            if not admin.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :n"),
                                 {"n": name}).scalar_one():
                return
            time.sleep(0.05)


@pytest.fixture
def own_database(settings: Settings, tmp_path: Path) -> Iterator[tuple[Settings, Connection, str]]:
    """A migrated database of this test's own, with a clerk; (its settings, an admin connection, its name)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL's outage; SQLite's are in tests/test_failures.py")
    name = f"{url.database}_outage"
    admin_engine = create_engine(url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as admin:
        admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            own = Settings(data_dir=tmp_path, database_url=url.set(database=name).render_as_string(hide_password=False))
            upgrade_to_head(own)
            engine = make_engine(own)
            with make_sessionmaker(engine)() as session:
                org.create_unit(session=session, code="VP", name="Văn phòng")
                org.create_user(session=session, username="clerk", password=PASSWORD, roles=[Role.clerk],
                                unit_code="VP", full_name="Clerk")
                session.commit()
            engine.dispose()
            yield own, admin, name
        finally:
            _set_allowed(admin, name, True)
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture
def server(own_database, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """uvicorn on that database; (its URL, its log file)."""
    own, _admin, _name = own_database
    port = _free_port()
    log_path = tmp_path / "server.log"
    env = {**os.environ, "CONGVAN_DATA_DIR": str(own.data_dir), "CONGVAN_DATABASE_URL": own.resolved_database_url}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        yield base_url, log_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_postgres_outage_is_503_logged_once_and_the_service_recovers_by_itself(own_database, server):
    _own, admin, name = own_database
    base_url, log_path = server
    with httpx.Client(base_url=base_url, timeout=10) as http:
        token = http.post("/api/v1/auth/token", data={"username": "clerk", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        first = http.post(DOCS, json=document_body(symbol="1/BC-A"), headers=headers)
        assert first.status_code == 201 and first.json()["arrival_number"] == 1

        _set_allowed(admin, name, False)  # the database goes away, with every pooled connection
        answers = [http.get(DOCS, headers=headers) for _ in range(15)]
        answers += [http.post(DOCS, json=document_body(symbol=f"{i}/BC-B"), headers=headers) for i in range(5)]
        health = http.get("/health")

        _set_allowed(admin, name, True)  # and comes back
        after = [http.get(DOCS, headers=headers) for _ in range(5)]
        registered = http.post(DOCS, json=document_body(symbol="2/BC-A"), headers=headers)

    for response in answers:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
    assert health.status_code == 503
    assert health.json()["database"]["status"] == "unavailable"
    assert "not currently accepting connections" in health.json()["database"]["reason"]
    assert health.json()["storage"]["status"] == "ok"

    assert [r.status_code for r in after] == [200] * 5
    assert after[0].json()["total"] == 1  # none of the refused registrations was half-written
    assert registered.status_code == 201 and registered.json()["arrival_number"] == 2  # no gap

    log = log_path.read_text()
    assert "Traceback" not in log, log
    reports = [line for line in log.splitlines() if "database is unavailable" in line]
    assert len(reports) == 1, log  # twenty refused requests within ten seconds: one line


def test_console_pages_during_an_outage_are_503_pages_and_come_back(own_database, server):
    """The console says it in a page (its language, Retry-After), not JSON and not a 500; the session
    survives the outage (the cookie's token is checked again once the database is back)."""
    _own, admin, name = own_database
    base_url, log_path = server
    with httpx.Client(base_url=base_url, timeout=10) as browser:
        form = browser.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        assert browser.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                                    "csrf_token": csrf}).status_code == 303
        assert browser.get("/console/").status_code == 200

        _set_allowed(admin, name, False)
        down = [browser.get(path) for path in ("/console/", "/console/documents", "/console/documents/1")]
        _set_allowed(admin, name, True)
        back = browser.get("/console/documents")

    for answer in down:
        assert answer.status_code == 503, answer.text[:300]
        assert answer.headers["content-type"].startswith("text/html")
        assert int(answer.headers["retry-after"]) > 0
        assert "cơ sở dữ liệu" in answer.text  # Vietnamese, for a person
    assert back.status_code == 200
    assert "Traceback" not in log_path.read_text()
