"""Writing status messages into the outbox, in the caller's transaction (a transactional outbox).

Whoever changes something the sender is told about (receiving, refusing, registering, a slip
action, accepting or rejecting a change) calls ``enqueue`` before committing: the status message
is serialised now and committed with the change, or not at all. Which code a change causes is
``app.workflow.exchange_status``'s to say; this module only writes what it is told, once for
the codes that are sent once per document.

The slip's actions reach this module through ``after_action``, called by
``app.services.workflow.apply_action`` for electronic documents.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exchange.message import Organ, ResponseFor, Staff
from app.exchange.writer import StatusOut, status_message
from app.models import ExchangeMessage, ExchangeOutbox, IncomingDocument, User
from app.workflow.exchange_status import ONCE_PER_DOCUMENT, StatusCode, description, statuses_after_action
from app.workflow.vocabulary import Channel


def _response_for(item: ExchangeMessage) -> ResponseFor:
    return ResponseFor(item.from_organ_id, item.symbol, item.edxml_document_id, item.document_date)


def enqueue(*, session: Session, item: ExchangeMessage, code: StatusCode, actor: User | None, now: datetime,
            tz: ZoneInfo, detail: str | None = None, document_id: int | None = None) -> ExchangeOutbox | None:
    """Write the status message ``code`` about ``item`` to its sender; None when a code sent once
    per document was already written (or the item has no sender to answer)."""
    once = code in ONCE_PER_DOCUMENT
    if not item.from_organ_id:
        return None
    if once and session.scalar(select(ExchangeOutbox.id).where(
            ExchangeOutbox.message_id == item.id, ExchangeOutbox.status_code == code.value)) is not None:
        return None
    text = description(code, detail)
    staff = Staff(department=actor.unit.name if actor and actor.unit else None,
                  name=actor.full_name if actor else None)
    payload = status_message(StatusOut(
        sender=Organ(item.our_organ_id, item.our_organ_name),
        response_for=_response_for(item),
        status_code=code.value,
        description=text,
        timestamp=now,
        staff=staff,
    ), tz=tz)
    row = ExchangeOutbox(
        message_id=item.id, document_id=document_id if document_id is not None else item.document_id,
        to_organ_id=item.from_organ_id, status_code=code.value, once=once, description=text, payload=payload,
        state="pending", attempts=0, next_attempt_at=now, created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def origin_of(*, session: Session, document: IncomingDocument) -> ExchangeMessage | None:
    """The inbox item a document was registered from, if it came electronically."""
    if document.channel != Channel.electronic:
        return None
    return session.scalar(select(ExchangeMessage).where(
        ExchangeMessage.document_id == document.id, ExchangeMessage.kind == "document",
        ExchangeMessage.state == "registered"))


def after_action(*, session: Session, document: IncomingDocument, action: str, from_state: str, actor: User,
                 now: datetime, tz: ZoneInfo) -> None:
    """The status messages a slip action causes for an electronic document (04, 05, 06)."""
    codes = statuses_after_action(action, from_state, document.state)
    if not codes:
        return
    item = origin_of(session=session, document=document)
    if item is None:
        return
    for code in codes:
        enqueue(session=session, item=item, code=code, actor=actor, now=now, tz=tz, document_id=document.id)
