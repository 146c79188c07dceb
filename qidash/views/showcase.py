"""The Showcase: one story model for the celebration screen and its exports.

:func:`showcase_data` builds a :class:`Showcase` from the measures engine and the stored chart
analysis: the programme in numbers, the tier funnel, the map, then one slide per chosen project (aim,
team and organisations, the chart with its signals and PDSA cycles, before and after medians, story
and lessons) and a board summary with the Making Data Count icons. The Showcase page, the PowerPoint
deck, the HTML report and the ``showcase`` command all draw this one model, so they never disagree.

Public mode (an audience in the room) is applied here and only here:

- counts of people under the threshold (default 5) are shown as "<5", and ratios built on such a
  count are not shown (they would give it away); a total split into staff and patients is shown
  without the split when either part is suppressed;
- nobody is named unless they consented to be named (:func:`person_name`); the people of a team who
  are not named are counted, not listed by role (a role in a small team identifies a person).

Organisation and project counts are not people and are never suppressed.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from itertools import pairwise

import pandas as pd
from sqlalchemy import Connection, select

from qidash import catalog, chart_geometry, db, geo, icons, impact, maps, measures, spc, spc_charts
from qidash import models as m
from qidash.analysis import REANALYSIS_COLUMNS, reanalysed
from qidash.palette import fmt_int, fmt_pct, in_sentence, label
from qidash.scope import Scope
from qidash.views import impact as impact_view
from qidash.views import project as project_view
from qidash.views.capability_map import capability_map_data

SUPPRESS_BELOW = 5
# The measures the numbers and funnel slides show (only these are computed).
REPORT_KEYS = (
    "people_trained",
    "people_by_tier",
    "tier_conversion",
    "orgs_in_scope",
    "orgs_trained",
    "coverage_pct",
    "reach_vs_target",
    "projects_active",
    "projects_completed",
    "projects_by_priority",
    "projects_cross_boundary",
    "projects_with_patient_partner",
    "projects_progress_ge_4",
    "projects_improving",
    "local_faculty_share",
)
# Those the funnel slide alone needs: the page computes them when that slide is reached.
FUNNEL_KEYS = ("people_by_tier", "tier_conversion")
NUMBER_KEYS = tuple(k for k in REPORT_KEYS if k not in FUNNEL_KEYS)
SUGGEST_IMPROVING = 5  # projects with sustained improvement chosen by default
SUGGEST_QUIET = 2  # quiet wins chosen by default
MIN_SIDE = 3  # points needed on each side of a change to compare medians
BASELINE_MAX = 12  # at most this many first / latest points when there is no phase or change to split at

KIND_NUMBERS = "numbers"
KIND_FUNNEL = "funnel"
KIND_MAP = "map"
KIND_PROJECT = "project"
KIND_BOARD = "board"
KIND_IMPACT = "impact"
IMPACT_TITLE = "What the improvements added up to"


# --- the one place public mode is applied ---------------------------------------------------------------


def people_count(n: int | None, public: bool, threshold: int = SUPPRESS_BELOW) -> str:
    """A count of people as it may be shown: "1,234", or "<5" in public mode when under the threshold
    (0 is shown: nobody cannot be identified)."""
    if n is None:
        return "–"
    if public and 0 < n < threshold:
        return f"<{threshold}"
    return fmt_int(n)


def suppressed(n: int | None, public: bool, threshold: int = SUPPRESS_BELOW) -> bool:
    """True when ``n`` people may not be shown as a number."""
    return bool(public and n is not None and 0 < n < threshold)


def person_name(display_name: str | None, consents: bool, can_see_people: bool) -> str | None:
    """The name a slide may give a person: only when they consented to be named and the viewer may see
    person-level detail; None otherwise (public mode included: consent is always required)."""
    if consents and display_name and can_see_people:
        return display_name
    return None


# --- the model -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """One headline number: ``value`` is None when suppressed or undefined; ``text`` is what is shown."""

    key: str
    label: str
    value: float | None
    text: str
    note: str = ""


@dataclass(frozen=True)
class FunnelStage:
    code: str
    name: str
    value: int | None  # None when suppressed
    text: str
    conversion: str  # "72% of Learn", or "" (first tier, or suppressed)


@dataclass(frozen=True)
class Funnel:
    framework: str
    stages: tuple[FunnelStage, ...]


@dataclass(frozen=True)
class MapView:
    """The Capability map for the showcase: PCN areas coloured by coverage, organisations by stage."""

    areas: geo.Areas
    values: dict  # PCN code -> coverage % (None when undefined): the PCNs in scope
    edges: list  # class edges (maps.legend_breaks)
    legend: tuple  # (colour, label) per class
    tips: dict  # PCN code -> three tooltip lines (people counts already suppressed)
    orgs: pd.DataFrame  # measures.org_stages rows (organisations, not people)
    stages: tuple  # (stage, label, colour, organisations)
    size_by: str
    headline: str
    note: str

    def area_fill(self, code: str) -> str:
        """The fill of a PCN area: its class colour, "no data", or the outside-the-filters grey."""
        if code not in self.values:
            return maps.OUTSIDE
        return maps.area_colour(self.values[code], self.edges)


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


@dataclass(frozen=True)
class Team:
    named: tuple[tuple[str, str], ...]  # (name, role in project) of those who may be named
    others: tuple[str, ...]  # roles of the rest (not public); empty in public mode
    others_count: str  # how many are not named ("3", "<5" in public mode, "" when none)
    size: str  # the team's size as it may be shown
    patient_partners: str  # "2 patient partners", "Patients involved", or ""

    def in_words(self) -> str:
        """The team in one line: names, then the rest by role (or counted, in public mode)."""
        parts = [f"{name} ({in_sentence(label(role))})" for name, role in self.named]
        if self.others:
            parts.append(", ".join(self.others))
        elif self.others_count:
            word = "colleague" if self.others_count == "1" else "colleagues"
            parts.append(f"{'and ' if self.named else ''}{self.others_count} {word}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Organisation:
    name: str
    role: str  # lead | partner
    kind: str
    sector: str


@dataclass(frozen=True)
class ProjectSlide:
    code: str
    title: str
    aim: str
    priority: str
    status: str
    lead_organisation: str
    organisations: tuple[Organisation, ...]
    sectors: tuple[str, ...]  # sector labels, lead's first
    cross_boundary: bool
    team: Team
    story: str
    lessons: str
    latest_score: float | None
    score_words: str
    pdsa_cycles: int
    quiet_win: bool  # celebrated for its story: it has one, and no measure shows sustained improvement
    chart: ChartSeries | None  # the measure that tells the story best
    before_after: BeforeAfter | None
    # (name, variation icon, assurance icon, which meaning of improving applies or "")
    other_measures: tuple[tuple[str, str | None, str | None, str], ...]

    @property
    def title_line(self) -> str:
        return f"{self.code} · {self.title}"


@dataclass(frozen=True)
class BoardRow:
    project: str
    title: str
    measure: str
    variation_icon: str | None
    assurance_icon: str | None
    before_after: str
    latest_score: str
    improving: str = ""  # which meaning of improving applies, in words ("" when not improving)


def board_key(board: tuple[BoardRow, ...]) -> tuple[tuple[str, str | None], ...]:
    """The icons a board uses, as ("variation" | "assurance", icon code or None for not assessed), in
    the order of :data:`icons.VARIATION` then :data:`icons.ASSURANCE`: what its key must explain."""
    used_v = {r.variation_icon for r in board}
    used_a = {r.assurance_icon for r in board}
    return tuple(
        [("variation", c) for c in (*icons.VARIATION, None) if c in used_v]
        + [("assurance", c) for c in (*icons.ASSURANCE, None) if c in used_a]
    )


@dataclass(frozen=True)
class Slide:
    kind: str  # numbers | funnel | map | project | board
    title: str
    project: str | None = None


@dataclass(frozen=True)
class Showcase:
    programme: str
    scope_label: str
    as_of: dt.date
    public: bool
    threshold: int
    synthetic: bool
    numbers: tuple[Number, ...]
    funnels: tuple[Funnel, ...]
    map: MapView | None
    projects: tuple[ProjectSlide, ...]
    board: tuple[BoardRow, ...]
    # Built without its map (``with_map=False``) but with one to show: the page draws the map slide
    # from :func:`showcase_map` when it is reached, so opening the showcase does not wait for it.
    map_deferred: bool = False
    # Likewise built without its funnels (``with_funnels=False``) but with someone trained to show
    # on them: :func:`showcase_funnels` draws them when their slide is reached.
    funnels_deferred: bool = False
    # The largest like-for-like impact totals (qidash.views.impact.lines, public mode applied) and how
    # many measures were and were not estimated (docs/impact.md); no slide when there is none.
    impact: tuple = ()
    impact_note: str = ""

    @property
    def subtitle(self) -> str:
        parts = [self.scope_label, f"as of {self.as_of:%d %B %Y}"]
        if self.synthetic:
            parts.append("synthetic demo data")
        return " · ".join(parts)

    @property
    def slides(self) -> list[Slide]:
        """The presentation in order: numbers, funnel, map, one per project, board summary."""
        out = [Slide(KIND_NUMBERS, "The programme in numbers")]
        if self.funnels or self.funnels_deferred:
            out.append(Slide(KIND_FUNNEL, "From learning to leading: the tier funnel"))
        if self.map is not None or self.map_deferred:
            out.append(Slide(KIND_MAP, "Where QI capability has reached"))
        if self.impact:
            out.append(Slide(KIND_IMPACT, IMPACT_TITLE))
        for p in self.projects:
            out.append(Slide(KIND_PROJECT, p.title, p.code))
        out.append(Slide(KIND_BOARD, "Board summary: Making Data Count"))
        return out

    def project(self, code: str) -> ProjectSlide:
        return next(p for p in self.projects if p.code == code)

    @property
    def public_note(self) -> str:
        if not self.public:
            return ""
        return (
            f"Public mode: counts of fewer than {self.threshold} people are shown as "
            f"<{self.threshold}; people are named only with their consent."
        )


# --- choosing projects -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectChoice:
    code: str
    title: str
    latest_score: float | None
    improving: int  # measures improving (DESIGN.md section 4)
    sustained: bool  # a measure improving (DESIGN.md section 4: latest point, or since baseline)
    has_story: bool

    @property
    def quiet_win(self) -> bool:
        return self.has_story and not self.sustained

    def label(self) -> str:
        """ "CODE · title (improving)", the title cut short, for a picker."""
        tag = "improving" if self.sustained else "quiet win" if self.has_story else "no story yet"
        title = self.title if len(self.title) <= 48 else self.title[:46].rstrip() + "…"
        return f"{self.code} · {title} ({tag})"


def _choice_projects(conn: Connection, scope: Scope, as_of: dt.date) -> list[tuple]:
    """(id, code, title, latest progress score or None, story) of every project started by ``as_of``
    in scope, by code. The latest score is :func:`qidash.measures.portfolio_projects`'s.

    The scores are read on their own: joined to the projects, SQLite scanned the whole table of
    latest scores once per project (0.6 s at scale 50, 4,900 projects)."""
    started = measures.projects_started(scope, as_of)
    last_score = measures.latest_scores(as_of, scope)
    scores = dict(conn.execute(select(last_score.c.project_id, last_score.c.score)).all())
    projects = conn.execute(
        select(m.Project.id, m.Project.code, m.Project.title, m.Project.story)
        .where(m.Project.id.in_(started))
        .order_by(m.Project.code)
    ).all()
    return [(pid, code, title, scores.get(pid), story) for pid, code, title, story in projects]


def _measures_by_project(conn: Connection, scope: Scope, as_of: dt.date) -> tuple[dict, dict]:
    """({project id: measures improving}, {project id: any measure improving}) over the measures of the
    projects started by ``as_of`` in scope with data by then, each cut at ``as_of`` (re-analysed when
    the stored analysis runs past it). "Improving" is DESIGN.md section 4's one meaning, stored at load
    (an improvement since the baseline included), so no stored result need be read.
    """
    ma = m.MeasureAnalysis
    started = measures.projects_started(scope, as_of)
    # (measure id, project id, improving, whether its stored analysis runs past as_of), as plain tuples.
    rows = [
        tuple(r)
        for r in conn.execute(
            select(m.Measure.id, m.Measure.project_id, ma.improving, ma.last_period > as_of)
            .join(ma, ma.measure_id == m.Measure.id)
            .where(m.Measure.project_id.in_(started))
        )
    ]
    past = (
        select(*REANALYSIS_COLUMNS)
        .join(ma, ma.measure_id == m.Measure.id)
        .where(m.Measure.project_id.in_(started), ma.last_period > as_of)
    )
    later = (
        reanalysed(conn, [dict(r) for r in conn.execute(past).mappings()], as_of)
        if any(runs_past for *_, runs_past in rows)
        else {}
    )
    improving: dict[int, int] = {}
    kept: dict[int, bool] = {}
    for mid, pid, imp, _ in rows:
        if mid in later:
            again = later[mid]
            if again is None:
                continue  # no observation by the date
            imp = again[1]["improving"]
        improving[pid] = improving.get(pid, 0) + bool(imp)
        kept[pid] = kept.get(pid, False) or bool(imp)
    return improving, kept


def project_choices(conn: Connection, scope: Scope, as_of: dt.date) -> list[ProjectChoice]:
    """Every project started by ``as_of`` in scope, best to celebrate first: those with sustained
    improvement by latest progress score (then measures improving), then quiet wins (a story but no
    improving measure) by score, then the rest."""
    improving, kept = _measures_by_project(conn, scope, as_of)
    choices = [
        ProjectChoice(
            code=code,
            title=title,
            latest_score=score,
            improving=improving.get(pid, 0),
            sustained=kept.get(pid, False),
            has_story=bool((story or "").strip()),
        )
        for pid, code, title, score, story in _choice_projects(conn, scope, as_of)
    ]

    def order(c: ProjectChoice):
        group = 0 if c.sustained else 1 if c.has_story else 2
        return (group, -(c.latest_score or 0), -c.improving, c.code)

    return sorted(choices, key=order)


def suggested_codes(choices: list[ProjectChoice]) -> tuple[str, ...]:
    """What the showcase starts with: the best few with sustained improvement and a couple of quiet wins."""
    best = [c.code for c in choices if c.sustained][:SUGGEST_IMPROVING]
    quiet = [c.code for c in choices if c.quiet_win][:SUGGEST_QUIET]
    return tuple(best + quiet)


# --- building the slides ------------------------------------------------------------------------------------


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


def _story_measure(measures_: list[dict]) -> dict | None:
    """The measure whose chart tells the project's story: sustained improvement first (an outcome
    before a process measure), then any outcome measure, then the first."""
    if not measures_:
        return None

    def rank(mm: dict):
        kept = mm["improving"]
        icon = (mm["variation_icon"] or "").startswith("improvement")
        return (not kept, not icon, mm["kind"] != "outcome", mm["kind"] == "balancing", mm["code"])

    return min(measures_, key=rank)


def _team(
    rows: list[tuple], public: bool, can_see_people: bool, threshold: int, patient_involvement: bool
) -> Team:
    """The team of a slide from :func:`qidash.views.project.team_rows_by_project` rows."""
    rows = [r[:5] for r in rows]
    order = {"lead": 0, "member": 1, "coach": 2, "sponsor": 3}
    rows = sorted(rows, key=lambda r: (order.get(r[0], 9), r[1] or "", r[3] or ""))
    named, others = [], []
    for project_role, display, consents, job, patient in rows:
        name = person_name(display, bool(consents), can_see_people)
        if name:
            named.append((name, project_role))
        else:
            others.append("Patient partner" if patient else label(job) if job else label(project_role))
    patients = sum(1 for r in rows if r[4])
    if patients:
        word = (
            "patient partner"
            if patients == 1 and not suppressed(patients, public, threshold)
            else "patient partners"
        )
        partners = f"{people_count(patients, public, threshold)} {word}"
    else:
        partners = "Patients involved" if patient_involvement else ""
    return Team(
        named=tuple(named),
        others=() if public else tuple(others),
        others_count=people_count(len(others), public, threshold) if others else "",
        # With the named people listed, the team's size would give away a suppressed count of the rest.
        size="" if suppressed(len(others), public, threshold) else people_count(len(rows), public, threshold),
        patient_partners=partners,
    )


def project_slides(
    conn: Connection,
    codes: tuple[str, ...],
    as_of: dt.date,
    public: bool,
    can_see_people: bool,
    threshold: int,
) -> tuple[ProjectSlide, ...]:
    """The slides of projects ``codes``, in that order (unknown codes left out), read for all of them
    at once: a few queries whatever the number of projects."""
    abouts = project_view.about_rows(conn, codes, as_of)
    ids = [a["id"] for a in abouts.values()]
    organisations = project_view.organisation_rows(conn, ids)
    teams = project_view.team_rows_by_project(conn, ids)
    scores = project_view.score_rows(conn, ids, as_of)
    changes = project_view.change_rows(conn, ids, as_of)
    charts = project_view.measure_charts_by_project(conn, ids, as_of, changes)
    slides = []
    for code in codes:
        about = abouts.get(code)
        if about is None:
            continue
        pid = about["id"]
        orgs = organisations[pid]
        measures_ = charts[pid]
        story_measure = _story_measure(measures_)
        chart = chart_series(story_measure) if story_measure else None
        story = (about["story"] or "").strip()
        quiet = bool(story) and not any(mm["improving"] for mm in measures_)
        shown = tuple(
            Organisation(name, role, label(kind), label(sector)) for role, name, _, kind, sector, _ in orgs
        )
        latest = float(scores[pid][-1][1]) if scores[pid] else None
        # Two or more sectors or kinds of organisation (unknown ones not counted), as the Project page.
        spans = any(len({o[i] for o in orgs if o[i] is not None}) > 1 for i in (3, 4))
        slides.append(
            ProjectSlide(
                code=about["code"],
                title=about["title"],
                aim=about["aim"] or "",
                priority=about["priority_name"],
                status=label(about["status"]),
                lead_organisation=about["lead_organisation"],
                organisations=shown,
                sectors=tuple(dict.fromkeys(o.sector for o in shown)),
                cross_boundary=spans,
                team=_team(teams[pid], public, can_see_people, threshold, bool(about["patient_involvement"])),
                story=story,
                lessons=(about["lessons"] or "").strip(),
                latest_score=latest,
                score_words=spc_charts.IHI_SCORES.get(latest, "") if latest is not None else "No score yet",
                pdsa_cycles=sum(1 for c in changes[pid] if c[2] == "pdsa"),
                quiet_win=quiet,
                chart=chart,
                before_after=before_after(chart, story_measure["changes"]) if chart else None,
                other_measures=tuple(
                    (mm["name"], mm["variation_icon"], mm["assurance_icon"], mm["improving_reason"] or "")
                    for mm in measures_
                    if story_measure is None or mm["code"] != story_measure["code"]
                ),
            )
        )
    return tuple(slides)


def project_slide(
    conn: Connection, code: str, as_of: dt.date, public: bool, can_see_people: bool, threshold: int
) -> ProjectSlide | None:
    """One project's slide (None when the project is unknown)."""
    slides = project_slides(conn, (code,), as_of, public, can_see_people, threshold)
    return slides[0] if slides else None


