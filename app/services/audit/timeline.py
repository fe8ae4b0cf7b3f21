"""Where things stood at a past moment: overdue work as of a date, a document replayed to a time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session, aliased

from app.errors import Conflict
from app.models import Assignment, DocumentEvent, IncomingDocument, Unit, User
from app.services.audit.facts import tune_for_audit
from app.services.audit.scope import AuditPeriod, audit_scope, id_range, period_clause
from app.services.audit.workdays import MemoCalendar
from app.workflow import deadlines
from app.workflow.calendar import WorkingCalendar
from app.workflow.replay import EventRecord, ReplayedAssignment, ReplayError, replay
from app.workflow.vocabulary import AssignmentRole, AssignmentState, DocumentState
from app.i18n import msg

CLOSING_STATES = ("resolved", "archived", "recalled")
# Actions that set a deadline; their event data keeps the date in force before them.
DEADLINE_ACTIONS = ("direct", "assign", "extend")


@dataclass(frozen=True)
class OverdueRow:
    kind: str  # document | assignment
    document_id: int
    arrival_number: int
    symbol: str
    unit_code: str | None
    assignment_id: int | None
    due_date: date
    working_days_overdue: int


def overdue(
    *, session: Session, user: User, period: AuditPeriod, as_of: date, calendar: WorkingCalendar, tz: ZoneInfo,
    today: date | None = None, in_database: bool = True,
) -> list[OverdueRow]:
    """Documents and assignments overdue at the end of ``as_of`` (app.workflow.deadlines, with
    ``as_of`` as today): a document open then and past its effective deadline; an assignment not
    done then, of a document not recalled then, past its deadline (a cooperating unit stays on the
    list after the lead resolved the document).

    Replays the record: states come from the events before the cutoff, deadlines are the ones in
    force then (an extension granted later is undone using the date it started from).

    The database does the sifting: it finds the documents open at the cutoff and the assignments
    not done then of documents not recalled then (NOT EXISTS, an index probe or a hashed anti-join
    each), each with its lead's date, and reads only the first deadline change after the cutoff per
    document or assignment; everything is scanned within the period's id range (scope.id_range).
    The rule itself (app.workflow.deadlines) then decides, here, on the rows found.

    When ``as_of`` is ``today`` or later, nothing has changed since the cutoff's day began (events
    are stamped with the server's clock as they are written), so the documents as they stand are
    the answer: :func:`overdue_now` finds them by their stored deadline mark, an index range.
    ``in_database=False`` replays every document of the period instead (:func:`overdue_replayed`):
    the reference the parity tests hold both against.
    """
    if not in_database:
        return overdue_replayed(session=session, user=user, period=period, as_of=as_of, calendar=calendar, tz=tz)
    if today is not None and as_of >= today:
        return overdue_now(session=session, user=user, period=period, as_of=as_of, calendar=calendar, tz=tz)
    cutoff = _cutoff(as_of, tz)
    tune_for_audit(session)
    ids = id_range(session=session, period=period, tz=tz)

    def before_cutoff(*states: str) -> ColumnElement[bool]:
        return exists().where(
            DocumentEvent.document_id == IncomingDocument.id,
            DocumentEvent.document_id.between(*ids),
            DocumentEvent.to_state.in_(states),
            DocumentEvent.at < cutoff,
        )

    def done_before(assignment_id: ColumnElement) -> ColumnElement[bool]:
        return exists().where(
            # An assignment's events are its document's, so they lie in the same id range; saying
            # so keeps the planner from walking the whole log's assignment index.
            DocumentEvent.document_id.between(*ids),
            DocumentEvent.assignment_id == assignment_id,
            DocumentEvent.action.in_(["complete", "acknowledge"]),
            DocumentEvent.at < cutoff,
        )

    scope = (IncomingDocument.id.between(*ids), period_clause(period, tz), audit_scope(user),
             IncomingDocument.received_at < cutoff)
    lead = aliased(Assignment)
    lead_of = and_(lead.document_id == IncomingDocument.id, lead.document_id.between(*ids),
                   lead.role == AssignmentRole.lead.value, lead.created_at < cutoff)
    # The documents open at the cutoff, with their lead (whose date is the document's, failing its own)...
    documents = session.execute(
        select(IncomingDocument.id, IncomingDocument.arrival_number, IncomingDocument.symbol,
               IncomingDocument.due_date, lead.id.label("lead_id"), lead.unit_id.label("lead_unit_id"),
               lead.due_date.label("lead_due"))
        .outerjoin(lead, lead_of)
        .where(*scope, ~before_cutoff(*CLOSING_STATES))
    ).all()
    # ... and the assignments not done at the cutoff, of documents not recalled then, with the same.
    part = aliased(Assignment)
    parts = session.execute(
        select(part.id, part.document_id, part.unit_id, part.role, part.due_date,
               IncomingDocument.arrival_number, IncomingDocument.symbol, IncomingDocument.due_date.label("doc_due"),
               lead.id.label("lead_id"), lead.due_date.label("lead_due"))
        .join(IncomingDocument, IncomingDocument.id == part.document_id)
        .outerjoin(lead, lead_of)
        .where(part.document_id.between(*ids), part.created_at < cutoff, ~done_before(part.id), *scope,
               ~before_cutoff(DocumentState.recalled.value))
    ).all()
    if not documents and not parts:
        return []
    info = {r.id for r in documents} | {r.document_id for r in parts}
    units = dict(session.execute(select(Unit.id, Unit.code)).all())

    # The deadline in force at the cutoff: what the first later change started from, else today's.
    first_change: dict[tuple[int, int | None], str | None] = {}
    for document_id, assignment_id, from_due_date in session.execute(
        select(DocumentEvent.document_id, DocumentEvent.assignment_id,
               DocumentEvent.data["from_due_date"].as_string())
        .where(DocumentEvent.action.in_(DEADLINE_ACTIONS), DocumentEvent.at >= cutoff,
               DocumentEvent.document_id.between(*ids))
        .order_by(DocumentEvent.seq)
    ):
        if document_id in info:
            first_change.setdefault((document_id, assignment_id), from_due_date)

    def due_at_cutoff(key: tuple[int, int | None], current: date | None) -> date | None:
        if key in first_change:
            earliest = first_change[key]
            return date.fromisoformat(earliest) if earliest else None
        return current

    def effective(document_id: int, own: date | None, lead_id: int | None, lead_due: date | None) -> date | None:
        lead_then = due_at_cutoff((document_id, lead_id), lead_due) if lead_id is not None else None
        return deadlines.document_deadline(due_at_cutoff((document_id, None), own), lead_then)

    # The rule, on the rows found: the document open then and past its effective deadline; the
    # assignment not done then (its document not recalled then) past its own deadline, else the document's.
    between = MemoCalendar(calendar).working_days_between
    rows: list[OverdueRow] = []
    for r in documents:
        deadline = effective(r.id, r.due_date, r.lead_id, r.lead_due)
        if deadlines.is_past(deadline, as_of):
            assert deadline is not None
            rows.append(OverdueRow("document", r.id, r.arrival_number, r.symbol,
                                   units[r.lead_unit_id] if r.lead_unit_id is not None else None, None, deadline,
                                   between(deadline, as_of)))
    for r in parts:
        deadline = deadlines.assignment_deadline(
            due_at_cutoff((r.document_id, r.id), r.due_date), effective(r.document_id, r.doc_due, r.lead_id, r.lead_due))
        if deadlines.assignment_is_overdue(AssignmentState.pending, deadline, DocumentState.in_progress, as_of):
            assert deadline is not None
            rows.append(OverdueRow("assignment", r.document_id, r.arrival_number, r.symbol, units[r.unit_id], r.id,
                                   deadline, between(deadline, as_of)))
    rows.sort(key=_row_order)
    return rows


def overdue_now(
    *, session: Session, user: User, period: AuditPeriod, as_of: date, calendar: WorkingCalendar, tz: ZoneInfo
) -> list[OverdueRow]:
    """:func:`overdue` for a day from today on, from the documents as they stand: the candidates
    are the documents whose stored mark says they are overdue on ``as_of``
    (``is_past(overdue_after, as_of)``, app.services.deadline_marks), read through its partial
    index; the rule then lists each one's rows (:func:`_overdue_rows`, as the replay does)."""
    cutoff = _cutoff(as_of, tz)
    tune_for_audit(session)
    ids = id_range(session=session, period=period, tz=tz)
    candidates = (
        select(IncomingDocument.id)
        .where(IncomingDocument.id.between(*ids), period_clause(period, tz), audit_scope(user),
               IncomingDocument.received_at < cutoff, deadlines.is_past_sql(IncomingDocument.overdue_after, as_of))
    )
    documents = session.execute(
        select(IncomingDocument.id, IncomingDocument.arrival_number, IncomingDocument.symbol, IncomingDocument.state,
               IncomingDocument.due_date)
        .where(IncomingDocument.id.in_(candidates))
    ).all()
    parts: dict[int, list[tuple[deadlines.Part, str]]] = defaultdict(list)
    for document_id, id_, role, state, due_date, code in session.execute(
        select(Assignment.document_id, Assignment.id, Assignment.role, Assignment.state, Assignment.due_date, Unit.code)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.document_id.in_(candidates))
        .order_by(Assignment.document_id, Assignment.id)
    ):
        parts[document_id].append((deadlines.Part(id_, role, state, due_date), code))
    memo = MemoCalendar(calendar)
    rows: list[OverdueRow] = []
    for d in documents:
        rows += _overdue_rows(d.id, d.arrival_number, d.symbol, d.state, d.due_date, parts[d.id], as_of, memo)
    rows.sort(key=_row_order)
    return rows


