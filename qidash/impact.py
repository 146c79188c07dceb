"""Cumulative impact: what the sustained improvements added up to, with a range (docs/impact.md).

Built on DESIGN.md section 4's one meaning of "improved since baseline"
(:func:`qidash.spc.improvement`): a measure whose latest phase, begun at a recorded change or
recalculation, has a better centre line than its first (baseline) phase. For such a measure the benefit
from that change to the as-of date is estimated in the measure's own unit, against the baseline phase:

- c chart: the baseline mean minus each later period's count, summed (events avoided, or gained);
- u chart: the baseline rate minus each period's rate, times that period's exposure, summed;
- p chart: each period's numerator minus the baseline proportion times its denominator, summed;
- XmR and run charts: the shift in the centre line only, never summed over periods or measures.

The range is the baseline's uncertainty (plus or minus two standard errors of its mean, rate or
proportion) carried through the sum. Totals add only like with like: the same counted unit and
direction. Everything is read from the stored analysis; only a measure whose data runs past the as-of
date is analysed again on its data up to that date (as the Portfolio does), so every page, slide and the
``impact`` command show the same numbers.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from qidash import analysis, db, measures, spc
from qidash import models as m
from qidash.scope import Scope

MIN_BASELINE = 12  # baseline points needed before an estimate is made (docs/impact.md)
Z = 2.0  # standard errors either side of the baseline's centre
MEDIAN_SE = math.sqrt(math.pi / 2)  # a median's standard error, relative to a mean's (normal data)
COUNTED = ("c", "u", "p")  # charts whose benefit is summed over periods (a count of something)
SHIFTED = ("xmr", "run")  # charts whose benefit is the shift in the centre line

NO_DIRECTION = "no improvement direction is set, so no change can be called a benefit"
NO_DATA = "no data by the date"
NOT_BETTER = "no sustained improvement: the latest phase is not better than the baseline"
NOTHING_YET = "nothing yet: no later phase begun at a recorded change or recalculation by the date"
NO_BASELINE_DATA = "the baseline phase has no usable points"


def few_baseline(n: int) -> str:
    return (f"only {n} baseline point{'s' if n != 1 else ''}: {MIN_BASELINE} are needed before the "
            "baseline is steady enough to estimate against")


@dataclass(frozen=True)
class Benefit:
    """One measure's estimate from a stored result: ``value`` in the improvement direction (positive is
    better), ``low``..``high`` its range, ``start`` the index of the later phase's first point,
    ``baseline``/``later`` the centre lines (chart scale), ``steps`` each later period's share
    (counted charts only; empty for a shift)."""

    value: float
    low: float
    high: float
    start: int
    baseline: float
    later: float
    baseline_points: int
    steps: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Estimate:
    """One measure's line in the report (DESIGN.md section 7, ``impact``), plus what the pages need."""

    project_id: int
    project_code: str
    project_title: str
    priority: str
    measure_code: str
    measure_name: str
    chart: str
    unit: str
    direction: str
    since: dt.date | None
    value: float | None
    low: float | None
    high: float | None
    reason: str | None
    baseline: float | None = None
    later: float | None = None
    steps: tuple[tuple[str, float], ...] = ()

    @property
    def estimated(self) -> bool:
        return self.value is not None

    @property
    def counted(self) -> bool:
        """True when the estimate is a sum over periods (it takes part in totals)."""
        return self.chart in COUNTED

    def as_json(self) -> dict:
        return {
            "project_code": self.project_code,
            "measure_code": self.measure_code,
            "unit": self.unit,
            "direction": self.direction,
            "since": self.since.isoformat() if self.since else None,
            "value": rounded(self.value),
            "low": rounded(self.low),
            "high": rounded(self.high),
            "estimated": self.estimated,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Total:
    """Counted estimates of one unit and direction added up; the range adds the measures' half-widths in
    quadrature (their baselines' errors are independent)."""

    unit: str
    direction: str
    value: float
    low: float
    high: float
    projects: int
    measures: int
    since: dt.date
    avoided: bool  # every measure in it counts events (c or u chart): "falls avoided", not "fewer falls"

    def as_json(self) -> dict:
        return {"unit": self.unit, "direction": self.direction, "value": rounded(self.value),
                "low": rounded(self.low), "high": rounded(self.high), "projects": self.projects}


@dataclass(frozen=True)
class ImpactReport:
    as_of: dt.date
    estimates: tuple[Estimate, ...]
    totals: tuple[Total, ...]
    by_priority: dict[str, tuple[Total, ...]] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "measures": [e.as_json() for e in self.estimates],
            "totals": [t.as_json() for t in self.totals],
        }


