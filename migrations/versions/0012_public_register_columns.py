"""organisations remember their CQC location ID and the day they closed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:40:00

Loading the public registers month after month (DESIGN.md section 9) matches care homes on their CQC
location ID, and closes a home or practice that has left its register instead of deleting it, so its
people, projects and history stay while it leaves the counts from that day.
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): SQLite adds a nullable column in place, where rebuilding the
    # table would trip over the rows that refer to it.
    op.add_column('organisation', sa.Column('cqc_location_id', sa.String(length=20), nullable=True))
    op.add_column('organisation', sa.Column('closed_on', sa.Date(), nullable=True))
    op.create_index('ix_organisation_cqc_location_id', 'organisation', ['cqc_location_id'])


def downgrade() -> None:
    op.drop_index('ix_organisation_cqc_location_id', table_name='organisation')
    op.drop_column('organisation', 'closed_on')  # SQLite 3.35+ drops a column in place too
    op.drop_column('organisation', 'cqc_location_id')
