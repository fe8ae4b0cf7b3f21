"""deadline marks: each document's effective deadline and the day after which it is overdue

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Two columns the deadline rule fills (app.services.deadline_marks): ``effective_due_date``
(app.workflow.deadlines.document_deadline) and ``overdue_after`` (…overdue_after), with a partial
index on the second, so that the ``overdue`` filter and the audit's "overdue now" read a column
instead of running the rule's subqueries on every document. The backfill runs the rule's SQL twin as
it is at this revision over every row, in the migration's transaction: on a large PostgreSQL
database this rewrites the documents table once (about a minute per million documents here).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.services.deadline_marks import refresh_where

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

WHERE = sa.text("overdue_after IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('incoming_documents') as batch:
        batch.add_column(sa.Column('effective_due_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('overdue_after', sa.Date(), nullable=True))
    refresh_where(op.get_bind(), sa.true())
    op.create_index('ix_incoming_documents_overdue_after', 'incoming_documents', ['overdue_after'],
                    postgresql_where=WHERE, sqlite_where=WHERE)


def downgrade() -> None:
    op.drop_index('ix_incoming_documents_overdue_after', table_name='incoming_documents')
    with op.batch_alter_table('incoming_documents') as batch:
        batch.drop_column('overdue_after')
        batch.drop_column('effective_due_date')
