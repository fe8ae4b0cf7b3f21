"""Signature results where people see them: uploads, re-verification, the worker, the inbox, the slip."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from sqlalchemy import func, select

from app.db import make_sessionmaker
from app.models import SignatureCheck
from app.services.signatures import verify_pending
from app.signatures.trust import TrustStore
from tests.conftest import document_body
from tests.exchange_helpers import XML, document_message
from tests.signature_helpers import Authority, one_page_pdf, pem, sign_pdf, trusted_authority
from tests.test_slip import _pdf_text, _squeeze

API = "/api/v1"


@pytest.fixture(scope="module")
def authority(settings) -> Authority:
    """A test CA whose root is in the server's trust directory for these tests."""
    with trusted_authority(settings.resolved_trust_dir, "Root CA kiểm thử API") as authority:
        yield authority


def _document(client, as_user):
    response = client.post(f"{API}/incoming-documents", json=document_body(), headers=as_user("clerk"))
    assert response.status_code == 201, response.text
    return response.json()


def _upload(client, as_user, document_id, name, data):
    response = client.post(f"{API}/incoming-documents/{document_id}/attachments", headers=as_user("clerk"),
                           files={"file": (name, data, "application/pdf")})
    assert response.status_code == 201, response.text
    return response.json()


def test_an_uploaded_signed_pdf_shows_its_signature(client, as_user, authority):
    document = _document(client, as_user)
    signed = sign_pdf(one_page_pdf("QD 15"), authority.leaf("Võ Thị Thu Hương"), authority)
    attachment = _upload(client, as_user, document["id"], "QĐ-15.signed.pdf", signed)
    assert attachment["signature_status"] == "valid"
    (signature,) = attachment["signatures"]
    assert signature["signer_name"] == "Võ Thị Thu Hương" and signature["status"] == "valid"
    listed = client.get(f"{API}/incoming-documents/{document['id']}/attachments", headers=as_user("leader")).json()
    assert listed[0]["signature_status"] == "valid" and listed[0]["signatures_checked_at"]
    unsigned = _upload(client, as_user, document["id"], "phu-luc.pdf", one_page_pdf("plain"))
    assert unsigned["signature_status"] == "unsigned" and unsigned["signatures"] == []
    text = client.post(f"{API}/incoming-documents/{document['id']}/attachments", headers=as_user("clerk"),
                       files={"file": ("note.txt", b"hello", "text/plain")}).json()
    assert text["signature_status"] == "not_pdf"
    broken = _upload(client, as_user, document["id"], "hong.pdf", b"%PDF-1.4 broken")
    assert broken["signature_status"] == "unsupported"


def test_reverification_uses_the_trust_set_of_today(client, as_user, settings):
    stranger = Authority("Root CA chưa tin cậy")
    document = _document(client, as_user)
    attachment = _upload(client, as_user, document["id"], "cv.pdf",
                         sign_pdf(one_page_pdf("x"), stranger.leaf("Đặng E"), stranger))
    assert attachment["signature_status"] == "untrusted"
    added = TrustStore(settings.resolved_trust_dir).add(pem(stranger.root))
    try:
        again = client.post(f"{API}/incoming-documents/{document['id']}/attachments/{attachment['id']}/verify",
                            headers=as_user("clerk"))
        assert again.status_code == 200 and again.json()["signature_status"] == "valid"
    finally:
        for certificate in added:
            certificate.path.unlink()
    assert client.post(f"{API}/incoming-documents/{document['id']}/attachments/{attachment['id']}/verify",
                       headers=as_user("specialist")).status_code == 403


