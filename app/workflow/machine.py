"""The processing slip as two state machines built with ``transitions``.

One machine for a document's life and one for a unit's assignment, each defined once for
the whole application. The stored ``state`` column is the truth: to fire an action we wrap
the stored state in a small carrier object, trigger the event on the shared machine, and
read the new state back. No machine is built per document and nothing is pickled.

``dest=None`` marks an action that is recorded but does not move the document (an
*internal* transition in ``transitions``' terms): unit-level work such as assign or report.
"""

from __future__ import annotations

from dataclasses import dataclass

from transitions import Machine, MachineError

from app.workflow.vocabulary import AssignmentState as A
from app.workflow.vocabulary import DocumentState as S
from app.i18n import Text, msg

_LIVE = [S.registered, S.office_review, S.leadership_review, S.in_progress, S.resolved, S.returned]
_REVIEW = [S.office_review, S.leadership_review]
# Cooperating units may hand over and finish their part after the lead resolved the document.
_HANDLING = [S.in_progress, S.resolved]

DOCUMENT_TRANSITIONS: list[dict[str, object]] = [
    {"trigger": "submit", "source": [S.registered, S.returned], "dest": S.office_review},
    {"trigger": "propose", "source": S.office_review, "dest": S.leadership_review},
    {"trigger": "direct", "source": _REVIEW, "dest": S.in_progress},
    {"trigger": "return", "source": _REVIEW, "dest": S.returned},
    {"trigger": "assign", "source": _HANDLING, "dest": None},
    {"trigger": "report", "source": _HANDLING, "dest": None},
    {"trigger": "complete", "source": _HANDLING, "dest": None},
    {"trigger": "acknowledge", "source": _HANDLING, "dest": None},
    {"trigger": "extend", "source": [*_REVIEW, S.in_progress], "dest": None},
    {"trigger": "resolve", "source": S.in_progress, "dest": S.resolved},
    {"trigger": "recall", "source": _LIVE, "dest": S.recalled},
    # The sender's update (edXML BussinessDocType 2), accepted by the clerk: fields change in place.
    {"trigger": "amend", "source": _LIVE, "dest": None},
    {"trigger": "archive", "source": S.resolved, "dest": S.archived},
]

ASSIGNMENT_TRANSITIONS: list[dict[str, object]] = [
    {"trigger": "assign", "source": A.pending, "dest": A.in_progress},
    {"trigger": "report", "source": [A.pending, A.in_progress], "dest": None},
    {"trigger": "complete", "source": A.in_progress, "dest": A.done},
    {"trigger": "acknowledge", "source": A.pending, "dest": A.done},
    {"trigger": "extend", "source": [A.pending, A.in_progress], "dest": None},
]

# Actions a person may request, in the table's order; "resolve" is fired by the workflow itself,
# "amend" by an accepted update from the sender (app.services.exchange).
WORKFLOW_ACTIONS = frozenset({"resolve", "amend"})
USER_ACTIONS = tuple(str(t["trigger"]) for t in DOCUMENT_TRANSITIONS if t["trigger"] not in WORKFLOW_ACTIONS)
UNIT_ACTIONS = frozenset({"assign", "report", "complete", "acknowledge"})


def _machine(states: list[str], transitions: list[dict[str, object]], initial: str) -> Machine:
    return Machine(
        model=None,
        states=states,
        transitions=[{**t, "source": _values(t["source"]), "dest": _value(t["dest"])} for t in transitions],
        initial=initial,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )


def _value(state: object) -> str | None:
    return None if state is None else str(state)


def _values(source: object) -> list[str]:
    return [str(s) for s in source] if isinstance(source, list) else [str(source)]


DOCUMENT_MACHINE = _machine([s.value for s in S], DOCUMENT_TRANSITIONS, S.registered.value)
ASSIGNMENT_MACHINE = _machine([s.value for s in A], ASSIGNMENT_TRANSITIONS, A.pending.value)


@dataclass
class _Carrier:
    """The smallest model ``transitions`` can drive: just a ``state``."""

    state: str


class InvalidTransition(Exception):
    """The action is not possible from the current state (409), or not an action at all."""

    def __init__(self, text: Text, *, code: str = "workflow.not_now") -> None:
        super().__init__(str(text))
        self.text = text
        self.code = code


def can_fire(machine: Machine, state: str, action: str) -> bool:
    return action in machine.get_triggers(state)


def fire(machine: Machine, state: str, action: str) -> str:
    """The state after ``action`` from ``state``; raises InvalidTransition if it is not allowed."""
    if action not in machine.events:
        raise InvalidTransition(msg("unknown action '{action}'", action=action), code="workflow.unknown_action")
    carrier = _Carrier(state)
    try:
        machine.events[action].trigger(carrier)
    except MachineError as exc:
        raise InvalidTransition(msg("'{action}' is not possible when the state is '{state}'", action=action,
                                    state=state)) from exc
    return carrier.state


def document_after(state: str, action: str) -> str:
    return fire(DOCUMENT_MACHINE, state, action)


def assignment_after(state: str, action: str) -> str:
    return fire(ASSIGNMENT_MACHINE, state, action)


def mermaid(machine: Machine = DOCUMENT_MACHINE, title: str = "Incoming document") -> str:
    """A mermaid ``stateDiagram`` of the machine, for the README."""
    lines = ["stateDiagram-v2", f"    %% {title}"]
    initial = machine.initial
    lines.append(f"    [*] --> {initial}")
    for name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                if transition.dest is not None:
                    lines.append(f"    {source} --> {transition.dest}: {name}")
    return "\n".join(lines) + "\n"
