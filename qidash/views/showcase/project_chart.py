"""A project's chart on its slide: the measure that tells the story best, as data on the scale it is
shown, with its PDSA cycles and changes marked, and its median before and after."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from itertools import pairwise

from qidash import chart_geometry, spc, spc_charts

MIN_SIDE = 3  # points needed on each side of a change to compare medians
BASELINE_MAX = 12  # at most this many first / latest points when there is no phase or change to split at


@dataclass(frozen=True)
class Annotation:
    """A PDSA cycle or change on a chart: ``index`` is the period it falls in (first period on or after
    the day; the last period for a later day), ``number`` its place among the chart's cycles."""

    day: str
    title: str
    kind: str
    index: int
    number: int


@dataclass(frozen=True)
class BeforeAfter:
    before: float
    after: float
    before_text: str
    after_text: str
    before_label: str  # "First phase", "Before the change", "First 12 points"
    after_label: str  # "Latest phase", "After the change", "Latest 12 points"
    before_period: str  # "Mar 2017 – Jun 2018"
    after_period: str
    basis: str  # "phases", "change" or "baseline"
    change: str  # the adopted change split at ("" unless basis is "change")
    better: bool | None  # in the improvement direction; None when no direction or no movement
    change_pct: float | None  # (after - before) / |before| x 100

    @property
    def moved(self) -> str:
        """ "38% lower", "12% higher", or "" (no movement, or nothing to compare with)."""
        if self.change_pct is None or self.after == self.before:
            return ""
        return f"{abs(self.change_pct):.0f}% {'higher' if self.after > self.before else 'lower'}"

    @property
    def verdict(self) -> str:
        return {True: "better", False: "worse", None: "no preferred direction"}[self.better]

    def in_words(self) -> str:
        """One sentence: how the median moved and what the comparison was."""
        split = f" (split at “{self.change}”)" if self.change else ""
        return (
            f"Median {self.before_text} ({self.before_label.lower()}, {self.before_period}) → "
            f"{self.after_text} ({self.after_label.lower()}, {self.after_period}){split}"
        )


@dataclass(frozen=True)
class ChartSeries:
    """One measure's chart as data, on the scale it is shown (p charts in %), from the stored result."""

    measure_code: str
    name: str
    chart: str  # run | xmr | p | u | c
    unit: str | None
    improvement: str
    y_title: str
    centre_name: str  # Median / Mean / Centre line
    periods: tuple[str, ...]  # ISO dates
    values: tuple  # float | None per period
    centre: tuple
    lower: tuple
    upper: tuple
    point_types: tuple  # spc_charts point type per period (None where no value)
    phase_starts: tuple[int, ...]  # index of the first period of each phase after the first
    target: float | None  # on the chart's scale
    target_raw: float | None  # as recorded (a p chart's may be a proportion)
    annotations: tuple[Annotation, ...]
    variation_icon: str | None
    assurance_icon: str | None
    improving: bool
    improving_reason: str | None  # which meaning of improving applies, in words (None when not improving)
    result: dict = field(repr=False, compare=False)  # the stored result, for the page's plotly chart

    @property
    def phases(self) -> list[tuple[int, int]]:
        """(start, end) index pairs of the phases."""
        starts = [0, *self.phase_starts, len(self.periods)]
        return list(pairwise(starts))

    def drawn_lines(self) -> tuple[chart_geometry.Line, ...]:
        """Every line a chart draws, in drawing order, each with its role for its style
        (:func:`qidash.chart_geometry.chart_lines`): the data, the centre line and limits per phase, the
        target."""
        return chart_geometry.chart_lines(
            self.name,
            self.centre_name,
            self.values,
            self.centre,
            self.upper,
            self.lower,
            self.phases,
            self.target,
        )

    def lines(self) -> dict[str, tuple]:
        """Every series a chart draws, by name, one value (or None) per period, in drawing order:
        the data, the centre line and limits per phase, the target. Exports write exactly these."""
        return {line.name: line.values for line in self.drawn_lines()}

    def marks(self, kind: str) -> tuple:
        """The ``kind`` (pdsa | change) annotations as a series: one entry per period, the numbers of
        the annotations falling in it ("3" or "3, 4"), else None."""
        out: list = [None] * len(self.periods)
        for a in self.annotations:
            if a.kind == kind:
                out[a.index] = str(a.number) if out[a.index] is None else f"{out[a.index]}, {a.number}"
        return tuple(out)

    def axes(self) -> chart_geometry.Axes:
        """The chart's axes (:func:`qidash.chart_geometry.axes`), with headroom on top for the PDSA cycles
        and changes numbered there."""
        return chart_geometry.axes(
            self.chart, self.periods, self.drawn_lines(), marks=bool(self.annotations), title=self.y_title
        )

    def fmt(self, value: float | None) -> str:
        return spc_charts.format_value(value, self.chart)


