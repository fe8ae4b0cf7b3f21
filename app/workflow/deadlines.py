"""Deadlines (thời hạn xử lý), overdue and on time: the one rule, in Python and, beside it, in SQL.

README.md ("One rule for deadlines, overdue and the work list"):

* A document's **effective deadline** is its own ``due_date``, else the due date of its lead
  assignment (chủ trì).
* An assignment's **deadline** is its own ``due_date``, else the document's effective deadline.
  Choice where the contract says only "the document's": the *effective* one, so a cooperating
  unit given no date of its own shares the lead's date rather than having none.
* A deadline's day ends at local midnight after it (:func:`app.workflow.calendar.overdue_at`), so
  something is past due on ``today`` (the local date) when ``deadline < today``.
* An **assignment is overdue** when it is not ``done``, past its deadline, and the document is not
  ``recalled``: a cooperating unit stays overdue after the lead resolves the document (and after
  it is archived: the unit still owes its part).
* A **document is overdue** when it is open (not resolved, archived or recalled) past its
  effective deadline, or any of its assignments is overdue.
* A **resolved** document was resolved ``on_time`` when its local resolution date is on or before
  its effective deadline, ``late`` after it, and ``without_deadline`` when it has none; an
  unresolved one is ``overdue`` (the rule above, today) or ``open``.

Every Python function has its SQL twin right below it, named ``*_sql``: a SQLAlchemy Core
expression over the columns the caller passes (:class:`DocumentColumns`, :class:`AssignmentColumns`;
the services bind them to the ORM's tables). No session, no ORM here. The parity tests
(``tests/parity``) run both over generated data and compare them document by document.

Over a million documents the rule's subqueries are too slow for a filter, so two of its values,
which do not depend on today, are stored on each document and kept current by every write of a
slip (:mod:`app.services.deadline_marks`): the effective deadline and :func:`overdue_after`, the
last day before the document is overdue. ``is_past(overdue_after, today)`` is "overdue"; the
parity tests and a check after every database test hold the stored values to this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import ColumnElement, FromClause, and_, case, func, literal, or_, select

from app.workflow.vocabulary import OPEN_STATES, AssignmentRole, AssignmentState, DocumentState

OPEN = tuple(sorted(s.value for s in OPEN_STATES))


@dataclass(frozen=True, slots=True)
class Part:
    """An assignment as the deadline rule sees it."""

    id: int
    role: str
    state: str
    due_date: date | None


def lead_due_date(parts: Iterable[Part]) -> date | None:
    """The lead assignment's own due date (None without a lead)."""
    return next((p.due_date for p in parts if p.role == AssignmentRole.lead), None)


def document_deadline(own: date | None, lead_due: date | None) -> date | None:
    """The document's effective deadline: its own, else its lead assignment's."""
    return own if own is not None else lead_due


def assignment_deadline(own: date | None, document_deadline: date | None) -> date | None:
    """An assignment's deadline: its own, else the document's effective deadline."""
    return own if own is not None else document_deadline


def is_past(deadline: date | None, today: date) -> bool:
    """The deadline's day has ended by ``today`` (a local date)."""
    return deadline is not None and deadline < today


def assignment_is_overdue(state: str, deadline: date | None, document_state: str, today: date) -> bool:
    return state != AssignmentState.done and document_state != DocumentState.recalled and is_past(deadline, today)


def reminds(role: str, document_state: str) -> bool:
    """Whether a part is followed up (due-soon and overdue reminders): a lead or cooperating unit
    owes its work whatever became of the document; an informed unit (để biết) only has to read
    it, so it is reminded while the document is open and left alone once it is resolved or
    archived (its unacknowledged part stays overdue in the figures, as the rule above says)."""
    return role != AssignmentRole.inform or document_state in OPEN


def assignment_is_due_soon(state: str, deadline: date | None, document_state: str, today: date,
                           horizon: date) -> bool:
    """Not done, the document not recalled, and the deadline between ``today`` and ``horizon``
    (both included): ``horizon`` is today plus the due-soon setting in working days
    (:meth:`app.workflow.calendar.WorkCalendar.add_working_days`), so a Friday's two working days
    reach the Tuesday across the weekend. Past deadlines are overdue, not due soon."""
    return (state != AssignmentState.done and document_state != DocumentState.recalled
            and deadline is not None and today <= deadline <= horizon)


