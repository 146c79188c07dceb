"""everyone who has attained a tier, on the day of their first, kept in trained_person

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 16:20:00

People trained by a date, split into staff and patients, by day for the reach chart, and in post per
organisation for training density: each grouped every tier attainment by person again (56,000 rows at
scale 50, 20-30 ms a count on PostgreSQL, and the Overview makes nine such counts). Loads now keep one
row per trained person; existing data is filled in here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'trained_person',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('trained_on', sa.Date(), nullable=False),
        sa.Column('left_on', sa.Date(), nullable=True),
        sa.Column('is_patient_partner', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('person_id'),
    )
    op.create_index('ix_trained_person_organisation_id', 'trained_person', ['organisation_id'])
    op.create_index('ix_trained_person_trained_on', 'trained_person', ['trained_on'])
    # The function loads use from now on, so stored and newly loaded rows agree.
    from qidash import derive

    derive.rebuild_trained_people(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_index('ix_trained_person_trained_on', table_name='trained_person')
    op.drop_index('ix_trained_person_organisation_id', table_name='trained_person')
    op.drop_table('trained_person')
