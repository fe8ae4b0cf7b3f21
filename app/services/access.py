"""Who may see which document. The one place that knows the rule (API.md, Access).

- Leaders see every document.
- Clerks, office leaders and auditors see every document of normal confidentiality.
- Clerks named on a confidential register see that register's documents.
- Members of a unit assigned to a document (lead, cooperate or inform) see it.
- Everyone else: the document does not exist for them (404, absent from lists and search).

Reports (báo cáo) follow their document: a report linked to an incoming document is visible
exactly to those who see that document. An unlinked report is read like a normal document that
no unit is assigned to: by clerks, office leaders, leaders and auditors.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from app.models import Assignment, IncomingDocument, Register, RegisterClerk, Report, User
from app.workflow.vocabulary import Confidentiality, Role

READERS_OF_NORMAL = frozenset({Role.clerk, Role.office_leader, Role.leader, Role.auditor})


def visible_documents(user: User, *, delegators: Sequence[User] = ()) -> ColumnElement[bool]:
    """A WHERE clause on IncomingDocument that keeps only what ``user`` may see.

    A delegate also sees what the leaders they currently stand in for see.
    """
    if delegators:
        return or_(visible_documents(user), *(visible_documents(d) for d in delegators))
    roles = user.roles
    if Role.leader in roles:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if roles & READERS_OF_NORMAL:
        clauses.append(IncomingDocument.confidentiality == Confidentiality.normal.value)
    if Role.clerk in roles:
        clauses.append(
            IncomingDocument.register_id.in_(
                select(RegisterClerk.register_id).where(RegisterClerk.user_id == user.id)
            )
        )
    # An assignment of the user's unit or one the user holds: one EXISTS, so that PostgreSQL can
    # stop at the first (two EXISTS in an OR are planned as hashed subplans that read every
    # assignment of the unit and of the person in each statement: 167 390 + 66 434 rows at a
    # million documents, bench/results/console-pages-issue15.md).
    mine = Assignment.assignee_id == user.id
    if user.unit_id is not None:
        mine = or_(Assignment.unit_id == user.unit_id, mine)
    if clauses:
        # Beside other clauses (OR) it cannot be a semi-join and would be hashed all the same:
        # OFFSET 0 keeps it a probe of the (document, unit) index per row that needs it.
        clauses.append(select(1).where(Assignment.document_id == IncomingDocument.id, mine).offset(0).exists())
    else:
        clauses.append(exists().where(Assignment.document_id == IncomingDocument.id, mine))
    return or_(*clauses)


def may_register_into(user: User, register: Register) -> bool:
    """Clerks register into ordinary registers; confidential ones only by their named clerks."""
    if Role.clerk not in user.roles:
        return False
    if not register.confidential:
        return True
    return any(row.user_id == user.id for row in register.clerk_rows)


def visible_reports(user: User, *, delegators: Sequence[User] = ()) -> ColumnElement[bool]:
    """A WHERE clause on Report: linked reports as their document, unlinked ones for readers of normal documents."""
    readers = any(u.roles & READERS_OF_NORMAL for u in (user, *delegators))
    linked = Report.incoming_document_id.in_(
        select(IncomingDocument.id).where(visible_documents(user, delegators=delegators))
    )
    return or_(Report.incoming_document_id.is_(None) & (true() if readers else false()), linked)
