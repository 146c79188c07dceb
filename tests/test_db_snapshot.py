"""db.snapshot: what the app's cached loaders read through (qidash/ui/data.py), on both databases."""

import contextlib

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import DBAPIError

from qidash import db
from qidash import models as m


def set_version(engine, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(m.Setting).where(m.Setting.key == "data_version").values(value=value))


@pytest.fixture
def versioned(any_engine):
    with any_engine.begin() as conn:
        conn.execute(insert(m.Setting), [{"key": "data_version", "value": "v1"}])
    return any_engine


def test_a_snapshot_does_not_see_a_commit_made_while_it_reads(versioned):
    with db.snapshot(versioned) as conn:
        assert db.get_setting(conn, "data_version") == "v1"
        set_version(versioned, "v2")  # an import commits meanwhile
        assert db.get_setting(conn, "data_version") == "v1"
    with db.snapshot(versioned) as conn:
        assert db.get_setting(conn, "data_version") == "v2"


def test_a_snapshot_keeps_nothing_written_through_it(versioned):
    # PostgreSQL refuses the write (read only, below); SQLite rolls it back at the end.
    with contextlib.suppress(DBAPIError), db.snapshot(versioned) as conn:
        conn.execute(update(m.Setting).where(m.Setting.key == "data_version").values(value="changed"))
    with versioned.connect() as conn:
        assert db.get_setting(conn, "data_version") == "v1"


@pytest.mark.pg
def test_a_snapshot_on_postgresql_is_read_only(pg_engine):
    with pytest.raises(DBAPIError, match="read-only"), db.snapshot(pg_engine) as conn:
        conn.execute(insert(m.Setting).values(key="k", value="v"))
