"""Engine, migrations and small database facts.

The URL comes from ``--db`` (command line), else ``QIDASH_DB_URL``, else a SQLite file under ``data/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from qidash import models

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
DEFAULT_DB_PATH = DATA_DIR / "qidash.db"
SQLITE_BUSY_TIMEOUT_S = 30  # how long a SQLite statement waits for another connection's lock


def demo_dir() -> Path:
    """Where demo mode keeps one SQLite file per scenario (``QIDASH_DEMO_DIR`` overrides)."""
    return Path(os.environ.get("QIDASH_DEMO_DIR") or DATA_DIR / "demo")


class DatabaseError(Exception):
    """A database problem a user can fix (bad URL, server unreachable), worded for them."""


def default_url() -> str:
    """The configured database URL: ``QIDASH_DB_URL`` or the SQLite default under ``data/``."""
    return os.environ.get("QIDASH_DB_URL") or sqlite_url(DEFAULT_DB_PATH)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def demo_url(scenario: str) -> str:
    """The SQLite file the dashboard's demo mode keeps a scenario in."""
    return sqlite_url(demo_dir() / f"{scenario}.db")


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the dashboard read while an import writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def pool_settings() -> dict[str, int]:
    """Connection pool of a server database, per app process, from the environment.

    Each replica holds at most ``QIDASH_DB_POOL_SIZE + QIDASH_DB_MAX_OVERFLOW`` connections (default
    5 + 5); docs/deployment.md shows the arithmetic against PostgreSQL's ``max_connections``.
    """
    settings = {}
    for key, name, default in (
        ("pool_size", "QIDASH_DB_POOL_SIZE", 5),
        ("max_overflow", "QIDASH_DB_MAX_OVERFLOW", 5),
        # Seconds a page waits for a free connection before failing, rather than hanging.
        ("pool_timeout", "QIDASH_DB_POOL_TIMEOUT", 30),
        # Reopen connections older than this, so proxies and failovers never hand back a dead one.
        ("pool_recycle", "QIDASH_DB_POOL_RECYCLE", 1800),
    ):
        value = os.environ.get(name, "").strip() or str(default)
        if not value.isdigit():
            raise DatabaseError(f"{name} must be a whole number of 0 or more, not {value!r}.")
        settings[key] = int(value)
    return settings


def _postgres_session_settings(dbapi_connection, _record):
    # PostgreSQL's JIT compiler spends 0.5-1 s compiling each of the measures' large aggregates at
    # national scale, several times what running them takes (measured by qidash.bench): turn it off.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.autocommit = autocommit


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (default: :func:`default_url`). Raises DatabaseError on a bad URL."""
    url = url or default_url()
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            pool = pool_settings()
            engine = create_engine(url, pool_pre_ping=True, **pool)
            if engine.dialect.name == "postgresql":
                event.listen(engine, "connect", _postgres_session_settings)
    except (ArgumentError, NoSuchModuleError, ValueError, ImportError) as exc:  # ImportError: no driver
        raise DatabaseError(
            f"The database URL {redact(url)!r} is not usable: {exc}. "
            "Use e.g. sqlite:///data/qidash.db or postgresql+psycopg://user@host/dbname."
        ) from exc
    return engine


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection for reading that sees the data as of one moment: every query made through it
    reads the same data version, even when an import commits meanwhile (an import is one
    transaction, so a reader sees all of it or none of it).

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction. SQLite: an explicit BEGIN, after which (in
    WAL mode) the first read fixes what the connection sees until the transaction ends; the driver
    would otherwise run each SELECT on its own. Nothing is written; the transaction is rolled back.
    """
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        with engine.connect().execution_options(**options) as conn, conn.begin() as transaction:
            try:
                yield conn
            finally:
                transaction.rollback()
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()


