"""effect estimates; campaign editors; snapshots read by time with their counters

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 23:05:29.509629
"""

import sqlalchemy as sa
from alembic import op

import campaigns.storage.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('effect_estimates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('estimate', sa.JSON(), nullable=False),
    sa.Column('fitted_at', campaigns.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_effect_estimates')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_effect_estimates_fingerprint'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('editors', sa.JSON(), server_default='[]', nullable=False))
    # The board's reach is read from this index alone (it leads with read_at, as the index it
    # replaces did).
    with op.batch_alter_table('engagement_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_snapshots_read_at_counters',
                              ['read_at', 'delivery_id', 'impressions', 'likes', 'reposts',
                               'replies', 'quotes'], unique=False)
        batch_op.drop_index('ix_engagement_snapshots_read_at')
    # Whoever last edited a campaign in the browser is one of its editors.
    campaigns_table = sa.table('campaigns', sa.column('id', sa.Integer()),
                               sa.column('edited_by', sa.String()),
                               sa.column('editors', sa.JSON()))
    connection = op.get_bind()
    edited = connection.execute(sa.select(campaigns_table.c.id, campaigns_table.c.edited_by)
                                .where(campaigns_table.c.edited_by.is_not(None))).all()
    for campaign_id, editor in edited:
        connection.execute(campaigns_table.update()
                           .where(campaigns_table.c.id == campaign_id)
                           .values(editors=[editor]))


def downgrade() -> None:
    with op.batch_alter_table('engagement_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_snapshots_read_at', ['read_at'], unique=False)
        batch_op.drop_index('ix_engagement_snapshots_read_at_counters')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('editors')
    op.drop_table('effect_estimates')
