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


def test_a_locked_demo_file_is_never_removed(monkeypatch, tmp_path):
    """A demo file that cannot be opened because another connection is writing it is left alone: the
    error goes to the page, and the file (and the other session's work) stays."""
    import pytest
    from sqlalchemy.exc import OperationalError

    from qidash.ui import data

    monkeypatch.setenv("QIDASH_DEMO_DIR", str(tmp_path))
    path = tmp_path / "barnet.db"
    path.write_bytes(b"being written by another session")
    locked = OperationalError("PRAGMA journal_mode=WAL", {}, Exception("database is locked"))

    def engine_for(url):
        raise locked

    monkeypatch.setattr(data, "engine_for", engine_for)
    monkeypatch.setattr(data, "OPEN_RETRY_S", 0)
    with pytest.raises(OperationalError, match="locked"):
        data.ensure_demo("barnet")
    assert path.read_bytes() == b"being written by another session"


def test_a_demo_file_that_opens_on_a_second_try_is_kept(monkeypatch, tmp_path):
    """A session starting while another creates the schema sees a passing failure ("table already
    exists"): it tries again instead of removing the file."""
    from sqlalchemy.exc import OperationalError

    from qidash.ui import data

    monkeypatch.setenv("QIDASH_DEMO_DIR", str(tmp_path))
    path = tmp_path / "barnet.db"
    path.write_bytes(b"the other session's file")
    calls = []

    def engine_for(url):
        calls.append(url)
        if len(calls) == 1:
            raise OperationalError("CREATE TABLE locality", {}, Exception("table locality already exists"))
        return "the engine"

    monkeypatch.setattr(data, "engine_for", engine_for)
    monkeypatch.setattr(data, "OPEN_RETRY_S", 0)
    monkeypatch.setattr(data, "_demo_is_current", lambda engine, scenario: True)
    assert data.ensure_demo("barnet") == "the engine"
    assert len(calls) == 2 and path.read_bytes() == b"the other session's file"
