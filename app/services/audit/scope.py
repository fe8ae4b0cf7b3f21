"""Which documents an audit may count, and the period filter shared by every audit endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, select

from app.models import IncomingDocument, Register, User
from app.services.access import visible_documents
from app.workflow.vocabulary import Confidentiality, Role


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
