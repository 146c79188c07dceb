"""Demo mode's own files: made on first use, and made again when this version cannot open them."""

from __future__ import annotations

from sqlalchemy import text

from qidash import db, scenarios


def test_a_demo_file_this_version_cannot_upgrade_is_made_again(monkeypatch, tmp_path):
    """A demo file left half upgraded (a column of a later revision already there, the revision
    still the older one: what a failed non-transactional upgrade used to leave) would fail every
    start. Demo data is synthetic, so the app makes it again and opens the page."""
    from tests.support import no_exceptions, open_page

    monkeypatch.setenv("QIDASH_DEMO_DIR", str(tmp_path))
    path = tmp_path / "barnet.db"
    engine = db.make_engine(db.sqlite_url(path))
    db.migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    engine.dispose()
    with db.make_engine(db.sqlite_url(path)).connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert revision == "0004"

    at = open_page("overview", "barnet")
    no_exceptions(at)
    assert not at.error
    assert any(mt.label == "People trained" for mt in at.metric)
    remade = db.make_engine(db.sqlite_url(path))
    assert db.is_current(remade)
    with remade.connect() as conn:
        assert db.get_setting(conn, "scenario_fingerprint") == scenarios.fingerprint("barnet")
