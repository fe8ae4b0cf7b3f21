"""workflow: calendar overrides, delegations, event assignment, append-only events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

On PostgreSQL a trigger refuses UPDATE and DELETE on document_events: the event log is the
record that audits rely on, and nothing, not even a bug in this application, may rewrite it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_overrides',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('day_off', 'working_day')", name=op.f('ck_calendar_overrides_kind')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_calendar_overrides_created_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_overrides'))
    )
    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delegator_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_delegations_range')),
    sa.ForeignKeyConstraint(['delegate_id'], ['users.id'], name=op.f('fk_delegations_delegate_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['delegator_id'], ['users.id'], name=op.f('fk_delegations_delegator_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index('ix_delegations_delegate_dates', ['delegate_id', 'starts_on', 'ends_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_delegator_id'), ['delegator_id'], unique=False)

    with op.batch_alter_table('document_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignment_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_document_events_action_at', ['action', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_events_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_document_events_assignment_id_assignments'), 'assignments', ['assignment_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_file_code', sa.String(length=64), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION document_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'document_events is append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER document_events_append_only BEFORE UPDATE OR DELETE ON document_events "
            "FOR EACH ROW EXECUTE FUNCTION document_events_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS document_events_append_only ON document_events")
        op.execute("DROP FUNCTION IF EXISTS document_events_append_only()")
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_column('case_file_code')

    with op.batch_alter_table('document_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_document_events_assignment_id_assignments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_document_events_assignment_id'))
        batch_op.drop_index('ix_document_events_action_at')
        batch_op.drop_column('assignment_id')

    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_delegator_id'))
        batch_op.drop_index('ix_delegations_delegate_dates')

    op.drop_table('delegations')
    op.drop_table('calendar_overrides')
