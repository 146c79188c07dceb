"""Helpers for AppTest page tests."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120


def open_page(page: str | None = None, scenario: str = "cornwall", **params) -> AppTest:
    """Run the app frame, then switch to ``app_pages/<page>.py`` with the given URL parameters.

    Extra keyword arguments set the URL-bound sidebar widgets by their keys (locality, pcn, kind,
    sector, as_of as YYYY-MM-DD). AppTest does not feed query parameters to bound widgets, so they
    are set through session state, which is what a URL parameter sets in the browser; the browser
    tests check the URL round trip itself.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["scenario"] = scenario
    for key, value in params.items():
        at.session_state[key] = dt.date.fromisoformat(value) if key == "as_of" else value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    return at


def open_section(at: AppTest, key: str, label: str) -> AppTest:
    """Open the tab ``label`` of the page's lazy tabs ``key`` (as a click does: the page reruns and only
    the open tab is built)."""
    at.session_state[key] = label
    return at.run()


def viewer_of(at: AppTest):
    """Who the frame took the visitor of ``at``'s last run to be (the page context's viewer)."""
    from qidash.ui.context import CONTEXT_KEY

    return at.session_state[CONTEXT_KEY].viewer


def engine_url(engine) -> str:
    """The engine's URL with its password, for ``--db`` and ``QIDASH_DB_URL``."""
    return engine.url.render_as_string(hide_password=False)


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def deck_specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def demo_engine(scenario: str):
    """The engine of a demo programme in the run's private demo folder, generated on first use."""
    from qidash import db, scenarios

    engine = db.make_engine(db.demo_url(scenario))
    if db.is_empty(engine):
        db.migrate(engine)
        scenarios.load_demo(engine, scenario)
    return engine


# Tables an import writes whatever its outcome (its own record, the audit trail, the data version).
AUDIT_TABLES = frozenset({"import_batch", "audit_event", "setting"})


def programme_rows(engine) -> dict[str, list]:
    """Every programme table's rows (not the audit tables), to compare two states of a database."""
    from sqlalchemy import select

    from qidash import models

    out = {}
    with engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            if table.name not in AUDIT_TABLES:
                out[table.name] = sorted(map(repr, conn.execute(select(table)).all()))
    return out


@contextmanager
def connection_to(databases, backend: str, frames: dict):
    """A connection to a new database of ``backend`` holding ``frames``, with tier attainment and what
    follows from it derived (no chart analysis); the database is dropped afterwards."""
    from sqlalchemy.orm import Session

    from qidash import derive, store

    engine = databases.new(backend)
    with Session(engine) as session, session.begin():
        store.write_frames(session, frames)
        derive.rebuild_tier_attainment(session)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        databases.drop(engine)


def migrate_again_from(engine, revision: str) -> None:
    """Take ``engine``'s schema down to ``revision`` and back up to the newest, as a database made
    before the next revision would be migrated: what that migration fills in, it fills in here."""
    from alembic import command

    from qidash import db

    cfg = db.alembic_config(engine)
    command.downgrade(cfg, revision)
    command.upgrade(cfg, "head")
