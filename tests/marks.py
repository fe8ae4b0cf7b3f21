"""The deadline rule's stored marks (app.services.deadline_marks) against the Python rule.

Used after every test that touched the database (tests/conftest.py), so that a write path that
changes a slip without recomputing the marks fails the test that exercised it, and by the parity
tests over a generated mix."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assignment, IncomingDocument
from app.workflow import deadlines


def mark_differences(session: Session) -> list[str]:
    """Each document whose stored marks are not what the rule makes of its row and assignments."""
    parts: dict[int, list[deadlines.Part]] = defaultdict(list)
    for row in session.execute(select(Assignment.document_id, Assignment.id, Assignment.role, Assignment.state,
                                      Assignment.due_date)):
        parts[row[0]].append(deadlines.Part(*row[1:]))
    problems = []
    for id_, state, due, effective, after in session.execute(
        select(IncomingDocument.id, IncomingDocument.state, IncomingDocument.due_date,
               IncomingDocument.effective_due_date, IncomingDocument.overdue_after)
    ):
        own = parts.get(id_, [])
        expected = (deadlines.document_deadline(due, deadlines.lead_due_date(own)),
                    deadlines.overdue_after(state, due, own))
        if (effective, after) != expected:
            problems.append(f"document {id_} ({state}): stored {(effective, after)}, the rule {expected}")
    return problems
