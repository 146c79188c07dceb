"""the icons each chart shows, kept in measure_analysis

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:40:00

The Portfolio lists every measure's Making Data Count icons. For rule sets other than the NHS one
they are worked out from the whole stored result (qidash.spc_charts), so the page read every result:
30 MB of JSON and about 0.5 s at scale 50 (7,600 measures), and several hundred MB of memory.
Analysis now keeps them beside the engine's own icons; existing rows are filled in here from their
stored results.
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table('measure_analysis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chart_variation_icon', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('chart_assurance_icon', sa.String(length=30), nullable=True))
    _fill_in_existing_rows()


def _fill_in_existing_rows() -> None:
    # The functions the analysis uses from now on, so old and new rows agree.
    from qidash import spc

    conn = op.get_bind()
    analysis = sa.table(
        'measure_analysis',
        sa.column('measure_id', sa.Integer),
        sa.column('result', sa.JSON),
        sa.column('chart_variation_icon', sa.String),
        sa.column('chart_assurance_icon', sa.String),
    )
    measure = sa.table('measure', sa.column('id', sa.Integer), sa.column('target', sa.Float))
    ids = [mid for (mid,) in conn.execute(
        sa.select(analysis.c.measure_id).where(analysis.c.result.is_not(None)).order_by(analysis.c.measure_id)
    )]
    for i in range(0, len(ids), BATCH):
        rows = conn.execute(
            sa.select(analysis.c.measure_id, analysis.c.result, measure.c.target)
            .join(measure, measure.c.id == analysis.c.measure_id)
            .where(analysis.c.measure_id.in_(ids[i:i + BATCH]))
        ).all()
        updates = [
            {
                'id': mid,
                'variation': spc.chart_variation_icon(result),
                'assurance': spc.chart_assurance_icon(result, target),
            }
            for mid, result, target in rows
        ]
        if updates:
            conn.execute(
                analysis.update()
                .where(analysis.c.measure_id == sa.bindparam('id'))
                .values(chart_variation_icon=sa.bindparam('variation'), chart_assurance_icon=sa.bindparam('assurance')),
                updates,
            )


def downgrade() -> None:
    with op.batch_alter_table('measure_analysis', schema=None) as batch_op:
        batch_op.drop_column('chart_assurance_icon')
        batch_op.drop_column('chart_variation_icon')
