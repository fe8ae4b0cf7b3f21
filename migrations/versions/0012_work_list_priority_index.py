"""The work list's order as an index: most urgent, nearest deadline, longest waiting

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

A page of a long work list (a clerk's resolved documents to archive: 387 724 of a million) was a
sort of every match, 2.7 s; with this index it is a walk of the first rows (the console's
benchmark, bench/results/console-pages-issue15.md). Partial: archived and recalled documents are
on no work list. The rank expression is app.workflow.worklist.PRIORITY_INDEX_RANK, as it was when
this migration was written (a later change to the order needs a migration of its own).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

RANK = ("CASE WHEN urgency = 'flash' THEN 0 WHEN urgency = 'very_urgent' THEN 1 WHEN urgency = 'urgent' THEN 2 "
        "WHEN urgency = 'normal' THEN 3 ELSE 4 END")
WHERE = "state NOT IN ('archived', 'recalled')"


def upgrade() -> None:
    op.create_index(
        'ix_incoming_documents_priority', 'incoming_documents',
        [sa.text(f"({RANK})"), sa.text("(effective_due_date IS NULL)"), 'effective_due_date', 'received_at', 'id'],
        sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index('ix_incoming_documents_priority', table_name='incoming_documents')
