"""What waits in each of the worker's queues: for ``GET /admin/worker`` (progress and errors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Digest, ExchangeOutbox, ReminderScan, SignatureCheck, WebhookDelivery


@dataclass(frozen=True)
class Queue:
    pending: int
    failed: int
    oldest_pending_at: datetime | None
    last_error: str | None


def _queue(session: Session, model, since, error) -> Queue:
    pending, oldest = session.execute(select(func.count(), func.min(since)).where(model.state == "pending")).one()
    failed = session.scalar(select(func.count()).where(model.state == "failed")) or 0
    last_error = None
    if error is not None:
        last_error = session.scalar(select(error).where(error.is_not(None)).order_by(model.id.desc()).limit(1))
    if isinstance(oldest, date) and not isinstance(oldest, datetime):
        oldest = datetime.combine(oldest, datetime.min.time())
    return Queue(pending, failed, oldest, last_error)


def exchange_outbox(session: Session) -> Queue:
    return _queue(session, ExchangeOutbox, ExchangeOutbox.created_at, ExchangeOutbox.last_error)


def worker_state(session: Session) -> dict[str, Queue | date | None]:
    return {
        "exchange_outbox": exchange_outbox(session),
        "webhooks": _queue(session, WebhookDelivery, WebhookDelivery.created_at, WebhookDelivery.last_error),
        "digests": _queue(session, Digest, Digest.day, Digest.last_error),
        "signatures": _queue(session, SignatureCheck, SignatureCheck.requested_at, None),
        "last_reminder_scan": session.scalar(select(func.max(ReminderScan.day))),
    }
