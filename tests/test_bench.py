"""Running at scale: the schema and its indexes, pooled connections, the write lock and the benchmark."""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from qidash import bench, cli, db, models

# What a replica does first: open the configured database and migrate it.
START_REPLICA = "import sys; from qidash import db; db.migrate(db.make_engine(sys.argv[1]))"
INDEXES_0003 = {
    "ix_tier_attainment_person_attained": ("tier_attainment", ["person_id", "attained_on"]),
    "ix_enrolment_cohort_status": ("enrolment", ["cohort_id", "status"]),
    "ix_session_attendance_cohort_session": ("session_attendance", ["cohort_id", "session_no"]),
    "ix_project_member_role_project": ("project_member", ["role", "project_id"]),
    "ix_priority_parent_id": ("priority", ["parent_id"]),
}


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _schema_differences(engine, metadata=models.Base.metadata) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)


# --- schema ---------------------------------------------------------------------------------------------


def test_migrations_build_exactly_the_models(any_engine):
    # What `alembic revision --autogenerate` would write: nothing, on either database.
    assert _schema_differences(any_engine) == []


def test_the_schema_comparison_notices_a_missing_index(any_engine):
    with any_engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_enrolment_cohort_status"))
    differences = _schema_differences(any_engine)
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_enrolment_cohort_status")]


def test_the_measures_indexes_exist(any_engine):
    found = {}
    for table, _columns in INDEXES_0003.values():
        for index in inspect(any_engine).get_indexes(table):
            found[index["name"]] = (table, index["column_names"])
    assert {name: found.get(name) for name in INDEXES_0003} == INDEXES_0003


# --- connections and writing --------------------------------------------------------------------------


def test_pool_is_sized_by_the_environment(monkeypatch):
    monkeypatch.setenv("QIDASH_DB_POOL_SIZE", "3")
    monkeypatch.setenv("QIDASH_DB_MAX_OVERFLOW", "2")
    monkeypatch.setenv("QIDASH_DB_POOL_TIMEOUT", "7")
    engine = db.make_engine("postgresql+psycopg://app@127.0.0.1:1/none")  # not connected to
    assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._timeout) == (3, 2, 7)
    monkeypatch.setenv("QIDASH_DB_POOL_SIZE", "lots")
    with pytest.raises(db.DatabaseError, match="QIDASH_DB_POOL_SIZE must be a whole number"):
        db.make_engine("postgresql+psycopg://app@127.0.0.1:1/none")


@pytest.mark.pg
def test_postgresql_sessions_run_without_jit(pg_engine):
    with pg_engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar_one() == "off"


def test_a_second_writer_waits_for_the_first_to_commit(any_engine):
    events = []
    locked = threading.Event()

    def first():
        with Session(any_engine) as session, session.begin():
            db.lock_for_writing(session)
            locked.set()
            time.sleep(0.5)
            events.append("first commits")

    thread = threading.Thread(target=first)
    thread.start()
    assert locked.wait(10)
    with Session(any_engine) as session, session.begin():
        db.lock_for_writing(session)
        events.append("second writes")
    thread.join()
    assert events == ["first commits", "second writes"]


# --- the benchmark ------------------------------------------------------------------------------------


def test_bench_pages_are_the_app_pages_that_exist():
    pages = bench.app_pages()
    assert "app_pages/overview.py" in pages
    assert all((bench.APP.parent / p).is_file() for p in pages)


