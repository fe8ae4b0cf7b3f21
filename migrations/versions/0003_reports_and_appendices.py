"""reports and appendices: reports, appendices, groups, project records, table rows, indicators

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Money is BIGINT đồng. Records hang off their appendix with ON DELETE CASCADE, so replacing an
appendix (re-import) removes its old records in the same transaction; a report linked to an
incoming document keeps that document from being deleted (RESTRICT).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=100), nullable=False),
    sa.Column('symbol_key', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('issuer_key', sa.String(length=255), nullable=False),
    sa.Column('report_date', sa.Date(), nullable=False),
    sa.Column('incoming_document_id', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reports_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['incoming_document_id'], ['incoming_documents.id'], name=op.f('fk_reports_incoming_document_id_incoming_documents'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('symbol_key', 'issuer_key', 'report_date', name=op.f('uq_reports_symbol_key_issuer_key_report_date'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_date', ['report_date', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_incoming_document_id'), ['incoming_document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_issuer_key'), ['issuer_key'], unique=False)

    op.create_table('appendices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source_filename', sa.String(length=255), nullable=False),
    sa.Column('source_format', sa.String(length=8), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('money_unit', sa.String(length=64), nullable=True),
    sa.Column('rows_imported', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('projects', 'table', 'indicators')", name=op.f('ck_appendices_kind')),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_appendices_imported_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_appendices_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appendices')),
    sa.UniqueConstraint('report_id', 'number', name=op.f('uq_appendices_report_id_number'))
    )
    op.create_table('appendix_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appendix_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('declared_total_vnd', sa.BigInteger(), nullable=True),
    sa.Column('declared_line', sa.Integer(), nullable=True),
    sa.Column('computed_total_vnd', sa.BigInteger(), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appendix_id'], ['appendices.id'], name=op.f('fk_appendix_groups_appendix_id_appendices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appendix_groups')),
    sa.UniqueConstraint('appendix_id', 'position', name=op.f('uq_appendix_groups_appendix_id_position'))
    )
    op.create_table('appendix_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appendix_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('cells', sa.JSON(), nullable=False),
    sa.Column('numbers', sa.JSON(), nullable=False),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['appendix_id'], ['appendices.id'], name=op.f('fk_appendix_rows_appendix_id_appendices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['appendix_groups.id'], name=op.f('fk_appendix_rows_group_id_appendix_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appendix_rows'))
    )
    with op.batch_alter_table('appendix_rows', schema=None) as batch_op:
        batch_op.create_index('ix_appendix_rows_appendix_position', ['appendix_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_appendix_rows_group_id'), ['group_id'], unique=False)

    op.create_table('indicator_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('appendix_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.Text(), nullable=False),
    sa.Column('baseline_text', sa.String(length=255), nullable=True),
    sa.Column('current_text', sa.String(length=255), nullable=True),
    sa.Column('target_text', sa.String(length=255), nullable=True),
    sa.Column('baseline_value', sa.String(length=40), nullable=True),
    sa.Column('current_value', sa.String(length=40), nullable=True),
    sa.Column('target_value', sa.String(length=40), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('baseline_year', sa.Integer(), nullable=True),
    sa.Column('target_year', sa.Integer(), nullable=True),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['appendix_id'], ['appendices.id'], name=op.f('fk_indicator_records_appendix_id_appendices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['appendix_groups.id'], name=op.f('fk_indicator_records_group_id_appendix_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_indicator_records_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_records'))
    )
    with op.batch_alter_table('indicator_records', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_records_appendix_position', ['appendix_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_indicator_records_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_indicator_records_report_id'), ['report_id'], unique=False)

    op.create_table('project_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('appendix_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=255), nullable=True),
    sa.Column('owner_key', sa.String(length=255), nullable=True),
    sa.Column('budget_vnd', sa.BigInteger(), nullable=True),
    sa.Column('budget_basis', sa.String(length=16), nullable=True),
    sa.Column('planned_years', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('status_text', sa.String(length=255), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.CheckConstraint("budget_basis IS NULL OR budget_basis IN ('estimated', 'approved')", name=op.f('ck_project_records_budget_basis')),
    sa.CheckConstraint("status IS NULL OR status IN ('not_started', 'preparing', 'in_progress', 'completed', 'stopped')", name=op.f('ck_project_records_status')),
    sa.CheckConstraint('budget_vnd IS NULL OR budget_vnd >= 0', name=op.f('ck_project_records_budget')),
    sa.ForeignKeyConstraint(['appendix_id'], ['appendices.id'], name=op.f('fk_project_records_appendix_id_appendices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['appendix_groups.id'], name=op.f('fk_project_records_group_id_appendix_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_project_records_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_records'))
    )
    with op.batch_alter_table('project_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_records_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_records_owner_key'), ['owner_key'], unique=False)
        batch_op.create_index('ix_project_records_report_position', ['report_id', 'appendix_id', 'position'], unique=False)
        batch_op.create_index('ix_project_records_status', ['status'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('project_records', schema=None) as batch_op:
        batch_op.drop_index('ix_project_records_status')
        batch_op.drop_index('ix_project_records_report_position')
        batch_op.drop_index(batch_op.f('ix_project_records_owner_key'))
        batch_op.drop_index(batch_op.f('ix_project_records_group_id'))

    op.drop_table('project_records')
    with op.batch_alter_table('indicator_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_records_report_id'))
        batch_op.drop_index(batch_op.f('ix_indicator_records_group_id'))
        batch_op.drop_index('ix_indicator_records_appendix_position')

    op.drop_table('indicator_records')
    with op.batch_alter_table('appendix_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appendix_rows_group_id'))
        batch_op.drop_index('ix_appendix_rows_appendix_position')

    op.drop_table('appendix_rows')
    op.drop_table('appendix_groups')
    op.drop_table('appendices')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_issuer_key'))
        batch_op.drop_index(batch_op.f('ix_reports_incoming_document_id'))
        batch_op.drop_index('ix_reports_date')

    op.drop_table('reports')
