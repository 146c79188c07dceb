"""The Overview page's data: headline measures now and a year earlier, reach over time, coverage by
locality, NHS and independent settings side by side, projects improving by priority."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection

from qidash import measures
from qidash.scope import Scope

SIDE_BY_SIDE = ("nhs", "independent")


# What the page shows of each report: the tiles now and their change over a year, and the side-by-side
# table and chart per sector. Only these are computed (see measures.report's ``keys``).
NOW_KEYS = (
    "people_trained", "orgs_in_scope", "orgs_trained", "coverage_pct", "reach_vs_target", "projects_active",
    "projects_completed", "projects_by_priority", "projects_progress_ge_4", "projects_stale",
)
YEAR_AGO_KEYS = ("people_trained", "orgs_trained", "projects_active")
SECTOR_KEYS = (
    *measures.ORG_COUNT_KEYS,
    "coverage_pct",
    "people_trained",
    "trained_per_10_beds",
    "trained_per_100_staff",
    "projects_active",
)


@dataclass(frozen=True)
class OverviewData:
    now: dict  # measures.report: NOW_KEYS, projects_improving and projects_started (any status)
    year_ago: dict  # measures.report: YEAR_AGO_KEYS and projects_improving
    split: dict[str, int]
    reach: pd.DataFrame  # day, cumulative, patients_cumulative
    coverage_by_locality: pd.DataFrame
    sectors: dict[str, dict]  # sector -> measures.report (SECTOR_KEYS) for that sector within the scope
    by_priority: pd.DataFrame  # priority, projects, improving


def reach_over_time(conn: Connection, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """Cumulative people trained (and patients) by day, up to ``as_of``."""
    rows = measures.first_trained_by_day(conn, scope, as_of)
    frame = pd.DataFrame(rows, columns=["day", "new", "new_patients"])
    frame["cumulative"] = frame["new"].cumsum()
    frame["patients_cumulative"] = frame["new_patients"].cumsum()
    return frame


def overview_data(conn: Connection, scope: Scope, as_of: dt.date) -> OverviewData:
    """Everything the Overview page draws, for one scope and date."""
    year_ago_day = measures.year_before(as_of)
    improving = measures.improving_project_ids(conn, scope, as_of)  # the tile and the priority chart
    now = {**measures.report(conn, scope, as_of, NOW_KEYS), "projects_improving": len(improving)}
    now["projects_started"] = sum(now["projects_by_priority"].values())  # what "improving" is out of
    year_ago = {
        **measures.report(conn, scope, year_ago_day, YEAR_AGO_KEYS),
        "projects_improving": len(measures.improving_project_ids(conn, scope, year_ago_day)),
    }
    coverage = pd.DataFrame(measures.org_counts_by(conn, scope, as_of, "locality"))
    sectors = {}
    for sector in SIDE_BY_SIDE:
        if scope.sector and scope.sector != sector:
            continue
        sectors[sector] = measures.report(conn, scope.with_(sector=sector), as_of, SECTOR_KEYS)
    by_code = measures.improving_by_priority(conn, scope, as_of, improving)
    by_priority = pd.DataFrame(
        [
            {"priority": code, "projects": n, "improving": by_code.get(code, 0)}
            for code, n in now["projects_by_priority"].items()
        ],
        columns=["priority", "projects", "improving"],  # the columns even with no priority (a new database)
    )
    return OverviewData(
        now=now,
        year_ago=year_ago,
        split=measures.people_trained_split(conn, scope, as_of),
        reach=reach_over_time(conn, scope, as_of),
        coverage_by_locality=coverage,
        sectors=sectors,
        by_priority=by_priority,
    )


# The coverage chart draws at most this many areas: a bar each, 38 pixels high, so a national system's
# 200 localities would make a chart 7,600 pixels tall for the browser to draw on every view.
MAX_AREAS = 15


def lowest_coverage(coverage: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The ``limit`` areas with the lowest coverage (those with no organisation to cover first): where a
    chart of many areas should look first. The numbers behind the chart keep every area."""
    if len(coverage) <= limit:
        return coverage
    return coverage.sort_values("coverage_pct", na_position="first", kind="stable").head(limit)
