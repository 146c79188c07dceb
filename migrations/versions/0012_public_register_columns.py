"""organisations remember their CQC location ID and the day they closed

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06 21:40:00

Loading the public registers month after month (DESIGN.md section 9) matches care homes on their CQC
location ID, and closes a home or practice that has left its register instead of deleting it, so its
people, projects and history stay while it leaves the counts from that day.
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisation') as batch:
        batch.add_column(sa.Column('cqc_location_id', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('closed_on', sa.Date(), nullable=True))
        batch.create_index('ix_organisation_cqc_location_id', ['cqc_location_id'])


def downgrade() -> None:
    with op.batch_alter_table('organisation') as batch:
        batch.drop_index('ix_organisation_cqc_location_id')
        batch.drop_column('closed_on')
        batch.drop_column('cqc_location_id')
