"""The audit figures computed inside PostgreSQL: counts and percentiles per group, in one query each.

The definitions are figures.py's (which SQLite runs, and which PostgreSQL falls back to), operation
for operation, so both give the same numbers:

* times are exact microseconds (:func:`~app.services.audit.workdays.microseconds`); a duration is
  their difference over 10**6 in float8, as ``timedelta.total_seconds()`` computes it;
* ``percentile_cont`` interpolates exactly as :func:`~app.services.audit.stats.percentile`
  (``lo + (hi - lo) * (p * (n - 1) - floor(p * (n - 1)))``) and, like the Python lists, leaves
  out what does not apply (NULL);
* working time comes from the calendar laid out as a day table (:mod:`~app.services.audit.workdays`);
* rounding (hours, working days, rates) and the order of the rows stay in Python.

Each function returns None when the day table cannot stand in for the calendar (a time zone
with daylight saving) or a time it needs falls outside the table (events far from the period):
the caller then computes the figures in Python. Nothing is cached: every call reads the log.

A document is directed once (``direct`` leaves the review states for good) with exactly one lead
unit, so joining the lead unit never repeats a document; only grouping by unit needs it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from app.models import DocumentEvent, IncomingDocument, User
from app.services import rule_columns
from app.services.audit.facts import lead_units, tune_for_audit
from app.services.audit.scope import (
    AuditPeriod,
    IdRange,
    documents_with_events,
    id_range,
    state_changes,
)
from app.services.audit.workdays import (
    Day,
    DayTable,
    day_number,
    day_table,
    elapsed_working_days,
    microseconds,
    seconds_between,
    working_days_between,
)
from app.workflow import deadlines
from app.workflow.calendar import WorkingCalendar
from app.workflow.vocabulary import OPEN_STATES, Urgency

OPEN = sorted(s.value for s in OPEN_STATES)
HOURS_LIMIT = 4.0  # Decree 30: urgent documents within 4 working hours
MEDIAN_AND_P90 = literal([0.5, 0.9], ARRAY(Float))


def _table(calendar: WorkingCalendar, tz: ZoneInfo, period: AuditPeriod, today: date) -> DayTable | None:
    """The days an audit of ``period`` looks at, with a margin: an event is recorded after its
    document arrives (give or take a client clock a little ahead) and normally not after today,
    but imported or generated records may stray; a month before and a year after cost nothing."""
    return day_table(calendar, tz, period.date_from - timedelta(days=31), max(period.date_to, today) + timedelta(days=366))


def _missing(*checks: tuple[ColumnElement, Day]) -> ColumnElement:
    """How many rows have a time whose day was not found in the day table."""
    return func.count().filter(or_(*(and_(ts.is_not(None), day.cum.is_(None)) for ts, day in checks)))


def _per_document(user: User, period: AuditPeriod, tz: ZoneInfo, ids: IdRange, *columns: ColumnElement,
                  events: tuple[str, ...]) -> Subquery:
    """facts.per_document with times in microseconds: the documents of the period joined to their
    events and grouped once (documents in key order, events in (document_id, seq) order: one merge)."""
    firsts = {
        "registered_us": DocumentEvent.action == "register",
        "submitted_us": DocumentEvent.action == "submit",
        "resolved_us": DocumentEvent.to_state == "resolved",
    }
    return documents_with_events(
        IncomingDocument.id,
        microseconds(IncomingDocument.received_at).label("received_us"),
        *columns,
        *(microseconds(func.min(case((firsts[name], DocumentEvent.at)))).label(name) for name in events),
        user=user, period=period, tz=tz, ids=ids,
    ).subquery("per_document")


def processing_times(
    *, session: Session, user: User, period: AuditPeriod, group_by: str, calendar: WorkingCalendar, today: date,
    tz: ZoneInfo, not_directed: str, official_letter: str,
) -> list[tuple] | None:
    """Per group: (key, documents, resolved, on_time, overdue, without_deadline, median s, p90 s, median
    working days), the outcomes by app.workflow.deadlines' SQL twins."""
    table = _table(calendar, tz, period, today)
    if table is None:
        return None
    tune_for_audit(session)
    ids = id_range(session=session, period=period, tz=tz)
    # The deadline rule's stored marks (app.services.deadline_marks): the effective deadline, and
    # overdue now as ``is_past(overdue_after, today)``; the lead is joined only for its unit.
    docs = _per_document(user, period, tz, ids, IncomingDocument.effective_due_date, IncomingDocument.overdue_after,
                         IncomingDocument.urgency, IncomingDocument.issuer, IncomingDocument.document_type,
                         events=("resolved_us",))
    arrived, resolved = table.day_of(docs.c.received_us), table.day_of(docs.c.resolved_us)
    lead = lead_units(ids)
    deadline = day_number(docs.c.effective_due_date)
    keys = {
        # figures.GROUPINGS uses ``or``: an empty code or type counts as none.
        "unit": (func.coalesce(func.nullif(lead.c.unit_code, ""), not_directed),),
        "urgency": (docs.c.urgency,),
        "issuer": (docs.c.issuer,),
        "document_type": (func.coalesce(func.nullif(docs.c.document_type, ""), official_letter),),
        "month": (arrived.month,),
    }[group_by]
    is_resolved = docs.c.resolved_us.is_not(None)
    result = deadlines.resolved_outcome_sql(resolved.number, deadline)
    overdue_now = deadlines.is_past_sql(docs.c.overdue_after, today)
    duration = seconds_between(docs.c.received_us, docs.c.resolved_us)
    statement = (
        select(
            *keys,
            func.count(),
            func.count().filter(is_resolved),
            func.count().filter(is_resolved & (result == deadlines.Outcome.on_time.value)),
            func.count().filter(deadlines.counts_as_overdue_sql(is_resolved, result, overdue_now)),
            func.count().filter(is_resolved & (result == deadlines.Outcome.without_deadline.value)),
            func.percentile_cont(MEDIAN_AND_P90).within_group(duration),
            func.percentile_cont(0.5).within_group(
                elapsed_working_days(docs.c.received_us, docs.c.resolved_us, arrived, resolved)),
            _missing((docs.c.received_us, arrived), (docs.c.resolved_us, resolved)),
        )
        .select_from(docs)
        .group_by(*keys)
    )
    if group_by == "unit":
        statement = statement.outerjoin(lead, lead.c.document_id == docs.c.id)
    rows = session.execute(statement).all()
    if any(row[-1] for row in rows):
        return None
    out = []
    for key, documents, resolved_count, on_time, overdue, without_deadline, percentiles, median_days, _ in rows:
        if group_by == "month":
            key = table.month_names[key]
        median, p90 = percentiles if percentiles is not None else (None, None)
        out.append((key, documents, resolved_count, on_time, overdue, without_deadline, median, p90, median_days))
    return out


