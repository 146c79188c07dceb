"""Chart analysis of project measures, computed when observations are loaded (not on page view).

Each measure's chart type picks its rule set (DESIGN.md section 4, ``reference/spc-rules.md``): run
charts use the Anhøj rules, XmR charts the NHS Making Data Count rules, p/u/c charts qicharts2's. A
``rebase`` change (for the measure, or for the whole project when it names no measure) starts a new
phase from the first period on or after its date.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from qidash import models as m
from qidash import spc
from qidash.rules import default_as_of, year_before

RULESET_FOR_CHART = {"run": "anhoej", "xmr": "nhs", "p": "anhoej", "u": "anhoej", "c": "anhoej"}
CHUNK = 500


def phase_labels(periods: list[dt.date], rebase_dates: Iterable[dt.date]) -> list[int] | None:
    """One phase number per period: a new phase starts at the first period on/after each rebase date."""
    starts = sorted(set(rebase_dates))
    if not starts or not periods:
        return None
    labels = [sum(1 for s in starts if s <= p) for p in periods]
    return labels if len(set(labels)) > 1 else None


def analyse_series(
    chart: str,
    periods: list[dt.date],
    values: list[float | None],
    denominators: list[float | None] | None,
    improvement: str,
    target: float | None,
    rebase_dates: Iterable[dt.date] = (),
):
    """Run the engine on one measure's series."""
    if not periods:
        return None
    kwargs = dict(
        kind=chart,
        ruleset=RULESET_FOR_CHART[chart],
        phases=phase_labels(periods, rebase_dates),
        improvement_direction=improvement or "increase",
    )
    if chart in ("p", "u"):
        kwargs["denominators"] = denominators
    if chart == "xmr" and target is not None:
        kwargs["target"] = target
    return spc.analyse(values, **kwargs)


def analyse_points(chart: str, improvement: str, target: float | None, points: list, rebase_dates=()):
    """:func:`analyse_series` on one measure's ``(period, value, denominator)`` points, as
    :func:`series_by_measure` gives them."""
    return analyse_series(
        chart, [p for p, _, _ in points], [v for _, v, _ in points], [d for _, _, d in points],
        improvement, target, rebase_dates,
    )


def series_by_measure(session: Session, measure_ids: list[int], until: dt.date | None = None):
    """Measure id -> [(period, value, denominator)] by period (only periods up to ``until`` if given)."""
    q = (
        select(m.Observation.measure_id, m.Observation.period, m.Observation.value, m.Observation.denominator)
        .where(m.Observation.measure_id.in_(measure_ids))
        .order_by(m.Observation.measure_id, m.Observation.period)
    )
    if until is not None:
        q = q.where(m.Observation.period <= until)
    rows = session.execute(q)
    series: dict[int, list] = defaultdict(list)
    for mid, period, value, den in rows:
        series[mid].append((period, value, den))
    return series


def rebase_changes(session: Session, measures: list) -> dict[int, list[tuple[dt.date, str]]]:
    """The rebase changes that apply to each measure, as (date, title) by date: its own, and its
    project's measure-less ones."""
    by_project = {mm.project_id for mm in measures}
    out: dict[int, list] = defaultdict(list)
    project_wide: dict[int, list] = defaultdict(list)
    rows = session.execute(
        select(m.Change.project_id, m.Change.measure_id, m.Change.changed_on, m.Change.title).where(
            m.Change.kind == "rebase", m.Change.project_id.in_(by_project)
        )
    )
    for project_id, measure_id, day, title in rows:
        if measure_id is None:
            project_wide[project_id].append((day, title))
        else:
            out[measure_id].append((day, title))
    return {mm.id: sorted(out[mm.id] + project_wide[mm.project_id]) for mm in measures}


def _rebase_dates(session: Session, measures: list) -> dict[int, list[dt.date]]:
    """Rebase dates that apply to each measure: its own, and its project's measure-less ones."""
    return {mid: [day for day, _ in changes] for mid, changes in rebase_changes(session, measures).items()}


def baseline_rebase(periods: list[dt.date], phase_start: int,
                    rebases: Iterable[tuple[dt.date, str]]) -> tuple[dt.date, str] | tuple[None, None]:
    """The rebase change (date, title) that began the phase starting at ``periods[phase_start]``: the
    latest one dated after the period before it and on or before that period ((None, None) for the
    first phase)."""
    if phase_start <= 0 or phase_start >= len(periods):
        return None, None
    start, before = periods[phase_start], periods[phase_start - 1]
    found = [(day, title) for day, title in rebases if before < day <= start]
    return max(found) if found else (None, None)


