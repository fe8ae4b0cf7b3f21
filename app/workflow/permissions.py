"""Who may take which action on a document (API.md's actions table). Pure: no session, no HTTP.

``authorize`` answers for one acting identity and says *why* not: ``Forbidden`` (403)
when this person may not, ``InvalidTransition`` (409) when nobody may in the current state.
The order matters: someone who could never take the action learns only that they may not
(403); someone who could, but not now, learns that the document has moved on (409).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.workflow.delegation import barred_by_registration
from app.workflow.machine import (
    ASSIGNMENT_MACHINE,
    DOCUMENT_MACHINE,
    UNIT_ACTIONS,
    USER_ACTIONS,
    InvalidTransition,
    can_fire,
)
from app.workflow.vocabulary import AssignmentRole
from app.workflow.vocabulary import DocumentState as S
from app.workflow.vocabulary import Role as R
from app.i18n import Text, msg


class NotPermitted(Exception):
    """This identity may not take the action (maps to 403)."""

    def __init__(self, text: Text, *, code: str = "workflow.not_permitted") -> None:
        super().__init__(str(text))
        self.text = text
        self.code = code


@dataclass(frozen=True)
class Actor:
    """Whoever acts: a user, or the leader whose authority a delegate uses."""

    user_id: int
    roles: frozenset[str]
    unit_id: int | None
    username: str | None = None  # the work list matches the leader a proposal names by username
    lent_to: int | None = None  # lent authority: the user who holds it (app.workflow.delegation)


@dataclass(frozen=True)
class AssignmentView:
    id: int
    unit_id: int
    role: str
    state: str
    assignee_id: int | None


# Roles that could ever take each action, whatever the document (the coarse 403).
ACTION_ROLES: dict[str, frozenset[R]] = {
    "submit": frozenset({R.clerk}),
    "propose": frozenset({R.office_leader}),
    "direct": frozenset({R.leader, R.office_leader}),
    "return": frozenset({R.leader, R.office_leader}),
    "assign": frozenset({R.unit_leader}),
    "report": frozenset({R.unit_leader, R.specialist}),
    "complete": frozenset({R.unit_leader, R.specialist}),
    "acknowledge": frozenset({R.unit_leader, R.specialist}),
    "extend": frozenset({R.leader}),
    "recall": frozenset({R.clerk}),
    "archive": frozenset({R.clerk}),
}


def _could_ever(action: str, actor: Actor, assignments: Sequence[AssignmentView]) -> bool:
    if actor.roles & ACTION_ROLES[action]:
        return True
    # An assignee handles their assignment whatever their role; any member of an
    # informed unit may acknowledge it.
    if action in {"report", "complete"}:
        return any(a.assignee_id == actor.user_id for a in assignments)
    if action == "acknowledge":
        return any(a.role == AssignmentRole.inform and a.unit_id == actor.unit_id for a in assignments)
    return False


def _may_on_document(action: str, actor: Actor, state: str) -> bool:
    """Document-level rules that depend on the state (office leaders act only in office review)."""
    if action in {"direct", "return"}:
        if R.leader in actor.roles:
            return True
        return R.office_leader in actor.roles and state == S.office_review
    return bool(actor.roles & ACTION_ROLES[action])


def _may_on_assignment(action: str, actor: Actor, assignment: AssignmentView) -> bool:
    same_unit = actor.unit_id is not None and actor.unit_id == assignment.unit_id
    unit_leader = same_unit and R.unit_leader in actor.roles
    if action == "assign":
        return unit_leader and assignment.role != AssignmentRole.inform
    if action in {"report", "complete"}:
        return assignment.role != AssignmentRole.inform and (assignment.assignee_id == actor.user_id or unit_leader)
    if action == "acknowledge":
        return assignment.role == AssignmentRole.inform and same_unit
    return False


def target_assignment(
    action: str, actor: Actor, assignments: Sequence[AssignmentView], assignment_id: int | None = None
) -> AssignmentView | None:
    """The assignment a unit-level action is about: the one named, else the actor's own."""
    if assignment_id is not None:
        return next((a for a in assignments if a.id == assignment_id), None)
    own = [a for a in assignments if a.assignee_id == actor.user_id and action in {"report", "complete"}]
    own += [a for a in assignments if actor.unit_id is not None and a.unit_id == actor.unit_id and a not in own]
    return own[0] if own else None


def authorize(
    action: str,
    actor: Actor,
    state: str,
    assignments: Sequence[AssignmentView],
    assignment_id: int | None = None,
    registered_by: int | None = None,
) -> AssignmentView | None:
    """Check one identity; return the target assignment for unit-level actions.

    ``registered_by`` is the user who registered the document: lent authority does not let them
    decide on it (app.workflow.delegation). Raises NotPermitted (403) or InvalidTransition (409).
    """
    if action not in ACTION_ROLES:
        raise InvalidTransition(msg("unknown action '{action}'", action=action), code="workflow.unknown_action")
    if not _could_ever(action, actor, assignments):
        raise NotPermitted(msg("your roles do not allow '{action}'", action=action), code="workflow.role")
    if not can_fire(DOCUMENT_MACHINE, state, action):
        raise InvalidTransition(msg("'{action}' is not possible while the document is '{state}'", action=action,
                                    state=state))
    if action not in UNIT_ACTIONS:
        if not _may_on_document(action, actor, state):
            raise NotPermitted(msg("you may not '{action}' a document that is '{state}'", action=action, state=state))
        if barred_by_registration(action, actor.lent_to, registered_by):
            raise NotPermitted(msg("you registered this document: you may not '{action}' it with authority lent to you",
                                   action=action), code="workflow.own_registration")
        return None
    assignment = target_assignment(action, actor, assignments, assignment_id)
    if assignment is None or not _may_on_assignment(action, actor, assignment):
        raise NotPermitted(msg("'{action}' needs an assignment of your unit (or to you) on this document",
                               action=action), code="workflow.unit")
    if not can_fire(ASSIGNMENT_MACHINE, assignment.state, action):
        raise InvalidTransition(msg("'{action}' is not possible while the assignment is '{state}'", action=action,
                                    state=assignment.state))
    return assignment


def allowed_actions(
    actors: Sequence[Actor], state: str, assignments: Sequence[AssignmentView], registered_by: int | None = None,
) -> list[str]:
    """The actions any of ``actors`` (a user and the leaders they stand in for) may take now."""
    allowed = []
    for action in USER_ACTIONS:
        for actor in actors:
            try:
                authorize(action, actor, state, assignments, registered_by=registered_by)
            except (NotPermitted, InvalidTransition):
                continue
            allowed.append(action)
            break
    return allowed
