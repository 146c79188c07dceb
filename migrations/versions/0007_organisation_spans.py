"""when each organisation was engaged, trained or with a project, kept in organisation_span

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:30:00

Counting organisations engaged, with someone trained in post or with an active project on a date ran
three correlated subqueries over enrolments, tier attainment and project links for every organisation
in scope, on every count (the Overview makes five such counts, the Capability map several more): tens
of milliseconds each at scale 50 on SQLite, over a hundred on PostgreSQL. Loads now keep those
conditions as date ranges per organisation; existing data is filled in here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'organisation_span',
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id']),
        sa.PrimaryKeyConstraint('organisation_id', 'state', 'starts_on'),
    )
    # The function loads use from now on, so stored and newly loaded spans agree.
    from qidash import derive

    derive.rebuild_organisation_spans(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_table('organisation_span')