def test_bench_measures_a_page_against_the_empty_page(any_engine, tmp_path):
    result = bench.run(
        [1], _url(any_engine), (any_engine.dialect.name,), ["app_pages/overview.py"], warm_runs=1, cold_runs=2
    )
    runs = result["runs"]
    assert [(r["db"], r["scale"], r["page"]) for r in runs] == [
        (any_engine.dialect.name, 1, "empty"), (any_engine.dialect.name, 1, "overview")
    ]
    for row in runs:
        assert row.get("error") is None, row
        assert row["warm_s"] > 0 and row["cold_s"] > 0 and 50 < row["peak_mb"] < 4096, row
        # Two fresh processes per page, the cold time their median (of two: the mean).
        samples = row["cold_samples"]
        assert len(samples) == 2 and row["cold_s"] == pytest.approx(sum(samples) / 2, abs=1e-3)
        assert row["db_size_mb"] > 0
    empty, overview = runs
    # Each page's ratio is to the empty page of the same run (how fast either was is the bench's
    # output, not something a test on a shared machine can assert).
    assert empty["cold_ratio"] == 1.0
    assert overview["cold_ratio"] == round(overview["cold_s"] / empty["cold_s"], 2)
    assert result["builds"][0]["homes"] > 100
    out = tmp_path / "bench.json"
    out.write_text(json.dumps(result))
    assert set(json.loads(out.read_text())["runs"][0]) >= {
        "db",
        "scale",
        "page",
        "cold_s",
        "warm_s",
        "peak_mb",
    }
    table = bench.table(result)
    assert "overview" in table and "empty" in table and "cold_s" in table


def test_bench_refuses_a_database_with_real_data(engine):
    from qidash import store

    with Session(engine) as session, session.begin():
        store.write_frames(session, {"organisations": [
            {"ods_code": "X1", "name": "A real home", "kind": "care_home_nursing", "sector": "independent"}
        ]})
    with pytest.raises(bench.BenchError, match="scratch database"):
        bench.guard_scratch(engine)


def test_bench_combines_a_pages_processes_by_median_and_largest_peak():
    samples = [
        {"cold_s": 1.3, "warm_s": 0.2, "warm_samples": [0.2, 0.3, 0.2], "peak_mb": 300.0},
        {"cold_s": 0.9, "warm_s": 0.1, "warm_samples": [0.1, 0.1, 0.4], "peak_mb": 320.0},
        {"cold_s": 1.0, "warm_s": 0.2, "warm_samples": [0.2, 0.2, 0.2], "peak_mb": 310.0},
    ]
    assert bench.combine(samples) == {
        "cold_s": 1.0, "cold_samples": [1.3, 0.9, 1.0], "warm_s": 0.2, "peak_mb": 320.0,
    }
    # A process that failed fails the page, whatever the others measured.
    failed = bench.combine([*samples, {"cold_s": None, "warm_s": None, "peak_mb": None, "error": "boom"}])
    assert failed["error"] == "boom" and failed["cold_s"] is None


def test_the_browser_bench_opens_the_pages_of_app_py():
    # One list of pages: app.PAGES, in menu order; the default page is served at the root URL.
    pages = bench.browser_pages()
    assert [p.name for p in pages] == [bench.page_name(path) for path in bench.app_pages()]
    assert pages[0].url_path == "" and all(p.url_path == p.name for p in pages[1:])
    assert [p.name for p in bench.browser_pages(["tiers", "overview"])] == ["tiers", "overview"]
    with pytest.raises(bench.BenchError, match="Unknown page nowhere"):
        bench.browser_pages(["nowhere"])


def test_the_browser_table_gives_medians_spread_and_ratios():
    result = {"runs": 3, "bare": {"fresh_s": 1.0, "move_s": 0.2, "fresh_samples": [0.9, 1.0, 1.2],
                                  "move_samples": [0.2, 0.2, 0.3]},
              "pages": {"tiers": {"fresh_s": 2.5, "fresh_samples": [2.4, 2.5, 3.1], "move_s": 0.5,
                                  "move_samples": [0.4, 0.5, 0.9], "received_kb": 88.0,
                                  "fresh_ratio": 2.5, "move_ratio": 2.5}}}
    lines = bench.browser_table(result).splitlines()
    assert lines[2].split() == ["bare", "app", "1.00", "0.90-1.20", "1.0", "0.20", "0.20-0.30", "1.0"]
    assert lines[3].split() == ["tiers", "2.50", "2.40-3.10", "2.5", "0.50", "0.40-0.90", "2.5", "88"]
    assert "fresh tab 2.5x" in lines[-1]
    # The floors, when measured, come between the bare app and the pages, set apart by a blank line.
    result["floors"] = {"one_chart": {**result["pages"]["tiers"], "received_kb": 4.0}}
    lines = bench.browser_table(result).splitlines()
    assert lines[3].split()[0] == "one_chart" and lines[4] == "" and lines[5].split()[0] == "tiers"


