"""Rules shared by the derived tables, the chart analysis and the measures, kept below all three so
none of them imports another to reach them: who counts as a project's team, and which dates a page
reads the data on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from qidash.db import get_setting

# The project roles that make someone part of a project's team (tier attainment, the measures).
TEAM_ROLES = ("lead", "member")


def year_before(as_of: dt.date) -> dt.date:
    """The date a page compares ``as_of`` with ("a year ago")."""
    return as_of - dt.timedelta(days=365)


def default_as_of(conn: Connection) -> dt.date:
    """The date the data describes: the demo's snapshot date, else today."""
    value = get_setting(conn, "data_as_of")
    return dt.date.fromisoformat(value) if value else dt.date.today()
