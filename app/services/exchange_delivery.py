"""Delivering the outbox's status messages to the hub connector: at least once, in order per
document, never twice at once from several workers.

A worker *claims* a message by setting its ``claimed_until`` lease in a short transaction
(on PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``, so workers do not queue on
each other's rows; on both databases the claim is a conditional UPDATE whose row count says
whether this worker won). It then POSTs the message outside any transaction and records the
outcome only if its lease is still the one on the row. A message is a candidate only when every
earlier message about the same inbox item has been sent (or has failed for good): the order per
document holds even with many workers.

A 2xx answer is delivery. A 4xx other than 408/429 is the hub refusing the message itself: it
is ``failed`` and the next one about the document may go. Anything else is retried with
exponential backoff (``exchange_retry_base_s``, doubled, at most an hour). The message carries
``X-Congvan-Message-Id`` so that a receiver can drop the duplicate of an at-least-once delivery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from app.models import ExchangeOutbox
from app.services import leases, webhooks
from app.models.base import utcnow

logger = logging.getLogger("congvan.exchange")

LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class DeliveryConfig:
    endpoint: str | None
    timeout_s: float = 10.0
    retry_base_s: float = 30.0
    batch: int = 20


@dataclass
class Outcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def _in_order() -> ColumnElement[bool]:
    """A message may go once no earlier message about the same inbox item is still pending."""
    earlier = aliased(ExchangeOutbox)
    return ~exists().where(earlier.message_id == ExchangeOutbox.message_id, earlier.id < ExchangeOutbox.id,
                           earlier.state == "pending")


def claim(session: Session, *, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """Claim up to ``limit`` due messages for this worker: (id, lease) pairs. Commits."""
    return leases.claim(session, ExchangeOutbox, now=now, lease=LEASE, limit=limit,
                        eligible=and_(ExchangeOutbox.next_attempt_at <= now, _in_order()))


def _post(client: httpx.Client, config: DeliveryConfig, row_id: int, payload: str) -> tuple[bool, bool, str | None]:
    """(delivered, permanent failure, error)."""
    try:
        response = client.post(config.endpoint, content=payload.encode("utf-8"), headers={
            "Content-Type": "application/xml; charset=utf-8", "X-Congvan-Message-Id": str(row_id)})
    except httpx.HTTPError as exc:
        return False, False, f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return True, False, None
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429)
    return False, permanent, f"HTTP {response.status_code}: {response.text[:500]}"


def deliver_due(factory: sessionmaker[Session], config: DeliveryConfig, *, now: datetime | None = None,
                client: httpx.Client | None = None) -> Outcome:
    """One pass: claim what is due, send it, record each outcome. Returns the counts."""
    outcome = Outcome()
    if not config.endpoint:
        return outcome
    now = now or utcnow()
    own_client = client is None
    client = client or httpx.Client(timeout=config.timeout_s, follow_redirects=False)
    try:
        while True:
            with factory() as session:
                claimed = claim(session, now=now, limit=config.batch)
            if not claimed:
                return outcome
            for row_id, lease in claimed:
                with factory() as session:
                    payload = session.scalar(select(ExchangeOutbox.payload).where(ExchangeOutbox.id == row_id))
                delivered, permanent, error = _post(client, config, row_id, payload or "")
                with factory() as session:
                    _record(session, row_id, lease, delivered, permanent, error, now, config)
                if delivered:
                    outcome.sent += 1
                elif permanent:
                    outcome.failed += 1
                else:
                    outcome.retried += 1
            if outcome.retried:
                return outcome  # the hub is not taking messages: the next pass retries later
    finally:
        if own_client:
            client.close()


def _record(session: Session, row_id: int, lease: datetime, delivered: bool, permanent: bool, error: str | None,
            now: datetime, config: DeliveryConfig) -> None:
    row = session.get(ExchangeOutbox, row_id)
    if row is None or row.claimed_until != lease:
        logger.warning("outbox message %s: the lease ran out before its outcome was recorded", row_id)
        session.rollback()
        return
    row.attempts += 1
    row.claimed_until = None
    if delivered:
        row.state, row.sent_at, row.last_error = "sent", now, None
        webhooks.emit(session=session, event_type="exchange.status_sent", now=now, about_document_id=row.document_id,
                      data={"inbox_id": row.message_id, "status_code": row.status_code,
                            "to_organ_id": row.to_organ_id, "document_id": row.document_id})
    elif permanent:
        row.state, row.last_error = "failed", error
    else:
        delay = min(timedelta(seconds=config.retry_base_s * 2 ** (row.attempts - 1)), MAX_BACKOFF)
        row.next_attempt_at, row.last_error = now + delay, error
    session.commit()
