"""Registering a document and telling subscribers: one flow for the API and the console."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.models import User
from app.schemas.documents import DocumentCreate
from app.services import webhooks
from app.services.documents import Registration, register_document


def register_and_announce(
    *, session: Session, clerk: User, data: DocumentCreate, now: datetime, tz: ZoneInfo,
    idempotency_key: str | None = None,
) -> Registration:
    """Register ``data`` (the next arrival number), commit, then queue ``document.registered``.

    The commit comes first: the register's counter stays locked until then and every other
    registration of the register waits for it. Subscribers are told after the number is committed,
    in a statement of its own (on PostgreSQL the session commits statement by statement, so that the
    registration is one statement and the counter lock lasts no longer than it). A replayed
    idempotent request announces nothing again.
    """
    result = register_document(session=session, actor=clerk, data=data, now=now, tz=tz,
                               idempotency_key=idempotency_key)
    session.commit()
    if not result.replayed:
        webhooks.emit(session=session, event_type="document.registered", now=now, document=result.document,
                      data={"channel": result.document.channel})
        session.commit()
    return result