def _median(values) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def _month(iso: str) -> str:
    return dt.date.fromisoformat(iso[:10]).strftime("%b %Y")


def _span(periods: tuple[str, ...], a: int, b: int) -> str:
    first, last = _month(periods[a]), _month(periods[b - 1])
    return first if first == last else f"{first} – {last}"


def before_after(chart: ChartSeries, changes: list[dict]) -> BeforeAfter | None:
    """Median before and after, on the chart's scale: the first phase against the latest (after a
    rebase); else before and after the first change adopted (kind ``change``) with at least three points
    each side; else the first points against the latest (up to 12 each, half the series at most)."""
    n = len(chart.periods)
    if n < 2 * MIN_SIDE - 1:
        return None
    change = ""
    if len(chart.phases) > 1:
        (a0, b0), (a1, b1) = chart.phases[0], chart.phases[-1]
        basis, labels = "phases", ("First phase", "Latest phase")
    else:
        split = None
        for c in sorted((c for c in changes if c.get("kind") == "change"), key=lambda c: c["day"]):
            k = next((i for i, p in enumerate(chart.periods) if p >= c["day"]), n)
            if k >= MIN_SIDE and n - k >= MIN_SIDE:
                split = (k, c)
                break
        if split:
            k, c = split
            a0, b0, a1, b1 = 0, k, k, n
            basis, labels, change = "change", ("Before the change", "After the change"), c["title"]
        else:
            w = min(BASELINE_MAX, n // 2)
            a0, b0, a1, b1 = 0, w, n - w, n
            basis, labels = "baseline", (f"First {w} points", f"Latest {w} points")
    before, after = _median(chart.values[a0:b0]), _median(chart.values[a1:b1])
    if before is None or after is None:
        return None
    good = {"increase": 1, "decrease": -1}.get(chart.improvement, 0)
    moved = (after > before) - (after < before)
    return BeforeAfter(
        before=before,
        after=after,
        before_text=chart.fmt(before),
        after_text=chart.fmt(after),
        before_label=labels[0],
        after_label=labels[1],
        before_period=_span(chart.periods, a0, b0),
        after_period=_span(chart.periods, a1, b1),
        basis=basis,
        change=change,
        better=None if not (good and moved) else moved * good > 0,
        change_pct=None if before == 0 else (after - before) / abs(before) * 100,
    )


def chart_series(measure: dict) -> ChartSeries:
    """A measure of :func:`qidash.views.project.measure_charts` as a :class:`ChartSeries`."""
    result = measure["result"]
    kind = result.get("kind") or measure["chart"]
    s = spc_charts.scale_of(kind)
    periods = tuple(str(p)[:10] for p in result.get("periods") or [])

    def scaled(values) -> tuple:
        return tuple(None if v is None else v * s for v in values)

    bounds = spc.phase_bounds(result.get("phases"), len(result["y"]))
    numbers: dict[str, int] = {}
    annotations = []
    for c in sorted(measure["changes"], key=lambda c: (c["day"], c["title"])):
        if not periods or c["kind"] == "rebase":
            continue  # a rebase is drawn as its phase
        index = next((i for i, p in enumerate(periods) if p >= c["day"]), len(periods) - 1)
        numbers[c["kind"]] = numbers.get(c["kind"], 0) + 1
        annotations.append(Annotation(c["day"], c["title"], c["kind"], index, numbers[c["kind"]]))
    return ChartSeries(
        measure_code=measure["code"],
        name=measure["name"],
        chart=kind,
        unit=measure["unit"],
        improvement=measure["improvement"],
        y_title=spc_charts.value_title(kind, measure["unit"]),
        centre_name=chart_geometry.centre_name(kind),
        periods=periods,
        values=scaled(result["y"]),
        centre=scaled(result["cl"]),
        lower=scaled(result["lcl"]),
        upper=scaled(result["ucl"]),
        point_types=tuple(spc.point_types(result)),
        phase_starts=chart_geometry.phase_starts(bounds),
        target=spc_charts.shown_target(kind, measure["target"]),
        target_raw=measure["target"],
        annotations=tuple(annotations),
        variation_icon=measure["variation_icon"],
        assurance_icon=measure["assurance_icon"],
        improving=bool(measure["improving"]),
        improving_reason=measure.get("improving_reason"),
        result=result,
    )


def story_measure(measures_: list[dict]) -> dict | None:
    """The measure whose chart tells the project's story: sustained improvement first (an outcome
    before a process measure), then any outcome measure, then the first."""
    if not measures_:
        return None

    def rank(mm: dict):
        kept = mm["improving"]
        icon = (mm["variation_icon"] or "").startswith("improvement")
        return (not kept, not icon, mm["kind"] != "outcome", mm["kind"] == "balancing", mm["code"])

    return min(measures_, key=rank)