def _numbers(report: dict, split: dict, public: bool, threshold: int) -> tuple[Number, ...]:
    def count(key, name, n, note=""):
        shown = people_count(n, public, threshold)
        return Number(key, name, None if suppressed(n, public, threshold) else n, shown, note)

    trained = report["people_trained"]
    parts_hidden = any(suppressed(split[k], public, threshold) for k in ("staff", "patients"))
    if split["patients"] and not parts_hidden:
        split_note = (
            f"{people_count(split['staff'], public, threshold)} staff · "
            f"{people_count(split['patients'], public, threshold)} patients"
        )
    elif split["patients"]:
        split_note = "staff and patients"
    else:
        split_note = "staff"
    orgs = f"{fmt_int(report['orgs_trained'])} of {fmt_int(report['orgs_in_scope'])}"
    projects = sum(report["projects_by_priority"].values())
    reach = report["reach_vs_target"]
    out = [
        count("people_trained", "People trained in QI", trained, split_note),
        Number(
            "orgs_trained",
            "Organisations trained",
            report["orgs_trained"],
            orgs,
            f"with someone trained in post · coverage {fmt_pct(report['coverage_pct'])}",
        ),
        Number(
            "projects",
            "QI projects",
            projects,
            fmt_int(projects),
            f"{fmt_int(report['projects_active'])} active · {fmt_int(report['projects_completed'])} "
            "completed",
        ),
        Number(
            "projects_improving",
            "Projects showing improvement",
            report["projects_improving"],
            fmt_int(report["projects_improving"]),
            "improvement at the latest point, or since the baseline",
        ),
        Number(
            "projects_cross_boundary",
            "Projects across organisations",
            report["projects_cross_boundary"],
            fmt_int(report["projects_cross_boundary"]),
            "spanning sectors or kinds of organisation",
        ),
        Number(
            "projects_with_patient_partner",
            "Projects with patients involved",
            report["projects_with_patient_partner"],
            fmt_int(report["projects_with_patient_partner"]),
        ),
        Number(
            "projects_progress_ge_4",
            "Projects scoring 4.0 or more",
            report["projects_progress_ge_4"],
            fmt_int(report["projects_progress_ge_4"]),
            "significant or sustained improvement (IHI scale)",
        ),
    ]
    if reach.get("target_value") is not None:
        hidden = suppressed(reach["people_trained"], public, threshold)
        verdict = "on track" if reach["on_track"] else "behind the target"
        due = dt.date.fromisoformat(reach["due_on"])
        note = f"by {due:%d %b %Y}" + (
            "" if hidden else f": projected {fmt_int(reach['projected_at_due'])}, {verdict}"
        )
        out.append(
            Number(
                "reach_vs_target",
                "Reach against target",
                None if hidden else reach["people_trained"],
                f"{people_count(reach['people_trained'], public, threshold)} / "
                f"{fmt_int(reach['target_value'])}",
                note,
            )
        )
    else:
        share = report["local_faculty_share"]
        out.append(
            Number(
                "local_faculty_share",
                "Cohorts taught by local faculty",
                None if share is None else share * 100,
                "–" if share is None else f"{share * 100:.0f}%",
                "self-sustainability",
            )
        )
    return tuple(out)


