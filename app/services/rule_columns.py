"""The slip's rules bound to our tables: what ``app.workflow.deadlines`` and ``app.workflow.worklist``
read, taken from the ORM models (for their SQL twins) and from loaded rows (for the Python rules).

Nothing here decides anything; it only hands the rules their columns and facts.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, inspect, select
from sqlalchemy.orm import aliased

from app.models import Assignment, DocumentEvent, IncomingDocument, User
from app.workflow import deadlines
from app.workflow.deadlines import AssignmentColumns, DocumentColumns, Part
from app.workflow.permissions import Actor, AssignmentView
from app.workflow.worklist import TurnFacts, WorkDocumentColumns

if TYPE_CHECKING:
    from app.services.delegations import Standing


def assignments() -> AssignmentColumns:
    """A fresh alias of the assignments table, as the rules' SQL twins take it."""
    a = aliased(Assignment)
    return AssignmentColumns(a.id, a.document_id, a.unit_id, a.role, a.state, a.assignee_id, a.due_date,
                             table=inspect(a).selectable)


def proposed_to(document_id: ColumnElement) -> ColumnElement:
    """The username the document's latest ``propose`` named (NULL when it named none, or there was none)."""
    event = aliased(DocumentEvent)
    return (
        select(event.data["to_username"].as_string())
        .where(event.document_id == document_id, event.action == "propose")
        .order_by(event.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


def work_document() -> WorkDocumentColumns:
    return WorkDocumentColumns(
        IncomingDocument.id, IncomingDocument.state, IncomingDocument.confidentiality,
        proposed_to(IncomingDocument.id), IncomingDocument.created_by_id,
    )


def documents() -> DocumentColumns:
    """A fresh alias of the documents table, as the rules' set forms take it."""
    d = aliased(IncomingDocument)
    return DocumentColumns(d.id, d.state, d.due_date, table=inspect(d).selectable)


def overdue_sql(today: date) -> ColumnElement[bool]:
    """The ``overdue`` filter of the document list: :func:`app.workflow.deadlines.document_is_overdue`
    read from the stored mark (``is_past(overdue_after, today)``, app.services.deadline_marks)."""
    return deadlines.is_past_sql(IncomingDocument.overdue_after, today)


def actor_of(user: User | Standing, lent_to: int | None = None) -> Actor:
    """The acting identity of a user, or of a delegator as lent to ``lent_to`` (app.workflow.delegation)."""
    return Actor(user_id=user.id, roles=user.roles, unit_id=user.unit_id, username=user.username, lent_to=lent_to)


def parts(document: IncomingDocument) -> list[Part]:
    return [Part(a.id, a.role, a.state, a.due_date) for a in document.assignments]


def assignment_views(document: IncomingDocument) -> list[AssignmentView]:
    return [AssignmentView(a.id, a.unit_id, a.role, a.state, a.assignee_id) for a in document.assignments]


def turn_facts(document: IncomingDocument, proposed_to_username: str | None) -> TurnFacts:
    return TurnFacts(document.state, document.confidentiality, proposed_to_username, assignment_views(document),
                     registered_by=document.created_by_id)