FAKE_BROWSER_RESULT = {
    "runs": 1, "bare": {"fresh_s": 1.0, "move_s": 0.2, "fresh_samples": [1.0], "move_samples": [0.2]},
    "pages": {"tiers": {"fresh_s": 2.0, "fresh_samples": [2.0], "move_s": 0.4, "move_samples": [0.4],
                        "received_kb": 9.0, "fresh_ratio": 2.0, "move_ratio": 2.0}},
}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_the_browser_bench_builds_the_demo_in_a_scratch_database_of_each_kind(monkeypatch, kind):
    from sqlalchemy import func, select

    if kind == "postgresql" and bench.postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed")
    seen = []

    def opened(url, runs, pages, say):  # what the browser would open: the built demo, read as it is
        engine = db.make_engine(url)
        with engine.connect() as conn:
            seen.append((engine.dialect.name, conn.execute(
                select(func.count()).select_from(models.Organisation)).scalar_one(), runs, pages))
        engine.dispose()
        return {"db": db.redact(url), **FAKE_BROWSER_RESULT}

    monkeypatch.setattr(bench, "run_browser", opened)
    monkeypatch.setenv("QIDASH_DB_URL", "sqlite:////nonexistent/configured.db")  # never used
    out = bench.run_browser_built([1], (kind,), runs=2, pages=None)
    ((dialect, organisations, runs, pages),) = seen
    assert dialect == kind and organisations > 0 and runs == 2 and pages is None
    ((row),) = out["results"]
    assert row["kind"] == kind and row["scale"] == 1 and row["build"]["rows"] > 0
    assert row["pages"]["tiers"]["fresh_ratio"] == 2.0


def test_the_browser_command_builds_scratch_databases_without_db(monkeypatch, capsys):
    # Without --db the browser bench builds its own databases; it never opens the configured one.
    asked = []

    def built(scales, kinds, runs, pages, say):
        asked.append((scales, kinds, runs))
        return {"scenario": "cornwall", "results": [
            {"kind": k, "scale": s, "build": {"rows": 10}, "db": "x", **FAKE_BROWSER_RESULT}
            for k in kinds for s in scales]}

    monkeypatch.setattr(bench, "run_browser_built", built)
    monkeypatch.setattr(bench, "run_browser", lambda *a, **k: pytest.fail("opened a database not built"))
    monkeypatch.setenv("QIDASH_DB_URL", "sqlite:////nonexistent/configured.db")
    assert cli.main(["bench", "--browser", "--dbs", "both", "--scale", "1,50", "--runs", "2"]) == cli.EXIT_OK
    assert asked == [([1, 50], ("sqlite", "postgresql"), 2)]
    printed = capsys.readouterr().out
    assert "postgresql, cornwall x50 (10 rows)" in printed and printed.count("worst: ") == 4
    assert cli.main(["bench", "--browser", "--dbs", "sqlite"]) == cli.EXIT_OK
    assert asked[-1] == ([1], ("sqlite",), 3)  # one scale by default: a browser run is long


def test_bench_command_line_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "--scale", "1,ten"])
    assert exc.value.code == 2
    for flag in ("--cold-runs", "--warm-runs"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["bench", flag, "0"])
        assert exc.value.code == 2
    assert cli.main(["bench", "--pages", "no_such_page", "--dbs", "sqlite"]) == cli.EXIT_USAGE
    assert "Unknown page no_such_page" in capsys.readouterr().err
    assert cli.main(["bench", "--browser", "--db", "sqlite:///x.db", "--pages", "nowhere"]) == cli.EXIT_USAGE
    assert "Unknown page nowhere" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "--browser", "--runs", "0"])
    assert exc.value.code == 2