def _funnels(conn: Connection, report: dict, public: bool, threshold: int) -> tuple[Funnel, ...]:
    out = []
    for ladder in catalog.frameworks(conn):
        stages = []
        tiers = ladder["tiers"]
        for i, tier in enumerate(tiers):
            n = report["people_by_tier"].get(tier["code"], 0)
            conversion = ""
            if i:
                prev = tiers[i - 1]
                before = report["people_by_tier"].get(prev["code"], 0)
                step = report["tier_conversion"].get(f"{prev['code']}->{tier['code']}") or {}
                ratio = step.get("ratio")
                if ratio is not None and not (
                    suppressed(n, public, threshold) or suppressed(before, public, threshold)
                ):
                    conversion = f"{ratio * 100:.0f}% of {prev['name']}"
            stages.append(
                FunnelStage(
                    tier["code"],
                    tier["name"],
                    None if suppressed(n, public, threshold) else n,
                    people_count(n, public, threshold),
                    conversion,
                )
            )
        if any(s.value for s in stages) or any(s.text.startswith("<") for s in stages):
            out.append(Funnel(ladder["name"], tuple(stages)))
    return tuple(out)


def showcase_funnels(
    conn: Connection, scope: Scope, as_of: dt.date, public: bool, threshold: int = SUPPRESS_BELOW
) -> tuple[Funnel, ...]:
    """The funnel slide alone: a funnel per framework with someone on it (none when nobody is trained)."""
    return _funnels(conn, measures.report(conn, scope, as_of, FUNNEL_KEYS), public, threshold)


