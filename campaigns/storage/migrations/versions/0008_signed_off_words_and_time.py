"""the words and the time of each delivery's last sign-off

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import campaigns.storage.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_off_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signed_off_send_at',
                                      campaigns.storage.models.UTCDateTime(timezone=True),
                                      nullable=True))
    # A delivery that still names its approver has not changed since it was signed off (a
    # re-plan that changes it clears approved_by): what it says now is what was signed off.
    deliveries = sa.table('deliveries', sa.column('approved_by', sa.String()),
                          sa.column('text', sa.Text()),
                          sa.column('send_at', campaigns.storage.models.UTCDateTime()),
                          sa.column('signed_off_text', sa.Text()),
                          sa.column('signed_off_send_at', campaigns.storage.models.UTCDateTime()))
    op.execute(deliveries.update().where(deliveries.c.approved_by.is_not(None))
               .values(signed_off_text=deliveries.c.text,
                       signed_off_send_at=deliveries.c.send_at))


def downgrade() -> None:
    # Not in batch mode: rebuilding deliveries would break the audit log's foreign keys to it,
    # and SQLite (3.35 on) drops a column in place.
    op.drop_column('deliveries', 'signed_off_send_at')
    op.drop_column('deliveries', 'signed_off_text')
