"""accounts: token versions, revoked tokens, the security log, the roles a delegation lends

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

``users.token_version`` (every token carries it; raising it refuses the earlier ones),
``revoked_tokens`` (logout) and ``security_events`` (the append-only security log, also what the
login throttle counts). On PostgreSQL a trigger makes the log append-only, as for document_events.
Tokens issued before this revision carry no version and are refused: users log in again.
``delegations.roles``: what each delegation lends (app.workflow.delegation); an existing one lends
what it lent before, every lendable role its delegator holds now.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


LENDABLE = ('leader', 'office_leader', 'unit_leader')


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('token_version', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('delegations') as batch:
        batch.add_column(sa.Column('roles', sa.JSON(), nullable=True))
    bind = op.get_bind()
    delegations = sa.table('delegations', sa.column('id', sa.Integer), sa.column('delegator_id', sa.Integer),
                           sa.column('roles', sa.JSON))
    user_roles = sa.table('user_roles', sa.column('user_id', sa.Integer), sa.column('role', sa.String))
    held: dict[int, list[str]] = {}
    for user_id, role in bind.execute(sa.select(user_roles.c.user_id, user_roles.c.role)
                                      .where(user_roles.c.role.in_(LENDABLE))):
        held.setdefault(user_id, []).append(role)
    for id_, delegator_id in bind.execute(sa.select(delegations.c.id, delegations.c.delegator_id)).all():
        bind.execute(delegations.update().where(delegations.c.id == id_)
                     .values(roles=sorted(held.get(delegator_id, []))))
    with op.batch_alter_table('delegations') as batch:
        batch.alter_column('roles', existing_type=sa.JSON(), nullable=False)
    op.create_table(
        'revoked_tokens',
        sa.Column('token_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_revoked_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_id', name=op.f('pk_revoked_tokens')),
    )
    op.create_index(op.f('ix_revoked_tokens_expires_at'), 'revoked_tokens', ['expires_at'])
    op.create_table(
        'security_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('actor', sa.String(length=64), nullable=True),
        sa.Column('client', sa.String(length=64), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events')),
    )
    op.create_index('ix_security_events_username_kind_at', 'security_events', ['username', 'kind', 'at'])
    op.create_index('ix_security_events_client_kind_at', 'security_events', ['client', 'kind', 'at'])
    op.create_index('ix_security_events_at', 'security_events', ['at'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION security_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'security_events is append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER security_events_append_only BEFORE UPDATE OR DELETE ON security_events "
            "FOR EACH ROW EXECUTE FUNCTION security_events_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS security_events_append_only ON security_events")
        op.execute("DROP FUNCTION IF EXISTS security_events_append_only()")
    op.drop_table('security_events')
    op.drop_index(op.f('ix_revoked_tokens_expires_at'), table_name='revoked_tokens')
    op.drop_table('revoked_tokens')
    with op.batch_alter_table('delegations') as batch:
        batch.drop_column('roles')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('token_version')
