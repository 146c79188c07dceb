"""The Portfolio page's data: projects by priority and latest progress score, the Making Data Count
icon of every measure, and the stored chart results behind a page of small multiples.

Everything is read from tables: project facts from :func:`qidash.measures.portfolio_projects`, the
analysis of each measure from ``measure_analysis`` (computed when the data was loaded). Only a measure
with observations after the as-of date is analysed again, on its data up to that date, exactly as
:func:`qidash.measures.improving_project_ids` does, so the page agrees with the Overview's counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from qidash import analysis, catalog, db, icons, measures, spc, spc_charts
from qidash import models as m
from qidash.analysis import REANALYSIS_COLUMNS, reanalysed
from qidash.palette import label
from qidash.scope import Scope

STATUSES = ("active", "completed", "stopped", "ended")
SHOW = {
    "all": "All measures",
    "improving": "Improving",
    "concern": "Concern",
    "stale": "Stale projects",
}
# The page's tables list this many rows at a time, a selectbox choosing which: at national scale the icon
# grid has thousands of measures, two images each, and sent whole it is over a megabyte on every view.
ROWS_PER_PAGE = 100
# Order of the small multiples: what to celebrate first, then what needs attention.
CHART_RANK = ("improvement_icon", "improving", "concern", "other_signal", "common_cause", "not_assessed")


@dataclass(frozen=True)
class PortfolioData:
    projects: pd.DataFrame  # PROJECT_COLUMNS (measures.portfolio_projects) + improving, measures_improving
    measures: pd.DataFrame  # one row per measure with an analysis by as_of; see measure_rows()
    priorities: dict[str, str]  # code -> name, every priority


def chart_rank(variation_icon: str | None, improving: bool, concern: bool, signal: bool) -> int:
    """Where a measure sits in the small multiples (:data:`CHART_RANK`, lower first)."""
    if variation_icon and variation_icon.startswith("improvement"):
        return 0
    if improving:
        return 1
    if concern:
        return 2
    if signal:
        return 3
    return 4 if variation_icon else 5


MEASURE_COLUMNS = [
    "measure_id",
    "project_id",
    "project",
    "code",
    "name",
    "kind",
    "chart",
    "unit",
    "improvement",
    "target",
    "last_period",
    "n_points",
    "ruleset",
    "signal",
    "improving",
    "improved_since_baseline",
    "improving_reason",
    "concern",
    "variation_icon",
    "assurance_icon",
    "reanalysed",
    "rank",
]
PROJECT_COLUMNS = [
    "id",
    "code",
    "title",
    "priority",
    "status",
    "pcn",
    "pcn_name",
    "lead_organisation",
    "start_date",
    "end_date",
    "latest_score",
    "scored_on",
    "stale",
    "measures",
]


def measure_rows(conn: Connection, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """One row per measure of the projects started by ``as_of`` in scope that has data by then.

    Columns: measure_id, project_id, project, code, name, kind, chart, unit, improvement, target,
    last_period, n_points, improving, concern, signal, variation_icon, assurance_icon (derived for
    every rule set, see :func:`qidash.spc.chart_variation_icon`), improved_since_baseline and
    improving_reason (which meaning of improving applies, in words: :func:`qidash.analysis.improving_words`),
    reanalysed (True when the stored analysis ran past ``as_of``) and rank (:func:`chart_rank`). The
    results themselves are not kept.
    """
    # The stored chart icons stand for the stored results, which are not read (30 MB at scale 50).
    # Read into columns, not one dict per measure: at scale 50 the dicts cost more than the query.
    result = conn.execute(measures.measure_analyses_query(scope, as_of, with_result=False))
    names = list(result.keys())
    rows = result.all()
    if not rows:
        return pd.DataFrame(columns=MEASURE_COLUMNS)
    col = {name: list(values) for name, values in zip(names, zip(*rows, strict=True), strict=True)}
    # The chart's icons (every rule set) stand in for the latest phase's summary icons.
    col["variation_icon"] = col.pop("chart_variation_icon")
    col["assurance_icon"] = col.pop("chart_assurance_icon")
    for key in ("signal", "improving", "concern", "improved_since_baseline"):
        col[key] = [bool(v) for v in col[key]]
    past = [i for i, day in enumerate(col["last_period"]) if day and db.as_date(day) > as_of]
    later = reanalysed(conn, [dict(zip(names, rows[i], strict=True)) for i in past], as_of)
    gone = set()
    for i in past:
        again = later[col["measure_id"][i]]
        if again is None:
            gone.add(i)  # no observation by the date: nothing to show yet
            continue
        result_, summary = again
        col["last_period"][i] = dt.date.fromisoformat(result_["periods"][-1])
        col["n_points"][i] = len(result_["periods"])
        for key in ("signal", "improving", "concern", "improved_since_baseline", "baseline_change",
                    "baseline_changed_on"):
            col[key][i] = summary[key]
        col["variation_icon"][i] = spc.chart_variation_icon(result_)
        col["assurance_icon"][i] = spc.chart_assurance_icon(result_, col["target"][i])
    col["improving_reason"] = [
        analysis.improving_words(
            (icon or "").startswith("improvement"), since, change, db.as_date(day) if day else None
        )
        for icon, since, change, day in zip(
            col["variation_icon"], col["improved_since_baseline"], col["baseline_change"],
            col["baseline_changed_on"], strict=True,
        )
    ]
    col["reanalysed"] = [False] * len(rows)
    for i in past:
        col["reanalysed"][i] = True
    col["rank"] = [
        chart_rank(*flags)
        for flags in zip(col["variation_icon"], col["improving"], col["concern"], col["signal"], strict=True)
    ]
    frame = pd.DataFrame({name: col[name] for name in MEASURE_COLUMNS})
    if gone:
        frame = frame.drop(index=sorted(gone)).reset_index(drop=True)
    return frame


def portfolio_data(conn: Connection, scope: Scope, as_of: dt.date) -> PortfolioData:
    """Everything the Portfolio page draws, for one scope and date (before the page's own filters)."""
    # One row per project, read in bulk (see measures.portfolio_projects for the columns); the last
    # observation's day is not shown, so its grouping of every observation is not asked for.
    query = measures.portfolio_projects_query(scope, as_of, with_last_observation=False)
    # Into columns: given Rows, pandas probes each one for namedtuple fields (a failed lookup per row).
    found = conn.execute(query).all()
    projects = pd.DataFrame(
        dict(zip(PROJECT_COLUMNS, zip(*found, strict=True), strict=True)) if found else {},
        columns=PROJECT_COLUMNS,
    )
    projects["stale"] = projects["stale"].astype(bool)
    rows = measure_rows(conn, scope, as_of)
    # As booleans: with no measure the column is empty and of object type, which pandas would read
    # as a list of column names to select.
    improving = rows[rows["improving"].astype(bool)].groupby("project_id").size()
    projects["measures_improving"] = projects["id"].map(improving).fillna(0).astype(int)
    projects["improving"] = projects["measures_improving"] > 0
    lookup = projects.set_index("id")
    rows["title"] = rows["project_id"].map(lookup["title"])
    rows["priority"] = rows["project_id"].map(lookup["priority"])
    rows["status"] = rows["project_id"].map(lookup["status"])
    rows["stale"] = rows["project_id"].map(lookup["stale"]).fillna(False).astype(bool)
    return PortfolioData(projects=projects, measures=rows, priorities=catalog.priorities(conn))


def filtered(
    view: PortfolioData, priority: str | None, status: str | None, show: str = "all"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(projects, measures) after the page's own filters: a priority code, a status on the date, and
    ``show`` (:data:`SHOW`: improving / concern measures, or those of stale projects)."""
    # New frames, never the view's own: the view may be shared by every session (data.shared_query),
    # and with copy-on-write a change to these cannot write through to it.
    projects, rows = view.projects.copy(deep=False), view.measures
    if priority:
        projects = projects[projects["priority"] == priority]
    if status:
        projects = projects[projects["status"] == status]
    if show == "stale":
        projects = projects[projects["stale"]]
    rows = rows[rows["project_id"].isin(projects["id"])]
    if show == "improving":
        rows = rows[rows["improving"]]
        projects = projects[projects["id"].isin(rows["project_id"])]
    elif show == "concern":
        rows = rows[rows["concern"]]
        projects = projects[projects["id"].isin(rows["project_id"])]
    return projects, rows.sort_values(["rank", "project", "code"], kind="stable")


def headline(projects: pd.DataFrame, rows: pd.DataFrame) -> dict[str, int]:
    """The page's tiles over the filtered projects: projects, active, completed, improving, stale,
    scored >= 3.0 and >= 4.0 (latest score), measures with an improvement / concern icon, and measures
    improved since their baseline."""
    scores = projects["latest_score"]
    icons = rows["variation_icon"].fillna("")
    return {
        "projects": len(projects),
        "active": int((projects["status"] == "active").sum()),
        "completed": int((projects["status"] == "completed").sum()),
        "improving": int(projects["improving"].sum()),
        "stale": int(projects["stale"].sum()),
        "progress_ge_3": int((scores >= 3.0).sum()),
        "progress_ge_4": int((scores >= 4.0).sum()),
        "measures": len(rows),
        "improvement_icons": int(icons.str.startswith("improvement").sum()),
        "improved_since_baseline": int(rows["improved_since_baseline"].astype(bool).sum()),
        "concern_icons": int(icons.str.startswith("concern").sum()),
    }


def chart_results(conn: Connection, measure_ids: tuple[int, ...], as_of: dt.date) -> dict[int, dict]:
    """Measure id -> the stored result (with ``periods``) for a page of small multiples, cut at
    ``as_of`` (re-analysed when the stored analysis runs past it; left out when no data by then)."""
    if not measure_ids:
        return {}
    rows = (
        conn.execute(
            select(*REANALYSIS_COLUMNS, m.MeasureAnalysis.last_period, m.MeasureAnalysis.result)
            .join(m.MeasureAnalysis, m.MeasureAnalysis.measure_id == m.Measure.id)
            .where(m.Measure.id.in_(list(measure_ids)))
        )
        .mappings()
        .all()
    )
    out = {r["measure_id"]: r["result"] for r in rows if db.as_date(r["last_period"]) <= as_of}
    later = reanalysed(conn, [dict(r) for r in rows if db.as_date(r["last_period"]) > as_of], as_of)
    out.update({mid: again[0] for mid, again in later.items() if again is not None})
    return {mid: out[mid] for mid in measure_ids if mid in out}


def _images(uris: list[str]) -> pd.Categorical:
    """A column of a handful of images over thousands of rows, as categories: each image is held (and
    sent to the browser) once, where plain strings would copy kilobytes of SVG per row."""
    index: dict[str, int] = {}
    codes = [index.setdefault(uri, len(index)) for uri in uris]
    return pd.Categorical.from_codes(codes, categories=list(index))


def icon_grid(rows: pd.DataFrame) -> pd.DataFrame:
    """The Making Data Count grid, one row per measure in the order given: Project, Measure, the
    variation and assurance icons as image data URIs, and their meanings in words (for sorting,
    searching and screen readers), which meaning of improving applies (blank when not improving),
    plus the project code for drill-down."""
    variation = [v if isinstance(v, str) else None for v in rows["variation_icon"].tolist()]
    assurance = [a if isinstance(a, str) else None for a in rows["assurance_icon"].tolist()]
    return pd.DataFrame(
        {
            "Project": rows["project"].to_numpy(),
            "Measure": rows["name"].to_numpy(),
            "Variation": _images([icons.variation_uri(v) for v in variation]),
            "Assurance": _images([icons.assurance_uri(a) for a in assurance]),
            "Variation in words": [icons.variation_label(v) for v in variation],
            "Assurance in words": [icons.assurance_label(a) for a in assurance],
            # Which meaning of "improving" applies (DESIGN.md section 4), so a grey icon beside an
            # improvement since baseline is explained, never a contradiction.
            "Improving": [r if isinstance(r, str) else "" for r in rows["improving_reason"].tolist()],
            "Title": rows["title"].to_numpy(),
            "Stale": ["stale" if s else "" for s in rows["stale"].tolist()],
        }
    )


def project_table(projects: pd.DataFrame, priorities: dict[str, str]) -> pd.DataFrame:
    """The project list: code, title, priority, status on the date, latest progress score in the
    IHI's words and its date, measures improving, and the stale flag; stale projects first."""
    ordered = projects.sort_values(
        ["stale", "improving", "code"], ascending=[False, False, True], kind="stable"
    )
    return pd.DataFrame(
        {
            "Project": ordered["code"].to_numpy(),
            "Title": ordered["title"].to_numpy(),
            "Priority": [priorities.get(p, p) for p in ordered["priority"]],
            "Status": [label(s) for s in ordered["status"]],
            "Latest score": [
                None if pd.isna(s) else f"{s:.1f} {spc_charts.IHI_SCORES.get(round(s * 2) / 2, '')}"
                for s in ordered["latest_score"]
            ],
            "Scored on": ordered["scored_on"].to_numpy(),
            "Measures improving": [
                f"{i} of {n}" if n else "no measures"
                for i, n in zip(ordered["measures_improving"], ordered["measures"], strict=True)
            ],
            "Stale": ["No data or score for 90 days" if s else "" for s in ordered["stale"]],
            "Lead organisation": ordered["lead_organisation"].to_numpy(),
        }
    )


def portfolio_report(conn: Connection, scope: Scope, as_of: dt.date) -> dict:
    """The ``portfolio`` command's JSON (DESIGN.md section 7): every project started by ``as_of`` in
    scope, by code, with its status on the date, whether it is improving (a measure improving, DESIGN.md
    section 4) and every measure: ``code``, ``chart``, ``variation`` (improvement, concern,
    common_cause, neither, or None without data by the date), ``assurance`` (pass, fail, hit_or_miss or
    None) and ``improved_since_baseline``. Read from what the Portfolio page shows, so they agree."""
    view = portfolio_data(conn, scope, as_of)
    charted = {
        (r.project_id, r.code): r for r in view.measures.itertuples(index=False)
    }
    ids = [int(i) for i in view.projects["id"]]
    every: dict[int, list[tuple[str, str]]] = {pid: [] for pid in ids}
    for i in range(0, len(ids), 500):
        for pid, code, chart in conn.execute(
            select(m.Measure.project_id, m.Measure.code, m.Measure.chart)
            .where(m.Measure.project_id.in_(ids[i : i + 500]))
            .order_by(m.Measure.project_id, m.Measure.code)
        ):
            every[pid].append((code, chart))
    projects = []
    for p in view.projects.sort_values("code").itertuples(index=False):
        listed = []
        for code, chart in every[int(p.id)]:
            row = charted.get((p.id, code))
            icon = row.variation_icon if row is not None and isinstance(row.variation_icon, str) else None
            sure = row.assurance_icon if row is not None and isinstance(row.assurance_icon, str) else None
            listed.append({
                "code": code,
                "chart": chart,
                "variation": spc.VARIATION_CLASS.get(icon),
                "assurance": spc.ASSURANCE_CLASS.get(sure),
                "improved_since_baseline": bool(row is not None and row.improved_since_baseline),
            })
        projects.append({
            "code": p.code,
            "title": p.title,
            "status": p.status,
            "improving": bool(p.improving),
            "measures": listed,
        })
    return {"projects": projects}
