"""exchange: the electronic inbox (edXML messages and their attachments) and the status outbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

``exchange_messages`` (what the hub delivered, parsed; the raw bytes are a blob by
``raw_sha256``), ``exchange_attachments`` (decoded, unpacked, blobs by sha256) and
``exchange_outbox`` (status messages written with the change they report; the worker delivers
them). See app.models.exchange.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('business_type', sa.String(length=16), nullable=True),
    sa.Column('dedupe_key', sa.String(length=64), nullable=False),
    sa.Column('edxml_document_id', sa.String(length=255), nullable=True),
    sa.Column('from_organ_id', sa.String(length=64), nullable=True),
    sa.Column('from_organ_name', sa.String(length=255), nullable=True),
    sa.Column('to_organ_ids', sa.JSON(), nullable=False),
    sa.Column('our_organ_id', sa.String(length=64), nullable=False),
    sa.Column('our_organ_name', sa.String(length=255), nullable=False),
    sa.Column('symbol', sa.String(length=100), nullable=True),
    sa.Column('document_date', sa.Date(), nullable=True),
    sa.Column('document_type', sa.String(length=100), nullable=True),
    sa.Column('issuer', sa.String(length=255), nullable=True),
    sa.Column('summary', sa.String(length=500), nullable=True),
    sa.Column('signer_name', sa.String(length=255), nullable=True),
    sa.Column('signer_position', sa.String(length=255), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('status_code', sa.String(length=2), nullable=True),
    sa.Column('named_document_ids', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.Column('raw_size', sa.BigInteger(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('target_document_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_exchange_messages_decided_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_exchange_messages_document_id_incoming_documents'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['received_by_id'], ['users.id'], name=op.f('fk_exchange_messages_received_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['target_document_id'], ['incoming_documents.id'], name=op.f('fk_exchange_messages_target_document_id_incoming_documents'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_exchange_messages_dedupe_key'))
    )
    with op.batch_alter_table('exchange_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_messages_document_id'), ['document_id'], unique=False)
        batch_op.create_index('ix_exchange_messages_edxml_document', ['edxml_document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_messages_from_organ_id'), ['from_organ_id'], unique=False)
        batch_op.create_index('ix_exchange_messages_state_received', ['state', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_messages_target_document_id'), ['target_document_id'], unique=False)

    op.create_table('exchange_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('declared_type', sa.String(length=255), nullable=True),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('unpacked_from', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['exchange_messages.id'], name=op.f('fk_exchange_attachments_message_id_exchange_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_attachments')),
    sa.UniqueConstraint('message_id', 'position', name=op.f('uq_exchange_attachments_message_id_position'))
    )
    op.create_table('exchange_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('to_organ_id', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.String(length=2), nullable=False),
    sa.Column('once', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('claimed_until', UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_exchange_outbox_document_id_incoming_documents'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['message_id'], ['exchange_messages.id'], name=op.f('fk_exchange_outbox_message_id_exchange_messages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_outbox'))
    )
    with op.batch_alter_table('exchange_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_outbox_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_outbox_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_exchange_outbox_pending', ['next_attempt_at', 'id'], unique=False, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
        batch_op.create_index('uq_exchange_outbox_once', ['message_id', 'status_code'], unique=True, sqlite_where=sa.text('once = 1'), postgresql_where=sa.text('once'))



def downgrade() -> None:
    with op.batch_alter_table('exchange_outbox', schema=None) as batch_op:
        batch_op.drop_index('uq_exchange_outbox_once', sqlite_where=sa.text('once = 1'), postgresql_where=sa.text('once'))
        batch_op.drop_index('ix_exchange_outbox_pending', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_exchange_outbox_message_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_outbox_document_id'))

    op.drop_table('exchange_outbox')
    op.drop_table('exchange_attachments')
    with op.batch_alter_table('exchange_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_messages_target_document_id'))
        batch_op.drop_index('ix_exchange_messages_state_received')
        batch_op.drop_index(batch_op.f('ix_exchange_messages_from_organ_id'))
        batch_op.drop_index('ix_exchange_messages_edxml_document')
        batch_op.drop_index(batch_op.f('ix_exchange_messages_document_id'))

    op.drop_table('exchange_messages')
