"""Fixtures shared by the whole suite: migrated databases on SQLite and on a real PostgreSQL server.

- ``engine``: a migrated SQLite database in the test's ``tmp_path``.
- ``pg_url``: a throwaway PostgreSQL server, one per test session (per xdist worker), started as in
  ``reference/recipes.md``. Skipped when the server binaries or the driver are missing, unless
  ``QIDASH_REQUIRE_PG=1`` (CI), which makes that a failure.
- ``pg_engine``: a fresh, migrated database on that server for one test (dropped afterwards).
- ``any_engine``: ``engine`` or ``pg_engine``, parametrised, so a test runs on both databases. The
  PostgreSQL case carries the ``pg`` marker (``-m "not pg"`` leaves it out).
- ``backend``: ``"sqlite"`` or ``"postgresql"``, module-scoped and parametrised like ``any_engine``, for
  module-scoped fixtures that load data once per database and module.
- ``any_demo``: ``any_demo(scenario)`` is the session's shared, read-only demo database of a scenario,
  parametrised over both databases.
- ``app_database``: where a page test's app reads, parametrised: demo mode's SQLite files, or a
  PostgreSQL database holding the demo, named by ``QIDASH_DB_URL`` (so the app is not in demo mode).
- ``databases``: makes migrated databases on either backend for fixtures of any scope: empty ones,
  snapshots of a loaded one and their copies (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE``
  on PostgreSQL), and the demo scenarios loaded once per session.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
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


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    """``"sqlite"`` or ``"postgresql"``: a module-scoped fixture built on it runs its tests on both."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_url")  # skip (or fail under QIDASH_REQUIRE_PG) without a server
    return request.param


class Databases:
    """Migrated databases on either backend, for fixtures of any scope.

    A snapshot is a frozen copy of a loaded database that nothing connects to (a SQLite file, or a
    PostgreSQL database used only as a template), so copies of it can be made at any time in
    milliseconds, whoever still holds connections to the database it was taken from.
    """

    def __init__(self, request, tmp_path_factory):
        self._request = request
        self._dir = tmp_path_factory.mktemp("databases")
        self._demos: dict[tuple[str, str], object] = {}
        self._shared_demos: dict[tuple[str, str], object] = {}

    def _pg_url(self) -> str:
        return self._request.getfixturevalue("pg_url")

    def _name(self, prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex[:16]}"

    def _pg_create(self, name: str, template: str) -> None:
        from sqlalchemy import text

        admin = _admin_engine(self._pg_url())
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
        admin.dispose()

    def _pg_engine(self, name: str):
        from sqlalchemy.engine import make_url

        from qidash import db

        return db.make_engine(
            make_url(self._pg_url()).set(database=name).render_as_string(hide_password=False)
        )

    def new(self, backend: str):
        """An empty, migrated database."""
        from qidash import db

        if backend == "postgresql":
            name = self._name("t")
            self._pg_create(name, PG_TEMPLATE)
            return self._pg_engine(name)
        engine = db.make_engine(db.sqlite_url(self._dir / f"{self._name('t')}.db"))
        db.migrate(engine)
        return engine

    def snapshot(self, engine) -> tuple[str, str]:
        """A frozen copy of ``engine``'s database, to make copies from (``engine`` stays usable)."""
        engine.dispose()
        if engine.dialect.name == "postgresql":
            name = self._name("snap")
            self._pg_create(name, engine.url.database)
            return ("postgresql", name)
        path = self._dir / f"{self._name('snap')}.db"
        # The backup API copies a consistent state, whatever the write-ahead log holds.
        with sqlite3.connect(engine.url.database) as source, sqlite3.connect(path) as target:
            source.backup(target)
        return ("sqlite", str(path))

    def copy(self, snapshot: tuple[str, str]):
        """A new database holding what ``snapshot`` holds."""
        from qidash import db

        backend, where = snapshot
        if backend == "postgresql":
            name = self._name("t")
            self._pg_create(name, where)
            return self._pg_engine(name)
        path = self._dir / f"{self._name('t')}.db"
        shutil.copy(where, path)
        return db.make_engine(db.sqlite_url(path))

    def drop(self, engine) -> None:
        """Dispose of ``engine`` and remove its database."""
        from sqlalchemy import text

        engine.dispose()
        if engine.dialect.name == "postgresql":
            admin = _admin_engine(self._pg_url())
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {engine.url.database} WITH (FORCE)"))
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{engine.url.database}{suffix}").unlink(missing_ok=True)

    def demo_snapshot(self, backend: str, scenario: str) -> tuple[str, str]:
        """A snapshot of the demo ``scenario`` loaded as ``qidash demo`` loads it (once per session)."""
        from qidash import scenarios

        key = (backend, scenario)
        if key not in self._demos:
            engine = self.new(backend)
            scenarios.load_demo(engine, scenario)
            self._demos[key] = self.snapshot(engine)
            self.drop(engine)
        return self._demos[key]

    def demo(self, backend: str, scenario: str):
        """The demo ``scenario``, shared by every test of the session: read it, never change it."""
        key = (backend, scenario)
        if key not in self._shared_demos:
            self._shared_demos[key] = self.copy(self.demo_snapshot(backend, scenario))
        return self._shared_demos[key]


