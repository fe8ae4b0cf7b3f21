"""A short-lived link opens the printable slip in a browser, and opens nothing else."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

from app.security import issue_slip_link, read_token_claims
from tests.conftest import PASSWORD, document_body

URL = "/api/v1/incoming-documents"


def fresh_login(client, username):
    """A token of its own (the shared ones of conftest must outlive a logout)."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def register(client, as_user, by="clerk", **overrides):
    response = client.post(URL, json=document_body(**overrides), headers=as_user(by))
    assert response.status_code == 201, response.text
    return response.json()


def make_link(client, document_id, token):
    response = client.post(f"{URL}/{document_id}/slip-link", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def refused(response, code="slip_link.invalid"):
    assert response.status_code == 401, response.text
    assert response.json()["code"] == code
    return True


def test_the_link_opens_the_slip_without_a_bearer_token(client, as_user, settings):
    document = register(client, as_user)
    token = fresh_login(client, "clerk")
    link = make_link(client, document["id"], token)
    assert link["url"].startswith(f"{URL}/{document['id']}/slip.html?token=")
    page = client.get(link["url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "08/BC-BCĐ" in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    claims = read_token_claims(settings, link["url"].split("token=", 1)[1])
    assert claims is not None and claims.expires_at - claims.issued_at == settings.slip_link_minutes * 60
    assert datetime.fromisoformat(link["expires_at"]).timestamp() == claims.expires_at


def test_the_link_opens_only_its_own_document_and_nothing_else(client, as_user):
    first, second = register(client, as_user), register(client, as_user, symbol="09/BC-BCĐ")
    link_token = make_link(client, first["id"], fresh_login(client, "clerk"))["url"].split("token=", 1)[1]
    assert refused(client.get(f"{URL}/{second['id']}/slip.html", params={"token": link_token}))
    assert refused(client.get(f"{URL}/{first['id']}/slip.html", params={"token": link_token + "x"}))
    as_bearer = {"Authorization": f"Bearer {link_token}"}
    for path in (f"{URL}/{first['id']}", f"{URL}/{first['id']}/slip.pdf", f"{URL}/{first['id']}/slip.html"):
        assert refused(client.get(path, headers=as_bearer), code="auth.token_invalid")


def test_an_expired_link_and_a_logged_out_session_end_the_link(client, as_user, settings):
    document = register(client, as_user)
    token = fresh_login(client, "clerk")
    claims = read_token_claims(settings, token)
    assert claims is not None
    expired, _ = issue_slip_link(settings, replace(claims, expires_at=time.time() - 1), document["id"])
    assert refused(client.get(f"{URL}/{document['id']}/slip.html", params={"token": expired}))
    link = make_link(client, document["id"], token)
    assert client.get(link["url"]).status_code == 200
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert refused(client.get(link["url"]), code="auth.token_invalid")


def test_no_link_to_a_document_one_may_not_see(client, as_user):
    secret = register(client, as_user, by="secret_clerk", symbol="01/BC-BQP", confidentiality="secret",
                      register_code="mat")
    response = client.post(f"{URL}/{secret['id']}/slip-link", headers=as_user("specialist"))
    assert response.status_code == 404 and response.json()["code"] == "document.not_found"
