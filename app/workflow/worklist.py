"""Whose turn it is (the work list, ``awaiting_me``): the one rule, in Python and, beside it, in SQL.

README.md ("One rule for deadlines, overdue and the work list"). The slip waits on:

* registered or returned → the clerks of its register (``submit``);
* office review → the office leaders who may see it (``propose``, ``direct``, ``return``), and the
  leaders when no office leader may: a confidential document. An office leader sees a confidential
  document only through a unit assignment (``app.services.access``), which a document in office
  review cannot have yet (units are assigned by ``direct``, which leaves review for good);
* leadership review → the leader the office proposed it to, or every leader when none was named
  (``direct``, ``return``);
* in progress → the unit leader of each assigned unit whose part is not yet handed over
  (``assign``) or, for a unit informed, acknowledged (``acknowledge``), and each assignee whose
  part is in progress (``complete``);
* resolved → its clerks (``archive``). Choice where the contract is silent: a cooperating or
  informed unit whose part is still open after the lead resolved the document keeps its turn
  (``complete``, ``acknowledge``): it still owes that part, and is overdue there too.

A turn is a (holder, action) pair, and a document is on someone's list only when
:func:`app.workflow.permissions.authorize` lets them take that action now: the work list is
derived from the permission table, never a copy of it. The converse need not hold (a leader may
direct from office review without it being the leader's turn). Visibility is the caller's filter
(``app.services.access``): the list is always of documents the person may see.

:func:`turns` is the rule; :func:`on_work_list_sql` is its SQL twin, which the document list
filters by. The parity tests compare them over generated data, person by person.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, exists, false, func, literal_column, or_, select

from app.workflow.deadlines import AssignmentColumns, Assignments
from app.workflow.delegation import DECIDING_ACTIONS
from app.workflow.machine import ASSIGNMENT_MACHINE, DOCUMENT_MACHINE, InvalidTransition
from app.workflow.permissions import Actor, AssignmentView, NotPermitted, authorize
from app.workflow.vocabulary import AssignmentRole, AssignmentState, Confidentiality, DocumentState, Role

S = DocumentState

# The actions that move the slip: being on the list means holding one of them.
SLIP_MOVING_ACTIONS = frozenset(
    {"submit", "propose", "direct", "return", "assign", "report", "complete", "acknowledge", "archive"}
)


@dataclass(frozen=True, slots=True)
class TurnFacts:
    """What the rule reads of a document: its state and confidentiality, the leader the latest
    proposal named (None when none was), and its assignments."""

    state: str
    confidentiality: str
    proposed_to: str | None
    assignments: Sequence[AssignmentView]
    registered_by: int | None = None  # lent authority does not decide on its holder's own registrations


@dataclass(frozen=True, slots=True)
class Turn:
    action: str
    assignment_id: int | None = None


def sources(machine, action: str) -> frozenset[str]:  # noqa: ANN001 - a transitions Machine
    """The states from which ``action`` fires on ``machine``: read from the machine, not restated."""
    return frozenset(state for state in machine.states if action in machine.get_triggers(state))


def _candidates(actor: Actor, facts: TurnFacts) -> list[Turn]:
    """The turns the rule gives ``actor`` on the document, before the permission check."""
    roles, state = actor.roles, facts.state
    turns: list[Turn] = []
    if Role.clerk in roles:
        turns += [Turn("submit"), Turn("archive")]
    if Role.office_leader in roles and state == S.office_review:
        turns += [Turn("propose"), Turn("direct"), Turn("return")]
    if Role.leader in roles:
        if state == S.office_review and facts.confidentiality != Confidentiality.normal:
            turns += [Turn("direct"), Turn("return")]
        if state == S.leadership_review and facts.proposed_to in (None, actor.username):
            turns += [Turn("direct"), Turn("return")]
    for part in facts.assignments:
        unit_leader = Role.unit_leader in roles and actor.unit_id is not None and part.unit_id == actor.unit_id
        if unit_leader and part.state == AssignmentState.pending:
            turns.append(Turn("acknowledge" if part.role == AssignmentRole.inform else "assign", part.id))
        if part.assignee_id == actor.user_id and part.state == AssignmentState.in_progress:
            turns.append(Turn("complete", part.id))
    return turns


def turns(actor: Actor, facts: TurnFacts) -> list[Turn]:
    """The turns ``actor`` holds on the document now: the rule's candidates that ``authorize`` allows."""
    held = []
    for turn in _candidates(actor, facts):
        try:
            authorize(turn.action, actor, facts.state, facts.assignments, turn.assignment_id,
                      registered_by=facts.registered_by)
        except (NotPermitted, InvalidTransition):
            continue
        held.append(turn)
    return held


