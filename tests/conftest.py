"""Test fixtures: a real database built by ``alembic upgrade head``, real HTTP through the app.

The database is SQLite in a temporary directory, or whatever ``CONGVAN_TEST_DATABASE_URL``
names (CI points it at a fresh PostgreSQL database). Organisation rows (units, users) are
created once per session; document tables are emptied before every test so tests never
share documents or arrival numbers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from app.migrate import upgrade_to_head
from app.services import organisation as org
from app.workflow.vocabulary import Role
from tests.marks import mark_differences

PASSWORD = "correct horse battery staple"

_request = TestClient.request


def _checked_request(self: TestClient, method: str, url: httpx._types.URLTypes, **kwargs: object) -> httpx.Response:
    """Every request of the suite: asked in English unless the test says otherwise, and every
    error of the API checked for the problem shape clients rely on (API.md, Errors).

    The tests read the English texts, the code's own; tests/test_error_messages.py asks for
    Vietnamese, and sets ``default_language = None`` on its client to see what a client that
    names no language gets.
    """
    language = getattr(self, "default_language", "en")
    headers = httpx.Headers(kwargs.pop("headers", None) or {})  # type: ignore[arg-type]
    if language and "accept-language" not in headers and "accept-language" not in self.headers:
        headers["Accept-Language"] = language
    return _request(self, method, url, headers=headers, **kwargs)  # type: ignore[arg-type]


_send = httpx.Client.send


def _checked_send(self: httpx.Client, request: httpx.Request, **kwargs: object) -> httpx.Response:
    """Every answer of the API the suite receives, through the ASGI app or a running server."""
    response = _send(self, request, **kwargs)  # type: ignore[arg-type]
    path = request.url.path
    if (response.status_code >= 400 and path.startswith("/api/") and not path.endswith("/health")
            and not kwargs.get("stream")):
        response.read()
        assert_problem(response)
    return response


def assert_problem(response: httpx.Response) -> None:
    """A 4xx/5xx of the API is problem+json with a ``code``, and each ``errors`` item has field, code, message."""
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    assert response.headers.get("content-type", "").startswith("application/problem+json"), where
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], f"{where}: no code in {body}"
    assert body.get("status") == response.status_code, where
    assert response.headers.get("content-language") in ("vi", "en"), where
    for item in body.get("errors") or []:
        assert {"field", "code", "message"} <= set(item) <= {"field", "code", "message", "line", "column"}, item
        assert item["field"] and item["code"] and item["message"], f"{where}: {item}"
        assert item["field"] != "body" or body["code"] != "validation.failed", f"{where}: field 'body' in {item}"


TestClient.request = _checked_request  # type: ignore[method-assign]
httpx.Client.send = _checked_send  # type: ignore[method-assign]

# Tables emptied before each test, children first.
DOCUMENT_TABLES = [
    "webhook_deliveries",
    "webhooks",
    "digests",
    "reminder_scans",
    "notifications",
    "signature_checks",
    "exchange_outbox",
    "exchange_attachments",
    "exchange_messages",
    "security_events",  # the login throttle counts it: each test starts with no failures
    "revoked_tokens",
    "indicator_records",
    "appendix_rows",
    "project_records",
    "appendix_groups",
    "appendices",
    "reports",
    "delegations",
    "calendar_overrides",
    "idempotency_keys",
    "attachments",
    "document_events",
    "assignments",
    "incoming_documents",
    "register_counters",
]

# username → (unit, roles); the organisation every test can rely on.
STAFF = {
    "clerk": ("VP", [Role.clerk]),
    "secret_clerk": ("VP", [Role.clerk]),
    "office_leader": ("VP", [Role.office_leader]),
    "leader": ("LDB", [Role.leader]),
    "unit_leader_vp": ("VP", [Role.unit_leader]),
    "unit_leader_ttd": ("TTĐ", [Role.unit_leader]),
    "specialist": ("VP", [Role.specialist]),
    "auditor": ("VP", [Role.auditor]),
    "admin": ("VP", [Role.admin]),
    "hub": (None, [Role.exchange]),
}
UNITS = {"LDB": "Lãnh đạo Bộ", "VP": "Văn phòng", "VPB": "Văn phòng Ban", "TTĐ": "Trung tâm Thông tin"}
SECRET_REGISTER = "mat"


def _database_url(tmp: Path) -> str:
    return os.environ.get("CONGVAN_TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"


def _reset_schema(url: str) -> None:
    """Start from an empty database so the migrations build everything."""
    if url.startswith("sqlite"):
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("congvan-data")
    url = _database_url(data_dir)
    _reset_schema(url)
    test_settings = Settings(data_dir=data_dir, database_url=url, organ_id="000.00.00.H41", run_worker=False)
    upgrade_to_head(test_settings)
    return test_settings


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def staff(engine: Engine) -> dict[str, str]:
    """Create units, one user per role and a confidential register; return username → password."""
    with make_sessionmaker(engine)() as session:
        for code, name in UNITS.items():
            org.create_unit(session=session, code=code, name=name)
        for username, (unit, roles) in STAFF.items():
            org.create_user(
                session=session, username=username, password=PASSWORD, roles=roles, unit_code=unit,
                full_name=username.replace("_", " ").title(),
            )
        org.create_register(
            session=session, code=SECRET_REGISTER, name="Sổ văn bản mật", confidential=True,
            clerk_usernames=["secret_clerk"],
        )
        session.commit()
    return {username: PASSWORD for username in STAFF}


@pytest.fixture(scope="session")
def app(settings: Settings, staff: dict[str, str]) -> FastAPI:
    return create_app(settings)


@pytest.fixture(autouse=True)
def _clean_documents(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty the document tables before a test that uses the database; after it, hold the stored
    deadline marks of whatever it wrote against the rule (tests/marks.py)."""
    if "engine" not in request.fixturenames and "app" not in request.fixturenames:
        yield
        return
    eng = request.getfixturevalue("engine")
    empty_document_tables(eng)
    yield
    with make_sessionmaker(eng)() as session:
        problems = mark_differences(session)
    assert not problems, f"stored deadline marks differ from the rule: {problems[:5]}"


