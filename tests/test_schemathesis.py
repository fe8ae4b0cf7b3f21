"""Property-based API tests: schemathesis drives every operation of the COMMITTED spec.

The schema is ``openapi/openapi.json`` as committed (what clients are generated from), not
the one the app serves, so a drift between the two shows up here as a failure. Requests go
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
from sqlalchemy import delete, select, text, update

from app.models import Register, RegisterClerk, Unit, User, UserRole
from app.services import organisation as org
from app.workflow.vocabulary import Role
from tests.conftest import DOCUMENT_TABLES, PASSWORD, document_body

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
FUZZER = "schemathesis_fuzzer"
FUZZER_ROLES = [Role.clerk, Role.leader, Role.admin]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Generated cases per operation (the coverage and examples phases add their own). 30 keeps
# the module well under a minute on SQLite; raise it locally for a deeper search.
MAX_EXAMPLES = int(os.environ.get("CONGVAN_FUZZ_EXAMPLES", "30"))

schema = schemathesis.openapi.from_path(OPENAPI_PATH)

# Ids of a document and attachment seeded before each test. Random integers almost never
# name an existing document, so path parameters are drawn from these about half the time:
# that way the 200 responses (and their bodies) of the per-document operations are checked
# too, not only their 404s.
_seeded: dict[str, int] = {}


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

    The fuzzer creates units, users and registers with random codes; they are removed
    afterwards so that later tests see the session's organisation unchanged.
    """
    sessionmaker = app.state.sessionmaker
    with sessionmaker() as session:
        before = {
            model: set(session.scalars(select(model.id))) for model in (Unit, User, Register)
        }
        org.create_user(session=session, username=FUZZER, password=PASSWORD, roles=FUZZER_ROLES, unit_code="VP")
        org.ensure_default_register(session=session)
        session.commit()
    with TestClient(app) as client:
        response = client.post("/api/v1/auth/token", data={"username": FUZZER, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
    yield {"Authorization": f"Bearer {token}"}

    with app.state.engine.begin() as conn:
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


def test_committed_spec_covers_the_app(app: FastAPI) -> None:
    """The spec under test is the app's own (else this module would fuzz a stale contract)."""
    committed = {(m.upper(), p) for p, item in schema.raw_schema["paths"].items() for m in item}
    served = {(m.upper(), p) for p, item in app.openapi()["paths"].items() for m in item}
    assert committed == served


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
