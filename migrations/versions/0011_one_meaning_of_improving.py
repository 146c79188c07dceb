"""one meaning of "improving", and dismissed recalculation suggestions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:55:00

"Improving" meant any signal somewhere in a measure's latest phase, while the Making Data Count icons
describe the latest point, so one page counted a project improving beside grey icons on another.
It now means (DESIGN.md section 4): special-cause improvement at the latest point, or improved since
the baseline (the latest phase, begun at a rebase, has a better centre line than the first).
measure_analysis keeps which of the two applies and the rebase that began the latest phase; every
stored analysis is worked out again here with the functions loads use from now on. A new table
remembers the suggested recalculations an admin dismissed.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('measure_analysis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('improved_since_baseline', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('baseline_change', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('baseline_changed_on', sa.Date(), nullable=True))
    op.create_table(
        'dismissed_recalculation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('measure_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('change_title', sa.String(length=300), nullable=True),
        sa.Column('dismissed_by', sa.String(length=320), nullable=False),
        sa.Column('dismissed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['measure_id'], ['measure.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('measure_id', 'starts_on', name='uq_dismissed_recalculation'),
    )
    with op.batch_alter_table('dismissed_recalculation', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_dismissed_recalculation_measure_id'), ['measure_id'], unique=False
        )
    from qidash import analysis

    session = Session(bind=op.get_bind())
    analysis.rebuild_measure_analysis(session)
    session.flush()


def downgrade() -> None:
    with op.batch_alter_table('dismissed_recalculation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dismissed_recalculation_measure_id'))
    op.drop_table('dismissed_recalculation')
    with op.batch_alter_table('measure_analysis', schema=None) as batch_op:
        batch_op.drop_column('baseline_changed_on')
        batch_op.drop_column('baseline_change')
        batch_op.drop_column('improved_since_baseline')
