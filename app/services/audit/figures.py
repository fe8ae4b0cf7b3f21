"""Processing times, Decree 30 compliance, stage durations: computed from the facts and events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import DocumentEvent, User
from app.models.base import UTCDateTime
from app.services.audit import aggregates
from app.services.audit.facts import DocumentFacts, document_facts
from app.services.audit.scope import AuditPeriod, id_range, state_changes
from app.services.audit.stats import hours, mean, percentile, rate
from app.services.audit.workdays import MemoCalendar
from app.workflow import deadlines
from app.workflow.calendar import WorkingCalendar
from app.workflow.vocabulary import OPEN_STATES, Urgency

NOT_DIRECTED = "(chưa giao)"  # no lead unit yet
OFFICIAL_LETTER = "(công văn)"  # no type code: an official letter

GROUPINGS: dict[str, Callable[[DocumentFacts, ZoneInfo], str]] = {
    "unit": lambda f, _tz: f.lead_unit or NOT_DIRECTED,
    "urgency": lambda f, _tz: f.urgency,
    "issuer": lambda f, _tz: f.issuer,
    "document_type": lambda f, _tz: f.document_type or OFFICIAL_LETTER,
    "month": lambda f, tz: f.received_at.astimezone(tz).strftime("%Y-%m"),
}


@dataclass(frozen=True)
class ProcessingTimeRow:
    key: str
    documents: int
    resolved: int
    on_time: int
    overdue: int
    without_deadline: int  # resolved with no effective deadline: neither on time nor overdue
    on_time_rate: float | None  # on_time / (resolved - without_deadline)
    median_hours: float | None
    p90_hours: float | None
    median_working_days: float | None


def _outcome(f: DocumentFacts, tz: ZoneInfo) -> deadlines.Outcome:
    resolved_on = f.resolved_at.astimezone(tz).date() if f.resolved_at is not None else None
    return deadlines.outcome(resolved_on, f.deadline, f.overdue_now)


def processing_times(
    *, session: Session, user: User, period: AuditPeriod, group_by: str, calendar: WorkingCalendar, today: date,
    tz: ZoneInfo, in_database: bool = True,
) -> list[ProcessingTimeRow]:
    """Per group: how many arrived, were resolved, on time, overdue; time from arrival to resolution.
    ``in_database=False`` takes the Python path on PostgreSQL too (the parity tests compare them)."""
    if in_database and _in_database(session):
        computed = aggregates.processing_times(
            session=session, user=user, period=period, group_by=group_by, calendar=calendar, today=today, tz=tz,
            not_directed=NOT_DIRECTED, official_letter=OFFICIAL_LETTER)
        if computed is not None:
            return [_processing_time_row(*row) for row in sorted(computed, key=lambda row: row[0])]
    calendar = MemoCalendar(calendar)
    key_of = GROUPINGS[group_by]
    groups: dict[str, list[DocumentFacts]] = defaultdict(list)
    for f in document_facts(session=session, user=user, period=period, tz=tz, today=today):
        groups[key_of(f, tz)].append(f)
    rows = []
    for key in sorted(groups):
        members = groups[key]
        resolved = [f for f in members if f.resolved_at is not None]
        durations = [(f.resolved_at - f.received_at).total_seconds() for f in resolved]  # type: ignore[operator]
        working = [calendar.working_days_elapsed(f.received_at, f.resolved_at, tz) for f in resolved]  # type: ignore[arg-type]
        outcomes = [_outcome(f, tz) for f in members]
        rows.append(_processing_time_row(
            key, len(members), len(resolved), outcomes.count(deadlines.Outcome.on_time),
            sum(map(deadlines.counts_as_overdue, outcomes)), outcomes.count(deadlines.Outcome.without_deadline),
            percentile(durations, 0.5), percentile(durations, 0.9), percentile(working, 0.5),
        ))
    return rows


def _processing_time_row(
    key: str, documents: int, resolved: int, on_time: int, overdue: int, without_deadline: int,
    median_seconds: float | None, p90_seconds: float | None, median_days: float | None,
) -> ProcessingTimeRow:
    return ProcessingTimeRow(
        key=key,
        documents=documents,
        resolved=resolved,
        on_time=on_time,
        overdue=overdue,
        without_deadline=without_deadline,
        on_time_rate=deadlines.on_time_rate(on_time, resolved, without_deadline),
        median_hours=hours(median_seconds) if median_seconds is not None else None,
        p90_hours=hours(p90_seconds) if p90_seconds is not None else None,
        median_working_days=round(median_days, 2) if median_days is not None else None,
    )


def _in_database(session: Session) -> bool:
    """PostgreSQL computes the figures itself (aggregates.py); SQLite's are computed here."""
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class ComplianceRow:
    measure: str  # registration | presentation
    urgency_class: str  # normal | urgent (khẩn, thượng khẩn, hỏa tốc)
    rule: str
    eligible: int
    compliant: int
    rate: float | None


URGENT_LIMIT_WORKING_HOURS = aggregates.HOURS_LIMIT


