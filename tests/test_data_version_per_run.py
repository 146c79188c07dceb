"""Each run reads the data version once (not once per cached loader), and the next run sees a change:
a load or recalculation reruns the page, which then shows the new data."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from qidash import db, measures
from qidash import models as m
from tests.support import ROOT, TIMEOUT, demo_engine, no_exceptions


def test_a_run_reads_the_version_once_and_the_next_run_sees_a_change(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    demo_engine("cornwall").dispose()
    copy = tmp_path / "cornwall.db"
    # SQLite's own backup: a file copy would miss what is still in the write-ahead log.
    with sqlite3.connect(db.demo_dir() / "cornwall.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    url = db.sqlite_url(copy)
    monkeypatch.setenv("QIDASH_DB_URL", url)
    monkeypatch.setenv("QIDASH_AUTH", "off")
    engine = db.make_engine(url)
    with engine.connect() as conn:
        code = conn.execute(
            m.Project.__table__.select().where(m.Project.start_date <= measures.default_as_of(conn))
            .order_by(m.Project.code)
        ).first().code

    reads = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.startswith("SELECT setting.value") and "data_version" in str(params):
            reads.append(statement)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["project"] = code
    at.run()
    at.switch_page("app_pages/project.py").run()
    no_exceptions(at)
    event.listen(Engine, "before_cursor_execute", count)
    try:
        at.run()
        assert len(reads) == 1  # one run, one read, however many loaders the page calls
        # A change elsewhere (an import in another session) bumps the version: the next run shows it.
        with Session(engine) as session:
            session.execute(update(m.Project).where(m.Project.code == code).values(title="Renamed at once"))
            db.bump_data_version(session)
            session.commit()
        at.run()
        assert len(reads) == 2
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    no_exceptions(at)
    assert at.header[0].value == "Renamed at once"
