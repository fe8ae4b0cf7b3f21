"""symbol_as_written: the symbol as typed, kept beside the parsed one when they differ

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Registration reads an en dash, a full-width slash or a leading "Số" as people mean them
(app.workflow.symbols.as_meant); the text as written stays here. NULL for every earlier row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('symbol_as_written', sa.String(length=100), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_column('symbol_as_written')

