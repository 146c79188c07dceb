"""Concurrent work fails politely, and every load is audited with who really ran it (issue 15).

- A preview only reads: beside a load of the same rows it neither waits nor deadlocks (PostgreSQL), and
  it needs no write lock (SQLite).
- A second load waits a bounded time, then says another import is running (command line: exit 2;
  Data page: a message), on both databases.
- Loads from the command line name the operating-system user (``cli:NAME``); ``--user`` is a note.
  Rejected, failed and demo loads are recorded; a failed audit write never fails an export.
"""

from __future__ import annotations

import getpass
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select, text

from qidash import auth, db, ingest, store
from qidash import models as m
from qidash.cli import main
from tests.support import ROOT, TIMEOUT, engine_url, programme_rows, viewer_of
from tests.test_ingest import BASE

NEW_HOMES = (
    "ods_code,name,kind,sector,pcn_code\n"
    "CH0201,Harbour Lodge,care_home_residential,independent,PCN-N1\n"
    "CH0202,Moor View,care_home_nursing,independent,PCN-N1\n"
)


@pytest.fixture
def programme(imported_programme):
    """The small programme of fixtures/import/base, this test's own copy (tests/conftest.py)."""
    return imported_programme


def homes_batch() -> ingest.Batch:
    return ingest.read_upload([("organisations.csv", NEW_HOMES.encode())])


def cli_user(note: str | None = None) -> str:
    """The command line's audit actor: the login, with any --user text as a marked note."""
    login = f"cli:{getpass.getuser()}"
    return f"{login} (note: {note})" if note else login


# --- a preview beside a load ------------------------------------------------------------------------------


def insert_home(conn, code: str) -> None:
    pcn = conn.scalar(select(m.Pcn.id).where(m.Pcn.code == "PCN-N1"))
    conn.execute(
        m.Organisation.__table__.insert().values(
            ods_code=code, name=code, kind="care_home_nursing", sector="independent", pcn_id=pcn
        )
    )


@pytest.mark.pg
def test_a_preview_beside_a_load_of_the_same_rows_neither_waits_nor_deadlocks(pg_engine):
    """Before the fix the preview wrote CH0201 then CH0202 and rolled back. A load that had written
    CH0202 and went on to write CH0201 then waited for the preview, which waited for the load:
    PostgreSQL broke the deadlock by failing one of them."""
    assert ingest.commit(pg_engine, ingest.read_paths([str(BASE)]), user="fixture").outcome == "loaded"
    batch = homes_batch()
    outcome: dict = {}

    def run_preview() -> None:
        try:
            outcome["report"] = ingest.preview(pg_engine, batch)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = exc

    with pg_engine.connect() as load, pg_engine.connect() as watch:
        # The load in progress: it has written one of the rows and holds it, uncommitted.
        transaction = load.begin()
        insert_home(load, "CH0202")
        preview = threading.Thread(target=run_preview)
        preview.start()
        # Until the preview finishes, or waits for a row lock the load holds.
        while preview.is_alive():
            waiting = watch.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one()
            watch.rollback()
            if waiting:
                break
            time.sleep(0.05)
        insert_home(load, "CH0201")  # the load goes on with the other row
        transaction.commit()
    preview.join()
    assert "error" not in outcome, outcome.get("error")
    counts = outcome["report"].counts.set_index("entity")
    assert counts.loc["organisations", "new"] == 2  # planned on what was committed when it read
    with pg_engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(m.Organisation.ods_code.in_(["CH0201", "CH0202"]))) == 2


def test_a_preview_needs_no_write_lock(engine):
    """SQLite: with another connection holding the write lock, a preview still runs (it only reads)."""
    assert ingest.commit(engine, ingest.read_paths([str(BASE)]), user="fixture").outcome == "loaded"
    holder = sqlite3.connect(engine.url.database)
    try:
        holder.execute("BEGIN IMMEDIATE")
        report = ingest.preview(engine, homes_batch())
    finally:
        holder.rollback()
        holder.close()
    assert report.counts.set_index("entity").loc["organisations", "new"] == 2


