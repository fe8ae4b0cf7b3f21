"""Logging in, tokens, and the rule that everything but a few public paths needs one."""

from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.api.recent_users import RecentUsers
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
def _client_of_a_leaving_clerk(settings, engine, username: str, cache_seconds: float):
    """An app whose auth cache keeps users ``cache_seconds``, its client, and an active clerk's headers."""
    _user_leaving(engine, username)
    app = create_app(settings.model_copy(update={"auth_cache_seconds": cache_seconds}))
    with TestClient(app) as client:
        yield app, client, login(client, username)


def test_a_deactivated_user_is_refused_at_once_without_the_cache(settings, engine):
    with _client_of_a_leaving_clerk(settings, engine, "leaving_clerk", 0) as (app, client, headers):
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        _deactivate(engine, "leaving_clerk")
        refused = client.get("/api/v1/auth/me", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert client.post("/api/v1/auth/token", data={"username": "leaving_clerk", "password": PASSWORD}).status_code == 401
        assert len(app.state.recent_users) == 0


def test_the_cache_serves_a_token_for_its_window_only(settings, engine):
    """Within the window the user loaded for a token is reused (a deactivation shows once it
    ends, here forced by ``forget_all``); how the window ends is tested on ``RecentUsers`` below."""
    with _client_of_a_leaving_clerk(settings, engine, "leaving_clerk_2", 60) as (app, client, headers):
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        assert len(app.state.recent_users) == 1
        _deactivate(engine, "leaving_clerk_2")
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        app.state.recent_users.forget_all()
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_recent_users_expire_after_the_window_and_never_outlive_the_token():
    ticks, wall = _Clock(100.0), _Clock(1_000_000.0)
    recent = RecentUsers(5, clock=ticks, wall_clock=wall)
    someone, other = User(username="a"), User(username="b")
    recent.put("token-a", someone, token_expires_at=wall.now + 3600, generation=0)
    recent.put("token-b", other, token_expires_at=wall.now + 2, generation=0)  # the token expires first
    ticks.now += 1.9
    assert recent.get("token-a") is someone
    assert recent.get("token-b") is other
    ticks.now += 0.2
    assert recent.get("token-b") is None
    assert recent.get("token-a") is someone
    ticks.now += 3
    assert recent.get("token-a") is None
    recent.put("token-c", someone, token_expires_at=wall.now - 1, generation=0)  # already expired
    assert recent.get("token-c") is None
    assert RecentUsers(0).get("x") is None


def test_recent_users_stay_within_their_bound():
    ticks = _Clock(0.0)
    recent = RecentUsers(5, max_entries=3, clock=ticks, wall_clock=lambda: 0.0)
    user = User(username="a")
    for i in range(3):
        recent.put(f"t{i}", user, token_expires_at=3600, generation=0)
    ticks.now = 1
    recent.put("t3", user, token_expires_at=3600, generation=0)  # full, nothing expired: the oldest goes
    assert len(recent) == 3
    assert recent.get("t0") is None
    assert recent.get("t3") is user
    ticks.now = 5.5  # t1 and t2 (kept at 0) have expired and make room; t3 (kept at 1) has not
    recent.put("t4", user, token_expires_at=3600, generation=0)
    assert len(recent) == 2
    assert recent.get("t3") is user
    assert recent.get("t4") is user


def test_recent_users_refresh_moves_an_entry_to_the_newest_and_forget_all_refuses_stale_loads():
    ticks = _Clock(0.0)
    recent = RecentUsers(5, max_entries=2, clock=ticks, wall_clock=lambda: 0.0)
    a, b, c = User(username="a"), User(username="b"), User(username="c")
    recent.put("A", a, token_expires_at=3600, generation=0)
    recent.put("B", b, token_expires_at=3600, generation=0)
    recent.put("A", a, token_expires_at=3600, generation=0)  # refreshed: B is now the oldest
    recent.put("C", c, token_expires_at=3600, generation=0)
    assert recent.get("A") is a
    assert recent.get("B") is None
    assert recent.get("C") is c

    loaded_before = recent.generation  # a lookup starts ...
    recent.forget_all()  # ... the user changes and the cache is cleared ...
    recent.put("A", a, token_expires_at=3600, generation=loaded_before)  # ... the stale user arrives
    assert recent.get("A") is None
    recent.put("A", a, token_expires_at=3600, generation=recent.generation)
    assert recent.get("A") is a
