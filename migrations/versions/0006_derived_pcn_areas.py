"""the PCN and locality areas drawn around member organisations, kept in derived_area

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:10:00

Without a boundary file the Capability map draws each PCN's area around its member organisations'
sites (Voronoi cells, qidash.geo). They depend only on the data, yet were derived the first time the
page was opened in each process: about 0.4 s at scale 50 (19,000 organisations). Loads now store
them; existing data is drawn here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('derived_area',
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('polygons', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'code')
    )
    # The function loads use from now on, so stored and newly loaded areas agree.
    from qidash import geo

    geo.rebuild_pcn_areas(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_table('derived_area')
