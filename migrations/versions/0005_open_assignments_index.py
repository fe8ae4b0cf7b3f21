"""open assignments index: the assignments not yet done, by document

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The ``overdue`` filter looks for documents with an overdue assignment among the assignments not yet
done (app.workflow.deadlines.overdue_document_ids_sql): a partial index holds just those, a small
share of all assignments. On PostgreSQL it is built CONCURRENTLY, so a live database keeps working.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

WHERE = sa.text("state <> 'done'")


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.create_index('ix_assignments_open', 'assignments', ['document_id'], postgresql_where=WHERE,
                            postgresql_concurrently=True)
    else:
        op.create_index('ix_assignments_open', 'assignments', ['document_id'], sqlite_where=WHERE)


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index('ix_assignments_open', table_name='assignments', postgresql_concurrently=True)
    else:
        op.drop_index('ix_assignments_open', table_name='assignments')
