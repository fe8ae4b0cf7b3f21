"""Where things stood at a past moment: overdue work as of a date, a document replayed to a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import Assignment, DocumentEvent, IncomingDocument, Unit, User
from app.services.audit.facts import lead_units, tune_for_audit
from app.services.audit.scope import AuditPeriod, audit_scope, id_range, period_clause
from app.workflow.calendar import WorkingCalendar
from app.workflow.machine import assignment_after, document_after
from app.workflow.vocabulary import DocumentState

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
    *, session: Session, user: User, period: AuditPeriod, as_of: date, calendar: WorkingCalendar, tz: ZoneInfo
) -> list[OverdueRow]:
    """Documents and assignments open at the end of ``as_of`` and past their deadline then.

    Replays the record: states come from the events before the cutoff, deadlines are the ones in
    force then (an extension granted later is undone using the date it started from).

    The database does the sifting: a document is open at the cutoff when no closing event
    precedes it, an assignment when no completion or acknowledgement does (NOT EXISTS, an index
    probe each), and only the first deadline change after the cutoff is read per document or
    assignment; everything is scanned within the period's id range (scope.id_range).
    """
    cutoff = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=tz)
    tune_for_audit(session)
    ids = id_range(session=session, period=period, tz=tz)
    closed_before = exists().where(
        DocumentEvent.document_id == IncomingDocument.id,
        DocumentEvent.document_id.between(*ids),
        DocumentEvent.to_state.in_(CLOSING_STATES),
        DocumentEvent.at < cutoff,
    )
    lead = lead_units(ids)
    open_docs = session.execute(
        select(IncomingDocument.id, IncomingDocument.arrival_number, IncomingDocument.symbol,
               IncomingDocument.due_date, lead.c.unit_code)
        .outerjoin(lead, lead.c.document_id == IncomingDocument.id)
        .where(IncomingDocument.id.between(*ids), period_clause(period, tz), audit_scope(user),
               IncomingDocument.received_at < cutoff, ~closed_before)
    ).all()
    if not open_docs:
        return []
    info = {r.id: r for r in open_docs}

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

    rows: list[OverdueRow] = []
    for r in open_docs:
        due = due_at_cutoff((r.id, None), r.due_date)
        if due is not None and due < as_of:
            rows.append(OverdueRow("document", r.id, r.arrival_number, r.symbol, r.unit_code, None, due,
                                   calendar.working_days_between(due, as_of)))

    done_before = exists().where(
        # An assignment's events are its document's, so they lie in the same id range; saying so
        # keeps the planner from walking the whole log's assignment index.
        DocumentEvent.document_id.between(*ids),
        DocumentEvent.assignment_id == Assignment.id,
        DocumentEvent.action.in_(["complete", "acknowledge"]),
        DocumentEvent.at < cutoff,
    )
    for a_id, document_id, unit_code, a_due in session.execute(
        select(Assignment.id, Assignment.document_id, Unit.code, Assignment.due_date)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.document_id.between(*ids), Assignment.created_at < cutoff, ~done_before)
        .order_by(Assignment.id)
    ):
        if document_id not in info:
            continue
        due = due_at_cutoff((document_id, a_id), a_due)
        if due is not None and due < as_of:
            d = info[document_id]
            rows.append(OverdueRow("assignment", document_id, d.arrival_number, d.symbol, unit_code, a_id, due,
                                   calendar.working_days_between(due, as_of)))
    rows.sort(key=lambda row: (row.due_date, row.document_id, row.kind, row.assignment_id or 0))
    return rows


@dataclass
class AssignmentAsOf:
    assignment_id: int
    unit_code: str
    role: str
    state: str
    assignee: str | None = None
    due_date: date | None = None


@dataclass
class DocumentAsOf:
    document_id: int
    as_of: datetime
    state: str
    due_date: date | None
    events_applied: int
    assignments: list[AssignmentAsOf] = field(default_factory=list)


def document_as_of(*, session: Session, document: IncomingDocument, at: datetime) -> DocumentAsOf:
    """Replay the document's events up to ``at`` through the workflow machines.

    Replaying (rather than reading a stored history of states) checks the log as it goes: an event
    the machine would not allow means the record is inconsistent, and says so (409).
    """
    events = session.scalars(
        select(DocumentEvent)
        .where(DocumentEvent.document_id == document.id, DocumentEvent.at <= at)
        .order_by(DocumentEvent.seq)
    ).all()
    state: str | None = None
    due: date | None = None
    assignments: dict[int, AssignmentAsOf] = {}
    for event in events:
        data = event.data or {}
        if event.action == "register":
            state = DocumentState.registered.value
            due = date.fromisoformat(data["due_date"]) if data.get("due_date") else None
            continue
        assert state is not None
        try:
            if event.action == "direct":
                due = date.fromisoformat(data["due_date"]) if data.get("due_date") else due
                for item in data.get("assignments", []):
                    assignments[item["assignment_id"]] = AssignmentAsOf(
                        item["assignment_id"], item["unit_code"], item["role"], "pending",
                        due_date=date.fromisoformat(item["due_date"]) if item.get("due_date") else None)
            if event.assignment_id in assignments:
                target = assignments[event.assignment_id]
                if event.action in {"assign", "complete", "acknowledge"}:
                    target.state = assignment_after(target.state, event.action)
                if event.action == "assign":
                    target.assignee = data.get("assignee_username")
                    target.due_date = date.fromisoformat(data["due_date"]) if data.get("due_date") else target.due_date
                if event.action == "extend":
                    target.due_date = date.fromisoformat(data["to_due_date"])
            elif event.action == "extend":
                due = date.fromisoformat(data["to_due_date"])
            next_state = document_after(state, event.action)
            if event.action == "complete" and event.to_state == DocumentState.resolved:
                next_state = document_after(next_state, "resolve")
        except Exception as exc:  # the log disagrees with the machine
            raise Conflict(f"event {event.seq} ({event.action}) cannot be replayed: {exc}") from exc
        if next_state != event.to_state:
            raise Conflict(f"event {event.seq} ({event.action}) recorded state {event.to_state}, replay gives {next_state}")
        state = next_state
    if state is None:
        raise Conflict(f"document {document.id} was not yet registered at {at.isoformat()}")
    return DocumentAsOf(document.id, at, state, due, len(events), list(assignments.values()))