IMPROVING_SPECIAL_CAUSE = "special cause improvement at the latest point"
# DESIGN.md section 4's meaning, in words for a tile's help.
IMPROVING_MEANING = (
    "A measure is improving when its latest point shows special-cause improvement (the Making Data Count "
    "variation icon is improvement; on a run chart, the latest point is in a run or trend in the "
    "improvement direction), or it has improved since its baseline (its latest phase, begun at a "
    "recorded change or recalculation, has a better centre line than the first phase)."
)


def improving_words(special_cause: bool, since_baseline: bool, change: str | None = None,
                    changed_on: dt.date | None = None) -> str | None:
    """Which of the two meanings of "improving" (DESIGN.md section 4) applies, in words; None when
    neither does."""
    parts = []
    if special_cause:
        parts.append(IMPROVING_SPECIAL_CAUSE)
    if since_baseline:
        if change and changed_on:
            parts.append(
                f"improved since baseline (recalculated at \u201c{change}\u201d on {changed_on:%-d %b %Y})"
            )
        else:
            parts.append("improved since baseline (a later phase's centre line is better than the first's)")
    return "; ".join(parts) or None


def summary_row(measure_id: int, periods: list[dt.date], result, target: float | None = None,
                rebases: Iterable[tuple[dt.date, str]] = ()) -> dict:
    """The ``measure_analysis`` row for one engine result (``target``: the measure's, for the chart's
    assurance icon; ``rebases``: the (date, title) rebase changes that apply to it)."""
    full = result.to_dict()
    latest = spc.latest_phase_summary(result, full)
    full["periods"] = [p.isoformat() for p in periods]
    changed_on, change = (None, None)
    if latest["improved_since_baseline"]:
        changed_on, change = baseline_rebase(periods, latest["phase_start"], rebases)
    return {
        "measure_id": measure_id,
        "last_period": periods[-1],
        "n_points": len(periods),
        "ruleset": full.get("ruleset"),
        "centre": latest.get("centre"),
        "lcl": latest.get("lcl"),
        "ucl": latest.get("ucl"),
        "signal": bool(latest.get("signal")),
        "improving": bool(latest.get("improving")),
        "concern": bool(latest.get("concern")),
        "improved_since_baseline": bool(latest["improved_since_baseline"]),
        "baseline_change": change,
        "baseline_changed_on": changed_on,
        "variation_icon": latest.get("variation_icon"),
        "assurance_icon": latest.get("assurance_icon"),
        "chart_variation_icon": spc.chart_variation_icon(full),
        "chart_assurance_icon": spc.chart_assurance_icon(full, target),
        "result": full,
    }


def rebuild_measure_analysis(session: Session, measure_ids: list[int] | None = None) -> int:
    """Recompute and store the analysis of the given measures (every measure when None)."""
    query = select(m.Measure)
    if measure_ids is not None:
        query = query.where(m.Measure.id.in_(measure_ids))
    measures = list(session.scalars(query))
    day = past_day(session)
    done = 0
    for i in range(0, len(measures), CHUNK):
        chunk = measures[i : i + CHUNK]
        ids = [mm.id for mm in chunk]
        session.execute(delete(m.MeasureAnalysis).where(m.MeasureAnalysis.measure_id.in_(ids)))
        series = series_by_measure(session, ids)
        rebases = rebase_changes(session, chunk)
        rows = []
        for mm in chunk:
            points = series.get(mm.id)
            if not points:
                continue
            dates = [day for day, _ in rebases.get(mm.id, ())]
            result = analyse_points(mm.chart, mm.improvement, mm.target, points, dates)
            row = summary_row(mm.id, [p for p, _, _ in points], result, mm.target, rebases.get(mm.id, ()))
            rows.append(row | past_status(mm, points, dates, day, row["improving"]))
        if rows:
            session.execute(insert(m.MeasureAnalysis), rows)
        done += len(rows)
    return done


def past_day(session: Session) -> dt.date:
    """The date whose status analysis keeps besides the latest: a year before the data's date (the
    Overview's comparison)."""
    return year_before(default_as_of(session))