def is_on_work_list(actors: Sequence[Actor], facts: TurnFacts) -> bool:
    """On the list of a user who acts as any of ``actors`` (themself and whom they stand in for)."""
    return any(turns(actor, facts) for actor in actors)


# --- SQL twin --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkDocumentColumns:
    """The document columns the rule reads; ``proposed_to`` is the username the latest ``propose``
    event named (NULL when none), as an expression the caller builds over its event log."""

    id: ColumnElement
    state: ColumnElement
    confidentiality: ColumnElement
    proposed_to: ColumnElement
    registered_by: ColumnElement


def on_work_list_sql(
    actors: Sequence[Actor], document: WorkDocumentColumns, assignments: Assignments
) -> ColumnElement[bool]:
    """SQL twin of :func:`is_on_work_list`: the candidates of :func:`_candidates` per actor, with
    what :func:`~app.workflow.permissions.authorize` checks of the state (the machines' sources,
    read from the machines) and of the assignment (unit, role, assignee) written as conditions."""
    arms = work_list_arms_sql(actors, document, assignments)
    return or_(*arms) if arms else false()


def work_list_arms_sql(
    actors: Sequence[Actor], document: WorkDocumentColumns, assignments: Assignments
) -> list[ColumnElement[bool]]:
    """:func:`on_work_list_sql` as the list of its OR's arms (a state turn, the review turns, the
    unit-level turns, per actor). A query can walk each arm on its own index and merge: an OR of a
    dense arm and a sparse one is otherwise read to its end (app.services.documents)."""
    return [arm for actor in actors for arm in _actor_arms(actor, document, assignments)]


def _in(column: ColumnElement, states: frozenset[str]) -> ColumnElement[bool]:
    return column.in_(sorted(states))


def _actor_arms(actor: Actor, document: WorkDocumentColumns, assignments: Assignments) -> list[ColumnElement[bool]]:
    roles, state = actor.roles, document.state
    clauses: list[ColumnElement[bool]] = []
    if Role.clerk in roles:
        clauses.append(_in(state, sources(DOCUMENT_MACHINE, "submit") | sources(DOCUMENT_MACHINE, "archive")))
    # The review turns are all deciding ones (propose, direct, return): lent authority does not
    # hold them on a document its holder registered (app.workflow.delegation).
    deciding: list[ColumnElement[bool]] = []
    if Role.office_leader in roles:
        deciding.append(state == S.office_review.value)
    if Role.leader in roles:
        deciding.append(and_(state == S.office_review.value,
                             document.confidentiality != Confidentiality.normal.value))
        # Proposed to this leader, or to none (one evaluation of the subquery, not two).
        named = (document.proposed_to.is_(None) if actor.username is None
                 else func.coalesce(document.proposed_to, actor.username) == actor.username)
        deciding.append(and_(state == S.leadership_review.value, named))
    if deciding and actor.lent_to is not None:
        assert {"propose", "direct", "return"} <= DECIDING_ACTIONS
        clauses.append(and_(or_(*deciding), document.registered_by != actor.lent_to))
    else:
        clauses += deciding
    clauses.append(_parts_sql(actor, document, assignments))
    return clauses


