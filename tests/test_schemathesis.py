"""Property-based API tests: schemathesis drives every operation of the COMMITTED spec.

The schema is ``openapi/openapi.json`` as committed (what clients are generated from), not
the one the app serves (test_openapi_contract.py keeps the two identical). Requests go
to the real app in-process (ASGI) on the session's real database, authenticated as a user
holding clerk, leader and admin roles so that most operations get past authorisation and
reach their validation and database code.

Every response must: not be a 5xx; have a documented status code; have a documented content
type; and have a body that conforms to the documented schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import delete, insert, select, text, update

from app.models import Register, RegisterClerk, Unit, User, UserRole
from app.services import organisation as org
from app.workflow.vocabulary import Role
from tests.conftest import DOCUMENT_TABLES, PASSWORD, document_body

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
FUZZER = "schemathesis_fuzzer"
FUZZER_ROLES = [Role.clerk, Role.leader, Role.admin]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Generated cases per operation (the coverage and examples phases add their own). 25 keeps
# the module to one or two minutes; raise it locally for a deeper search.
MAX_EXAMPLES = int(os.environ.get("CONGVAN_FUZZ_EXAMPLES", "25"))

schema = schemathesis.openapi.from_path(OPENAPI_PATH)

# Ids of a document and attachment seeded before each test. Random integers almost never
# name an existing document, so path parameters are drawn from these about half the time:
# that way the 200 responses (and their bodies) of the per-document operations are checked
# too, not only their 404s.
_seeded: dict[str, int] = {}


_USER_STATE = (User.id, User.full_name, User.unit_id, User.is_active, User.token_version, User.password_hash,
               User.email)


@schema.hook
def before_generate_path_parameters(_context: Any, strategy: st.SearchStrategy) -> st.SearchStrategy:
    def with_seeded(generated: dict[str, Any]) -> st.SearchStrategy:
        if not isinstance(generated, dict) or "document_id" not in generated or not _seeded:
            return st.just(generated)
        real = {name: _seeded[name] for name in generated if name in _seeded}
        return st.sampled_from([generated, {**generated, **real}])

    return strategy.flatmap(with_seeded)


@pytest.fixture(scope="module")
def fuzzer_headers(app: FastAPI) -> Iterator[dict[str, str]]:
    """A clerk+leader+admin user, logged in through the real token endpoint.

    The fuzzer creates units, users, registers, delegations and calendar overrides with random
    values; all are removed afterwards so that later tests see the session's organisation and
    calendar unchanged.
    """
    sessionmaker = app.state.sessionmaker
    with sessionmaker() as session:
        before = {
            model: set(session.scalars(select(model.id))) for model in (Unit, User, Register)
        }
        # The fuzzer is an admin: it may change, deactivate or revoke the tokens of any user it
        # names. The session's users are put back as they were afterwards, tokens included.
        users_before = [dict(row._mapping) for row in session.execute(select(*_USER_STATE))]
        roles_before = [dict(row._mapping) for row in session.execute(select(UserRole.user_id, UserRole.role))]
        org.create_user(session=session, username=FUZZER, password=PASSWORD, roles=FUZZER_ROLES, unit_code="VP")
        org.ensure_default_register(session=session)
        session.commit()
    with TestClient(app) as client:
        response = client.post("/api/v1/auth/token", data={"username": FUZZER, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
    yield {"Authorization": f"Bearer {token}"}

    with app.state.engine.begin() as conn:
        # Documents (and delegations, calendar overrides) go first, as before every test
        # (tests/conftest.py): they point at the users and registers removed next.
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(DOCUMENT_TABLES)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("DELETE FROM incoming_documents WHERE duplicate_of_id IS NOT NULL"))
            for table in DOCUMENT_TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        new_registers = set(conn.scalars(select(Register.id))) - before[Register]
        new_users = set(conn.scalars(select(User.id))) - before[User]
        new_units = set(conn.scalars(select(Unit.id))) - before[Unit]
        conn.execute(delete(RegisterClerk).where(RegisterClerk.register_id.in_(new_registers)))
        conn.execute(delete(Register).where(Register.id.in_(new_registers)))
        conn.execute(delete(RegisterClerk).where(RegisterClerk.user_id.in_(new_users)))
        conn.execute(delete(UserRole).where(UserRole.user_id.in_(new_users)))
        conn.execute(delete(User).where(User.id.in_(new_users)))
        for row in users_before:
            conn.execute(update(User).where(User.id == row["id"]).values(**{k: v for k, v in row.items() if k != "id"}))
        conn.execute(delete(UserRole).where(UserRole.user_id.in_([row["id"] for row in users_before])))
        if roles_before:
            conn.execute(insert(UserRole), roles_before)
        # parent_id is ON DELETE RESTRICT, checked row by row: unlink the new units first.
        conn.execute(update(Unit).where(Unit.id.in_(new_units)).values(parent_id=None))
        conn.execute(delete(Unit).where(Unit.id.in_(new_units)))


@pytest.fixture
def seeded(app: FastAPI, fuzzer_headers: dict[str, str]) -> Iterator[dict[str, int]]:
    """One registered document with one attachment, so lists and lookups have something to return."""
    with TestClient(app) as client:
        doc = client.post("/api/v1/incoming-documents", json=document_body(), headers=fuzzer_headers)
        assert doc.status_code == 201, doc.text
        document_id = doc.json()["id"]
        att = client.post(
            f"/api/v1/incoming-documents/{document_id}/attachments",
            files={"file": ("bao-cao.txt", "Báo cáo sơ kết".encode(), "text/plain")},
            headers=fuzzer_headers,
        )
        assert att.status_code == 201, att.text
    _seeded.update(document_id=document_id, attachment_id=att.json()["id"])
    yield dict(_seeded)
    _seeded.clear()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api_conforms_to_committed_spec(
    case: schemathesis.Case, app: FastAPI, fuzzer_headers: dict[str, str], seeded: dict[str, int]
) -> None:
    case.call_and_validate(app=app, headers=fuzzer_headers, checks=CHECKS)


# --- Inputs the fuzzer (and probing around what it found) turned up, pinned ------------------
# Each once gave a 500 or an undocumented response, on SQLite, PostgreSQL or both.


def _assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    return problem


def test_every_error_response_in_the_spec_is_a_problem() -> None:
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if (path, status) == ("/health", "503"):  # the health report itself, saying what is down
                    assert response["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}
                    continue
                if int(status) >= 400:
                    assert response["content"] == {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }, f"{method.upper()} {path} {status}"
            if "requestBody" in operation:
                assert "400" in operation["responses"], f"{method.upper()} {path}"


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/incoming-documents/{2**63}",
        f"/api/v1/incoming-documents/{2**31}/attachments",
        f"/api/v1/incoming-documents/1/attachments/{2**64}",
        "/api/v1/incoming-documents/0",
        f"/api/v1/incoming-documents?offset={2**63}",
        f"/api/v1/incoming-documents?year={2**70}",
        "/api/v1/incoming-documents?received_from=0001-01-01",
        "/api/v1/incoming-documents?received_to=9999-12-31",
    ],
)
def test_out_of_range_numbers_and_dates_in_the_url_are_422(client: TestClient, as_user: Any, url: str) -> None:
    problem = _assert_problem(client.get(url, headers=as_user("clerk")), 422)
    assert problem["errors"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"received_at": "9999-12-31T23:59:59-12:00"},
        {"received_at": "0001-01-01T00:00:00+14:00", "document_date": "0001-01-01"},
        {"due_date": "9999-12-31"},
    ],
)
def test_out_of_range_dates_in_a_registration_are_422(
    client: TestClient, as_user: Any, overrides: dict[str, str]
) -> None:
    response = client.post("/api/v1/incoming-documents", json=document_body(**overrides), headers=as_user("clerk"))
    problem = _assert_problem(response, 422)
    assert {e["field"] for e in problem["errors"]} <= set(overrides)


def test_a_body_that_is_not_utf8_is_a_documented_400(client: TestClient, as_user: Any) -> None:
    response = client.post(
        "/api/v1/units",
        content=b'{"code": "\xff\xfe"}',
        headers={**as_user("admin"), "Content-Type": "application/json"},
    )
    _assert_problem(response, 400)


@pytest.mark.parametrize("name", ["q", "issuer", "register_code", "unit_code"])
def test_nul_in_a_search_filter_is_dropped_like_other_control_characters(
    client: TestClient, as_user: Any, name: str
) -> None:
    headers = as_user("clerk")
    assert client.post("/api/v1/incoming-documents", json=document_body(), headers=headers).status_code == 201
    value = {"q": "b\x00ao cao", "issuer": "Binh\x00 Duong", "register_code": "ma\x00in", "unit_code": "\x00"}[name]
    response = client.get("/api/v1/incoming-documents", params={name: value}, headers=headers)
    assert response.status_code == 200, response.text
    # "unit_code" is empty once the NUL is gone, so it does not filter; the others match.
    assert response.json()["total"] == 1


def test_nul_in_a_username_is_an_unknown_user(client: TestClient, as_user: Any) -> None:
    login = client.post("/api/v1/auth/token", data={"username": "clerk\x00", "password": PASSWORD})
    _assert_problem(login, 401)
    register = client.post(
        "/api/v1/registers",
        json={"code": "nul-test", "name": "NUL", "confidential": True, "clerk_usernames": ["clerk\x00"]},
        headers=as_user("admin"),
    )
    problem = _assert_problem(register, 422)
    assert problem["errors"][0]["field"] == "clerk_usernames"


@pytest.mark.parametrize(
    ("declared", "stored"),
    [
        (b"text/plain; charset=utf-8", "text/plain; charset=utf-8"),
        (b"application/pdf", "text/plain; charset=utf-8"),
        (b"text/html", "text/plain; charset=utf-8"),
        (b"text/pl\x00ain", "text/plain; charset=utf-8"),
        ("văn bản/pdf".encode(), "text/plain; charset=utf-8"),
        (b"not a media type", "text/plain; charset=utf-8"),
    ],
)
def test_an_attachment_type_comes_from_its_bytes_whatever_is_declared(
    client: TestClient, as_user: Any, declared: bytes, stored: str
) -> None:
    headers = as_user("clerk")
    document_id = client.post("/api/v1/incoming-documents", json=document_body(), headers=headers).json()["id"]
    multipart = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        b"Content-Type: " + declared + b"\r\n\r\nhello\r\n--BOUNDARY--\r\n"
    )
    upload = client.post(
        f"/api/v1/incoming-documents/{document_id}/attachments",
        content=multipart,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=BOUNDARY"},
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["content_type"] == stored
    attachment_id = upload.json()["id"]
    download = client.get(f"/api/v1/incoming-documents/{document_id}/attachments/{attachment_id}", headers=headers)
    assert download.status_code == 200
    assert download.content == b"hello"
    assert download.headers["content-type"].startswith(stored.split(";")[0])


@pytest.mark.parametrize("output", ["csv", "xlsx"])
def test_a_register_code_that_is_not_ascii_still_names_the_download(
    client: TestClient, as_user: Any, output: str
) -> None:
    response = client.get(
        "/api/v1/audit/register-book", params={"format": output, "register_code": "Ā\"x"}, headers=as_user("auditor")
    )
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''so-den-%C4%80%22x-")
    assert disposition.endswith(f".{output}")


@pytest.mark.parametrize("path", ["stage-durations", "processing-times", "register-book"])
def test_nul_in_an_audit_register_code_is_dropped(client: TestClient, as_user: Any, path: str) -> None:
    response = client.get(
        f"/api/v1/audit/{path}", params={"format": "csv", "register_code": "ma\x00in"}, headers=as_user("auditor")
    )
    assert response.status_code == 200, response.text