def past_status(mm, points: list, rebase_dates: Iterable[dt.date], day: dt.date, improving_now: bool) -> dict:
    """The ``past_*`` columns of one measure: whether it improved on its points up to ``day``, and the
    dates that answer holds for: from the last period on or before ``day`` up to the next period, since
    the answer only depends on which points are on or before the date asked about."""
    periods = [p for p, _, _ in points]
    k = bisect.bisect_right(periods, day)
    span = {"past_as_of": day, "past_from": periods[k - 1] if k else None,
            "past_until": periods[k] if k < len(periods) else None}
    if k == 0:
        return span | {"past_improving": False}
    if k == len(periods):
        return span | {"past_improving": bool(improving_now)}
    result = analyse_points(mm.chart, mm.improvement, mm.target, points[:k], rebase_dates)
    return span | {"past_improving": bool(spc.latest_phase_summary(result).get("improving"))}


def past_holds(day: dt.date):
    """SQL condition: the stored past status of a measure answers for ``day``."""
    ma = m.MeasureAnalysis
    return and_(
        ma.past_as_of.is_not(None),
        or_(ma.past_from.is_(None), ma.past_from <= day),
        or_(ma.past_until.is_(None), ma.past_until > day),
    )


def refresh_past_status(session: Session, day: dt.date | None = None) -> int:
    """Bring every stored analysis's past status to ``day`` (default :func:`past_day`): the rows whose
    span does not hold it are worked out again. Returns how many were."""
    day = day or past_day(session)
    ma = m.MeasureAnalysis
    stale = list(session.scalars(select(ma.measure_id).where(~past_holds(day)).order_by(ma.measure_id)))
    for i in range(0, len(stale), CHUNK):
        ids = stale[i : i + CHUNK]
        chunk = session.execute(
            select(m.Measure.id, m.Measure.project_id, m.Measure.chart, m.Measure.improvement,
                   m.Measure.target, ma.improving)
            .join(ma, ma.measure_id == m.Measure.id)
            .where(m.Measure.id.in_(ids))
        ).all()
        series = series_by_measure(session, ids)
        rebases = _rebase_dates(session, chunk)
        rows = [
            {
                "id": mm.id,
                **{
                    f"new_{k}": v
                    for k, v in past_status(
                        mm, series.get(mm.id, []), rebases.get(mm.id, ()), day, mm.improving
                    ).items()
                },
            }
            for mm in chunk
        ]
        table = ma.__table__
        session.execute(
            update(table)
            .where(table.c.measure_id == bindparam("id"))
            .values(
                {
                    col: bindparam(f"new_{col}")
                    for col in ("past_as_of", "past_improving", "past_from", "past_until")
                }
            ),
            rows,
        )
    return len(stale)


def improving_as_of(conn, measure_ids: list[int], as_of: dt.date) -> set[int]:
    """Project ids among ``measure_ids``' projects whose measure improves on data up to ``as_of``."""
    improving: set[int] = set()
    for i in range(0, len(measure_ids), CHUNK):
        ids = measure_ids[i : i + CHUNK]
        measures = conn.execute(
            select(
                m.Measure.id, m.Measure.project_id, m.Measure.chart, m.Measure.improvement, m.Measure.target
            ).where(m.Measure.id.in_(ids))
        ).all()
        series = series_by_measure(conn, ids, as_of)
        rebases = _rebase_dates(conn, measures)
        for mm in measures:
            if mm.project_id in improving:
                continue
            points = series.get(mm.id)  # up to as_of
            if not points:
                continue
            result = analyse_points(mm.chart, mm.improvement, mm.target, points, rebases.get(mm.id, ()))
            if spc.latest_phase_summary(result).get("improving"):
                improving.add(mm.project_id)
    return improving


def measures_touched(session: Session, project_codes: Iterable[str]) -> list[int]:
    """Ids of the measures of the given projects (what an import must re-analyse)."""
    codes = list(set(project_codes))
    if not codes:
        return []
    return list(
        session.scalars(
            select(m.Measure.id).join(m.Project, m.Project.id == m.Measure.project_id).where(
                or_(*[m.Project.code.in_(codes[i : i + 900]) for i in range(0, len(codes), 900)])
            )
        )
    )


# --- suggested recalculations (docs/spc-rules.md, "When qidash suggests a recalculation") ---------

CENTRE_NAMES = {"run": "median", "xmr": "mean"}


def recalculation_title(change: str) -> str:
    """The title of the rebase an accepted suggestion stores (the demos' teams use it too)."""
    return f"Sustained shift after '{change}'"[:300]


