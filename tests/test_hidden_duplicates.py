"""A duplicate says nothing of a document the caller may not see (issue 11, finding 1).

The identity of a document (symbol, issuer, date) is unique across registers, so a clerk not
cleared for the confidential register could once learn, by posting a guessed identity, that a
secret document exists and its id. Now: a document hidden from the clerk does not stop the
registration and is never named to them; those who see both see the link.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import SECRET_REGISTER, document_body

DOCS = "/api/v1/incoming-documents"
SECRET = {"symbol": "15/CV-MAT", "issuer": "Bộ Công an", "document_date": "2013-08-01"}


@pytest.fixture
def secret(client, as_user) -> dict:
    response = client.post(DOCS, headers=as_user("secret_clerk"), json=document_body(
        **SECRET, register_code=SECRET_REGISTER, confidentiality="secret", summary="Về việc bảo vệ bí mật"))
    assert response.status_code == 201, response.text
    return response.json()


def _mentions(body: dict, document: dict) -> bool:
    """Whether a response body names the hidden document's id (as ``duplicate_of`` or in a text)."""
    text = json.dumps(body, ensure_ascii=False)
    return body.get("duplicate_of") == document["id"] or f"id {document['id']}" in text


@pytest.mark.parametrize("allow_duplicate", [False, True])
def test_an_uncleared_clerk_registers_as_if_the_secret_document_were_not_there(
        client, as_user, secret, allow_duplicate):
    clerk = as_user("clerk")
    first = client.post(DOCS, headers=clerk, json=document_body(**SECRET, allow_duplicate=allow_duplicate))
    assert first.status_code == 201, first.text
    assert first.json()["duplicate_of"] is None and not _mentions(first.json(), secret)
    # Every reader of the new, normal document but those who may see the secret one.
    for username in ("clerk", "office_leader", "auditor"):
        shown = client.get(f"{DOCS}/{first.json()['id']}", headers=as_user(username)).json()
        assert shown["duplicate_of"] is None, username
        listed = client.get(DOCS, params={"q": "15/CV-MAT"}, headers=as_user(username)).json()
        assert [d["duplicate_of"] for d in listed["items"]] == [None], username
        assert client.get(f"{DOCS}/{secret['id']}", headers=as_user(username)).status_code == 404
    # Those cleared for both see that the two are one document.
    for username in ("leader", "secret_clerk"):
        assert client.get(f"{DOCS}/{first.json()['id']}", headers=as_user(username)).json()["duplicate_of"] == \
            secret["id"], username
    # The clerk's own second registration of the visible copy is still refused, naming it.
    again = client.post(DOCS, headers=clerk, json=document_body(**SECRET))
    assert again.status_code == 409 and again.json()["duplicate_of"] == first.json()["id"]


def test_a_cleared_clerk_is_told_of_the_duplicate_with_its_id(client, as_user, secret):
    again = client.post(DOCS, headers=as_user("secret_clerk"), json=document_body(
        **SECRET, register_code=SECRET_REGISTER, confidentiality="secret"))
    assert again.status_code == 409 and again.json()["duplicate_of"] == secret["id"]


def test_a_report_of_a_hidden_document_is_not_named_in_a_conflict(client, as_user, secret):
    report = {"symbol": "15/BC-MAT", "title": "Báo cáo mật", "issuer": "Bộ Công an", "report_date": "2013-08-01"}
    linked = client.post("/api/v1/reports", headers=as_user("secret_clerk"),
                         json={**report, "incoming_document_id": secret["id"]})
    assert linked.status_code == 201, linked.text
    refused = client.post("/api/v1/reports", headers=as_user("clerk"), json=report)
    assert refused.status_code == 409
    assert "duplicate_of" not in refused.json() and f"id {linked.json()['id']}" not in refused.json()["detail"]
    seen = client.post("/api/v1/reports", headers=as_user("leader"), json=report)
    assert seen.status_code in (403, 409)
    if seen.status_code == 409:
        assert seen.json()["duplicate_of"] == linked.json()["id"]