def _parts_sql(actor: Actor, document: WorkDocumentColumns, assignments: Assignments) -> ColumnElement[bool]:
    """The unit-level turns: an assignment of the document the actor's unit leads or the actor holds.

    Each turn is the document in a state its action fires from, with an assignment in a state the
    action fires from that gives the turn. The document's state is also tested outside, first.
    A unit leader's turns are probed per document in one subquery (the (document, unit) index
    finds the unit's assignment at once); someone who only holds assignments gets the set of their
    documents, found once through the assignee index."""
    pending = AssignmentState.pending.value
    turns: list[tuple[str, Callable[[AssignmentColumns], ColumnElement[bool]]]] = [
        ("complete", lambda part: and_(part.assignee_id == actor.user_id, part.role != AssignmentRole.inform.value)),
    ]
    unit_leader = Role.unit_leader in actor.roles and actor.unit_id is not None
    if unit_leader:
        turns += [
            ("assign", lambda part: and_(part.unit_id == actor.unit_id, part.state == pending,
                                         part.role != AssignmentRole.inform.value)),
            ("acknowledge", lambda part: and_(part.unit_id == actor.unit_id, part.state == pending,
                                              part.role == AssignmentRole.inform.value)),
        ]
    part = assignments()
    handling = frozenset().union(*(sources(DOCUMENT_MACHINE, action) for action, _ in turns))
    if unit_leader:
        giving = or_(*(
            and_(_in(document.state, sources(DOCUMENT_MACHINE, action)),
                 _in(part.state, sources(ASSIGNMENT_MACHINE, action)), condition(part))
            for action, condition in turns
        ))
        held = exists().where(part.document_id == document.id, giving).correlate_except(part.table)
        return and_(_in(document.state, handling), held)
    # One turn only ("complete"): its document states are ``handling``, tested outside the set.
    (action, condition), = turns
    holders = select(part.document_id).where(_in(part.state, sources(ASSIGNMENT_MACHINE, action)), condition(part))
    return and_(_in(document.state, handling), document.id.in_(holders))


# --- The work list's order ---------------------------------------------------------------------
# Most urgent first (hỏa tốc, thượng khẩn, khẩn, thường), then the nearest deadline (none last),
# then the longest waiting. Python form for a page already loaded, SQL form for the query; the
# parity tests check that both put the same documents in the same order.

URGENCY_RANK: dict[str, int] = {"flash": 0, "very_urgent": 1, "urgent": 2, "normal": 3}
_NO_DEADLINE = date.max


def priority_key(urgency: str, deadline: date | None, received_at: datetime, document_id: int) -> tuple:
    return (URGENCY_RANK.get(urgency, len(URGENCY_RANK)), deadline or _NO_DEADLINE, received_at, document_id)


def priority_order_sql(urgency: ColumnElement, deadline: ColumnElement, received_at: ColumnElement,
                       document_id: ColumnElement) -> list[ColumnElement]:
    """The ORDER BY of :func:`priority_key`. Its values are written into the statement (no bound
    parameters), so that it is the very expression of ``PRIORITY_INDEX_RANK`` and PostgreSQL walks
    that index, under a generic plan too."""
    rank = case(*((urgency == literal_column(f"'{value}'"), literal_column(str(rank)))
                  for value, rank in URGENCY_RANK.items()), else_=literal_column(str(len(URGENCY_RANK))))
    return [rank, deadline.is_(None), deadline, received_at, document_id]


# The expression the work-list index is built on (app.models.documents, migration 0012): the rank
# of priority_order_sql over the ``urgency`` column, as SQL text.
PRIORITY_INDEX_RANK = ("CASE " + " ".join(f"WHEN urgency = '{value}' THEN {rank}" for value, rank in URGENCY_RANK.items())
                       + f" ELSE {len(URGENCY_RANK)} END")
