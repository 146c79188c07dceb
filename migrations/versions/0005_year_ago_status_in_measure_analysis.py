"""each measure's improving status a year before the data's date, kept in measure_analysis

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:10:00

The Overview compares "projects improving" with a year earlier. Stored analyses describe each measure's
whole series, so every measure with data after that date was re-analysed on its earlier points when
the page was first opened: about 0.5 s at scale 50 (2,300 measures). Analysis now also keeps the status
on that date and the span of dates it holds for; existing rows are filled in here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('measure_analysis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('past_as_of', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('past_improving', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('past_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('past_until', sa.Date(), nullable=True))
    # The function loads use from now on, so old and new rows agree.
    from qidash import analysis

    analysis.refresh_past_status(Session(bind=op.get_bind()))


def downgrade() -> None:
    with op.batch_alter_table('measure_analysis', schema=None) as batch_op:
        batch_op.drop_column('past_until')
        batch_op.drop_column('past_from')
        batch_op.drop_column('past_improving')
        batch_op.drop_column('past_as_of')