def test_the_map_paths_bench_times_each_hot_path_on_a_database_it_leaves_alone(tmp_path, capsys):
    from tests.support import demo_engine

    url = _url(demo_engine("somerset"))
    before = db.data_version(db.make_engine(url))
    result = bench.run_paths([1], url, runs=1)
    (row,) = result["paths"]
    assert row["scale"] is None and set(bench.PATH_FIGURES) <= set(row)
    assert row["orgs"] > 100 and row["coaches"] > 0
    assert 0 < row["deck_grouped_mb"] <= row["deck_every_point_mb"]  # the small demo is not crowded
    assert db.data_version(db.make_engine(url)) == before
    out = tmp_path / "paths.json"
    assert cli.main(["bench", "--paths", "--db", url, "--runs", "1", "--out", str(out)]) == cli.EXIT_OK
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["scale", *bench.PATH_FIGURES] and table[2].split()[0] == "db"
    assert json.loads(out.read_text())["paths"][0]["orgs"] == row["orgs"]
    with pytest.raises(bench.BenchError):
        bench.run_paths([1], url, runs=0)


@pytest.mark.pg
def test_replicas_starting_together_migrate_one_at_a_time(pg_url):
    # Separate processes, as replicas are (Alembic's context is process-global, so threads would not do).
    # Without the lock in db.migrate, two of three fail on PostgreSQL's catalog (duplicate type name).
    import subprocess
    import sys
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    name = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    engine = db.make_engine(url)
    try:
        replicas = [
            subprocess.Popen([sys.executable, "-c", START_REPLICA, url],
                             cwd=db.REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(3)
        ]
        outputs = [p.communicate(timeout=120)[0] for p in replicas]
        assert [p.returncode for p in replicas] == [0, 0, 0], [o[-500:] for o in outputs]
        assert db.is_current(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_bench_database_kinds_as_the_help_names_them():
    from qidash.commands.bench import _kinds

    assert _kinds("both") == ("sqlite", "postgresql")
    assert _kinds("sqlite") == ("sqlite",)
    assert _kinds("postgresql, sqlite") == ("postgresql", "sqlite")
    with pytest.raises(argparse.ArgumentTypeError):
        _kinds("mysql")


def test_the_app_raises_only_the_collectors_first_threshold(tmp_path):
    """Running the frame (app.py, as the server and the bench's page runs do) sets the young generation's
    threshold to 20,000 (a page's first view ran the collector about 480 times at Python's 700) and
    leaves the older generations' as they were; importing qidash alone changes nothing."""
    import subprocess
    import sys

    script = (
        "import gc; before = gc.get_threshold(); import qidash; imported = gc.get_threshold()\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"AppTest.from_file({str(db.REPO_ROOT / 'app.py')!r}, default_timeout=120).run()\n"
        "print(before, imported, gc.get_threshold())"
    )
    env = {**os.environ, "QIDASH_DB_URL": db.sqlite_url(tmp_path / "empty.db"), "QIDASH_AUTH": "off"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env=env, cwd=db.REPO_ROOT).stdout.strip().splitlines()[-1]
    before, imported, after = (
        tuple(int(n) for n in part.strip("() ").split(",")) for part in out.split(") (")
    )
    assert imported == before
    assert after == (20_000, *before[1:])


def test_the_bench_help_says_its_database_is_a_scratch_one(capsys):
    """Every other command's --db defaults to the configured database; the bench's never does."""
    for command, says in (("bench", "never $QIDASH_DB_URL"), ("info", "default: $QIDASH_DB_URL")):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert says in " ".join(capsys.readouterr().out.split())