def rounded(x: float | None) -> float | None:
    """Numbers as reported: 2 decimals (a count's estimate is no more precise than that)."""
    return None if x is None else round(float(x), 2) + 0.0


# --- the pure estimate on one stored result ----------------------------------------------------------


def good_sign(direction: str | None) -> int:
    """+1 when a measure improves by going up, -1 by going down, 0 when it has no direction."""
    return {"increase": 1, "decrease": -1}.get(direction or "increase", 0)


def benefit(result: dict) -> Benefit | str:
    """The benefit of one stored result (``to_dict()`` with ``periods``), or the reason there is none.

    The result is the chart of the data up to the as-of date. The later phase is the latest one; only
    its periods count (from the change that began it), against the first phase (the baseline)."""
    good = good_sign(result.get("improvement_direction"))
    if good == 0:
        return NO_DIRECTION
    y = result.get("y") or []
    if not y:
        return NO_DATA
    bounds = spc.phase_bounds(result.get("phases"), len(y))
    if len(bounds) < 2:
        return NOTHING_YET
    if not spc.improvement(result)["improved_since_baseline"]:
        return NOT_BETTER
    kind = result["kind"]
    (a0, b0), (a1, b1) = bounds[0], bounds[-1]
    excluded = set(result.get("exclude") or [])
    values = result.get("values") or y
    dens = result.get("denominators") or [None] * len(y)
    centre, later_centre = result["cl"][a0], result["cl"][a1]
    periods = result.get("periods") or [str(i) for i in range(len(y))]

    def usable(i: int) -> bool:
        if y[i] is None or (isinstance(y[i], float) and not math.isfinite(y[i])):
            return False
        return kind not in ("p", "u") or (dens[i] is not None and dens[i] > 0)

    base = [i for i in range(a0, b0) if usable(i) and i not in excluded]
    if not base or centre is None:
        return NO_BASELINE_DATA
    if len(base) < MIN_BASELINE:
        return few_baseline(len(base))
    later = [i for i in range(a1, b1) if usable(i)]
    steps: list[tuple[str, float]] = []
    if kind == "c":
        se = math.sqrt(max(centre, 0.0) / len(base))
        steps = [(periods[i], good * (values[i] - centre)) for i in later]
        half = Z * se * len(later)
    elif kind in ("u", "p"):
        exposure = sum(dens[i] for i in base)
        spread = centre if kind == "u" else centre * (1 - centre)
        se = math.sqrt(max(spread, 0.0) / exposure)
        steps = [(periods[i], good * (values[i] - centre * dens[i])) for i in later]
        half = Z * se * sum(dens[i] for i in later)
    else:  # xmr, run: the shift of the centre line, once
        points = [y[i] for i in base]
        if kind == "xmr":
            ucl = result["ucl"][a0]
            sigma = (ucl - centre) / 3 if ucl is not None else 0.0  # the chart's own sigma
            se = sigma / math.sqrt(len(base))
        else:
            se = MEDIAN_SE * statistics.stdev(points) / math.sqrt(len(base))
        if later_centre is None:
            return NOT_BETTER
        value = good * (later_centre - centre)
        half = Z * se
        return Benefit(value, value - half, value + half, a1, centre, later_centre, len(base))
    value = math.fsum(s for _, s in steps)
    return Benefit(value, value - half, value + half, a1, centre, later_centre, len(base), tuple(steps))


# --- words: the unit a benefit counts ------------------------------------------------------------------


def _lower_first(text: str) -> str:
    """"Falls" -> "falls", but "MAR charts" and "UTIs" keep their capitals."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and (first.isupper() or any(c.isupper() for c in first[1:])):
        return text
    return text[:1].lower() + text[1:]


def counted_unit(chart: str, name: str, unit: str | None) -> str:
    """What a measure's benefit is counted in: a c chart's unit ("ulcers", else its name); a u chart's
    events (the name before " per ": "Falls per 1,000 bed days" counts falls); a p chart's name (the
    people or things counted: "more residents with a falls risk assessment"); a shift's own unit."""
    name, unit = (name or "").strip(), (unit or "").strip()
    if chart == "c":
        return unit or _lower_first(name)
    if chart == "u":
        if " per " in name:
            return _lower_first(name.split(" per ", 1)[0].strip())
        return unit if unit and not unit.lower().startswith("per ") else _lower_first(name) or "events"
    if chart == "p":
        return _lower_first(name)
    return unit


