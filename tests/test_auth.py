"""Logging in, tokens, and the rule that everything but a few public paths needs one."""

import pytest
from sqlalchemy import select

from app.models import User
from tests.conftest import PASSWORD

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
    from app.db import make_sessionmaker

    with make_sessionmaker(engine)() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "clerk"))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
