"""One row of facts per document, read from the documents and their event log in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from app.models import Assignment, DocumentEvent, IncomingDocument, Unit, User
from app.models.base import UTCDateTime
from app.services.audit.scope import AuditPeriod, audit_scope, period_clause


@dataclass(frozen=True)
class DocumentFacts:
    id: int
    arrival_number: int
    symbol: str
    received_at: datetime
    due_date: date | None
    urgency: str
    issuer: str
    document_type: str | None
    state: str
    registered_at: datetime | None
    submitted_at: datetime | None
    resolved_at: datetime | None
    lead_unit: str | None


def document_facts(*, session: Session, user: User, period: AuditPeriod, tz: ZoneInfo) -> list[DocumentFacts]:
    """Facts for every document in the period that the user's audit may count."""
    in_scope = and_(period_clause(period, tz), audit_scope(user))
    events = (
        select(
            DocumentEvent.document_id.label("document_id"),
            func.min(case((DocumentEvent.action == "register", DocumentEvent.at))).label("registered_at"),
            func.min(case((DocumentEvent.action == "submit", DocumentEvent.at))).label("submitted_at"),
            func.min(case((DocumentEvent.to_state == "resolved", DocumentEvent.at))).label("resolved_at"),
        )
        .join(IncomingDocument, IncomingDocument.id == DocumentEvent.document_id)
        .where(in_scope)
        .group_by(DocumentEvent.document_id)
        .subquery()
    )
    lead = (
        select(Assignment.document_id, Unit.code.label("unit_code"))
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.role == "lead")
        .subquery()
    )
    rows = session.execute(
        select(
            IncomingDocument.id,
            IncomingDocument.arrival_number,
            IncomingDocument.symbol,
            IncomingDocument.received_at,
            IncomingDocument.due_date,
            IncomingDocument.urgency,
            IncomingDocument.issuer,
            IncomingDocument.document_type,
            IncomingDocument.state,
            events.c.registered_at,
            events.c.submitted_at,
            events.c.resolved_at,
            lead.c.unit_code,
        )
        .outerjoin(events, events.c.document_id == IncomingDocument.id)
        .outerjoin(lead, lead.c.document_id == IncomingDocument.id)
        .where(in_scope)
        .order_by(IncomingDocument.received_at, IncomingDocument.id)
    )
    convert = UTCDateTime().process_result_value
    dialect = session.get_bind().dialect
    facts = []
    for row in rows:
        facts.append(DocumentFacts(
            *row[:9],
            registered_at=_as_utc(row[9], convert, dialect),
            submitted_at=_as_utc(row[10], convert, dialect),
            resolved_at=_as_utc(row[11], convert, dialect),
            lead_unit=row[12],
        ))
    return facts


def _as_utc(value, convert, dialect):  # noqa: ANN001, ANN202
    """Aggregates lose the column type on SQLite (a string comes back): parse and mark UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return convert(value, dialect)
