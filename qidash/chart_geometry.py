"""One run / SPC chart, renderer-neutral: what is drawn and how each thing looks, decided once.

The chart is drawn three times: plotly on the pages (:mod:`qidash.spc_charts`), hand-written SVG in the
report (:mod:`qidash.exports.svg`) and a native PowerPoint chart in the deck
(:mod:`qidash.exports.pptx_deck`). Each renderer translates a :class:`ChartGeometry` (or the lines of a
:class:`qidash.views.showcase.ChartSeries`, made by :func:`chart_lines` here) into its own shapes, and
reads every visual rule from this module: which colour, shape and legend words a point class gets (the
class is the engine's, :func:`qidash.spc.point_types`), how the data, centre line, limits and target
look, how and where along the top a PDSA cycle, adopted change or rebase is marked, where a phase starts,
and the axes: the value axis's range, ticks and their words, and which periods are labelled
(:func:`axes`). A rule changes here once.

Pure Python: no plotly, SVG or PowerPoint here.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from qidash import spc
from qidash.icons import MID_GREY, PURPLE
from qidash.palette import LIMIT_GREY, NHS_BLUE, NHS_DARK_BLUE, NHS_GREEN, NHS_GREY, ORANGE_MARK
from qidash.spc import COMMON, CONCERN, IMPROVEMENT, NEUTRAL_HIGH, NEUTRAL_LOW, POINT_TYPES

AXIS_LINE = MID_GREY  # the period axis's baseline

# --- point classes ------------------------------------------------------------------------------------

# The Making Data Count colours, the orange in its darker shade for marks (3:1 on white, WCAG 1.4.11)
POINT_COLOURS = {
    COMMON: MID_GREY,
    IMPROVEMENT: NHS_BLUE,
    CONCERN: ORANGE_MARK,
    NEUTRAL_HIGH: PURPLE,
    NEUTRAL_LOW: PURPLE,
}
# Each class has its own shape too, so a point's class is never told by colour alone (WCAG 1.4.1):
# concern a warning triangle, improvement a square, no direction a diamond, common cause a small circle.
CIRCLE, SQUARE, DIAMOND = "circle", "square", "diamond"
TRIANGLE_UP, TRIANGLE_DOWN = "triangle-up", "triangle-down"
POINT_SYMBOLS = {
    COMMON: CIRCLE,
    IMPROVEMENT: SQUARE,
    CONCERN: TRIANGLE_UP,
    NEUTRAL_HIGH: DIAMOND,
    NEUTRAL_LOW: DIAMOND,
}
POINT_LABELS = {
    COMMON: "Common cause",
    IMPROVEMENT: "Special cause: improvement",
    CONCERN: "Special cause: concern",
    NEUTRAL_HIGH: "Special cause: high (no direction)",
    NEUTRAL_LOW: "Special cause: low (no direction)",
}


def point_colour(point_type: str | None) -> str:
    """The colour of a point of this class (common-cause grey for a point with no class)."""
    return POINT_COLOURS.get(point_type, MID_GREY)


def point_symbol(point_type: str | None) -> str:
    """The shape of a point of this class (plotly's symbol names; the SVG and the deck map them)."""
    return POINT_SYMBOLS.get(point_type, CIRCLE)


def is_special(point_type: str | None) -> bool:
    """Whether a point of this class is drawn as special cause (larger, coloured, in the legend)."""
    return point_type not in (None, COMMON)


# --- lines ----------------------------------------------------------------------------------------------

DATA, CENTRE, UPPER, LOWER, TARGET = "data", "centre", "upper", "lower", "target"
LIMITS = (UPPER, LOWER)


@dataclass(frozen=True)
class LineStyle:
    colour: str
    dashed: bool  # a limit on a p or u chart is a step instead (see :func:`limits_stepped`)


LINE_STYLES = {
    DATA: LineStyle(MID_GREY, False),
    CENTRE: LineStyle(NHS_GREY, False),
    UPPER: LineStyle(LIMIT_GREY, True),
    LOWER: LineStyle(LIMIT_GREY, True),
    TARGET: LineStyle(NHS_GREEN, True),
}
LIMITS_LEGEND = "Control limits"
LIMIT_NAMES = {UPPER: "Upper limit", LOWER: "Lower limit"}


def centre_name(kind: str) -> str:
    """What the centre line is called: the median of a run chart, the mean of an XmR chart."""
    return "Median" if kind == "run" else "Mean" if kind == "xmr" else "Centre line"


def limits_stepped(kind: str) -> bool:
    """Limits that vary with the denominator (p, u) are steps; dashes would break them into noise."""
    return kind in ("p", "u")


@dataclass(frozen=True)
class Line:
    """One drawn line: its series name (a phase's centre line and limits are each their own line, named
    "Mean (phase 2)" when there are phases), its role (:data:`LINE_STYLES`), the phase it belongs to
    (None for the data and the target) and one value or None per period."""

    name: str
    role: str
    phase: int | None
    values: tuple

    @property
    def style(self) -> LineStyle:
        return LINE_STYLES[self.role]


def phase_starts(bounds: list[tuple[int, int]]) -> tuple[int, ...]:
    """Index of the first period of each phase after the first: where a phase break is drawn."""
    return tuple(a for a, _ in bounds[1:])


def chart_lines(data_name: str, centre: str, values, cl, ucl, lcl, bounds, target) -> tuple[Line, ...]:
    """Every line of a chart in drawing order: the data, the centre line and limits per phase (a line
    only where it has a value), the target across the whole chart."""
    n = len(values)
    out = [Line(data_name, DATA, None, tuple(values))]
    many = len(bounds) > 1
    for k, (a, b) in enumerate(bounds):
        suffix = f" (phase {k + 1})" if many else ""
        for name, role, line in (
            (centre, CENTRE, cl),
            (LIMIT_NAMES[UPPER], UPPER, ucl),
            (LIMIT_NAMES[LOWER], LOWER, lcl),
        ):
            segment = tuple(line[i] if a <= i < b else None for i in range(n))
            if any(v is not None for v in segment):
                out.append(Line(name + suffix, role, k, segment))
    if target is not None:
        out.append(Line("Target", TARGET, None, (target,) * n))
    return tuple(out)


# --- annotations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkStyle:
    name: str  # in the legend
    symbol: str  # triangle-down | diamond | square
    colour: str
    row: float  # where along the top: this fraction of the plot's height down from its top


MARK_STYLES = {  # change kind -> how it is marked along the top of the chart
    "pdsa": MarkStyle("PDSA cycle", TRIANGLE_DOWN, NHS_DARK_BLUE, 0.04),
    "change": MarkStyle("Change", DIAMOND, NHS_GREEN, 0.11),
    "rebase": MarkStyle("Rebase (new phase)", SQUARE, NHS_GREY, 0.11),
}


def mark_style(kind: str | None) -> MarkStyle:
    return MARK_STYLES.get(kind or "pdsa", MARK_STYLES["pdsa"])


@dataclass(frozen=True)
class Band:
    """A shaded stretch of the chart: periods ``start`` to ``end`` (indices, inclusive); ``low`` and
    ``high`` on the chart's scale, or None for the full height."""

    start: int
    end: int
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Impact:
    """The gap between the baseline's centre line and the later phase's (:func:`qidash.impact.benefit`)."""

    band: Band
    baseline: float
    later: float
    words: str


@dataclass(frozen=True)
class Point:
    index: int
    value: float
    point_type: str | None

    @property
    def colour(self) -> str:
        return point_colour(self.point_type)

    @property
    def special(self) -> bool:
        return is_special(self.point_type)


# --- the whole chart ------------------------------------------------------------------------------------


def scale_of(kind: str) -> float:
    """p charts hold proportions and are shown as percentages."""
    return 100.0 if kind == "p" else 1.0


def shown_target(kind: str, target: float | None) -> float | None:
    """The target on the chart's scale (a p-chart target given as a proportion is shown in %)."""
    if target is None:
        return None
    return target * 100 if kind == "p" and target <= 1 else target


def scaled(values, s: float) -> list:
    return [None if v is None else v * s for v in values]


# --- axes -----------------------------------------------------------------------------------------------

PERIOD_LABELS = 12  # at most this many period labels along the bottom
VALUE_TICKS = 5  # about this many value ticks up the side
# Padding below and above the values, as shares of their span (above: more with changes along the top).
FOOT, HEADROOM, MARK_HEADROOM = 0.06, 0.08, 0.22


@dataclass(frozen=True)
class Tick:
    at: float  # a value on the value axis; a period's index on the period axis
    text: str


@dataclass(frozen=True)
class ValueAxis:
    """The value (y) axis: its title, its range (from one tick to another), the step between ticks, the
    decimals every tick label shows and the labelled ticks (a percentage axis labels none above 100%)."""

    title: str
    low: float
    high: float
    step: float
    decimals: int
    percent: bool
    ticks: tuple[Tick, ...]

    def y_of_mark(self, style: MarkStyle) -> float:
        """Where a change of this style sits, on the value scale: its row down from the top."""
        return self.high - style.row * (self.high - self.low)


@dataclass(frozen=True)
class PeriodAxis:
    """The period (x) axis: every period's short label ("Oct 17"), and the ticks labelled (every
    ``every``-th period, at most :data:`PERIOD_LABELS`)."""

    labels: tuple[str, ...]
    every: int
    ticks: tuple[Tick, ...]


@dataclass(frozen=True)
class Axes:
    value: ValueAxis
    period: PeriodAxis


def nice_step(low: float, high: float, count: int = VALUE_TICKS) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``count`` ticks over [low, high]."""
    span = high - low
    if span <= 0:
        return 1.0
    raw = span / count
    mag = 10 ** math.floor(math.log10(raw))
    return next(k * mag for k in (1, 2, 2.5, 5, 10) if k * mag >= raw * (1 - 1e-9))


def step_decimals(step: float) -> int:
    """The fewest decimals that write every multiple of ``step`` exactly (0.25: 2; 2.5: 1; 50: 0)."""
    return next((d for d in range(7) if abs(round(step, d) - step) < 1e-9 * max(1.0, step)), 6)


def value_label(v: float, decimals: int, percent: bool) -> str:
    """A value axis's tick label: thousands separated, ``decimals`` places, "%" on a percentage axis."""
    return f"{v:,.{decimals}f}" + ("%" if percent else "")


def value_axis(kind: str, lines, *, marks: bool, title: str) -> ValueAxis:
    """The value axis of a chart drawing ``lines`` (:class:`Line`: the data, centre lines, limits, target).

    The values' span is padded by :data:`FOOT` below (never below zero when nothing drawn is) and by
    :data:`HEADROOM` above, :data:`MARK_HEADROOM` when changes are ``marks``-ed along the top; the range
    then widens to whole ticks of a :func:`nice_step`."""
    vals = [v for line in lines for v in line.values if v is not None and math.isfinite(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    span = (hi - lo) or abs(hi) or 1.0
    low = lo - FOOT * span
    if lo >= 0 > low:
        low = 0.0
    high = hi + (MARK_HEADROOM if marks else HEADROOM) * span
    step = nice_step(low, high)
    low = math.floor(low / step + 1e-9) * step
    high = math.ceil(high / step - 1e-9) * step
    decimals, percent = step_decimals(step), kind == "p"
    ticks = []
    for k in range(round((high - low) / step) + 1):
        v = round(low + k * step, 10)
        if not (percent and v > 100):  # headroom above 100% for the marks, not a share anyone can reach
            ticks.append(Tick(v, value_label(v, decimals, percent)))
    return ValueAxis(title, low, high, step, decimals, percent, tuple(ticks))


def period_label(period) -> str:
    """A period's short label: "Oct 17" for an ISO date, else the period as it is."""
    try:
        return dt.date.fromisoformat(str(period)[:10]).strftime("%b %y")
    except ValueError:
        return str(period)


def period_axis(periods) -> PeriodAxis:
    """Every period's label, and a tick on every ``every``-th period from the first."""
    labels = tuple(period_label(p) for p in periods)
    every = max(1, math.ceil(len(labels) / PERIOD_LABELS))
    return PeriodAxis(labels, every, tuple(Tick(i, labels[i]) for i in range(0, len(labels), every)))


def axes(kind: str, periods, lines, *, marks: bool, title: str) -> Axes:
    """Both axes of a chart: :func:`value_axis` and :func:`period_axis`."""
    return Axes(value_axis(kind, lines, marks=marks, title=title), period_axis(periods))


@dataclass(frozen=True)
class ChartGeometry:
    """What one chart draws, on the scale it is shown (p charts in %), from a stored engine result."""

    kind: str
    x: tuple  # the periods (ISO dates), or 0..n-1 when the result has none
    y: tuple
    cl: tuple
    lcl: tuple
    ucl: tuple
    point_types: tuple
    bounds: tuple  # (start, stop) per phase
    centre_name: str
    target: float | None
    changes: tuple  # the dicts given (day, title, kind)
    suggestion: Band | None
    impact: Impact | None

    @property
    def phase_starts(self) -> tuple[int, ...]:
        return phase_starts(list(self.bounds))

    @property
    def stepped_limits(self) -> bool:
        return limits_stepped(self.kind)

    def points(self) -> tuple[Point, ...]:
        return tuple(
            Point(i, v, t)
            for i, (v, t) in enumerate(zip(self.y, self.point_types, strict=True))
            if v is not None
        )

    def points_by_type(self) -> list[tuple[str, list[int]]]:
        """(point type, indices) for each class present, in the legend's order."""
        out = []
        for t in POINT_TYPES:
            idx = [i for i, v in enumerate(self.point_types) if v == t]
            if idx:
                out.append((t, idx))
        return out

    def lines(self, data_name: str = "Data") -> tuple[Line, ...]:
        """Every line the chart draws (:func:`chart_lines`)."""
        return chart_lines(
            data_name, self.centre_name, self.y, self.cl, self.ucl, self.lcl, list(self.bounds), self.target
        )

    def axes(self, title: str) -> Axes:
        """The chart's axes (:func:`axes`), with headroom for its changes when it has any."""
        return axes(self.kind, self.x, self.lines(), marks=bool(self.changes), title=title)

    def changes_by_kind(self) -> list[tuple[MarkStyle, list[dict]]]:
        out = []
        for kind, style in MARK_STYLES.items():
            mine = [c for c in self.changes if (c.get("kind") or "pdsa") == kind]
            if mine:
                out.append((style, mine))
        return out


def geometry(result: dict, *, changes=None, target=None, suggestion=None, impact=None) -> ChartGeometry:
    """The chart of a stored result (``SpcResult.to_dict()`` plus ``periods``). ``suggestion``
    (:func:`qidash.analysis.suggested_recalculation`) shades from its start to the end of its phase;
    ``impact`` (``start``, ``baseline``, ``later`` on the engine's scale, ``words``) shades the gap
    between the two centre lines from ``start`` to the last period."""
    kind = result.get("kind") or "run"
    s = scale_of(kind)
    n = len(result["y"])
    x = tuple(result.get("periods") or range(n))
    bounds = tuple(spc.phase_bounds(result.get("phases"), n))
    band = None
    if suggestion is not None and x:
        start = suggestion["start"]
        band = Band(start, next((b for a, b in bounds if a <= start < b), len(x)) - 1)
    gap = None
    if impact is not None and x:
        low, high = sorted((impact["baseline"] * s, impact["later"] * s))
        gap = Impact(
            Band(impact["start"], len(x) - 1, low, high),
            impact["baseline"] * s,
            impact["later"] * s,
            impact["words"],
        )
    return ChartGeometry(
        kind=kind,
        x=x,
        y=tuple(scaled(result["y"], s)),
        cl=tuple(scaled(result["cl"], s)),
        lcl=tuple(scaled(result["lcl"], s)),
        ucl=tuple(scaled(result["ucl"], s)),
        point_types=tuple(spc.point_types(result)),
        bounds=bounds,
        centre_name=centre_name(kind),
        target=shown_target(kind, target),
        changes=tuple(changes or ()),
        suggestion=band,
        impact=gap,
    )
