"""Not product code: the shipped app with two of the fixes proposed in
bench/results/console-pages-issue15.md patched in, to measure the console's pages end to end before
anyone changes ``app/``:

* **visibility as one EXISTS** (``visible_documents``): "an assignment of my unit or one I hold" in a
  single correlated EXISTS, so that PostgreSQL plans a semi-join it can stop early instead of two
  hashed subplans that read every assignment of the unit and of the person in each statement;
* **the work list per arm** (``list_documents(order="priority")``): the OR that
  ``on_work_list_sql`` returns is split into its arms; each arm is its own ``ORDER BY <priority> LIMIT
  offset + limit`` query (an index-driven walk for a dense arm, a small set for a sparse one), the
  arms' pages are merged (UNION) and ordered again; the count is of the UNION of the arms' ids, bounded
  as before.

``CONGVAN_VARIANT_PROBE_PER_ROW=1`` also keeps that EXISTS a per-row probe (``OFFSET 0``) when it is in
an OR with other clauses (office leaders, clerks: ``confidentiality = 'normal' OR …``).

It is meant to be run with the other two, which are settings, not code:
``PGOPTIONS='-c jit=off'`` and the partial priority index (bench/console_worklist_index.py
``CANDIDATE``, committed by hand for the run), and optionally a smaller
``CONGVAN_EXACT_TOTAL_UP_TO``:

    PGOPTIONS='-c jit=off' CONGVAN_EXACT_TOTAL_UP_TO=1000 PYTHONPATH=bench/variants \\
        .venv/bin/python bench/console.py --reuse <db> --app console_fixes:app

The rule (who sees what, whose turn it is, the order) is unchanged: the same clauses, only arranged
differently for the planner.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, false, func, or_, select, true, union
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BooleanClauseList

import app.console.routes.documents as console_documents
import app.services.access as access
import app.services.documents as documents
import app.services.workflow as workflow
from app.main import create_app
from app.models import Assignment, IncomingDocument, RegisterClerk, User
from app.services import rule_columns
from app.workflow.vocabulary import Confidentiality, Role
from app.workflow.worklist import on_work_list_sql, priority_key, priority_order_sql


def visible_documents(user: User, *, delegators: Sequence[User] = ()) -> ColumnElement[bool]:
    """app.services.access.visible_documents with the unit's and the person's assignments in one EXISTS."""
    if delegators:
        return or_(visible_documents(user), *(visible_documents(d) for d in delegators))
    roles = user.roles
    if Role.leader in roles:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if roles & access.READERS_OF_NORMAL:
        clauses.append(IncomingDocument.confidentiality == Confidentiality.normal.value)
    if Role.clerk in roles:
        clauses.append(IncomingDocument.register_id.in_(
            select(RegisterClerk.register_id).where(RegisterClerk.user_id == user.id)))
    mine = Assignment.assignee_id == user.id
    if user.unit_id is not None:
        mine = or_(Assignment.unit_id == user.unit_id, mine)
    if clauses and PROBE_PER_ROW:
        # In an OR with other clauses the EXISTS cannot be a semi-join, and PostgreSQL hashes it: every
        # assignment of the unit read first. OFFSET 0 keeps it a per-row probe of (document_id, unit_id).
        clauses.append(select(1).where(Assignment.document_id == IncomingDocument.id, mine).offset(0).exists())
    else:
        clauses.append(exists().where(Assignment.document_id == IncomingDocument.id, mine))
    return or_(*clauses) if clauses else false()


def _arms(clause: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.or_:
        return [arm for c in clause.clauses for arm in _arms(c)]
    return [clause]


PROBE_PER_ROW = bool(os.environ.get("CONGVAN_VARIANT_PROBE_PER_ROW"))
shipped_list_documents = documents.list_documents


def list_documents(*, session, user, filters, limit, offset, today, tz, delegators=(), exact_up_to,
                   order="arrival"):
    if order != "priority" or not filters.awaiting_me:
        return shipped_list_documents(session=session, user=user, filters=filters, limit=limit, offset=offset,
                                      today=today, tz=tz, delegators=delegators, exact_up_to=exact_up_to,
                                      order=order)
    base = documents.document_query(session=session, user=user, filters=filters.model_copy(update={"awaiting_me": None}),
                                    today=today, tz=tz, delegators=delegators)
    actors = [rule_columns.actor_of(user)] + [rule_columns.actor_of(d, lent_to=d.lent_to) for d in delegators]
    arms = _arms(on_work_list_sql(actors, rule_columns.work_document(), rule_columns.assignments))
    d = IncomingDocument
    ordering = priority_order_sql(d.urgency, d.effective_due_date, d.received_at, d.id)
    columns = (d.id, d.urgency, d.effective_due_date, d.received_at)
    pages = [base.where(arm).with_only_columns(*columns, maintain_column_froms=True)
             .order_by(*ordering).limit(offset + limit) for arm in arms]
    merged = union(*pages).subquery() if len(pages) > 1 else pages[0].subquery()
    page_ids = (select(merged.c.id)
                .order_by(*priority_order_sql(merged.c.urgency, merged.c.effective_due_date, merged.c.received_at,
                                              merged.c.id))
                .limit(limit).offset(offset))
    page = list(session.scalars(select(d).where(d.id.in_(page_ids.scalar_subquery()))))
    page.sort(key=lambda x: priority_key(x.urgency, x.effective_due_date, x.received_at, x.id))
    if page and len(page) < limit:
        return page, documents.Total(offset + len(page), is_estimate=False)
    bound = max(exact_up_to, offset + limit)
    ids = [base.where(arm).with_only_columns(d.id, maintain_column_froms=True).limit(bound + 1) for arm in arms]
    every = union(*ids).subquery() if len(ids) > 1 else ids[0].subquery()
    counted = session.scalar(select(func.count()).select_from(select(every.c.id).limit(bound + 1).subquery())) or 0
    return page, documents.Total(counted, is_estimate=counted > bound)


documents.visible_documents = visible_documents
workflow.visible_documents = visible_documents
console_documents.list_documents = list_documents

app = create_app()
