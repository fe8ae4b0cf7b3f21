"""Status messages reach a real HTTP receiver (a fake hub): once each, in order per document,
through failures, and never twice with several workers at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import make_sessionmaker
from app.models import ExchangeMessage, ExchangeOutbox, User
from app.models.base import utcnow
from app.services.exchange_delivery import DeliveryConfig, deliver_due
from app.services.queues import exchange_outbox as queue_state
from tests.exchange_helpers import XML, FakeHub, document_message

API = "/api/v1"


@pytest.fixture
def factory(engine):
    return make_sessionmaker(engine)


def _rows(factory) -> list[ExchangeOutbox]:
    with factory() as session:
        return list(session.scalars(select(ExchangeOutbox).order_by(ExchangeOutbox.id)))


def test_a_hub_failing_twice_gets_every_message_once_in_order(client, as_user, factory):
    first = client.post(f"{API}/exchange/messages", content=document_message(), headers={**as_user("hub"), **XML})
    second = client.post(f"{API}/exchange/messages", headers={**as_user("hub"), **XML}, content=document_message(
        document_id="000.00.00.G22,2026/11/20,126/VPCP", number="126", notation="VPCP"))
    registered = client.post(f"{API}/exchange/inbox/{first.json()['id']}/register", json={}, headers=as_user("clerk"))
    assert registered.status_code == 201, registered.text
    rows = _rows(factory)
    assert [(r.message_id, r.status_code) for r in rows] == [
        (first.json()["id"], "01"), (second.json()["id"], "01"), (first.json()["id"], "03")]
    with FakeHub(first_answers=(500, 503)) as hub:
        config = DeliveryConfig(endpoint=hub.url, retry_base_s=30)
        start = utcnow()
        one = deliver_due(factory, config, now=start)
        assert (one.sent, one.retried) == (0, 2)  # both 01s tried and failed; the 03 waits behind its 01
        assert deliver_due(factory, config, now=start + timedelta(seconds=10)).sent == 0  # backing off
        later = deliver_due(factory, config, now=start + timedelta(seconds=31))
        assert later.sent == 3
        assert deliver_due(factory, config, now=start + timedelta(hours=2)).sent == 0
    ids = [message_id for message_id, _ in hub.accepted]
    assert sorted(ids) == [r.id for r in rows]  # each once
    assert ids.index(rows[0].id) < ids.index(rows[2].id)  # 01 before 03 for the same document
    by_id = dict(hub.accepted)
    assert b"<edXML:StatusCode>03</edXML:StatusCode>" in by_id[rows[2].id]
    sent = _rows(factory)
    assert all(r.state == "sent" and r.sent_at is not None for r in sent)
    assert [r.attempts for r in sent] == [2, 2, 1]
    outbox = client.get(f"{API}/exchange/outbox", headers=as_user("admin")).json()
    assert {o["state"] for o in outbox["items"]} == {"sent"}


def test_a_message_the_hub_refuses_is_failed_and_the_next_one_goes(client, as_user, factory):
    item = client.post(f"{API}/exchange/messages", content=document_message(), headers={**as_user("hub"), **XML})
    client.post(f"{API}/exchange/inbox/{item.json()['id']}/refuse", json={"reason": "Sai"}, headers=as_user("clerk"))

    with FakeHub(first_answers=(400,)) as hub:
        outcome = deliver_due(factory, DeliveryConfig(endpoint=hub.url), now=utcnow())
    assert (outcome.failed, outcome.sent) == (1, 1)
    rows = _rows(factory)
    assert [(r.status_code, r.state) for r in rows] == [("01", "failed"), ("02", "sent")]
    assert rows[0].last_error.startswith("HTTP 400")
    with factory() as session:
        state = queue_state(session)
    assert (state.pending, state.failed) == (0, 1)


def _many_pending(factory, documents: int) -> list[int]:
    """``documents`` inbox items with two pending status messages each (01 then 03)."""
    now = utcnow()
    with factory() as session:
        hub = session.scalar(select(User).where(User.username == "hub"))
        for i in range(documents):
            item = ExchangeMessage(kind="document", state="registered", business_type="new", dedupe_key=f"k{i}",
                                   edxml_document_id=f"doc-{i}", from_organ_id="000.00.00.G22", to_organ_ids=[],
                                   our_organ_id="000.00.00.H41", our_organ_name="Us", urgency="normal",
                                   named_document_ids=[], warnings=[], raw_sha256="0" * 64, raw_size=1,
                                   received_at=now, received_by_id=hub.id)
            session.add(item)
            session.flush()
            for code in ("01", "03"):
                session.add(ExchangeOutbox(message_id=item.id, to_organ_id="000.00.00.G22", status_code=code,
                                           once=True, description=code, payload=f"<edXML>{item.id}:{code}</edXML>",
                                           state="pending", attempts=0, next_attempt_at=now, created_at=now))
        session.commit()
    return [r.id for r in _rows(factory)]


def test_several_workers_deliver_each_message_exactly_once(factory, engine):
    ids = _many_pending(factory, 150)
    errors: list[BaseException] = []
    with FakeHub() as hub:
        config = DeliveryConfig(endpoint=hub.url, batch=7)
        barrier = threading.Barrier(4)

        def worker() -> None:
            try:
                barrier.wait()
                while deliver_due(factory, config).sent:
                    pass
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors
    accepted = [message_id for message_id, _ in hub.accepted]
    assert sorted(accepted) == ids, f"{len(accepted)} deliveries for {len(ids)} messages"
    position = {message_id: i for i, message_id in enumerate(accepted)}
    rows = _rows(factory)
    by_item: dict[int, list[ExchangeOutbox]] = {}
    for row in rows:
        by_item.setdefault(row.message_id, []).append(row)
    for first, second in by_item.values():
        assert position[first.id] < position[second.id]  # 01 reached the hub before 03
    assert {r.state for r in rows} == {"sent"}


def test_without_an_endpoint_nothing_is_sent(factory):
    _many_pending(factory, 1)
    assert deliver_due(factory, DeliveryConfig(endpoint=None)).sent == 0
    assert {r.state for r in _rows(factory)} == {"pending"}
