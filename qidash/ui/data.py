"""The engine and cached loaders. Results are cached with bounds and keyed by the data version,
which every import bumps, so a load shows at once and nothing stale survives it."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time

import streamlit as st
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from qidash import db, measures, scenarios

CACHE = {"ttl": 3600, "max_entries": 64, "show_spinner": False}


def demo_mode() -> bool:
    """Demo mode: no database configured, so each scenario lives in its own SQLite file."""
    return not os.environ.get("QIDASH_DB_URL")


@st.cache_resource(show_spinner=False)
def engine_for(url: str) -> Engine:
    """One engine per database URL per process."""
    engine = db.make_engine(url)
    db.migrate(engine)
    return engine


def ensure_demo(scenario: str) -> Engine:
    """The demo database of ``scenario``, generated on first use with a progress bar."""
    url = db.demo_url(scenario)
    try:
        engine = engine_for(url)
    except UNREADABLE as exc:
        engine = _remake_demo_file(scenario, exc)
    if _demo_is_current(engine, scenario):
        return engine
    db.demo_dir().mkdir(parents=True, exist_ok=True)
    # One generator at a time per scenario, even with several sessions starting together.
    with open(db.demo_dir() / f".{scenario}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _demo_is_current(engine, scenario):
            bar = st.progress(0.0, text=f"Creating the {scenario} demo data (first start only)…")
            scenarios.load_demo(
                engine, scenario, progress=lambda f, msg: bar.progress(f, text=msg), replace=True
            )
            st.session_state.pop(RUN_VERSIONS, None)  # this run's reads came before the load
            bar.empty()
    return engine


# Opening or upgrading a demo file can fail with these; CommandError: a revision this version does
# not know (a file made by a newer version).
UNREADABLE = (SQLAlchemyError, db.DatabaseError, CommandError)


OPEN_ATTEMPTS = 3  # before a demo file is taken for one this version cannot open
OPEN_RETRY_S = 0.5


def _remake_demo_file(scenario: str, error: Exception) -> Engine:
    """The demo file of ``scenario`` when this version cannot open or upgrade it (one left half
    upgraded by an older version, or made by a newer one): demo data is synthetic, so it is made
    again rather than the app failing. One session at a time, like generating it.

    Only a failure that lasts counts: a session starting while another still creates the schema
    can see tables appear under it, so opening is tried again first. A locked file is never removed:
    someone is writing it."""
    url, path = db.demo_url(scenario), db.demo_dir() / f"{scenario}.db"
    db.demo_dir().mkdir(parents=True, exist_ok=True)
    with open(db.demo_dir() / f".{scenario}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for attempt in range(OPEN_ATTEMPTS):
            if _locked(error):
                raise error
            if attempt:
                time.sleep(OPEN_RETRY_S)
            try:
                return engine_for(url)  # another session may have finished or remade it meanwhile
            except UNREADABLE as exc:
                error = exc
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        st.toast(
            f"The {scenario} demo data could not be opened by this version ({type(error).__name__}), "
            "so it is being made again.",
            icon=":material/restart_alt:",
        )
        return engine_for(url)


def _locked(error: Exception) -> bool:
    """SQLite's "database is locked" (another connection holds the write lock), however wrapped."""
    return "database is locked" in str(error).lower()


def _demo_is_current(engine: Engine, scenario: str) -> bool:
    """True when the demo database holds data made by the current generator and definition."""
    if db.is_empty(engine):
        return False
    with engine.connect() as conn:
        return db.get_setting(conn, "scenario_fingerprint") == scenarios.fingerprint(scenario)


RUN_VERSIONS = "_data_versions_this_run"


def new_run() -> None:
    """Forget the data versions read in the last run: the frame calls this first on every run, so a run
    reads each database's version once, not once per cached loader (25 round trips on a warm Overview,
    which on a busy PostgreSQL server were a fifth to a half of the run). A load or recalculation
    reruns the page, so the next run sees its new version."""
    st.session_state[RUN_VERSIONS] = {}


def data_version(engine: Engine) -> str:
    """The database's data version, read once per run (see :func:`new_run`)."""
    seen = st.session_state.get(RUN_VERSIONS)
    if seen is None:
        return db.data_version(engine)
    key = str(engine.url)
    if key not in seen:
        seen[key] = db.data_version(engine)
    return seen[key]


@st.cache_data(**CACHE)
def _cached_call(_engine: Engine, url: str, version: str, _fn, fn_name: str, args: tuple, kwargs: tuple):
    # One snapshot per loader: its queries never straddle an import that commits meanwhile.
    with db.snapshot(_engine) as conn:
        return _fn(conn, *args, **dict(kwargs))


def query(engine: Engine, fn, *args, **kwargs):
    """``fn(conn, *args, **kwargs)`` for a core function, cached by database, data version, function and
    arguments (keyword arguments by name, whatever order they are given in).

    The cache is bounded (entries and age) and an import bumps the data version, so a page never shows
    numbers from before a load.
    """
    name = f"{fn.__module__}.{fn.__qualname__}"
    named = tuple(sorted(kwargs.items()))
    return _cached_call(engine, str(engine.url), data_version(engine), fn, name, args, named)


@st.cache_resource(**CACHE)
def _shared_call(_engine: Engine, url: str, version: str, _fn, fn_name: str, args: tuple, kwargs: tuple):
    with db.snapshot(_engine) as conn:
        return _fn(conn, *args, **dict(kwargs))


def shared_query(engine: Engine, fn, *args, **kwargs):
    """:func:`query` for a large result the page only reads: the cached object itself is returned,
    not a copy. A copy is made by unpickling the cached bytes on every run (the Portfolio's 3.9 MB of
    frames at scale 50 took 0.15 to 0.45 s of each menu move), so the caller must never change what it
    is given; pandas' copy-on-write keeps filtered and sorted frames from writing through."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    named = tuple(sorted(kwargs.items()))
    return _shared_call(engine, str(engine.url), data_version(engine), fn, name, args, named)


def setting(engine: Engine, key: str) -> str | None:
    return query(engine, db.get_setting, key)


def default_as_of(engine: Engine) -> dt.date:
    return query(engine, measures.default_as_of)
