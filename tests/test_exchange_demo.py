"""The demo's electronic inbox: two documents waiting, one clean and one with the usual irregularities."""

from __future__ import annotations

from sqlalchemy import select

from app.db import make_sessionmaker
from app.models import User
from app.models.base import utcnow
from app.services.demo_exchange import load_demo_inbox
from app.services.exchange import Ours
from app.services.signatures import verification_for

API = "/api/v1"


def test_the_demo_puts_a_clean_and_an_irregular_document_in_the_inbox(engine, settings, client, as_user):
    ours = Ours(settings.organ_id, "Bộ Thử nghiệm")
    with make_sessionmaker(engine)() as session:
        clerk = session.scalar(select(User).where(User.username == "clerk"))
        first = load_demo_inbox(session=session, clerk=clerk, root=settings.attachments_dir, ours=ours, now=utcnow(),
                                tz=settings.tz, verification=verification_for(settings))
        again = load_demo_inbox(session=session, clerk=clerk, root=settings.attachments_dir, ours=ours, now=utcnow(),
                                tz=settings.tz)
        session.commit()
    assert len(first) == 2 and again == first
    clean, irregular = (client.get(f"{API}/exchange/inbox/{i}", headers=as_user("clerk")).json() for i in first)
    assert clean["warnings"] == [] and clean["state"] == "received"
    assert clean["attachments"][0]["content_type"] == "application/pdf"
    assert clean["attachments"][0]["signature_status"] == "unsigned"  # verified as it was taken in
    assert {w["code"] for w in irregular["warnings"]} == {
        "exchange.junk_before_xml", "exchange.text_normalised", "exchange.attachment_type_mismatch",
        "exchange.due_before_date"}
    assert irregular["signer_name"] == "Phạm Đức Long"
    assert [a["content_type"] for a in irregular["attachments"]] == ["application/pdf", "application/pdf"]
    registered = client.post(f"{API}/exchange/inbox/{clean['id']}/register", json={}, headers=as_user("clerk"))
    assert registered.status_code == 201, registered.text
