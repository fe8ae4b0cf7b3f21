"""Audit responses. Each has a JSON shape and a CSV of its rows (``GET /audit/….csv``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from app.schemas.common import Schema


class Period(Schema):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    register_code: str | None


class ProcessingTimeRow(Schema):
    key: str
    documents: int
    resolved: int
    on_time: int = Field(description="Resolved on or before the effective deadline")
    overdue: int = Field(description="Resolved after the effective deadline, or unresolved and overdue today")
    without_deadline: int = Field(description="Resolved with no effective deadline: neither on time nor overdue")
    on_time_rate: float | None = Field(description="on_time / (resolved - without_deadline)")
    median_hours: float | None = Field(description="arrival → resolution, calendar hours")
    p90_hours: float | None
    median_working_days: float | None = Field(description="arrival → resolution on the working-day calendar")


class ProcessingTimes(Schema):
    period: Period
    group_by: Literal["unit", "urgency", "issuer", "document_type", "month"]
    rows: list[ProcessingTimeRow]


class StageRow(Schema):
    stage: str
    count: int
    median_hours: float | None
    p90_hours: float | None
    mean_hours: float | None
    median_working_days: float | None


class StageDurations(Schema):
    period: Period
    rows: list[StageRow]


class OverdueRow(Schema):
    kind: Literal["document", "assignment"]
    document_id: int
    arrival_number: int
    symbol: str
    unit_code: str | None
    assignment_id: int | None
    due_date: date
    working_days_overdue: int


class Overdue(Schema):
    period: Period
    as_of: date
    rows: list[OverdueRow]


class ComplianceRow(Schema):
    measure: Literal["registration", "presentation"]
    urgency_class: Literal["normal", "urgent"]
    rule: str
    eligible: int
    compliant: int
    rate: float | None


class Compliance(Schema):
    period: Period
    rows: list[ComplianceRow]


class AssignmentAsOf(Schema):
    assignment_id: int
    unit_code: str
    role: str
    state: str
    assignee: str | None
    due_date: date | None


class DocumentAsOf(Schema):
    document_id: int
    as_of: datetime
    state: str
    due_date: date | None
    events_applied: int
    assignments: list[AssignmentAsOf]


class SecurityEventOut(Schema):
    id: int
    at: datetime
    kind: str = Field(description="login_succeeded, login_failed, login_locked, logout, tokens_revoked, "
                      "user_created, user_changed, password_changed, password_reset, delegation_created, "
                      "delegation_revoked")
    username: str | None = Field(description="Whom it is about (as typed, for a failed login)")
    actor: str | None = Field(description="Who did it, when someone else did (an admin)")
    client: str | None = Field(description="The client address the request came from")
    data: dict[str, Any]
