"""Which documents an audit may count, and the period filter shared by every audit endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.i18n import msg
from app.models import DocumentEvent, IncomingDocument, Register, User
from app.services.access import visible_documents
from app.workflow.vocabulary import Confidentiality, Role

# Who may read the audit figures, and the register book (clerks print it too): the API's audit
# operations and the console's pages check these same sets.
AUDIT_READERS = frozenset({Role.auditor, Role.leader, Role.admin})
REGISTER_BOOK_READERS = AUDIT_READERS | {Role.clerk}


@dataclass(frozen=True)
class AuditPeriod:
    """Documents whose arrival date (local) falls in [date_from, date_to], optionally one register."""

    date_from: date
    date_to: date
    register_code: str | None = None

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(self.date_from, time.min, tzinfo=tz)
        end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=tz)
        return start, end


def requested_period(*, today: date, date_from: date | None = None, date_to: date | None = None,
                     register_code: str | None = None) -> AuditPeriod:
    """The period a request names: from 1 January of this year to today unless given; ``to``
    before ``from`` is refused."""
    start = date_from or date(today.year, 1, 1)
    end = date_to or today
    if end < start:
        raise ValidationFailed("to", msg("must not be before 'from'"), code="period.reversed")
    return AuditPeriod(start, end, register_code)


def audit_scope(user: User) -> ColumnElement[bool]:
    """What an audit counts: what the user may see; an admin (who reads no documents) counts the
    normal ones, never the confidential registers."""
    if Role.admin in user.roles and not user.roles & {Role.leader, Role.auditor, Role.clerk, Role.office_leader}:
        return IncomingDocument.confidentiality == Confidentiality.normal.value
    return visible_documents(user)


def period_clause(period: AuditPeriod, tz: ZoneInfo) -> ColumnElement[bool]:
    start, end = period.bounds(tz)
    clause = and_(IncomingDocument.received_at >= start, IncomingDocument.received_at < end)
    if period.register_code:
        clause = and_(
            clause,
            IncomingDocument.register_id.in_(select(Register.id).where(Register.code == period.register_code)),
        )
    return clause


IdRange = tuple[int, int]


def id_range(*, session: Session, period: AuditPeriod, tz: ZoneInfo) -> IdRange:
    """The smallest and largest id among the period's documents ((0, -1) when it has none).

    Not a filter of its own — every document in the range is still checked against the period —
    but a range the database can scan: ids are given at registration, which follows arrival
    closely, so a year of documents, their events and their assignments sit in one narrow slice
    of each table's (document) id index instead of being looked for among all the years. Read
    first, as numbers, so the planner sees how many rows the range holds.
    """
    # ``id + 0``: PostgreSQL would otherwise answer min/max by walking the primary key from either
    # end until it meets the period — through every older document. This way it reads the period
    # from the (received_at, id) index.
    low, high = session.execute(
        select(func.min(IncomingDocument.id + 0), func.max(IncomingDocument.id + 0)).where(period_clause(period, tz))
    ).one()
    return (low, high) if low is not None else (0, -1)


def documents_with_events(
    *columns: ColumnElement[Any], user: User, period: AuditPeriod, tz: ZoneInfo, ids: IdRange
) -> Select[Any]:
    """``columns`` — aggregates over each document's events among them — of every document in
    the period that the user's audit may count, joined to its events and grouped by document.

    The documents come in primary key order and the events in (document_id, seq) order, both
    within the period's id range, so PostgreSQL merges and aggregates them in one pass instead
    of aggregating the events separately and hashing the result. Shared by the Python and the
    in-database figures, which must count the same documents.
    """
    return (
        select(*columns)
        .select_from(IncomingDocument)
        .outerjoin(DocumentEvent, and_(DocumentEvent.document_id == IncomingDocument.id,
                                       DocumentEvent.document_id.between(*ids)))
        .where(IncomingDocument.id.between(*ids), period_clause(period, tz), audit_scope(user))
        .group_by(IncomingDocument.id)
    )


def state_changes(
    *columns: ColumnElement[Any], user: User, period: AuditPeriod, tz: ZoneInfo, ids: IdRange
) -> Select[Any]:
    """``columns`` over the events that move a document into a state (registering, or a change of
    state; not the actions within one), of the period's documents the user's audit may count.
    Shared by the Python and the in-database stage durations."""
    return (
        select(*columns)
        .select_from(DocumentEvent)
        .join(IncomingDocument, IncomingDocument.id == DocumentEvent.document_id)
        .where(
            DocumentEvent.document_id.between(*ids), IncomingDocument.id.between(*ids),
            period_clause(period, tz), audit_scope(user),
            or_(DocumentEvent.from_state.is_(None), DocumentEvent.from_state != DocumentEvent.to_state),
        )
    )
