"""The deadline rule's stored marks: each document's effective deadline and the day after which it
is overdue, kept on its row so that a filter or an audit over a million documents reads a column.

Both are pure functions of the document and its assignments (``app.workflow.deadlines``:
:func:`~app.workflow.deadlines.document_deadline`, :func:`~app.workflow.deadlines.overdue_after`),
not of today, so they only change when the slip changes. They are recomputed here, by the rule's
SQL twins in one UPDATE, at every place a document or its assignments are written: registration
(``documents.register``), every slip action (``workflow.apply_action``), the generator, and the
migration that added them. ``tests/parity`` proves the stored values equal to the Python rule on
generated data and after every action of the slip's walk, and fails when a write path forgets this.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, Connection, update
from sqlalchemy.orm import Session

from app.models import IncomingDocument
from app.services import rule_columns
from app.workflow import deadlines


def marks() -> dict[str, ColumnElement]:
    """The marks' values for the row being updated, by column name."""
    document = deadlines.DocumentColumns(IncomingDocument.id, IncomingDocument.state, IncomingDocument.due_date)
    lead_due = deadlines.lead_due_date_sql(IncomingDocument.id, rule_columns.assignments)
    return {
        "effective_due_date": deadlines.document_deadline_sql(IncomingDocument.due_date, lead_due),
        "overdue_after": deadlines.overdue_after_sql(document, rule_columns.assignments),
    }


def refresh_where(connection: Connection | Session, where: ColumnElement[bool]) -> int:
    """Recompute the marks of the documents matching ``where``; the number of rows updated."""
    result = connection.execute(
        update(IncomingDocument).where(where).values(marks()).execution_options(synchronize_session=False)
    )
    return result.rowcount


def refresh(session: Session, document: IncomingDocument) -> None:
    """Recompute one document's marks after a change of its slip (flushed first, so the statement
    sees it); the loaded object is told its marks changed."""
    session.flush()
    refresh_where(session, IncomingDocument.id == document.id)
    session.expire(document, ["effective_due_date", "overdue_after"])


def refresh_many(session: Session, document_ids: Collection[int]) -> None:
    if document_ids:
        refresh_where(session, IncomingDocument.id.in_(list(document_ids)))
