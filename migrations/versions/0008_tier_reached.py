"""each person's first day at or above each tier, kept in tier_reached

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 16:30:00

The Tiers page counts people who reached at least each tier: by day for the reach chart, on two dates
for the funnel and per area for the comparison. Each count worked out every person's highest tier (or
first day per tier) from tier attainment again: about 60 ms for reach by day and 65 ms for the area
comparison at scale 50 on SQLite. Loads now keep the first day per person and tier, so those counts
read one index range; existing data is filled in here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tier_reached',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=False),
        sa.Column('reached_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['tier_id'], ['tier.id']),
        sa.PrimaryKeyConstraint('person_id', 'tier_id'),
    )
    op.create_index(
        'ix_tier_reached_tier_reached_on', 'tier_reached', ['tier_id', 'reached_on'], unique=False
    )
    # The function loads use from now on, so stored and newly loaded rows agree.
    from qidash import derive

    derive.rebuild_tier_reached(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_index('ix_tier_reached_tier_reached_on', table_name='tier_reached')
    op.drop_table('tier_reached')
