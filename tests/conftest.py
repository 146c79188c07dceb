"""Fixtures shared by the whole suite: migrated databases on SQLite and on a real PostgreSQL server.

- ``engine``: a migrated SQLite database in the test's ``tmp_path``.
- ``pg_url``: a throwaway PostgreSQL server, one per test session (per xdist worker), started as in
  ``reference/recipes.md``. Skipped when the server binaries or the driver are missing, unless
  ``QIDASH_REQUIRE_PG=1`` (CI), which makes that a failure.
- ``pg_engine``: a fresh, migrated database on that server for one test (dropped afterwards).
- ``any_engine``: ``engine`` or ``pg_engine``, parametrised, so a test runs on both databases. The
  PostgreSQL case carries the ``pg`` marker (``-m "not pg"`` leaves it out).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

REQUIRE_PG = os.environ.get("QIDASH_REQUIRE_PG") == "1"
# Migrated once per session; each test's database is a copy (CREATE DATABASE ... TEMPLATE), which
# takes milliseconds where running the migrations takes most of a second.
PG_TEMPLATE = "qidash_template"


def pytest_configure(config):
    config.addinivalue_line("markers", "pg: needs a PostgreSQL server (started by the pg_url fixture)")
    config.addinivalue_line("markers", "e2e: drives the app in a real browser (tests/e2e)")


@pytest.fixture
def engine(tmp_path):
    """A migrated SQLite database in ``tmp_path``."""
    from qidash import db

    eng = db.make_engine(db.sqlite_url(tmp_path / "t.db"))
    db.migrate(eng)
    yield eng
    eng.dispose()


# --- PostgreSQL -----------------------------------------------------------------------------------------


def _pg_unavailable(reason: str):
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL tests are required (QIDASH_REQUIRE_PG=1) but {reason}")
    pytest.skip(reason)


def _pg_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


@pytest.fixture(scope="session")
def pg_url():
    """URL of the ``postgres`` database on a throwaway PostgreSQL server, stopped after the session."""
    bindir = _pg_bindir()
    if bindir is None:
        _pg_unavailable("the PostgreSQL server binaries (initdb, pg_ctl) were not found")
    try:
        import psycopg  # noqa: F401 - the driver the URL names
    except ImportError:
        _pg_unavailable("the psycopg driver is not installed")
    # The server refuses to run as root: run it as the postgres user, in a directory that user owns.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    tmp = Path(tempfile.mkdtemp(prefix="qidash-pg-"))
    if as_user:
        shutil.chown(tmp, "postgres", "postgres")
    data, port = tmp / "db", _free_port()
    started = False
    try:
        _run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "app", "--auth=trust", "-E", "UTF8",
              "--locale=C.UTF-8"], "initdb")
        options = f"-h 127.0.0.1 -p {port} -k {tmp} -c fsync=off -c synchronous_commit=off"
        _run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "server.log"),
              "-w", "-t", "30", "-o", options, "start"], "pg_ctl start")
        started = True
        url = f"postgresql+psycopg://app@127.0.0.1:{port}/postgres"
        _make_template(url)
        yield url
    finally:
        if started:
            subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           check=False, capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


def _admin_engine(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    # CREATE / DROP DATABASE cannot run inside a transaction.
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _make_template(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from qidash import db

    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {PG_TEMPLATE}"))
    admin.dispose()
    template = db.make_engine(make_url(url).set(database=PG_TEMPLATE).render_as_string(hide_password=False))
    db.migrate(template)
    template.dispose()  # a template must have no open connections when it is copied


@pytest.fixture
def pg_engine(pg_url):
    """A fresh, migrated database of its own on the session's PostgreSQL server."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from qidash import db

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine(pg_url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE}"))
    eng = db.make_engine(make_url(pg_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def any_engine(request):
    """A migrated, empty database on SQLite or PostgreSQL (the test runs once on each)."""
    return request.getfixturevalue("engine" if request.param == "sqlite" else "pg_engine")