@pytest.fixture(scope="session")
def databases(request, tmp_path_factory) -> Databases:
    """Databases on either backend, for fixtures of any scope (see :class:`Databases`)."""
    return Databases(request, tmp_path_factory)


IMPORT_BASE = Path(__file__).parent / "fixtures" / "import" / "base"


@pytest.fixture(scope="module")
def imported_base(backend, databases):
    """The small programme of ``fixtures/import/base`` loaded through the import on each database, once
    per module: a snapshot to copy, never a database to change."""
    from qidash import ingest

    engine = databases.new(backend)
    result = ingest.commit(engine, ingest.read_paths([str(IMPORT_BASE)]), user="fixture")
    assert result.outcome == "loaded", result.rejected
    snapshot = databases.snapshot(engine)
    databases.drop(engine)
    return snapshot


@pytest.fixture
def imported_programme(imported_base, databases):
    """This test's own copy of the imported small programme, on SQLite and on PostgreSQL."""
    engine = databases.copy(imported_base)
    yield engine
    databases.drop(engine)


@pytest.fixture(params=BACKENDS)
def any_demo(request, databases):
    """``any_demo(scenario)``: the demo database of ``scenario`` on SQLite or PostgreSQL (the test runs once
    on each), loaded once per session and shared: read it, never change it."""
    return lambda scenario: databases.demo(request.param, scenario)


@pytest.fixture(params=BACKENDS)
def app_database(request, databases, monkeypatch):
    """Where the app under AppTest reads, on each database: ``use(scenario)`` returns an engine on the data
    the pages will show, for the test to compute what they should.

    SQLite: demo mode, the scenario's file under ``QIDASH_DEMO_DIR`` (loaded here if the app has not made
    it yet). PostgreSQL: the session's shared copy of the demo, named by ``QIDASH_DB_URL``; the app then
    runs as a deployment does, with one configured database and no scenario switcher, and sign-in
    turned off on purpose (``QIDASH_AUTH=off``) so the tests can choose a role.
    """
    from qidash import db, scenarios

    def use(scenario: str):
        if request.param == "postgresql":
            engine = databases.demo("postgresql", scenario)
            monkeypatch.setenv("QIDASH_DB_URL", engine.url.render_as_string(hide_password=False))
            monkeypatch.setenv("QIDASH_AUTH", "off")
            return engine
        monkeypatch.delenv("QIDASH_DB_URL", raising=False)
        engine = db.make_engine(db.demo_url(scenario))
        if db.is_empty(engine):
            db.migrate(engine)
            scenarios.load_demo(engine, scenario)
        return engine

    return use
