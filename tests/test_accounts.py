"""Accounts: a user's lifecycle, tokens that end when they should, the login throttle and the
security log (issue 11, findings 2, 3 and 8), through the real API and a second server process.

Each test makes users of its own: the staff's tokens are shared by the whole suite.
"""

from __future__ import annotations

import itertools
from collections import Counter
import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from app.api.deps import request_time
from app.db import make_sessionmaker
from app.services import organisation as org
from app.workflow.vocabulary import Role
from tests.conftest import PASSWORD, document_body, login

API = "/api/v1"
_serial = itertools.count(1)


def new_user(engine, *roles: Role, unit: str = "VP") -> str:
    username = f"acct{next(_serial)}_{time.monotonic_ns() % 10**6}"
    with make_sessionmaker(engine)() as session:
        org.create_user(session=session, username=username, password=PASSWORD, roles=roles or [Role.clerk],
                        unit_code=unit, full_name="Nguyễn Văn Thử")
        session.commit()
    return username


def token_for(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def me(client, headers) -> int:
    return client.get(f"{API}/auth/me", headers=headers).status_code


# --- the lifecycle, seen by another server process on its next request -----------------------


def test_a_deactivation_in_one_process_refuses_the_token_in_the_other_at_once(live_servers, engine):
    one, other = (httpx.Client(base_url=s.base_url, timeout=30) for s in live_servers)
    with one, other:
        username = new_user(engine)
        headers = token_for(other, username)
        assert me(other, headers) == 200
        admin = login(one, "admin")
        changed = one.patch(f"{API}/users/{username}", json={"active": False}, headers=admin)
        assert changed.status_code == 200 and changed.json()["is_active"] is False
        assert me(other, headers) == 401
        assert other.post(f"{API}/auth/token", data={"username": username, "password": PASSWORD}).status_code == 401
        # Reactivated, the user logs in again: the old token stays refused.
        assert one.patch(f"{API}/users/{username}", json={"active": True}, headers=admin).status_code == 200
        assert me(other, headers) == 401
        assert me(other, token_for(other, username)) == 200


def test_a_role_change_holds_from_the_next_request(live_servers, engine):
    one, other = (httpx.Client(base_url=s.base_url, timeout=30) for s in live_servers)
    with one, other:
        username = new_user(engine, Role.clerk)
        headers = token_for(other, username)
        body = document_body(symbol=f"{next(_serial)}/CV-ROLE")
        assert other.post(f"{API}/incoming-documents", json=body, headers=headers).status_code == 201
        admin = login(one, "admin")
        assert one.patch(f"{API}/users/{username}", json={"roles": ["specialist"]}, headers=admin).json()["roles"] == \
            ["specialist"]
        body = document_body(symbol=f"{next(_serial)}/CV-ROLE")
        assert other.post(f"{API}/incoming-documents", json=body, headers=headers).status_code == 403
        assert other.get(f"{API}/auth/me", headers=headers).json()["roles"] == ["specialist"]


def test_logout_ends_this_token_only_and_revoke_tokens_ends_them_all(live_servers, engine):
    one, other = (httpx.Client(base_url=s.base_url, timeout=30) for s in live_servers)
    with one, other:
        username = new_user(engine)
        first, second, third = (token_for(one, username) for _ in range(3))
        assert one.post(f"{API}/auth/logout", headers=first).status_code == 204
        assert me(other, first) == 401 and me(other, second) == 200
        assert one.post(f"{API}/auth/logout", headers=first).status_code == 401  # already ended
        assert one.post(f"{API}/users/{username}/revoke-tokens", headers=second).status_code == 403  # admins only
        assert one.post(f"{API}/users/{username}/revoke-tokens", headers=login(one, "admin")).status_code == 204
        assert me(other, second) == 401 and me(other, third) == 401
        assert me(other, token_for(other, username)) == 200


def test_a_token_living_longer_than_the_lifetime_is_refused_even_with_a_good_signature(client, settings, engine):
    username = new_user(engine)
    now = datetime.now(UTC)

    def forged(**claims) -> dict[str, str]:
        base = {"sub": username, "ver": 0, "jti": "forged-1", "iat": now, "exp": now + timedelta(minutes=10)}
        token = jwt.encode({**base, **claims}, settings.signing_key(), algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    assert me(client, forged()) == 200  # the shape our server issues
    assert me(client, forged(exp=now + timedelta(days=3650))) == 401
    assert me(client, forged(iat=now + timedelta(hours=1), exp=now + timedelta(hours=2))) == 401  # issued "later"
    assert me(client, forged(ver=1)) == 401
    without_version = jwt.encode({"sub": username, "iat": now, "exp": now + timedelta(minutes=5)},
                                 settings.signing_key(), algorithm="HS256")
    assert me(client, {"Authorization": f"Bearer {without_version}"}) == 401


def test_passwords_change_with_the_current_one_reset_by_an_admin_and_follow_the_one_rule(client, engine):
    username = new_user(engine)
    headers = token_for(client, username)
    url = f"{API}/users/{username}/password"
    wrong = client.post(url, json={"current_password": "not it at all", "new_password": "a new passphrase"},
                        headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    weak = client.post(url, json={"current_password": PASSWORD, "new_password": username}, headers=headers)
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    assert client.post(url, json={"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa"},
                       headers=headers).status_code == 422
    assert client.post(url, json={"current_password": PASSWORD, "new_password": "a new passphrase"},
                       headers=headers).status_code == 204
    assert me(client, headers) == 401  # every token ends, this one too
    assert client.post(f"{API}/auth/token", data={"username": username, "password": PASSWORD}).status_code == 401
    headers = token_for(client, username, "a new passphrase")
    # Another user's password: admins only, and no hint whether that user exists.
    assert client.post(f"{API}/users/admin/password", json={"new_password": "x" * 12 + "yz"},
                       headers=headers).status_code == 403
    assert client.post(f"{API}/users/nobody-here/password", json={"new_password": "x" * 12 + "yz"},
                       headers=headers).status_code == 403
    admin = login(client, "admin")
    assert client.post(url, json={"new_password": "reset by the admin"}, headers=admin).status_code == 204
    assert me(client, headers) == 401
    token_for(client, username, "reset by the admin")


def test_an_admin_cannot_lock_themself_out(client, engine):
    username = new_user(engine, Role.admin)
    headers = token_for(client, username)
    assert client.patch(f"{API}/users/{username}", json={"active": False}, headers=headers).status_code == 409
    assert client.patch(f"{API}/users/{username}", json={"roles": ["clerk"]}, headers=headers).status_code == 409
    assert client.patch(f"{API}/users/nobody-here", json={"active": False}, headers=headers).status_code == 404
    unit = client.patch(f"{API}/users/{username}", json={"unit_code": None, "full_name": "Trần Thị Quản Trị"},
                        headers=headers)
    assert unit.status_code == 200 and unit.json()["unit_code"] is None
    assert unit.json()["full_name"] == "Trần Thị Quản Trị"


# --- the login throttle, with the request clock moved instead of waiting ----------------------


class _Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app):
    moved = _Clock()
    app.dependency_overrides[request_time] = moved
    yield moved
    app.dependency_overrides.pop(request_time, None)


def attempt(client, username: str, password: str) -> httpx.Response:
    return client.post(f"{API}/auth/token", data={"username": username, "password": password})


@pytest.mark.parametrize("exists", [True, False])
def test_the_sixth_wrong_password_in_the_window_gets_429_and_the_window_ends_it(client, engine, clock, exists):
    username = new_user(engine) if exists else f"ghost{next(_serial)}"
    answers = []
    for _ in range(5):
        answers.append(attempt(client, username, "wrong password").status_code)
        clock.now += timedelta(seconds=30)
    assert answers == [401] * 5
    throttled = attempt(client, username, PASSWORD)  # even the right one
    assert throttled.status_code == 429 and throttled.headers["content-type"] == "application/problem+json"
    retry = int(throttled.headers["Retry-After"])
    assert 12 * 60 <= retry <= 13 * 60  # the first failure leaves the 15-minute window 12½ minutes from now
    clock.now += timedelta(seconds=retry - 5)
    assert attempt(client, username, PASSWORD).status_code == 429
    clock.now += timedelta(seconds=10)
    assert attempt(client, username, PASSWORD).status_code == (200 if exists else 401)


def test_a_success_starts_the_count_again(client, engine, clock):
    username = new_user(engine)
    for _ in range(4):
        assert attempt(client, username, "wrong password").status_code == 401
    assert attempt(client, username, PASSWORD).status_code == 200
    for _ in range(4):
        assert attempt(client, username, "wrong password").status_code == 401
    assert attempt(client, username, PASSWORD).status_code == 200


def test_one_address_is_throttled_across_usernames_and_another_address_is_not(app, engine, clock, settings):
    with TestClient(app, client=("203.0.113.7", 40000)) as noisy, TestClient(app, client=("198.51.100.2", 40000)) as calm:
        for i in range(settings.login_max_failures_per_client):
            assert attempt(noisy, f"guess{i}", "wrong password").status_code == 401
        username = new_user(engine)
        assert attempt(noisy, username, PASSWORD).status_code == 429
        assert attempt(calm, username, PASSWORD).status_code == 200


# --- the security log --------------------------------------------------------------------------


def test_the_security_log_records_logins_lockouts_and_changes_for_admins_and_auditors(client, engine, clock):
    username = new_user(engine)
    for _ in range(5):
        attempt(client, username, "wrong password")
    assert attempt(client, username, PASSWORD).status_code == 429
    clock.now += timedelta(minutes=16)
    token_for(client, username)
    admin = login(client, "admin")
    client.patch(f"{API}/users/{username}", json={"roles": ["clerk", "specialist"]}, headers=admin)
    client.post(f"{API}/users/{username}/revoke-tokens", headers=admin)

    url = f"{API}/audit/security-events"
    listed = client.get(url, params={"username": username, "limit": 100}, headers=login(client, "auditor"))
    assert listed.status_code == 200, listed.text
    # (The logins are stamped by the moved request clock, the rest by the real one: compare as a multiset.)
    kinds = Counter(e["kind"] for e in listed.json()["items"])
    assert kinds == Counter({"login_failed": 5, "user_created": 1, "login_locked": 1, "login_succeeded": 1,
                             "user_changed": 1, "tokens_revoked": 1})
    changed = next(e for e in listed.json()["items"] if e["kind"] == "user_changed")
    assert changed["actor"] == "admin" and changed["data"]["changes"]["roles"] == [["clerk"], ["clerk", "specialist"]]
    assert changed["client"] == "testclient"
    failed = client.get(url, params={"username": username, "kind": "login_failed"}, headers=admin).json()
    assert failed["total"] == 5
    csv = client.get(url, params={"username": username, "format": "csv"}, headers=admin)
    assert csv.status_code == 200 and csv.text.count("\n") == 11 and "login_locked" in csv.text
    assert client.get(url, headers=login(client, "clerk")).status_code == 403
    assert client.get(url, params={"kind": "no_such_kind"}, headers=admin).status_code == 422