def suggested_recalculation(
    result: dict, changes: Iterable[dict], dismissed: Iterable[dt.date] = ()
) -> dict | None:
    """The recalculation a stored result calls for (:func:`qidash.spc.suggest_recalculation`), or None.

    ``changes`` are the measure's changes as the Project page lists them (``day`` ISO date or date,
    ``title``, ``kind``); rebases are not causes. Of the changes followed by a sustained shift, the
    earliest new phase is suggested, its cause the latest adopted change (``change``) whose shift it
    is, else the latest test of change (``pdsa``); a suggestion whose start date is in
    ``dismissed`` is not suggested again. Returns ``start`` (index), ``starts_on`` (that period's date),
    ``change``, ``changed_on``, ``run``, ``points``, ``side``, ``improvement`` and ``words``.
    """
    periods = [dt.date.fromisoformat(p) if isinstance(p, str) else p for p in result.get("periods") or []]
    if not periods:
        return None
    dismissed = set(dismissed)
    found: dict[int, tuple] = {}
    for change in changes:
        if change["kind"] == "rebase":
            continue
        day = change["day"]
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        index = bisect.bisect_left(periods, day)
        if index >= len(periods):
            continue
        shift = spc.suggest_recalculation(result, index)
        if shift is None or periods[shift["start"]] in dismissed:
            continue
        # The cause: an adopted change before a test of one (PDSA), then the latest.
        key = (change["kind"] == "change", day, change["title"])
        if shift["start"] not in found or key > found[shift["start"]][0]:
            found[shift["start"]] = (key, shift)
    if not found:
        return None
    start = min(found)
    (_, day, title), shift = found[start]
    centre = CENTRE_NAMES.get(result.get("kind"), "centre line")
    side = "above" if shift["side"] > 0 else "below"
    direction = {True: "in the improvement direction", False: "against the improvement direction",
                 None: "with no preferred direction set"}[shift["improvement"]]
    words = (
        f"{shift['run']} points {side} the {centre} since the change '{title}' on {day:%-d %b %Y}; "
        f"{shift['points']} points since ({direction}). Recalculating from {periods[start]:%b %Y} would give "
        "the new process its own centre line and limits."
    )
    return shift | {"starts_on": periods[start], "change": title, "changed_on": day, "words": words}


@dataclass(frozen=True)
class _MeasureKey:
    """What :func:`_rebase_dates` reads of a measure."""

    id: int
    project_id: int


def with_periods(result, periods: list[dt.date]) -> dict:
    """An engine result as the stored dict: ``to_dict()`` plus ISO ``periods``."""
    out = result.to_dict()
    out["periods"] = [p.isoformat() for p in periods]
    return out


# What :func:`reanalysed` needs of each measure, to select beside whatever else a caller reads.
REANALYSIS_COLUMNS = (
    m.Measure.id.label("measure_id"),
    m.Measure.project_id,
    m.Measure.chart,
    m.Measure.improvement,
    m.Measure.target,
)


def reanalysed(conn: Connection, rows: list[dict], as_of: dt.date) -> dict[int, tuple[dict, dict] | None]:
    """For measures whose stored analysis runs past ``as_of``: measure id -> (result dict with periods,
    latest-phase summary, with the ``baseline_change`` and ``baseline_changed_on`` of an improvement
    since baseline) on the observations up to ``as_of``, or None when none is that old.

    ``rows`` need the :data:`REANALYSIS_COLUMNS`: ``measure_id``, ``project_id``, ``chart``,
    ``improvement`` and ``target``.
    """
    if not rows:
        return {}
    ids = [r["measure_id"] for r in rows]
    series = series_by_measure(conn, ids, as_of)
    keys = [_MeasureKey(r["measure_id"], r["project_id"]) for r in rows]
    rebases = rebase_changes(conn, keys)
    out: dict[int, tuple[dict, dict] | None] = {}
    for r in rows:
        points = series.get(r["measure_id"])  # up to as_of
        if not points:
            out[r["measure_id"]] = None
            continue
        changes = rebases.get(r["measure_id"], ())
        result = analyse_points(
            r["chart"], r["improvement"], r["target"], points, [day for day, _ in changes]
        )
        periods = [p for p, _, _ in points]
        summary = spc.latest_phase_summary(result)
        changed_on, change = (
            baseline_rebase(periods, summary["phase_start"], changes)
            if summary["improved_since_baseline"] else (None, None)
        )
        summary |= {"baseline_change": change, "baseline_changed_on": changed_on}
        out[r["measure_id"]] = (with_periods(result, periods), summary)
    return out
