"""Migrations that move data, on both databases."""

from alembic import command
from sqlalchemy import select

from qidash import db, measures, spc
from qidash import models as m
from tests.support import migrate_again_from


def test_0004_fills_in_the_chart_icons_of_existing_analyses(backend, databases):
    engine = databases.copy(databases.demo_snapshot(backend, "somerset"))
    try:
        ma = m.MeasureAnalysis
        migrate_again_from(engine, "0003")  # as a database analysed before 0004 was
        with engine.connect() as conn:
            rows = conn.execute(
                select(ma.result, m.Measure.target, ma.chart_variation_icon, ma.chart_assurance_icon)
                .join(m.Measure, m.Measure.id == ma.measure_id)
            ).all()
        assert rows
        assert [(v, a) for _, _, v, a in rows] == [
            (spc.chart_variation_icon(result), spc.chart_assurance_icon(result, target))
            for result, target, _, _ in rows
        ]
        assert any(v and v.startswith("improvement") for _, _, v, _ in rows)
        assert any(a for _, _, _, a in rows)
    finally:
        databases.drop(engine)


def test_0005_fills_in_the_past_status_of_existing_analyses(backend, databases):
    engine = databases.copy(databases.demo_snapshot(backend, "somerset"))
    try:
        ma = m.MeasureAnalysis
        columns = (ma.measure_id, ma.past_as_of, ma.past_improving, ma.past_from, ma.past_until)
        with engine.connect() as conn:
            as_loaded = sorted(conn.execute(select(*columns)).all())
        migrate_again_from(engine, "0004")  # as a database analysed before 0005 was
        with engine.connect() as conn:
            migrated = sorted(conn.execute(select(*columns)).all())
            year_ago = measures.year_before(measures.default_as_of(conn))
        assert migrated == as_loaded
        assert {r.past_as_of for r in migrated} == {year_ago}
    finally:
        databases.drop(engine)


def test_a_migration_that_fails_part_way_leaves_the_database_as_it_was(backend, databases, monkeypatch):
    from sqlalchemy import inspect

    from qidash import derive

    engine = databases.copy(databases.demo_snapshot(backend, "somerset"))
    try:
        cfg = db.alembic_config(engine)
        command.downgrade(cfg, "0006")

        def fail(_session):
            raise RuntimeError("disk full")

        # 0007 creates its table, then fills it in: make the filling fail.
        monkeypatch.setattr(derive, "rebuild_organisation_spans", fail)
        try:
            command.upgrade(cfg, "head")
        except RuntimeError:
            pass
        else:
            raise AssertionError("the upgrade should have failed")
        engine.dispose()
        assert "organisation_span" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0006"
        monkeypatch.undo()
        command.upgrade(cfg, "head")  # and it can be retried
        assert "organisation_span" in inspect(engine).get_table_names()
    finally:
        databases.drop(engine)