def _map_to_draw(conn: Connection, scope: Scope) -> bool:
    """Whether :func:`showcase_map` has something to draw for ``scope``, without building it: an
    organisation in scope with a location, or organisations in scope and a boundary file."""
    located = select(m.Organisation.id).where(*scope.org_conditions())
    if geo.boundary_stamp() == "none":
        located = located.where(m.Organisation.latitude.is_not(None), m.Organisation.longitude.is_not(None))
    return conn.execute(located.limit(1)).first() is not None


def showcase_map(
    conn: Connection, scope: Scope, as_of: dt.date, public: bool, threshold: int = SUPPRESS_BELOW
) -> MapView | None:
    """The map slide alone (None when there is nothing to draw)."""
    view = capability_map_data(conn, scope, as_of, with_gaps=False)
    areas = geo.within_area(geo.pcn_areas(conn, geo.boundary_stamp()), scope)  # a lead sees only their area
    if view.orgs.empty or (not areas.pcns and view.orgs[["latitude", "longitude"]].dropna().empty):
        return None
    values = {}
    tips = {}
    for r in view.by_pcn.to_dict("records") if len(view.by_pcn) else []:
        v = r.get("coverage_pct")
        values[r["pcn"]] = None if v is None or pd.isna(v) else float(v)
        tips[r["pcn"]] = (
            (
                f"Coverage {fmt_pct(values[r['pcn']])}: {fmt_int(r['orgs_trained'])} of "
                f"{fmt_int(r['orgs_in_scope'])} organisations trained"
            ),
            f"People trained {people_count(r.get('people_trained'), public, threshold)}",
            f"Projects active {fmt_int(r.get('projects_active'))}",
        )
    edges = maps.legend_breaks(values.values(), percent=True)
    legend = tuple((c, f"{t}%") for c, t in maps.legend(edges, False))
    stages = tuple((s, maps.STAGE_LABELS[s], maps.STAGE_COLOURS[s], n) for s, n in view.stage_counts.items())
    counts = view.counts
    headline = (
        f"{fmt_int(counts['trained'])} of {fmt_int(counts['orgs'])} organisations have someone trained "
        f"still in post; {fmt_int(view.stage_counts['with_project'])} have an active project."
    )
    note = (
        "PCN areas are drawn around member organisations, not official boundaries."
        if areas.source == "derived"
        else ""
    )
    orgs = view.orgs
    if public:  # the map's tooltips give each organisation's people trained in post
        hidden = [None if suppressed(int(n), public, threshold) else int(n) for n in orgs["trained_in_post"]]
        orgs = orgs.assign(trained_in_post=pd.Series(hidden, index=orgs.index, dtype=object))
    with_beds = orgs["beds"].notna().sum()
    return MapView(
        areas=areas,
        values=values,
        edges=edges,
        legend=legend,
        tips=tips,
        orgs=orgs,
        stages=stages,
        size_by="beds" if with_beds * 2 > len(view.orgs) else "staff_headcount",
        headline=headline,
        note=note,
    )