@pytest.mark.pg
def test_a_preview_on_postgresql_is_a_read_only_transaction(pg_engine, monkeypatch):
    """Were planning ever to write again, PostgreSQL would refuse it rather than lock rows."""
    from sqlalchemy.exc import DBAPIError

    real = store.write_frames
    monkeypatch.setattr(store, "write_frames", lambda session, frames, dry_run=False: real(session, frames))
    with pytest.raises(DBAPIError, match="read-only transaction"):
        ingest.preview(pg_engine, ingest.read_paths([str(BASE)]))


CHANGES = {
    "priorities.csv": (
        "code,name,parent_code\nNEWTOP,New top,\nNEWSUB,New sub,NEWTOP\nFALLS,Reduce falls,NEWTOP\n"
    ),
    "tiers.csv": (
        "framework,code,name,rank,framework_name\nnewfw,NT1,New one,1,New framework\nnewfw,NT2,New two,2,\n"
    ),
    "courses.csv": "code,name,tier_code\nNC1,New course,NT1\n",
    "cohorts.csv": "code,course_code,start_date\nNCO1,NC1,2024-09-01\nQSIR-01,QSIR,2024-02-01\n",
    "people.csv": "person_ref,ods_code\nNP1,CH0201\nNP2,CH0201\n",
    "enrolments.csv": (
        "person_ref,cohort_code,status\nNP1,NCO1,enrolled\nNP2,NCO1,enrolled\nP0001,NCO1,enrolled\n"
    ),
    "projects.csv": (
        "code,title,priority_code,lead_ods_code,partner_ods_codes\n"
        "NQI,New project,NEWSUB,CH0201,CH0202;A81001\n"
        "QI-001,Fewer falls at night,FALLS,CH0001,CH0002\n"
    ),
    "measures.csv": "project_code,code,name,chart\nNQI,M1,New measure,run\nNQI,M2,Other measure,run\n",
    "observations.csv": (
        "project_code,measure_code,period,value\nNQI,M1,2024-09-01,3\nNQI,M1,2024-10-01,4\nNQI,M2,2024-09-01,5\n"
    ),
}


def test_a_preview_counts_what_the_load_then_does(programme, tmp_path):
    """The preview plans new rows with stand-in ids; its counts must be what writing gives, including
    rows that refer to rows new in the same load (two new people in one new cohort are two rows)."""
    folder = tmp_path / "load"
    folder.mkdir()
    (folder / "organisations.csv").write_text(NEW_HOMES)
    for name, content in CHANGES.items():
        (folder / name).write_text(content)
    batch = ingest.read_paths([str(folder)])
    stored = programme_rows(programme)
    previewed = ingest.preview(programme, batch)
    assert programme_rows(programme) == stored
    loaded = ingest.commit(programme, batch, user="t")
    assert previewed.rejected.empty and loaded.outcome == "loaded"
    assert previewed.counts.to_dict("records") == loaded.counts.to_dict("records")
    counts = loaded.counts.set_index("entity")
    assert counts.loc["enrolments", "new"] == 3 and counts.loc["observations", "new"] == 3
    assert counts.loc["priorities", "updated"] == 1  # FALLS moved under NEWTOP
    assert counts.loc["projects", "updated"] == 1  # QI-001's partners changed


# --- a second load while one runs ------------------------------------------------------------------------


class WriteLockHolder:
    """Another load in progress: holds the database's write lock until released."""

    def __init__(self, engine):
        self.engine = engine
        self._raw = None
        self._conn = None

    def __enter__(self):
        if self.engine.dialect.name == "sqlite":
            self._raw = sqlite3.connect(self.engine.url.database, check_same_thread=False)
            self._raw.execute("BEGIN IMMEDIATE")
        else:
            self._conn = self.engine.connect()
            self._conn.begin()
            self._conn.execute(select(func.pg_advisory_xact_lock(db.WRITE_LOCK_KEY)))
        return self

    def __exit__(self, *exc):
        if self._raw is not None:
            self._raw.rollback()
            self._raw.close()
        if self._conn is not None:
            self._conn.rollback()
            self._conn.close()


@pytest.fixture
def short_wait(monkeypatch):
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 0.5)


