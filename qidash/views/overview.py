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


@dataclass(frozen=True)
class OverviewData:
    now: dict
    year_ago: dict
    split: dict[str, int]
    reach: pd.DataFrame  # day, cumulative, patients_cumulative
    coverage_by_locality: pd.DataFrame
    sectors: dict[str, dict]  # sector -> report for that sector within the scope
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
    now = measures.report(conn, scope, as_of)
    year_ago = measures.report(conn, scope, as_of - dt.timedelta(days=365))
    coverage = pd.DataFrame(measures.org_counts_by(conn, scope, as_of, "locality"))
    sectors = {}
    for sector in SIDE_BY_SIDE:
        if scope.sector and scope.sector != sector:
            continue
        sectors[sector] = measures.report(conn, scope.with_(sector=sector), as_of)
    improving = measures.improving_by_priority(conn, scope, as_of)
    by_priority = pd.DataFrame(
        [
            {"priority": code, "projects": n, "improving": improving.get(code, 0)}
            for code, n in now["projects_by_priority"].items()
        ]
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