def _board(projects: tuple[ProjectSlide, ...], conn: Connection, as_of: dt.date) -> tuple[BoardRow, ...]:
    rows = []
    for p in projects:
        score = "–" if p.latest_score is None else f"{p.latest_score:.1f}"
        if p.chart:
            ba = p.before_after
            rows.append(
                BoardRow(
                    p.code,
                    p.title,
                    p.chart.name,
                    p.chart.variation_icon,
                    p.chart.assurance_icon,
                    f"{ba.before_text} → {ba.after_text}"
                    + (f" ({ba.verdict})" if ba.better is not None else "")
                    if ba
                    else "–",
                    score,
                    p.chart.improving_reason or "",
                )
            )
        for name, variation, assurance, improving in p.other_measures:
            rows.append(BoardRow(p.code, p.title, name, variation, assurance, "", score, improving))
        if not p.chart and not p.other_measures:
            rows.append(BoardRow(p.code, p.title, "No measure with data yet", None, None, "", score))
    return tuple(rows)


def showcase_data(
    conn: Connection,
    scope: Scope,
    as_of: dt.date,
    projects: tuple[str, ...] | None = None,
    public: bool = False,
    can_see_people: bool = True,
    threshold: int = SUPPRESS_BELOW,
    with_map: bool = True,
    with_funnels: bool = True,
) -> Showcase:
    """The whole showcase for a scope and date. ``projects``: codes in the order to present them (None:
    the suggestions of :func:`suggested_codes`); codes not in :func:`project_choices` are skipped (the
    page and the command check them first and say so). ``with_map=False`` leaves the map to
    :func:`showcase_map` (``map_deferred`` says whether there is one), ``with_funnels=False`` the
    funnels to :func:`showcase_funnels` (``funnels_deferred`` says whether there are any)."""
    if projects is None:
        codes = suggested_codes(project_choices(conn, scope, as_of))
    else:
        # project_choices lists the projects started by as_of in scope; checking a code needs no ranking.
        known = set(
            conn.scalars(
                select(m.Project.code).where(
                    m.Project.code.in_(list(projects)),
                    m.Project.id.in_(measures.projects_started(scope, as_of)),
                )
            )
        )
        codes = tuple(c for c in projects if c in known)
    report = measures.report(conn, scope, as_of, REPORT_KEYS if with_funnels else NUMBER_KEYS)
    split = measures.people_trained_split(conn, scope, as_of)
    slides = project_slides(conn, codes, as_of, public, can_see_people, threshold)
    estimated = impact.impact_report(conn, scope, as_of)
    return Showcase(
        programme=db.get_setting(conn, "scenario_title") or "QI capability",
        scope_label=scope.label(),
        as_of=as_of,
        public=public,
        threshold=threshold,
        synthetic=db.get_setting(conn, "demo") == "yes",
        numbers=_numbers(report, split, public, threshold),
        funnels=_funnels(conn, report, public, threshold) if with_funnels else (),
        map=showcase_map(conn, scope, as_of, public, threshold) if with_map else None,
        projects=slides,
        board=_board(slides, conn, as_of),
        map_deferred=not with_map and _map_to_draw(conn, scope),
        # A framework's funnel shows when someone reached one of its tiers: someone was trained.
        funnels_deferred=not with_funnels and report["people_trained"] > 0,
        impact=impact_view.lines(estimated.totals, public, threshold),
        impact_note=impact_view.not_estimated_note(estimated),
    )
