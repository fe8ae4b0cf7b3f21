"""audit indexes: the event log's timeline, covering what the audit figures read

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

ix_document_events_timeline holds (document_id, seq, action, from_state, to_state, at,
assignment_id): processing times, compliance, stage durations and overdue read only these, so
on PostgreSQL they become index-only scans of a narrow index (the rows themselves carry the
event's JSON data and comment and are several times wider). On PostgreSQL the index is built
CONCURRENTLY, so upgrading a live database does not block registrations while it builds.
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

COLUMNS = ['document_id', 'seq', 'action', 'from_state', 'to_state', 'at', 'assignment_id']


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.create_index('ix_document_events_timeline', 'document_events', COLUMNS, postgresql_concurrently=True)
    else:
        op.create_index('ix_document_events_timeline', 'document_events', COLUMNS)


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index('ix_document_events_timeline', table_name='document_events', postgresql_concurrently=True)
    else:
        op.drop_index('ix_document_events_timeline', table_name='document_events')
