"""Logging in, tokens, and the rule that everything but a few public paths needs one."""

from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.db import make_sessionmaker
from app.main import create_app
from app.models import User
from app.services import organisation as org
from app.workflow.vocabulary import Role
from tests.conftest import PASSWORD, login

PROTECTED = [
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/units"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/registers"),
    ("GET", "/api/v1/incoming-documents"),
    ("POST", "/api/v1/incoming-documents"),
    ("GET", "/api/v1/incoming-documents/1"),
    ("GET", "/api/v1/incoming-documents/1/attachments"),
]


def test_login_returns_bearer_token_and_me_describes_the_user(client):
    response = client.post("/api/v1/auth/token", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {"username": "clerk", "full_name": "Clerk", "unit_code": "VP", "roles": ["clerk"]}


@pytest.mark.parametrize("username,password", [("clerk", "wrong password"), ("nobody", PASSWORD)])
def test_bad_credentials_get_401_problem(client, username, password):
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401


@pytest.mark.parametrize("method,path", PROTECTED)
def test_no_token_gets_401(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:congvan:problem:not-authenticated"


def test_forged_token_gets_401(client):
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs", "/redoc"])
def test_public_paths_need_no_token(client, path):
    assert client.get(path).status_code == 200


def test_passwords_are_stored_as_argon2_hashes(engine, staff):

    with make_sessionmaker(engine)() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "clerk"))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def _user_leaving(engine, username: str) -> None:
    with make_sessionmaker(engine)() as session:
        if org.get_user(session=session, username=username) is None:
            org.create_user(session=session, username=username, password=PASSWORD, roles=[Role.clerk], unit_code="VP")
        session.get(User, session.scalar(select(User.id).where(User.username == username))).is_active = True
        session.commit()


def _deactivate(engine, username: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(User).where(User.username == username).values(is_active=False))


@contextmanager
def _client_of_a_leaving_clerk(settings, engine, username: str):
    """An app of its own, its client, and an active clerk's headers."""
    _user_leaving(engine, username)
    app = create_app(settings)
    with TestClient(app) as client:
        yield app, client, login(client, username)


def test_a_user_deactivated_in_the_database_is_refused_on_the_next_request(settings, engine):
    with _client_of_a_leaving_clerk(settings, engine, "leaving_clerk") as (app, client, headers):
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        _deactivate(engine, "leaving_clerk")
        refused = client.get("/api/v1/auth/me", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert client.post("/api/v1/auth/token", data={"username": "leaving_clerk", "password": PASSWORD}).status_code == 401
