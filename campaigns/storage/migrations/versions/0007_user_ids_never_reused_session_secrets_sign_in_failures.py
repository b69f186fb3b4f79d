"""user ids never reused; a session secret per user; failed sign-ins for throttling

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:00:00.000000
"""

import secrets

import sqlalchemy as sa
from alembic import op

import campaigns.storage.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    # SQLite hands the largest id plus one to a new row, so removing the last user and adding
    # another gave the newcomer the removed user's id (and any session still holding it).
    # AUTOINCREMENT makes SQLite remember every id handed out; it can only be set by
    # rebuilding the table, which batch mode does. PostgreSQL's sequences never reuse an id.
    with op.batch_alter_table('users', schema=None,
                              recreate='always' if _sqlite() else 'auto',
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('session_secret', sa.String(length=64), nullable=True))
    # Each user's own random secret: a session holds it with the user's id, and a new secret
    # ends every session of that user.
    users = sa.table('users', sa.column('id', sa.Integer()),
                     sa.column('session_secret', sa.String()))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_secret=secrets.token_urlsafe(32)))
    with op.batch_alter_table('users', schema=None,
                              recreate='always' if _sqlite() else 'auto',
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.alter_column('session_secret', existing_type=sa.String(length=64),
                              nullable=False)
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('at', campaigns.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    op.create_index('ix_sign_in_failures_scope_key_at', 'sign_in_failures',
                    ['scope', 'key', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_failures_scope_key_at', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
    with op.batch_alter_table('users', schema=None,
                              recreate='always' if _sqlite() else 'auto',
                              table_kwargs={'sqlite_autoincrement': False}) as batch_op:
        batch_op.drop_column('session_secret')