def phrase(unit: str, direction: str, avoided: bool) -> str:
    """The benefit in words after its number: "falls avoided", "fewer appointments not attended",
    "more residents with a falls risk assessment"."""
    if direction == "decrease":
        return f"{unit} avoided" if avoided else f"fewer {unit}"
    return f"more {unit}"


def shift_words(e: Estimate) -> str:
    """A shift in words: "2.1 days lower (1.6 to 2.6)"."""
    way = "lower" if e.direction == "decrease" else "higher"
    unit = "%" if e.unit == "%" else (f" {e.unit}" if e.unit else "")
    low, high = number(e.low, e.value), number(e.high, e.value)
    return f"{number(e.value)}{unit} {way} ({low} to {high})"


def decimals(value: float | None) -> int:
    """Decimals an estimate is shown with: none from 10 up, else enough for 2 significant figures."""
    if value is None or value == 0 or abs(value) >= 10:
        return 0
    return max(0, 1 - math.floor(math.log10(abs(value))))


def number(x: float | None, like: float | None = None) -> str:
    """An estimate as shown (a range's ends with as many decimals as the estimate ``like`` has)."""
    if x is None:
        return "–"
    places = decimals(x if like is None else like)
    return f"{x:,.{places}f}" if places else f"{round(x):,}"


def range_words(value: float, low: float, high: float) -> str:
    """ "310 (250 to 370)": an estimate and its range, the ends as precise as the estimate."""
    return f"{number(value)} ({number(low, value)} to {number(high, value)})"


def total_words(t: Total, public: bool = False, threshold: int | None = None) -> str:
    """ "about 310 falls avoided (250 to 370) since 2023 across 6 projects"; in public mode a value
    under the threshold is shown as "fewer than N"."""
    what = phrase(t.unit, t.direction, t.avoided)
    across = f"across {t.projects} project{'s' if t.projects != 1 else ''}"
    if public and threshold and suppressed_value(t.value, threshold):
        return f"fewer than {threshold} {what} since {t.since:%Y} {across}"
    return (f"about {number(t.value)} {what} ({number(t.low, t.value)} to {number(t.high, t.value)}) "
            f"since {t.since:%Y} {across}")


def suppressed_value(value: float | None, threshold: int) -> bool:
    """True when a count is too small to publish (public mode): above 0 and under the threshold."""
    return value is not None and 0 < round(value) < threshold


# --- totals --------------------------------------------------------------------------------------------


def totals(estimates) -> tuple[Total, ...]:
    """Counted estimates added up per (unit, direction), largest first; shifts are never added."""
    groups: dict[tuple[str, str], list[Estimate]] = defaultdict(list)
    for e in estimates:
        if e.estimated and e.counted:
            groups[(e.unit, e.direction)].append(e)
    out = []
    for (unit, direction), group in groups.items():
        value = math.fsum(e.value for e in group)
        half = math.sqrt(math.fsum(((e.high - e.low) / 2) ** 2 for e in group))
        out.append(Total(
            unit=unit, direction=direction, value=value, low=value - half, high=value + half,
            projects=len({e.project_code for e in group}), measures=len(group),
            since=min(e.since for e in group), avoided=all(e.chart in ("c", "u") for e in group),
        ))
    return tuple(sorted(out, key=lambda t: (-t.value, t.unit, t.direction)))


def cumulative(estimates, unit: str, direction: str) -> list[tuple[dt.date, float]]:
    """Running total over time of one unit's counted estimates: (period, cumulative benefit)."""
    by_period: dict[str, float] = defaultdict(float)
    for e in estimates:
        if e.estimated and e.counted and e.unit == unit and e.direction == direction:
            for period, share in e.steps:
                by_period[period] += share
    running, out = 0.0, []
    for period in sorted(by_period):
        running += by_period[period]
        out.append((dt.date.fromisoformat(period), running))
    return out


# --- from the database ---------------------------------------------------------------------------------


def _since(result: dict, start: int, rebases) -> dt.date | None:
    periods = [dt.date.fromisoformat(p) for p in result.get("periods") or []]
    if not periods:
        return None
    day, _ = analysis.baseline_rebase(periods, start, rebases)
    return day or periods[start]