def test_a_second_load_waits_then_says_another_import_is_running(programme, short_wait, tmp_path, capsys):
    stored = programme_rows(programme)
    with WriteLockHolder(programme):
        with pytest.raises(db.WriterBusy, match="Another import is running"):
            ingest.commit(programme, homes_batch(), user="t")
        path = tmp_path / "organisations.csv"
        path.write_text(NEW_HOMES)
        assert main(["import", str(path), "--db", engine_url(programme)]) == 2
        err = capsys.readouterr().err
        assert err == "error: Another import is running, so nothing was loaded. Try again in a minute.\n"
    assert programme_rows(programme) == stored
    # Once the other load is done, the same load goes through.
    assert ingest.commit(programme, homes_batch(), user="t").outcome == "loaded"


def test_the_wait_for_a_load_in_progress_is_kept_when_it_ends_in_time(programme):
    """A second load queued behind a short first one loads after it (the wait is bounded, not zero)."""
    holder = WriteLockHolder(programme).__enter__()
    released = threading.Timer(0.3, holder.__exit__, args=(None, None, None))
    released.start()
    try:
        assert ingest.commit(programme, homes_batch(), user="t").outcome == "loaded"
    finally:
        released.join()


def test_the_data_page_says_another_import_is_running(tmp_path, monkeypatch, short_wait):
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "qidash.db"
    engine = db.make_engine(db.sqlite_url(path))
    db.migrate(engine)
    assert ingest.commit(engine, ingest.read_paths([str(BASE)]), user="fixture").outcome == "loaded"
    monkeypatch.setenv("QIDASH_DB_URL", db.sqlite_url(path))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["demo_role"] = "admin"
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader[0].set_value([("organisations.csv", NEW_HOMES.encode(), "text/csv")]).run()
    [load] = [b for b in at.button if b.label.startswith("Load")]
    with WriteLockHolder(engine):
        load.click().run()
    assert not at.exception and not at.error
    assert db.BUSY_MESSAGE in [w.value for w in at.warning]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(m.Organisation.ods_code == "CH0201")) == 0


# --- the audit ----------------------------------------------------------------------------------------------


def latest_import(engine):
    with engine.connect() as conn:
        return conn.execute(select(m.ImportBatch).order_by(m.ImportBatch.id.desc()).limit(1)).one()


def latest_event(engine, action: str):
    with engine.connect() as conn:
        return auth.audit_events(conn, 1, action)[0]


def test_a_command_line_load_names_the_login_and_keeps_user_as_a_note(programme, tmp_path):
    path = tmp_path / "organisations.csv"
    path.write_text(NEW_HOMES)
    assert main(["import", str(path), "--db", engine_url(programme), "--user", "admin@nhs.net"]) == 0
    record = latest_import(programme)
    assert (record.imported_by, record.outcome, record.detail["note"]) == (
        cli_user("admin@nhs.net"),
        "loaded",
        "admin@nhs.net",
    )
    assert not record.imported_by.startswith("admin@")  # never taken for the signed-in user
    event = latest_event(programme, "import")
    assert event["actor"] == cli_user("admin@nhs.net") and event["detail"]["note"] == "admin@nhs.net"


def test_a_rejected_command_line_load_is_recorded(programme, tmp_path):
    path = tmp_path / "organisations.csv"
    path.write_text("ods_code,name,kind,sector,beds\nCH0201,Harbour Lodge,care_home_nursing,independent,-3\n")
    assert main(["import", str(path), "--db", engine_url(programme)]) == 1
    record = latest_import(programme)
    assert (record.imported_by, record.outcome, record.rows_rejected) == (cli_user(), "rejected", 1)
    assert record.detail["rejected"] == [
        'organisations.csv: Row 2, column "beds": "-3" is negative; beds must be 0 or more.'
    ]