def test_a_large_pdf_is_verified_by_the_worker(client, as_user, app, engine, authority):
    app.state.verification = dataclasses.replace(app.state.verification, inline_max_bytes=0)
    try:
        document = _document(client, as_user)
        attachment = _upload(client, as_user, document["id"], "lon.pdf",
                             sign_pdf(one_page_pdf("big"), authority.leaf("Hồ F"), authority))
        assert attachment["signature_status"] == "pending"
        assert verify_pending(make_sessionmaker(engine), app.state.verification) == 1
        assert verify_pending(make_sessionmaker(engine), app.state.verification) == 0
    finally:
        app.state.verification = dataclasses.replace(app.state.verification, inline_max_bytes=5 * 1024 * 1024)
    listed = client.get(f"{API}/incoming-documents/{document['id']}/attachments", headers=as_user("clerk")).json()
    assert listed[0]["signature_status"] == "valid"


def test_the_inbox_shows_signatures_and_registration_warns_of_an_unsigned_main_file(client, as_user, authority):
    signed = sign_pdf(one_page_pdf("CV dien tu"), authority.leaf("Bùi Văn G"), authority)
    good = client.post(f"{API}/exchange/messages", headers={**as_user("hub"), **XML}, content=document_message(
        attachments=[("CV.pdf", "application/pdf", signed)])).json()
    assert good["attachments"][0]["signature_status"] == "valid"
    shown = client.get(f"{API}/exchange/inbox/{good['id']}", headers=as_user("clerk")).json()
    assert shown["attachments"][0]["signatures"][0]["signer_name"] == "Bùi Văn G"
    registered = client.post(f"{API}/exchange/inbox/{good['id']}/register", json={}, headers=as_user("clerk")).json()
    assert registered["warnings"] == []
    plain = client.post(f"{API}/exchange/messages", headers={**as_user("hub"), **XML}, content=document_message(
        document_id="G22,2026/11/20,7/VPCP", number="7", notation="VPCP",
        attachments=[("CV.pdf", "application/pdf", one_page_pdf("unsigned"))])).json()
    warned = client.post(f"{API}/exchange/inbox/{plain['id']}/register", json={}, headers=as_user("clerk")).json()
    assert [w["code"] for w in warned["warnings"]] == ["signature.main_unsigned"]


def test_the_slip_shows_each_signature(client, as_user, authority, settings):
    document = _document(client, as_user)
    signed = sign_pdf(one_page_pdf("slip"), authority.leaf("Lý Thị Hoa"), authority)
    _upload(client, as_user, document["id"], "BC-08.pdf", signed)
    slip = client.get(f"{API}/incoming-documents/{document['id']}/slip", headers=as_user("leader")).json()
    (line,) = slip["signatures"]
    assert (line["filename"], line["signer_name"], line["status"], line["status_label"]) == (
        "BC-08.pdf", "Lý Thị Hoa", "valid", "hợp lệ")
    assert line["signed_at"].endswith("+07:00")
    html = client.get(f"{API}/incoming-documents/{document['id']}/slip.html", headers=as_user("leader")).text
    assert "Chữ ký số: BC-08.pdf — Lý Thị Hoa" in html and "(hợp lệ)" in html
    from datetime import datetime

    signed_at = datetime.fromisoformat(line["signed_at"]).strftime("%d/%m/%Y %H:%M")  # the slip's one format
    assert f"Chữ ký số: BC-08.pdf — Lý Thị Hoa, {signed_at} (hợp lệ)" in html
    pdf = client.get(f"{API}/incoming-documents/{document['id']}/slip.pdf", headers=as_user("leader")).content
    assert _squeeze("Chữ ký số: BC-08.pdf — Lý Thị Hoa") in _squeeze(_pdf_text(pdf))
    assert _squeeze("(hợp lệ)") in _squeeze(_pdf_text(pdf))


def test_the_same_bytes_share_one_result(client, as_user, authority, engine):
    signed = sign_pdf(one_page_pdf("shared"), authority.leaf("Mai H"), authority)
    first, second = _document(client, as_user), client.post(
        f"{API}/incoming-documents", json=document_body(symbol="09/BC-BCĐ"), headers=as_user("clerk")).json()
    _upload(client, as_user, first["id"], "a.pdf", signed)
    _upload(client, as_user, second["id"], "b.pdf", signed)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(SignatureCheck).where(
            SignatureCheck.sha256 == hashlib.sha256(signed).hexdigest())) == 1