def _no_result_reason(direction: str, rebases, last_period: dt.date | None) -> str:
    """The reason of a measure whose stored analysis says it has not improved since its baseline."""
    if good_sign(direction) == 0:
        return NO_DIRECTION
    if last_period is None:
        return NO_DATA
    if not any(day <= last_period for day, _ in rebases):
        return NOTHING_YET
    return NOT_BETTER


@dataclass(frozen=True)
class _Key:
    id: int
    project_id: int


def impact_report(conn: Connection, scope: Scope, as_of: dt.date) -> ImpactReport:
    """Every measure of the projects in ``scope`` started by ``as_of`` with its estimate (or the reason
    there is none), totals for the scope and per priority."""
    from qidash.analysis import reanalysed

    ma = m.MeasureAnalysis
    rows = conn.execute(
        select(
            m.Measure.id.label("measure_id"), m.Measure.project_id, m.Measure.code, m.Measure.name,
            m.Measure.chart, m.Measure.unit, m.Measure.improvement, m.Measure.target,
            m.Project.code.label("project_code"), m.Project.title, m.Priority.code.label("priority"),
            ma.last_period, ma.improved_since_baseline,
        )
        .join(m.Project, m.Project.id == m.Measure.project_id)
        .join(m.Priority, m.Priority.id == m.Project.priority_id)
        .outerjoin(ma, ma.measure_id == m.Measure.id)
        .where(m.Measure.project_id.in_(measures.projects_started(scope, as_of)))
        .order_by(m.Project.code, m.Measure.code)
    ).mappings().all()
    rebases = analysis.rebase_changes(conn, [_Key(r["measure_id"], r["project_id"]) for r in rows])
    past = [dict(r) for r in rows if r["last_period"] is not None and db.as_date(r["last_period"]) > as_of]
    again = reanalysed(conn, past, as_of)
    wanted = [r["measure_id"] for r in rows if r["improved_since_baseline"] and r["measure_id"] not in again
              and good_sign(r["improvement"])]
    stored: dict[int, dict] = {}
    for i in range(0, len(wanted), 500):
        stored.update(conn.execute(
            select(ma.measure_id, ma.result).where(ma.measure_id.in_(wanted[i : i + 500]))
        ).all())
    estimates = []
    for r in rows:
        mid = r["measure_id"]
        changes = rebases.get(mid, ())
        if mid in again:
            result = again[mid][0] if again[mid] is not None else None
            last = dt.date.fromisoformat(result["periods"][-1]) if result else None
            if result is not None and not again[mid][1]["improved_since_baseline"]:
                result = None  # worded as a stored analysis's would be
        else:
            result = stored.get(mid)
            last = db.as_date(r["last_period"]) if r["last_period"] is not None else None
        found = benefit(result) if result is not None else _no_result_reason(r["improvement"], changes, last)
        unit = counted_unit(r["chart"], r["name"], r["unit"])
        common = {
            "project_id": r["project_id"], "project_code": r["project_code"], "project_title": r["title"],
            "priority": r["priority"], "measure_code": r["code"], "measure_name": r["name"],
            "chart": r["chart"], "unit": unit, "direction": r["improvement"],
        }
        if isinstance(found, str):
            estimates.append(Estimate(**common, since=None, value=None, low=None, high=None, reason=found))
            continue
        estimates.append(Estimate(
            **common, since=_since(result, found.start, changes), value=found.value, low=found.low,
            high=found.high, reason=None, baseline=found.baseline, later=found.later, steps=found.steps,
        ))
    by_priority: dict[str, list[Estimate]] = defaultdict(list)
    for e in estimates:
        by_priority[e.priority].append(e)
    return ImpactReport(
        as_of=as_of, estimates=tuple(estimates), totals=totals(estimates),
        by_priority={p: totals(es) for p, es in sorted(by_priority.items())},
    )


def project_estimates(report: ImpactReport, project_code: str) -> list[Estimate]:
    return [e for e in report.estimates if e.project_code == project_code]


def narrowed(report: ImpactReport, project_codes: set[str]) -> ImpactReport:
    """The report over some of its projects only (a page's own filters), totals made again."""
    kept = tuple(e for e in report.estimates if e.project_code in project_codes)
    by_priority: dict[str, list[Estimate]] = defaultdict(list)
    for e in kept:
        by_priority[e.priority].append(e)
    return ImpactReport(
        report.as_of, kept, totals(kept), {p: totals(es) for p, es in sorted(by_priority.items())}
    )
