"""Migrations that move data, on both databases."""

from alembic import command
from sqlalchemy import select

from qidash import db, spc_charts
from qidash import models as m


def test_0004_fills_in_the_chart_icons_of_existing_analyses(backend, databases):
    engine = databases.copy(databases.demo_snapshot(backend, "somerset"))
    try:
        ma = m.MeasureAnalysis
        cfg = db.alembic_config(engine)
        command.downgrade(cfg, "0003")  # as a database analysed before 0004 was
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                select(ma.result, m.Measure.target, ma.chart_variation_icon, ma.chart_assurance_icon)
                .join(m.Measure, m.Measure.id == ma.measure_id)
            ).all()
        assert rows
        assert [(v, a) for _, _, v, a in rows] == [
            (spc_charts.variation_icon(result), spc_charts.assurance_icon(result, target))
            for result, target, _, _ in rows
        ]
        assert any(v and v.startswith("improvement") for _, _, v, _ in rows)
        assert any(a for _, _, _, a in rows)
    finally:
        databases.drop(engine)
