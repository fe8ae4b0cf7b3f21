"""One row of facts per document, read from the documents and their event log in one query."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from app.models import Assignment, DocumentEvent, IncomingDocument, Unit, User
from app.services.audit.scope import (
    AuditPeriod,
    IdRange,
    documents_with_events,
    id_range,
)
from app.workflow import deadlines

FACT_COLUMNS = (
    IncomingDocument.id, IncomingDocument.arrival_number, IncomingDocument.symbol, IncomingDocument.received_at,
    IncomingDocument.due_date, IncomingDocument.urgency, IncomingDocument.issuer, IncomingDocument.document_type,
    IncomingDocument.state,
)


@dataclass(frozen=True, slots=True)
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
    lead_due_date: date | None = None
    overdue_now: bool = False  # app.workflow.deadlines.document_is_overdue today (with ``today`` only)

    @property
    def deadline(self) -> date | None:
        """The effective deadline (app.workflow.deadlines.document_deadline)."""
        return deadlines.document_deadline(self.due_date, self.lead_due_date)


def per_document(*, user: User, period: AuditPeriod, tz: ZoneInfo, ids: IdRange, columns=FACT_COLUMNS) -> Subquery:
    """``columns`` of every document in the period that the user's audit may count, with the first
    registration, submission and resolution from its events (NULL when it has none). ``ids`` is
    the period's :func:`~app.services.audit.scope.id_range`; see ``scope.documents_with_events``.
    """
    return documents_with_events(
        *columns,
        func.min(case((DocumentEvent.action == "register", DocumentEvent.at))).label("registered_at"),
        func.min(case((DocumentEvent.action == "submit", DocumentEvent.at))).label("submitted_at"),
        func.min(case((DocumentEvent.to_state == "resolved", DocumentEvent.at))).label("resolved_at"),
        user=user, period=period, tz=tz, ids=ids,
    ).subquery("per_document")


def tune_for_audit(session: Session) -> None:
    """PostgreSQL settings for this transaction only (SET LOCAL), for statements over a year of
    documents: no JIT (they cost enough to trigger it, and compiling — a quarter of a second here —
    costs more than it saves); memory enough to sort a year's durations without spilling (the
    percentiles sort). Nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(
            func.set_config("jit", "off", True),
            func.set_config("work_mem", "64MB", True),
        ))


def lead_units(ids: IdRange) -> Subquery:
    """The lead unit (chủ trì) of each document with an id in ``ids``, and the lead's own due date."""
    return (
        select(Assignment.document_id, Unit.code.label("unit_code"), Assignment.due_date.label("due_date"))
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.role == "lead", Assignment.document_id.between(*ids))
        .subquery("lead")
    )


def document_facts(
    *, session: Session, user: User, period: AuditPeriod, tz: ZoneInfo, today: date | None = None
) -> list[DocumentFacts]:
    """Facts for every document in the period that the user's audit may count. With ``today``,
    each unresolved document's ``overdue_now`` is decided by the rule over its assignments."""
    ids = id_range(session=session, period=period, tz=tz)
    docs, lead = per_document(user=user, period=period, tz=tz, ids=ids), lead_units(ids)
    statement = select(docs, lead.c.unit_code, lead.c.due_date).outerjoin(lead, lead.c.document_id == docs.c.id)
    rows = session.execute(statement)
    facts = []
    append = facts.append
    for row in rows:
        append(DocumentFacts(
            *row[:9],
            registered_at=as_utc(row[9]),
            submitted_at=as_utc(row[10]),
            resolved_at=as_utc(row[11]),
            lead_unit=row[12],
            lead_due_date=row[13],
        ))
    if today is None:
        return facts
    parts: dict[int, list[deadlines.Part]] = defaultdict(list)
    for document_id, *part in session.execute(
        select(Assignment.document_id, Assignment.id, Assignment.role, Assignment.state, Assignment.due_date)
        .where(Assignment.document_id.between(*ids))
    ):
        parts[document_id].append(deadlines.Part(*part))
    return [
        replace(f, overdue_now=deadlines.document_is_overdue(f.state, f.due_date, parts[f.id], today))
        if f.resolved_at is None else f
        for f in facts
    ]


def as_utc(value):
    """Aggregates may lose the column type (SQLite can hand back a naive string): parse and mark
    UTC, as UTCDateTime does."""
    if value is None or (type(value) is datetime and value.tzinfo is UTC):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
