"""signature_checks: the result of verifying each stored file's digital signatures, by SHA-256

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

One row per file's bytes: pending (large files wait for the worker) or done, with the signatures
found, the file's summary status, the trust set's fingerprint and the time. See
app.models.signatures and app.signatures.verify.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signature_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('signatures', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('trust_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('checked_at', UTCDateTime(), nullable=True),
    sa.Column('claimed_until', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature_checks')),
    sa.UniqueConstraint('sha256', name=op.f('uq_signature_checks_sha256'))
    )
    with op.batch_alter_table('signature_checks', schema=None) as batch_op:
        batch_op.create_index('ix_signature_checks_pending', ['id'], unique=False, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
    # The PDFs stored before verification existed wait for the worker like any large one.
    op.execute(sa.text(
        "INSERT INTO signature_checks (sha256, state, signatures, requested_at) "
        "SELECT sha256, 'pending', '[]', CURRENT_TIMESTAMP FROM ("
        "  SELECT sha256 FROM attachments WHERE content_type = 'application/pdf'"
        "  UNION SELECT sha256 FROM exchange_attachments WHERE content_type = 'application/pdf') AS pdfs"))



def downgrade() -> None:
    with op.batch_alter_table('signature_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_checks_pending', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    op.drop_table('signature_checks')
