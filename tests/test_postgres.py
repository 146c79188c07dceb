"""The same schema, demo data and numbers on a real PostgreSQL server as on SQLite."""

import json

import pytest

from qidash import db, measures, scenarios
from qidash.scope import Scope


@pytest.mark.pg
def test_migration_and_demo_on_postgresql_match_sqlite(pg_engine, tmp_path):
    assert db.is_current(pg_engine)
    sqlite = db.make_engine(db.sqlite_url(tmp_path / "s.db"))
    for engine in (pg_engine, sqlite):
        scenarios.load_demo(engine, "barnet")
    reports = []
    for engine in (pg_engine, sqlite):
        with engine.connect() as conn:
            as_of = measures.default_as_of(conn)
            reports.append(
                [json.dumps(measures.report(conn, scope, as_of), sort_keys=True, default=str)
                 for scope in (Scope(), Scope(locality="NORTH"), Scope(kind="gp_practice"))]
            )
    assert reports[0] == reports[1]
    assert db.row_counts(pg_engine) == db.row_counts(sqlite)