def overdue_parts(document_state: str, due_date: date | None, parts: Iterable[Part], today: date) -> set[int]:
    """The ids of the document's overdue assignments."""
    parts = list(parts)
    effective = document_deadline(due_date, lead_due_date(parts))
    return {
        p.id for p in parts
        if assignment_is_overdue(p.state, assignment_deadline(p.due_date, effective), document_state, today)
    }


def overdue_after(state: str, due_date: date | None, parts: Iterable[Part]) -> date | None:
    """The last day before the document becomes overdue, as it stands (None: it cannot become
    overdue as it stands): the earliest of its effective deadline while it is open and the
    deadlines of its assignments not done while it is not recalled.

    It does not depend on today, so it can be stored with the document and kept current by every
    change of the slip (:mod:`app.services.deadline_marks`); ``is_past(overdue_after(...), today)``
    is :func:`document_is_overdue`, by definition below."""
    parts = list(parts)
    effective = document_deadline(due_date, lead_due_date(parts))
    candidates = [effective] if state in OPEN and effective is not None else []
    if state != DocumentState.recalled:
        candidates += [
            deadline for p in parts
            if p.state != AssignmentState.done and (deadline := assignment_deadline(p.due_date, effective)) is not None
        ]
    return min(candidates, default=None)


def document_is_overdue(state: str, due_date: date | None, parts: Iterable[Part], today: date) -> bool:
    """Open past its effective deadline, or with an overdue assignment (:func:`assignment_is_overdue`):
    one of the candidates of :func:`overdue_after` is past."""
    return is_past(overdue_after(state, due_date, parts), today)


class Outcome(StrEnum):
    """How a document stands against its deadline, for the audit's counts."""

    on_time = "on_time"
    late = "late"
    without_deadline = "without_deadline"
    overdue = "overdue"  # not resolved, and overdue today
    open = "open"  # not resolved, not overdue (or recalled)


def resolved_outcome(resolved_on: date, deadline: date | None) -> Outcome:
    """A resolved document against its effective deadline (``resolved_on``: the local date of its
    first resolution)."""
    if deadline is None:
        return Outcome.without_deadline
    return Outcome.on_time if resolved_on <= deadline else Outcome.late


def outcome(resolved_on: date | None, deadline: date | None, overdue_now: bool) -> Outcome:
    """Any document: :func:`resolved_outcome` once resolved (None: never resolved); otherwise
    ``overdue`` or ``open`` by ``overdue_now``, :func:`document_is_overdue` today."""
    if resolved_on is not None:
        return resolved_outcome(resolved_on, deadline)
    return Outcome.overdue if overdue_now else Outcome.open


def counts_as_overdue(result: Outcome) -> bool:
    """The audit's "overdue": resolved late, or still unresolved and overdue."""
    return result in (Outcome.late, Outcome.overdue)


def on_time_rate(on_time: int, resolved: int, without_deadline: int) -> float | None:
    """On time among the resolved documents that had a deadline (None when there are none)."""
    measured = resolved - without_deadline
    return round(on_time / measured, 4) if measured else None


# --- SQL twins -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentColumns:
    """The document columns the rule reads, from a table, an alias or a subquery (``table``: what
    they belong to, needed only by the set forms, which join it)."""

    id: ColumnElement
    state: ColumnElement
    due_date: ColumnElement
    table: FromClause | None = None


@dataclass(frozen=True)
class AssignmentColumns:
    """The assignment columns the rules read (here and in :mod:`app.workflow.worklist`). A factory
    of these (one fresh alias per call) is what the SQL twins take, since a rule may need the table
    twice (a part and its lead)."""

    id: ColumnElement
    document_id: ColumnElement
    unit_id: ColumnElement
    role: ColumnElement
    state: ColumnElement
    assignee_id: ColumnElement
    due_date: ColumnElement
    table: FromClause  # the alias the columns belong to: a subquery correlates everything but it


Assignments = Callable[[], AssignmentColumns]