def empty_document_tables(eng: Engine) -> None:
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            # TRUNCATE, because the append-only trigger refuses DELETE on document_events.
            conn.execute(text(f"TRUNCATE {', '.join(DOCUMENT_TABLES)} RESTART IDENTITY CASCADE"))
            return
        for table in DOCUMENT_TABLES:
            if table == "incoming_documents":  # duplicates point at their original
                conn.execute(text("DELETE FROM incoming_documents WHERE duplicate_of_id IS NOT NULL"))
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


_tokens: dict[str, str] = {}


def login(client: TestClient | httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization header for ``username``, logging in through the real token endpoint once."""
    if username not in _tokens:
        response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        _tokens[username] = response.json()["access_token"]
    return {"Authorization": f"Bearer {_tokens[username]}"}


@pytest.fixture
def as_user(client: TestClient):  # noqa: ANN201
    """``as_user("clerk")`` → headers for that staff member."""
    return lambda username: login(client, username)


def document_body(**overrides: object) -> dict[str, object]:
    """A valid registration body, the seed's document unless overridden."""
    body: dict[str, object] = {
        "symbol": "08/BC-BCĐ",
        "document_date": "2013-08-12",
        "issuer": "Ban chỉ đạo chương trình CNTT tỉnh Bình Dương",
        "summary": "Báo cáo sơ kết 02 năm thực hiện Quyết định số 721/QĐ-UBND ngày 11/03/2011 của UBND tỉnh "
        "về việc ban hành Kế hoạch ứng dụng CNTT trong hoạt động của cơ quan nhà nước tỉnh Bình Dương",
        "urgency": "normal",
        "received_at": "2013-08-15T08:30:00+07:00",
    }
    body.update(overrides)
    return body


# --- a real server in another process, for tests of concurrency across processes -------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]


def start_server(settings: Settings) -> LiveServer:
    port = _free_port()
    env = {
        **os.environ,
        "CONGVAN_DATA_DIR": str(settings.data_dir),
        "CONGVAN_DATABASE_URL": settings.resolved_database_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return LiveServer(base_url, process)
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError("server exited during start-up")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start in 30 s")


@pytest.fixture(scope="session")
def live_servers(settings: Settings, staff: dict[str, str]) -> Iterator[list[LiveServer]]:
    """Two uvicorn processes on the same database."""
    servers = [start_server(settings), start_server(settings)]
    yield servers
    for server in servers:
        server.process.terminate()
    for server in servers:
        server.process.wait(timeout=10)
