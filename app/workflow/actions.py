"""Which document actions a role may take from which state (API.md's actions table).

This is the role-and-state half of the rule; the unit half (a unit leader acts only on
their own unit's assignment) needs the assignments and is checked where they are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.workflow.vocabulary import DocumentState as S
from app.workflow.vocabulary import Role as R


@dataclass(frozen=True)
class ActionRule:
    roles: frozenset[R]
    from_states: frozenset[S]
    to_state: S | None  # None: the document's state does not change


_ANY_BUT_ARCHIVED = frozenset(S) - {S.archived, S.recalled}

ACTION_RULES: dict[str, ActionRule] = {
    "submit": ActionRule(frozenset({R.clerk}), frozenset({S.registered, S.returned}), S.office_review),
    "propose": ActionRule(frozenset({R.office_leader}), frozenset({S.office_review}), S.leadership_review),
    "direct": ActionRule(
        frozenset({R.leader, R.office_leader}), frozenset({S.office_review, S.leadership_review}), S.in_progress
    ),
    "return": ActionRule(
        frozenset({R.office_leader, R.leader}), frozenset({S.office_review, S.leadership_review}), S.returned
    ),
    "assign": ActionRule(frozenset({R.unit_leader}), frozenset({S.in_progress}), None),
    "report": ActionRule(frozenset({R.unit_leader, R.specialist}), frozenset({S.in_progress}), None),
    "complete": ActionRule(frozenset({R.unit_leader, R.specialist}), frozenset({S.in_progress}), None),
    "acknowledge": ActionRule(
        frozenset({R.unit_leader, R.specialist}), frozenset({S.in_progress, S.resolved}), None
    ),
    "extend": ActionRule(frozenset({R.leader}), frozenset({S.in_progress, S.office_review, S.leadership_review}), None),
    "recall": ActionRule(frozenset({R.clerk}), _ANY_BUT_ARCHIVED, S.recalled),
    "archive": ActionRule(frozenset({R.clerk}), frozenset({S.resolved}), S.archived),
}


def allowed_actions(state: str, roles: frozenset[str]) -> list[str]:
    """Actions the holder of ``roles`` may take on a document in ``state`` (by role and state)."""
    return [
        name
        for name, rule in ACTION_RULES.items()
        if state in rule.from_states and rule.roles & roles
    ]