def lead_due_date_sql(document_id: ColumnElement, assignments: Assignments) -> ColumnElement:
    """SQL twin of :func:`lead_due_date`: the lead's due date, a correlated scalar subquery."""
    lead = assignments()
    return (
        select(lead.due_date)
        .where(lead.document_id == document_id, lead.role == AssignmentRole.lead.value)
        .limit(1)
        .correlate_except(lead.table)  # the document's row, however deeply this is nested
        .scalar_subquery()
    )


def document_deadline_sql(own: ColumnElement, lead_due: ColumnElement) -> ColumnElement:
    """SQL twin of :func:`document_deadline`."""
    return func.coalesce(own, lead_due)


def assignment_deadline_sql(own: ColumnElement, document_deadline: ColumnElement) -> ColumnElement:
    """SQL twin of :func:`assignment_deadline`."""
    return func.coalesce(own, document_deadline)


def is_past_sql(deadline: ColumnElement, today: date) -> ColumnElement[bool]:
    """SQL twin of :func:`is_past` (NULL, no deadline, compares as not past)."""
    return and_(deadline.is_not(None), deadline < literal(today))


def assignment_is_overdue_sql(state: ColumnElement, deadline: ColumnElement, document_state: ColumnElement,
                              today: date) -> ColumnElement[bool]:
    """SQL twin of :func:`assignment_is_overdue`."""
    return and_(state != AssignmentState.done.value, document_state != DocumentState.recalled.value,
                is_past_sql(deadline, today))


def reminds_sql(role: ColumnElement, document_state: ColumnElement) -> ColumnElement[bool]:
    """SQL twin of :func:`reminds`."""
    return or_(role != AssignmentRole.inform.value, document_state.in_(OPEN))


def assignment_is_due_soon_sql(state: ColumnElement, deadline: ColumnElement, document_state: ColumnElement,
                               today: date, horizon: date) -> ColumnElement[bool]:
    """SQL twin of :func:`assignment_is_due_soon`."""
    return and_(state != AssignmentState.done.value, document_state != DocumentState.recalled.value,
                deadline.is_not(None), deadline >= literal(today), deadline <= literal(horizon))


def _earliest_sql(a: ColumnElement, b: ColumnElement) -> ColumnElement:
    """The earlier of two nullable dates, NULL only when both are (SQLite's two-argument min and
    PostgreSQL's LEAST disagree about NULL, so neither is used)."""
    return case((a.is_(None), b), (b.is_(None), a), (a <= b, a), else_=b)


def overdue_after_sql(document: DocumentColumns, assignments: Assignments) -> ColumnElement:
    """SQL twin of :func:`overdue_after`: the value :mod:`app.services.deadline_marks` stores."""
    effective = document_deadline_sql(document.due_date, lead_due_date_sql(document.id, assignments))
    part = assignments()
    earliest_part = (
        select(func.min(assignment_deadline_sql(part.due_date, effective)))
        .where(part.document_id == document.id,
               part.state != literal(AssignmentState.done.value, literal_execute=True))
        .correlate_except(part.table)
        .scalar_subquery()
    )
    return _earliest_sql(
        case((document.state.in_(OPEN), effective)),
        case((document.state != DocumentState.recalled.value, earliest_part)),
    )


def resolved_outcome_sql(resolved_on: ColumnElement, deadline: ColumnElement) -> ColumnElement[str]:
    """SQL twin of :func:`resolved_outcome`, for rows of resolved documents. ``resolved_on`` and
    ``deadline`` may be any comparable pair (dates, or the day numbers of a day table)."""
    return case(
        (deadline.is_(None), Outcome.without_deadline.value),
        (resolved_on <= deadline, Outcome.on_time.value),
        else_=Outcome.late.value,
    )


def counts_as_overdue_sql(
    resolved: ColumnElement[bool], resolved_result: ColumnElement[str], overdue_now: ColumnElement[bool]
) -> ColumnElement[bool]:
    """SQL twin of ``counts_as_overdue(outcome(...))``: resolved late, or unresolved and overdue now.
    ``overdue_now`` (subqueries) is reached only for unresolved rows."""
    return case((resolved, resolved_result == Outcome.late.value), else_=overdue_now)
