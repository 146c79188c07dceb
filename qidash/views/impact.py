"""What the pages and slides show of the cumulative impact (docs/impact.md): the same report
(:func:`qidash.impact.impact_report`) in the shapes the Overview, Portfolio, Project page and Showcase
draw, so they show the same numbers as the ``impact`` command."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from qidash import impact
from qidash.impact import Estimate, ImpactReport, Total

HEADLINE_TOTALS = 3  # the largest like-for-like totals the Overview and the slide show


@dataclass(frozen=True)
class Line:
    """One total as shown: its words ("about 310 falls avoided (250 to 370) since 2023 across 6
    projects"), and the numbers behind them (None when suppressed in public mode)."""

    unit: str
    direction: str
    words: str
    value: float | None
    low: float | None
    high: float | None
    projects: int


def lines(totals, public: bool = False, threshold: int | None = None,
          limit: int | None = HEADLINE_TOTALS) -> tuple[Line, ...]:
    """The largest totals (``limit`` of them; None: all) as shown; public mode hides small ones' numbers."""
    out = []
    for t in list(totals)[:limit] if limit else totals:
        hidden = public and threshold and impact.suppressed_value(t.value, threshold)
        out.append(Line(
            t.unit, t.direction, impact.total_words(t, public, threshold),
            None if hidden else impact.rounded(t.value), None if hidden else impact.rounded(t.low),
            None if hidden else impact.rounded(t.high), t.projects,
        ))
    return tuple(out)


def not_estimated_note(report: ImpactReport) -> str:
    """How many measures are estimated (and how many of those are shifts, never added up) and how many
    are not, in one sentence."""
    if not report.estimates:
        return ""
    done = [e for e in report.estimates if e.estimated]
    left = [e for e in report.estimates if not e.estimated]
    shifts = sum(1 for e in done if not e.counted)
    parts = [f"{len(done)} measure{'s' if len(done) != 1 else ''} estimated"
             + (f" ({shifts} a shift in measurement data, shown per measure and never added up)" if shifts
                else "")]
    if left:
        parts.append(f"{len(left)} not estimated (no sustained improvement yet, no direction or no data)")
    few = sum(1 for e in left if e.reason.startswith("only "))
    if few:
        parts[-1] += f", {few} of them improved but with fewer than {impact.MIN_BASELINE} baseline points"
    return "; ".join(parts) + "."


def headline(conn, scope, as_of: dt.date) -> tuple[tuple[Line, ...], str]:
    """What the Overview shows of the impact report: its largest totals (:func:`lines`) and
    :func:`not_estimated_note`. Kept apart so the page's cache holds these few lines, not every
    measure's estimate (1.8 MB to copy out of the cache on each view at scale 50)."""
    report = impact.impact_report(conn, scope, as_of)
    return lines(report.totals), not_estimated_note(report)


def estimate_words(e: Estimate) -> str:
    """One measure's estimate in words: "48 (26 to 70) falls avoided" or "2.4 days lower (2.0 to 2.9)"."""
    if not e.estimated:
        return f"not estimated: {e.reason}"
    if e.counted:
        counted = e.chart in ("c", "u")
        return f"{impact.range_words(e.value, e.low, e.high)} {impact.phrase(e.unit, e.direction, counted)}"
    return f"centre line {impact.shift_words(e)}"


def project_rows(report: ImpactReport, priorities: dict[str, str]) -> pd.DataFrame:
    """One row per measure improved since its baseline (estimated, or with too short a baseline), by
    project: Project, Measure, Impact (in words, or why not estimated), Since, Priority, Title."""
    rows = [
        {
            "Project": e.project_code,
            "Title": e.project_title,
            "Priority": priorities.get(e.priority, e.priority),
            "Measure": e.measure_name,
            "Impact": estimate_words(e),
            "Since": e.since,
        }
        for e in report.estimates
        if e.estimated or (e.reason or "").startswith("only ")
    ]
    return pd.DataFrame(rows, columns=["Project", "Measure", "Impact", "Since", "Priority", "Title"])


def priority_rows(report: ImpactReport, priorities: dict[str, str]) -> pd.DataFrame:
    """One row per priority and like-for-like total: Priority, Impact (in words)."""
    rows = [
        {"Priority": priorities.get(code, code), "Impact": impact.total_words(t)}
        for code, totals in report.by_priority.items()
        for t in totals
    ]
    return pd.DataFrame(rows, columns=["Priority", "Impact"])


def unit_label(t: Total) -> str:
    """A total's unit as a chart's choice: "falls avoided", "more residents with …"."""
    return impact.phrase(t.unit, t.direction, t.avoided)


def cumulative_frame(report: ImpactReport, t: Total) -> pd.DataFrame:
    """The running total of one like-for-like total by month: period, cumulative."""
    points = impact.cumulative(report.estimates, t.unit, t.direction)
    return pd.DataFrame(points, columns=["period", "cumulative"])


def since_year(totals) -> dt.date | None:
    return min((t.since for t in totals), default=None)


def measure_impact(measure: dict) -> tuple[dict | None, str | None]:
    """For a measure as the Project page has it (``result`` cut at the date, ``chart``, ``name``,
    ``unit``): the shading for :func:`qidash.spc_charts.spc_chart` (None without an estimate) and the
    estimate in words (None when the measure has not improved since its baseline; the reason when it
    has but cannot be estimated, e.g. too short a baseline)."""
    result = measure["result"]
    found = impact.benefit(result)
    if isinstance(found, str):
        improved = (
            bool(result and result.get("y"))
            and impact.good_sign(result.get("improvement_direction")) != 0
            and impact.spc.improvement(result)["improved_since_baseline"]
        )
        return None, (f"Improved since baseline, but not estimated: {found}." if improved else None)
    e = Estimate(
        project_id=0, project_code="", project_title="", priority="", measure_code=measure["code"],
        measure_name=measure["name"], chart=measure["chart"],
        unit=impact.counted_unit(measure["chart"], measure["name"], measure["unit"]),
        direction=result.get("improvement_direction") or "increase", since=None, value=found.value,
        low=found.low, high=found.high, reason=None,
    )
    words = estimate_words(e)
    short = (f"≈ {words}" if e.counted else words[:1].upper() + words[1:])
    shading = {"start": found.start, "baseline": found.baseline, "later": found.later, "words": short}
    periods = result.get("periods") or []
    day = measure.get("baseline_changed_on") or (
        dt.date.fromisoformat(periods[found.start]) if periods else None
    )
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    since = f" since {day:%-d %b %Y}" if day else ""
    return (
        shading,
        f"Impact so far: {words}{since}, against the baseline (range: the baseline's uncertainty).",
    )
