"""A document replayed from its event log through the workflow machines. Pure: events in, state out.

Replaying (rather than reading a stored history of states) checks the log as it goes: an event
the machines would not allow means the record is inconsistent, and :class:`ReplayError` says so.
The audit uses it to tell where a document stood at a past moment (``/audit/overdue?as_of=``'s
reference path, ``GET .../as-of``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.workflow.deadlines import Part
from app.workflow.machine import InvalidTransition, assignment_after, document_after
from app.workflow.requirements import resolves_document
from app.workflow.vocabulary import DocumentState


class ReplayError(Exception):
    """The log disagrees with the machines."""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What replaying reads of an event."""

    seq: int
    action: str
    to_state: str | None
    assignment_id: int | None
    data: dict[str, Any]


@dataclass
class ReplayedAssignment:
    assignment_id: int
    unit_code: str
    role: str
    state: str
    assignee: str | None = None
    due_date: date | None = None

    def part(self) -> Part:
        return Part(self.assignment_id, self.role, self.state, self.due_date)


@dataclass
class Replayed:
    state: str | None  # None: not registered yet
    due_date: date | None
    events_applied: int
    assignments: list[ReplayedAssignment] = field(default_factory=list)

    def parts(self) -> list[Part]:
        return [a.part() for a in self.assignments]


def _date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def replay(events: Iterable[EventRecord]) -> Replayed:
    """The document after ``events`` (in ``seq`` order): its state, deadline and assignments."""
    state: str | None = None
    due: date | None = None
    assignments: dict[int, ReplayedAssignment] = {}
    count = 0
    for event in events:
        count += 1
        data = event.data or {}
        if event.action == "register":
            state = DocumentState.registered.value
            due = _date(data.get("due_date"))
            continue
        if state is None:
            raise ReplayError(f"event {event.seq} ({event.action}) comes before the registration")
        try:
            if event.action == "direct":
                due = _date(data.get("due_date")) or due
                for item in data.get("assignments", []):
                    assignments[item["assignment_id"]] = ReplayedAssignment(
                        item["assignment_id"], item["unit_code"], item["role"], "pending",
                        due_date=_date(item.get("due_date")))
            if event.assignment_id in assignments:
                target = assignments[event.assignment_id]
                if event.action in {"assign", "complete", "acknowledge"}:
                    target.state = assignment_after(target.state, event.action)
                if event.action == "assign":
                    target.assignee = data.get("assignee_username")
                    target.due_date = _date(data.get("due_date")) or target.due_date
                if event.action == "extend":
                    target.due_date = _date(data["to_due_date"])
            elif event.action == "extend":
                due = _date(data["to_due_date"])
            elif event.action == "amend" and "due_date" in data.get("changed", {}):
                due = _date(data["changed"]["due_date"]["to"])
            next_state = document_after(state, event.action)
            part = assignments.get(event.assignment_id) if event.assignment_id is not None else None
            if part is not None and resolves_document(event.action, part.role, state):
                next_state = document_after(next_state, "resolve")
        except (InvalidTransition, KeyError, ValueError, TypeError) as exc:
            raise ReplayError(f"event {event.seq} ({event.action}) cannot be replayed: {exc}") from exc
        if next_state != event.to_state:
            raise ReplayError(
                f"event {event.seq} ({event.action}) recorded state {event.to_state}, replay gives {next_state}")
        state = next_state
    return Replayed(state, due, count, list(assignments.values()))
