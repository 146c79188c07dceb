"""Text alternatives for charts: a one-line summary in plain words of what a chart shows, and the numbers
behind it as a table (WCAG 1.1.1). Pure functions of the same frames the chart builders draw; names in the
summaries are imported text, shown by the page through ``markdown_literal``."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from qidash.palette import fmt_int, fmt_pct


def _day(day) -> str:
    return f"{pd.Timestamp(day):%d %B %Y}".lstrip("0")


def reach(frame: pd.DataFrame, target: dict | None, as_of: dt.date) -> tuple[str, pd.DataFrame]:
    """People trained over time: the first and latest totals, and the target when there is one. ``frame``
    has ``day``, ``cumulative`` and ``patients_cumulative`` (one row per day someone was first trained)."""
    table = pd.DataFrame(
        {
            "Date": [_day(d) for d in frame["day"]],
            "People trained (total)": frame["cumulative"].astype(int).tolist(),
            "Of whom patients": frame["patients_cumulative"].astype(int).tolist(),
        }
    )
    if frame.empty:
        return f"Nobody in this scope had been trained by {_day(as_of)}.", table
    first, last = frame.iloc[0], frame.iloc[-1]
    text = (
        f"People trained rose from {fmt_int(first['cumulative'])} on {_day(first['day'])} "
        f"to {fmt_int(last['cumulative'])} by {_day(as_of)}"
    )
    if target and target.get("target_value") is not None:
        text += f", against a target of {fmt_int(target['target_value'])} by {_day(target['due_on'])}"
    return text + ".", table


def coverage(rows: pd.DataFrame, label_col: str = "name") -> tuple[str, pd.DataFrame]:
    """Coverage per area: the highest and the lowest. ``rows`` has the area's name, ``coverage_pct``,
    ``orgs_trained`` and ``orgs_in_scope``."""
    table = pd.DataFrame(
        {
            "Area": rows[label_col].tolist(),
            "Coverage": [fmt_pct(None if pd.isna(v) else v) for v in rows["coverage_pct"]],
            "Organisations trained": rows["orgs_trained"].astype(int).tolist(),
            "Organisations": rows["orgs_in_scope"].astype(int).tolist(),
        }
    )
    known = rows.dropna(subset=["coverage_pct"]).sort_values("coverage_pct", kind="stable")
    if known.empty:
        return "No area has organisations to cover.", table
    hi, lo = known.iloc[-1], known.iloc[0]
    if len(known) == 1:
        return f"Coverage in {hi[label_col]} is {fmt_pct(hi['coverage_pct'])}.", table
    return (
        (
            f"Coverage ranges from {fmt_pct(lo['coverage_pct'])} in {lo[label_col]} "
            f"to {fmt_pct(hi['coverage_pct'])} in {hi[label_col]}, across {len(known)} areas."
        ),
        table,
    )


def improving_by_priority(by_priority: pd.DataFrame, names: dict[str, str]) -> tuple[str, pd.DataFrame]:
    """Projects improving per priority: how many of how many in all, and the priority with the most.
    ``by_priority`` has ``priority`` (a code), ``projects`` and ``improving``."""
    shown = by_priority[by_priority["projects"] > 0]
    table = pd.DataFrame(
        {
            "Priority": [names.get(c, c) for c in shown["priority"]],
            "Projects": shown["projects"].astype(int).tolist(),
            "Showing improvement": shown["improving"].astype(int).tolist(),
        }
    )
    improving, projects = int(shown["improving"].sum()), int(shown["projects"].sum())
    text = f"{fmt_int(improving)} of {fmt_int(projects)} projects are showing improvement"
    if improving:
        top = shown.sort_values("improving", ascending=False, kind="stable").iloc[0]
        leader = names.get(top["priority"], top["priority"])
        text += f"; the most under {leader} ({fmt_int(top['improving'])})"
    return text + ".", table