def overdue_replayed(
    *, session: Session, user: User, period: AuditPeriod, as_of: date, calendar: WorkingCalendar, tz: ZoneInfo
) -> list[OverdueRow]:
    """:func:`overdue` by replaying each document of the period through the machines
    (app.workflow.replay) up to the cutoff and asking the rule: slower, and independent of every
    shortcut the database path takes."""
    cutoff = _cutoff(as_of, tz)
    ids = id_range(session=session, period=period, tz=tz)
    documents = session.execute(
        select(IncomingDocument.id, IncomingDocument.arrival_number, IncomingDocument.symbol)
        .where(IncomingDocument.id.between(*ids), period_clause(period, tz), audit_scope(user),
               IncomingDocument.received_at < cutoff)
        .order_by(IncomingDocument.id)
    ).all()
    logs: dict[int, list[EventRecord]] = defaultdict(list)
    for document_id, seq, action, to_state, assignment_id, data in session.execute(
        select(DocumentEvent.document_id, DocumentEvent.seq, DocumentEvent.action, DocumentEvent.to_state,
               DocumentEvent.assignment_id, DocumentEvent.data)
        .where(DocumentEvent.document_id.between(*ids), DocumentEvent.at < cutoff)
        .order_by(DocumentEvent.document_id, DocumentEvent.seq)
    ):
        logs[document_id].append(EventRecord(seq, action, to_state, assignment_id, data))
    rows: list[OverdueRow] = []
    for d in documents:
        try:
            replayed = replay(logs.get(d.id, []))
        except ReplayError as exc:
            raise Conflict(msg("document {id}: {reason}", id=d.id, reason=str(exc)), code="audit.replay_failed") from exc
        if replayed.state is None:
            continue
        rows += _overdue_rows(d.id, d.arrival_number, d.symbol, replayed.state, replayed.due_date,
                              [(a.part(), a.unit_code) for a in replayed.assignments], as_of, calendar)
    rows.sort(key=_row_order)
    return rows


