"""Admin endpoints for units, users and registers, and who may read them."""

import uuid

import pytest


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def test_admin_creates_unit_user_and_register(client, as_user):
    admin = as_user("admin")
    parent = unique("P")
    assert client.post("/api/v1/units", json={"code": parent, "name": "Vụ Tổng hợp"}, headers=admin).status_code == 201
    child = unique("C")
    created = client.post(
        "/api/v1/units", json={"code": child, "name": "Phòng Một", "parent_code": parent}, headers=admin
    )
    assert created.status_code == 201
    assert created.json() == {"code": child, "name": "Phòng Một", "parent_code": parent}

    username = unique("user")
    user = client.post(
        "/api/v1/users",
        json={"username": username, "full_name": "Nguyễn Văn A", "password": "mật khẩu dài", "unit_code": child,
              "roles": ["specialist", "unit_leader"]},
        headers=admin,
    )
    assert user.status_code == 201, user.text
    assert user.json()["roles"] == ["specialist", "unit_leader"]
    assert "password" not in user.json()
    login = client.post("/api/v1/auth/token", data={"username": username, "password": "mật khẩu dài"})
    assert login.status_code == 200

    register = client.post(
        "/api/v1/registers",
        json={"code": unique("r"), "name": "Sổ mật 2", "confidential": True, "clerk_usernames": ["clerk"]},
        headers=admin,
    )
    assert register.status_code == 201
    assert register.json()["clerk_usernames"] == ["clerk"]


def test_default_register_main_exists(client, as_user):
    codes = [r["code"] for r in client.get("/api/v1/registers", headers=as_user("admin")).json()]
    assert "main" in codes


def test_clerk_sees_only_registers_they_may_use(client, as_user):
    plain = [r["code"] for r in client.get("/api/v1/registers", headers=as_user("clerk")).json()]
    cleared = [r["code"] for r in client.get("/api/v1/registers", headers=as_user("secret_clerk")).json()]
    assert "main" in plain and "mat" not in plain
    assert "mat" in cleared


@pytest.mark.parametrize("username", ["clerk", "leader", "specialist", "auditor"])
def test_non_admins_cannot_write_organisation(client, as_user, username):
    headers = as_user(username)
    assert client.post("/api/v1/units", json={"code": unique("X"), "name": "x"}, headers=headers).status_code == 403
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    response = client.post("/api/v1/registers", json={"code": unique("x"), "name": "x"}, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_specialist_may_read_units_but_not_registers(client, as_user):
    assert client.get("/api/v1/units", headers=as_user("specialist")).status_code == 200
    assert client.get("/api/v1/registers", headers=as_user("specialist")).status_code == 403


def test_conflicts_and_unknown_references(client, as_user):
    admin = as_user("admin")
    assert client.post("/api/v1/units", json={"code": "VP", "name": "again"}, headers=admin).status_code == 409
    response = client.post(
        "/api/v1/users",
        json={"username": unique("u"), "full_name": "X", "password": "long enough", "unit_code": "NOPE",
              "roles": ["clerk"]},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "unit_code"
    response = client.post(
        "/api/v1/users",
        json={"username": unique("u"), "full_name": "X", "password": "long enough", "roles": ["pope"]},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("roles")
    response = client.post(
        "/api/v1/registers",
        json={"code": unique("r"), "name": "x", "confidential": True, "clerk_usernames": ["leader"]},
        headers=admin,
    )
    assert response.status_code == 422