def _timely(start: datetime, end: datetime, urgent: bool, calendar: WorkingCalendar, tz: ZoneInfo) -> bool:
    """Decree 30: the same or the next working day; urgent documents within 4 working hours."""
    if urgent:
        return calendar.working_hours_between(start, end, tz) <= URGENT_LIMIT_WORKING_HOURS
    return calendar.working_days_between(start.astimezone(tz).date(), end.astimezone(tz).date()) <= 1


def compliance(
    *, session: Session, user: User, period: AuditPeriod, calendar: WorkingCalendar, now: datetime, tz: ZoneInfo,
    in_database: bool = True,
) -> list[ComplianceRow]:
    """Shares registered on time after arrival, and presented (submitted) on time after registration.

    A document not yet presented counts once its window has passed (as not compliant); until then
    it is not yet eligible. Recalled documents that were never presented are left out.
    """
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    computed = None
    if in_database and _in_database(session):
        computed = aggregates.compliance(session=session, user=user, period=period, calendar=calendar, now=now, tz=tz)
    if computed is not None:
        counts.update(computed)
    calendar = MemoCalendar(calendar)
    for f in document_facts(session=session, user=user, period=period, tz=tz) if computed is None else ():
        urgent = f.urgency != Urgency.normal
        klass = "urgent" if urgent else "normal"
        if f.registered_at is not None:
            counts["registration", klass][0] += 1
            counts["registration", klass][1] += _timely(f.received_at, f.registered_at, urgent, calendar, tz)
        if f.registered_at is None:
            continue
        if f.submitted_at is not None:
            counts["presentation", klass][0] += 1
            counts["presentation", klass][1] += _timely(f.registered_at, f.submitted_at, urgent, calendar, tz)
        elif f.state in OPEN_STATES and not _timely(f.registered_at, now, urgent, calendar, tz):
            counts["presentation", klass][0] += 1
    rules = {
        "normal": "same or next working day",
        "urgent": f"within {URGENT_LIMIT_WORKING_HOURS:g} working hours",
    }
    rows = []
    for measure in ("registration", "presentation"):
        for klass in ("normal", "urgent"):
            eligible, compliant = counts[measure, klass]
            rows.append(ComplianceRow(measure, klass, rules[klass], eligible, compliant, rate(compliant, eligible)))
    return rows


@dataclass(frozen=True)
class StageRow:
    stage: str
    count: int
    median_hours: float | None
    p90_hours: float | None
    mean_hours: float | None
    median_working_days: float | None


STAGE_ORDER = ["registered", "office_review", "leadership_review", "in_progress", "returned", "resolved"]


def stage_durations(
    *, session: Session, user: User, period: AuditPeriod, calendar: WorkingCalendar, tz: ZoneInfo,
    in_database: bool = True,
) -> list[StageRow]:
    """How long documents stayed in each state: from the event that entered it to the next that left it.

    Stays not yet ended are not counted (they have no duration yet).
    """
    if in_database and _in_database(session):
        computed = aggregates.stage_durations(session=session, user=user, period=period, calendar=calendar, tz=tz)
        if computed is not None:
            return _stage_rows({row[0]: row[1:] for row in computed})
    calendar = MemoCalendar(calendar)
    ids = id_range(session=session, period=period, tz=tz)
    changes = state_changes(
        DocumentEvent.to_state.label("stage"),
        DocumentEvent.at.label("entered_at"),
        func.lead(DocumentEvent.at).over(partition_by=DocumentEvent.document_id, order_by=DocumentEvent.seq)
        .label("left_at"),
        user=user, period=period, tz=tz, ids=ids,
    ).subquery()
    stays: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    convert = UTCDateTime().process_result_value
    dialect = session.get_bind().dialect
    for stage, entered, left in session.execute(
        select(changes.c.stage, changes.c.entered_at, changes.c.left_at).where(changes.c.left_at.is_not(None))
    ):
        if isinstance(left, str):
            left = datetime.fromisoformat(left)
        stays[stage].append((entered, convert(left, dialect)))
    per_stage = {}
    for stage, spans in stays.items():
        seconds = [(b - a).total_seconds() for a, b in spans]
        working = [calendar.working_days_elapsed(a, b, tz) for a, b in spans]
        per_stage[stage] = (len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.9), mean(seconds),
                            percentile(working, 0.5))
    return _stage_rows(per_stage)


def _stage_rows(figures: dict[str, tuple]) -> list[StageRow]:
    """Rows in the slip's order (then any other state by name): count, median, p90, mean, median days."""
    rows = []
    for stage in [s for s in STAGE_ORDER if s in figures] + sorted(set(figures) - set(STAGE_ORDER)):
        count, med, p90, avg, wd = figures[stage]
        rows.append(StageRow(
            stage=stage,
            count=count,
            median_hours=hours(med) if med is not None else None,
            p90_hours=hours(p90) if p90 is not None else None,
            mean_hours=hours(avg) if avg is not None else None,
            median_working_days=round(wd, 2) if wd is not None else None,
        ))
    return rows