def _cutoff(as_of: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=tz)


def _overdue_rows(
    document_id: int, arrival_number: int, symbol: str, state: str, due_date: date | None,
    parts: list[tuple[deadlines.Part, str]], as_of: date, calendar: WorkingCalendar | MemoCalendar,
) -> list[OverdueRow]:
    """The rows the rule gives one document as it stood at the cutoff (``as_of`` as today)."""
    rows = []
    lead_unit = next((code for part, code in parts if part.role == AssignmentRole.lead), None)
    effective = deadlines.document_deadline(due_date, deadlines.lead_due_date(p for p, _ in parts))
    if state in deadlines.OPEN and deadlines.is_past(effective, as_of):
        assert effective is not None
        rows.append(OverdueRow("document", document_id, arrival_number, symbol, lead_unit, None, effective,
                               calendar.working_days_between(effective, as_of)))
    for part, code in parts:
        deadline = deadlines.assignment_deadline(part.due_date, effective)
        if deadlines.assignment_is_overdue(part.state, deadline, state, as_of):
            assert deadline is not None
            rows.append(OverdueRow("assignment", document_id, arrival_number, symbol, code, part.id, deadline,
                                   calendar.working_days_between(deadline, as_of)))
    return rows


def _row_order(row: OverdueRow) -> tuple:
    return (row.due_date, row.document_id, row.kind, row.assignment_id or 0)


@dataclass
class DocumentAsOf:
    document_id: int
    as_of: datetime
    state: str
    due_date: date | None
    events_applied: int
    assignments: list[ReplayedAssignment] = field(default_factory=list)


def document_as_of(*, session: Session, document: IncomingDocument, at: datetime) -> DocumentAsOf:
    """Replay the document's events up to ``at`` through the workflow machines (app.workflow.replay);
    a log the machines would not allow is reported (409)."""
    events = session.execute(
        select(DocumentEvent.seq, DocumentEvent.action, DocumentEvent.to_state, DocumentEvent.assignment_id,
               DocumentEvent.data)
        .where(DocumentEvent.document_id == document.id, DocumentEvent.at <= at)
        .order_by(DocumentEvent.seq)
    ).all()
    try:
        replayed = replay(EventRecord(*event) for event in events)
    except ReplayError as exc:
        raise Conflict(str(exc), code="audit.replay_failed") from exc
    if replayed.state is None:
        raise Conflict(msg("document {id} was not yet registered at {at}", id=document.id, at=at.isoformat()),
                       code="audit.not_yet_registered")
    return DocumentAsOf(document.id, at, replayed.state, replayed.due_date, replayed.events_applied,
                        replayed.assignments)