def compliance(
    *, session: Session, user: User, period: AuditPeriod, calendar: WorkingCalendar, now: datetime, tz: ZoneInfo
) -> dict[tuple[str, str], list[int]] | None:
    """(measure, urgency class) → [eligible, compliant], counted as figures.compliance counts them."""
    today = now.astimezone(tz).date()
    table = _table(calendar, tz, period, today)
    if table is None:
        return None
    tune_for_audit(session)
    docs = _per_document(user, period, tz, id_range(session=session, period=period, tz=tz),
                         IncomingDocument.urgency, IncomingDocument.state,
                         events=("registered_us", "submitted_us"))
    now_us = literal((now - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1), BigInteger)
    arrived, registered = table.day_of(docs.c.received_us), table.day_of(docs.c.registered_us)
    submitted, today_row = table.day_of(docs.c.submitted_us), table.day_of(now_us)
    urgent = docs.c.urgency != Urgency.normal.value

    def timely(start: ColumnElement, end: ColumnElement, start_day: Day, end_day: Day) -> ColumnElement:
        """figures._timely: within 4 working hours if urgent, else the same or next working day."""
        return case(
            (urgent, elapsed_working_days(start, end, start_day, end_day) * literal(24.0, Float)
             <= literal(HOURS_LIMIT, Float)),
            else_=working_days_between(start_day, end_day) <= 1,
        )

    is_registered = docs.c.registered_us.is_not(None)
    is_submitted = docs.c.submitted_us.is_not(None)
    counts = []
    for in_class in (~urgent, urgent):
        counts += [
            func.count().filter(in_class & is_registered),
            func.count().filter(in_class & is_registered & timely(docs.c.received_us, docs.c.registered_us,
                                                                  arrived, registered)),
            func.count().filter(in_class & is_registered & (is_submitted | (
                docs.c.state.in_(OPEN) & ~timely(docs.c.registered_us, now_us, registered, today_row)))),
            func.count().filter(in_class & is_registered & is_submitted & timely(
                docs.c.registered_us, docs.c.submitted_us, registered, submitted)),
        ]
    statement = (
        select(*counts, _missing((docs.c.received_us, arrived), (docs.c.registered_us, registered),
                                 (docs.c.submitted_us, submitted), (now_us, today_row)))
        .select_from(docs)
    )
    row = session.execute(statement).one()
    if row[-1]:
        return None
    out = {}
    for i, klass in enumerate(("normal", "urgent")):
        reg_eligible, reg_compliant, pres_eligible, pres_compliant = row[4 * i:4 * i + 4]
        out["registration", klass] = [reg_eligible, reg_compliant]
        out["presentation", klass] = [pres_eligible, pres_compliant]
    return out


def stage_durations(
    *, session: Session, user: User, period: AuditPeriod, calendar: WorkingCalendar, tz: ZoneInfo
) -> list[tuple] | None:
    """Per stage: (stage, count, median s, p90 s, mean s, median working days) of the ended stays."""
    table = _table(calendar, tz, period, datetime.now(tz).date())
    if table is None:
        return None
    tune_for_audit(session)
    ids = id_range(session=session, period=period, tz=tz)
    entered_us = microseconds(DocumentEvent.at)
    changes = state_changes(
        DocumentEvent.to_state.label("stage"),
        entered_us.label("entered_us"),
        func.lead(entered_us).over(partition_by=DocumentEvent.document_id, order_by=DocumentEvent.seq)
        .label("left_us"),
        user=user, period=period, tz=tz, ids=ids,
    ).subquery("changes")
    entered, left = table.day_of(changes.c.entered_us), table.day_of(changes.c.left_us)
    seconds = seconds_between(changes.c.entered_us, changes.c.left_us)
    statement = (
        select(
            changes.c.stage,
            func.count(),
            func.percentile_cont(MEDIAN_AND_P90).within_group(seconds),
            func.avg(seconds),
            func.percentile_cont(0.5).within_group(
                elapsed_working_days(changes.c.entered_us, changes.c.left_us, entered, left)),
            _missing((changes.c.entered_us, entered), (changes.c.left_us, left)),
        )
        .select_from(changes)
        .where(changes.c.left_us.is_not(None))
        .group_by(changes.c.stage)
    )
    rows = session.execute(statement).all()
    if any(row[-1] for row in rows):
        return None
    return [(stage, count, *percentiles, mean, median_days)
            for stage, count, percentiles, mean, median_days, _ in rows]