def test_a_load_that_crashes_is_recorded_as_failed_and_writes_nothing(
    programme, monkeypatch, tmp_path, capsys
):
    from qidash import derive

    def broken(*_args, **_kwargs):
        raise RuntimeError("a fault while deriving")

    monkeypatch.setattr(derive, "refresh_derived", broken)
    stored = programme_rows(programme)
    with pytest.raises(ingest.ImportFailed) as caught:
        ingest.commit(programme, homes_batch(), user="ana@example.nhs.uk")
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert programme_rows(programme) == stored
    record = latest_import(programme)
    assert caught.value.import_batch_id == record.id
    assert (record.imported_by, record.outcome, record.detail["error"]) == (
        "ana@example.nhs.uk",
        "failed",
        "RuntimeError",
    )
    assert latest_event(programme, "import")["detail"]["outcome"] == "failed"

    path = tmp_path / "organisations.csv"
    path.write_text(NEW_HOMES)
    assert main(["import", str(path), "--db", engine_url(programme)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("error: The load failed, so nothing was written (import ") and "Traceback" not in err
    )
    assert latest_import(programme).imported_by == cli_user()


def test_the_data_page_records_its_signed_in_viewer_and_explains_a_failure(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from qidash import derive

    path = tmp_path / "qidash.db"
    engine = db.make_engine(db.sqlite_url(path))
    db.migrate(engine)
    assert ingest.commit(engine, ingest.read_paths([str(BASE)]), user="fixture").outcome == "loaded"
    monkeypatch.setenv("QIDASH_DB_URL", db.sqlite_url(path))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    monkeypatch.setattr(derive, "refresh_derived", lambda *a, **k: 1 / 0)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["demo_role"] = "admin"
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader[0].set_value([("organisations.csv", NEW_HOMES.encode(), "text/csv")]).run()
    [load] = [b for b in at.button if b.label.startswith("Load")]
    load.click().run()
    assert not at.exception
    record = latest_import(engine)
    assert record.outcome == "failed" and record.imported_by == viewer_of(at).email
    assert [e.value for e in at.error] == [
        (
            f"The load failed, so nothing was written (import {record.id} in the import history). "
            "Try again; if it fails again, your admin will find the details in the application log "
            "(ZeroDivisionError)."
        )
    ]


def test_demo_replace_is_recorded_with_the_login(engine):
    url = engine_url(engine)
    assert ingest.commit(engine, ingest.read_paths([str(BASE)]), user="fixture").outcome == "loaded"
    assert main(["demo", "--scenario", "barnet", "--db", url]) == 2  # holds data: refused without --replace
    refused = latest_event(engine, "demo_load")
    assert (refused["actor"], refused["detail"]["outcome"]) == (cli_user(), "failed")
    assert main(["demo", "--scenario", "barnet", "--replace", "--db", url]) == 0
    event = latest_event(engine, "demo_load")
    assert event["actor"] == cli_user()
    assert event["detail"]["replace"] is True and event["detail"]["outcome"] == "loaded"
    assert event["detail"]["scenario"] == "barnet"


def test_an_export_still_succeeds_when_its_audit_write_fails(programme, monkeypatch, tmp_path, caplog):
    def refuse(*_args, **_kwargs):
        raise RuntimeError("the audit table is unavailable")

    monkeypatch.setattr(auth, "record", refuse)
    out = tmp_path / "all.xlsx"
    assert main(["export", "--out", str(out), "--db", engine_url(programme)]) == 0
    assert out.stat().st_size > 0
    assert "Audit event 'export' by 'cli:" in caplog.text  # the log keeps what the table could not


def test_a_sign_in_audit_that_cannot_be_written_is_logged_not_raised(tmp_path, caplog):
    unmigrated = db.make_engine(db.sqlite_url(tmp_path / "empty.db"))  # no audit table at all
    assert auth.audit(unmigrated, "ana@example.nhs.uk", "sign_in", {"role": "admin"}) is False
    assert "Audit event 'sign_in' by 'ana@example.nhs.uk' could not be recorded" in caplog.text


def test_an_export_from_the_command_line_names_the_login(programme, tmp_path):
    out = tmp_path / "all.xlsx"
    assert main(["export", "--out", str(out), "--db", engine_url(programme), "--user", "boss@nhs.net"]) == 0
    event = latest_event(programme, "export")
    assert event["actor"] == cli_user("boss@nhs.net") and event["detail"]["note"] == "boss@nhs.net"


def test_files_that_cannot_be_read_are_recorded_as_an_unusable_attempt(programme, tmp_path):
    path = tmp_path / "localities.csv"
    path.write_bytes("code,name\nN,North\n".encode("utf-16"))
    assert main(["import", str(path), "--db", engine_url(programme), "--user", "ops ticket 42"]) == 2
    event = latest_event(programme, "import")
    assert event["actor"] == cli_user("ops ticket 42")
    assert event["detail"]["outcome"] == "unusable" and event["detail"]["files"] == ["localities.csv"]
    assert (
        "is saved as UTF-16" in event["detail"]["reasons"][0] and event["detail"]["note"] == "ops ticket 42"
    )