def redact(url: str) -> str:
    """The URL with any password hidden, for messages and the info command."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL: hide whatever sits where a password would
        return re.sub(r"(://[^/@]*?:)[^/@]*@", r"\1***@", url)


def check_connection(engine: Engine) -> None:
    """Open a connection once, turning driver errors into a DatabaseError with plain words."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        raise DatabaseError(
            f"Cannot open the database {redact(str(engine.url))}: {exc.orig}".strip()
        ) from exc


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATE_LOCK_KEY = 0x71DA6


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision.

    On PostgreSQL one process migrates at a time (a session advisory lock), so replicas starting
    together after a release wait for the first one instead of creating the same tables twice.
    """
    from alembic import command

    check_connection(engine)
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        lock.execute(select(func.pg_advisory_lock(MIGRATE_LOCK_KEY)))
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            lock.execute(select(func.pg_advisory_unlock(MIGRATE_LOCK_KEY)))


def is_current(engine: Engine) -> bool:
    """True when the schema exists and is at the newest revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current == script.get_current_head()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("organisation")


# --- settings -----------------------------------------------------------------------------------------


# Dates the programme's data can plausibly hold. The import refuses any other (a mistyped year such
# as 0001 or 9999); pages read only dates inside, so a database loaded before that check cannot make
# date arithmetic fail, and the Data page lists what lies outside (qidash.ingest.data_quality).
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def is_plausible_date(day: dt.date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


def as_date(value) -> dt.date:
    """A date read from the database: SQLite hands some back as ISO text (from aggregates, unions).

    A year of fewer than four digits (SQLite may hold ``1-01-01``) is padded rather than refused.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)[:10]
    year, sep, rest = text.partition("-")
    if sep and year.isdigit() and len(year) < 4:
        text = f"{int(year):04d}-{rest}"[:10]
    return dt.date.fromisoformat(text)


def get_setting(conn_or_session, key: str, default: str | None = None) -> str | None:
    value = conn_or_session.execute(
        select(models.Setting.value).where(models.Setting.key == key)
    ).scalar_one_or_none()
    return default if value is None else value


def set_setting(session: Session, key: str, value: str) -> None:
    row = session.get(models.Setting, key)
    if row is None:
        session.add(models.Setting(key=key, value=value))
    else:
        row.value = value


# Any fixed number: every qidash process takes the same PostgreSQL advisory lock to write.
WRITE_LOCK_KEY = 0x71DA5
# How long a load waits for another to finish before saying so.
WRITE_WAIT_SECONDS = 30.0
BUSY_MESSAGE = "Another import is running, so nothing was loaded. Try again in a minute."


class WriterBusy(DatabaseError):
    """Another load holds the write lock and did not finish within WRITE_WAIT_SECONDS."""


def lock_for_writing(session: Session) -> None:
    """Make this transaction the only one writing qidash data until it commits or rolls back.

    Call it first in a load's transaction, before anything is read. A load reads what is stored,
    plans inserts and updates on natural keys, then rebuilds the derived tables from everything, so
    two loads at once (two replicas, or the app and a scheduled import) would both plan inserts of
    the same new keys, and the later one would fail on the unique key (tests/test_concurrency.py).
    Waiting here, the second load starts after the first has committed and sees its rows.
    PostgreSQL: a transaction-scoped advisory lock. SQLite: the database's write lock, taken now
    instead of at the first write.

    The wait is bounded (WRITE_WAIT_SECONDS): after it, WriterBusy says another load is running, so
    a second import is told to try again rather than left hanging, or failing with "database is locked".
    """
    wait_ms = int(WRITE_WAIT_SECONDS * 1000)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = {wait_ms}"))
        try:
            session.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK_KEY)))
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise WriterBusy(BUSY_MESSAGE) from exc
            raise
        session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
        return
    connection = session.connection()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}")
    try:
        # A write that changes nothing starts the write transaction, which takes the lock.
        session.execute(
            models.Setting.__table__.update().where(models.Setting.key == "data_version").values(
                key=models.Setting.key
            )
        )
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            raise WriterBusy(BUSY_MESSAGE) from exc
        raise
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")


def bump_data_version(session: Session) -> str:
    """Mark the data as changed; page caches are keyed on this value."""
    version = uuid.uuid4().hex
    set_setting(session, "data_version", version)
    return version


def data_version(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            return get_setting(conn, "data_version", "") or ""
    except SQLAlchemyError:
        return ""


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, in schema order, counted in the database."""
    counts = {}
    with engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return counts


def is_empty(engine: Engine) -> bool:
    if not has_schema(engine):
        return True
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(models.Organisation)).scalar_one() == 0
