"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27

Tables for organisation, registers, documents, events, assignments, attachments and
idempotency keys, plus the backend-specific search index over the folded text.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registers')),
    sa.UniqueConstraint('code', name=op.f('uq_registers_code'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    op.create_table('register_counters',
    sa.Column('register_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['register_id'], ['registers.id'], name=op.f('fk_register_counters_register_id_registers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('register_id', 'year', name=op.f('pk_register_counters'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_users_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_unit_id'), ['unit_id'], unique=False)

    op.create_table('incoming_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('register_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('arrival_number', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('symbol', sa.String(length=100), nullable=False),
    sa.Column('symbol_key', sa.String(length=100), nullable=False),
    sa.Column('document_number', sa.String(length=20), nullable=True),
    sa.Column('document_type', sa.String(length=10), nullable=True),
    sa.Column('issuer_code', sa.String(length=60), nullable=True),
    sa.Column('symbol_year', sa.Integer(), nullable=True),
    sa.Column('symbol_warning', sa.String(length=255), nullable=True),
    sa.Column('document_date', sa.Date(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('issuer_key', sa.String(length=255), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('confidentiality', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('signer_name', sa.String(length=255), nullable=True),
    sa.Column('signer_position', sa.String(length=255), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_incoming_documents_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['incoming_documents.id'], name=op.f('fk_incoming_documents_duplicate_of_id_incoming_documents'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['register_id'], ['registers.id'], name=op.f('fk_incoming_documents_register_id_registers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_documents')),
    sa.UniqueConstraint('register_id', 'year', 'arrival_number', name=op.f('uq_incoming_documents_register_id_year_arrival_number'))
    )
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incoming_documents_confidentiality'), ['confidentiality'], unique=False)
        batch_op.create_index(batch_op.f('ix_incoming_documents_issuer_key'), ['issuer_key'], unique=False)
        batch_op.create_index('ix_incoming_documents_received', ['received_at', 'id'], unique=False)
        batch_op.create_index('ix_incoming_documents_state_due', ['state', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_incoming_documents_urgency'), ['urgency'], unique=False)
        batch_op.create_index('uq_incoming_documents_identity', ['symbol_key', 'issuer_key', 'document_date'], unique=True, sqlite_where=sa.text('duplicate_of_id IS NULL'), postgresql_where=sa.text('duplicate_of_id IS NULL'))

    op.create_table('register_clerks',
    sa.Column('register_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['register_id'], ['registers.id'], name=op.f('fk_register_clerks_register_id_registers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_register_clerks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('register_id', 'user_id', name=op.f('pk_register_clerks'))
    )
    with op.batch_alter_table('register_clerks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_clerks_user_id'), ['user_id'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_assignments_assignee_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_assignments_document_id_incoming_documents'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assignments_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('document_id', 'unit_id', name=op.f('uq_assignments_document_id_unit_id'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_assignments_unit_state', ['unit_id', 'state'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_attachments_document_id_incoming_documents'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_document_id'), ['document_id'], unique=False)

    op.create_table('document_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('on_behalf_of_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_document_events_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_document_events_document_id_incoming_documents'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['on_behalf_of_id'], ['users.id'], name=op.f('fk_document_events_on_behalf_of_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_events')),
    sa.UniqueConstraint('document_id', 'seq', name=op.f('uq_document_events_document_id_seq'))
    )
    with op.batch_alter_table('document_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_events_actor_id'), ['actor_id'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_idempotency_keys_document_id_incoming_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_keys_user_id_key'))
    )
    _create_search_index()
    # Decree 30: every agency keeps at least one incoming register; clients default to 'main'.
    registers = sa.table(
        'registers',
        sa.column('code', sa.String),
        sa.column('name', sa.String),
        sa.column('confidential', sa.Boolean),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        registers,
        [{'code': 'main', 'name': 'Sổ đăng ký văn bản đến', 'confidential': False, 'created_at': datetime.now(timezone.utc)}],
    )


def downgrade() -> None:
    _drop_search_index()
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('document_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_events_actor_id'))

    op.drop_table('document_events')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_document_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_unit_state')
        batch_op.drop_index(batch_op.f('ix_assignments_assignee_id'))

    op.drop_table('assignments')
    op.drop_table('user_roles')
    with op.batch_alter_table('register_clerks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_clerks_user_id'))

    op.drop_table('register_clerks')
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_index('uq_incoming_documents_identity', sqlite_where=sa.text('duplicate_of_id IS NULL'), postgresql_where=sa.text('duplicate_of_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_incoming_documents_urgency'))
        batch_op.drop_index('ix_incoming_documents_state_due')
        batch_op.drop_index('ix_incoming_documents_received')
        batch_op.drop_index(batch_op.f('ix_incoming_documents_issuer_key'))
        batch_op.drop_index(batch_op.f('ix_incoming_documents_confidentiality'))

    op.drop_table('incoming_documents')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_unit_id'))

    op.drop_table('users')
    op.drop_table('register_counters')
    op.drop_table('units')
    op.drop_table('registers')


SQLITE_FTS = "incoming_documents_fts"


def _create_search_index() -> None:
    """Index the folded search text for substring search.

    PostgreSQL: pg_trgm GIN index (serves ``LIKE '%term%'``). SQLite: an FTS5 table with
    the trigram tokenizer over the same column, kept in step by triggers.
    """
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_incoming_documents_search_trgm",
            "incoming_documents",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    elif bind.dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE {SQLITE_FTS} USING fts5(search_text, "
            "content='incoming_documents', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            f"CREATE TRIGGER {SQLITE_FTS}_ai AFTER INSERT ON incoming_documents BEGIN "
            f"INSERT INTO {SQLITE_FTS}(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute(
            f"CREATE TRIGGER {SQLITE_FTS}_ad AFTER DELETE ON incoming_documents BEGIN "
            f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
        )
        op.execute(
            f"CREATE TRIGGER {SQLITE_FTS}_au AFTER UPDATE OF search_text ON incoming_documents BEGIN "
            f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
            f"INSERT INTO {SQLITE_FTS}(rowid, search_text) VALUES (new.id, new.search_text); END"
        )


def _drop_search_index() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_index("ix_incoming_documents_search_trgm", table_name="incoming_documents")
    elif bind.dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {SQLITE_FTS}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {SQLITE_FTS}")
