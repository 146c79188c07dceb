"""Text alternatives for the Showcase's charts and map (WCAG 1.1.1): for each, a one-line summary in
words and the numbers behind it as a table, both read from the same story model the slide draws, so
public mode's "<5" and the chosen comparisons hold in words too. Names in the summaries are imported
text: the page shows them through ``markdown_literal``."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from qidash import summaries
from qidash.maps import STAGE_LABELS
from qidash.palette import fmt_pct
from qidash.views.showcase.funnel import Funnel
from qidash.views.showcase.map_slide import MapView
from qidash.views.showcase.project_chart import BeforeAfter, ChartSeries


def _month(iso: str) -> str:
    return dt.date.fromisoformat(iso[:10]).strftime("%b %Y")


def funnel(f: Funnel) -> tuple[str, pd.DataFrame]:
    """A framework's funnel: how many reached its first tier, and how many of them its last (the share
    only when neither count is suppressed). The table is the stages as shown on the slide."""
    table = pd.DataFrame(
        {
            "Tier": [s.name for s in f.stages],
            "Reached this tier or beyond": [s.text for s in f.stages],
            "Of the tier before": [s.conversion or "–" for s in f.stages],
        }
    )
    if not f.stages:
        return f"Nobody is on {f.framework}.", table
    first, last = f.stages[0], f.stages[-1]
    text = f"{first.text} people reached {first.name} or beyond"
    if len(f.stages) > 1:
        text += f"; {last.text} reached {last.name}"
        if first.value and last.value is not None:
            text += f" ({fmt_pct(100 * last.value / first.value)} of them)"
    return text + ".", table


def _median_moved(ba: BeforeAfter) -> str:
    before = f"{ba.before_text} ({ba.before_label.lower()})"
    split = f" “{ba.change}”" if ba.change else ""
    after = f"{ba.after_text} ({ba.after_label.lower()}{split})"
    if ba.after == ba.before:
        return f"the median stayed at {ba.after_text}, {ba.before_label.lower()} and {ba.after_label.lower()}"
    verb = "rose" if ba.after > ba.before else "fell"
    text = f"the median {verb} from {before} to {after}"
    if ba.moved:
        text += f", {ba.moved}"
    if ba.better is not None:
        text += f": {ba.verdict}"
    return text


def project_chart(ch: ChartSeries, ba: BeforeAfter | None) -> tuple[str, pd.DataFrame]:
    """A project's chart: its span, how its median moved (or its latest point when there is nothing to
    compare; the change it is split at named), the PDSA cycles and changes marked, and which meaning of
    improving applies. The table is every line the chart draws, per period, with the numbers of the cycles
    and changes marked in it."""
    table = pd.DataFrame({"Period": [_month(p) for p in ch.periods]})
    for name, values in ch.lines().items():
        table[name] = pd.array([None if v is None else round(v, 3) for v in values], dtype="Float64")
    for kind, title in (("pdsa", "PDSA cycles"), ("change", "Changes adopted")):
        marks = ch.marks(kind)
        if any(marks):
            table[title] = [m or "" for m in marks]
    points = [(p, v) for p, v in zip(ch.periods, ch.values, strict=True) if v is not None]
    if not points:
        return f"{ch.name}: no points yet.", table
    (first, _), (last, latest) = points[0], points[-1]
    span = _month(first) if _month(first) == _month(last) else f"{_month(first)} to {_month(last)}"
    word = "point" if len(points) == 1 else "points"
    text = f"{ch.name}: {len(points)} {word} from {span}; "
    text += _median_moved(ba) if ba else f"the latest is {ch.fmt(latest)}"
    counts = {kind: sum(1 for a in ch.annotations if a.kind == kind) for kind in ("pdsa", "change")}
    marked = [
        f"{n} {'PDSA cycle' if kind == 'pdsa' else 'change'}{'' if n == 1 else 's'}"
        for kind, n in counts.items()
        if n
    ]
    if marked:
        text += f"; {' and '.join(marked)} marked"
    if ch.improving_reason:
        text += f". Improving: {ch.improving_reason}"
    return text + ".", table


def map_slide(mv: MapView) -> tuple[str, pd.DataFrame]:
    """The map: organisations at each stage (the points' colours, in words) and the PCNs with the lowest
    and highest coverage (the areas' colours). The table is the numbers per PCN, people counts as they
    may be shown."""
    table = pd.DataFrame(
        [
            (name, fmt_pct(coverage), trained, orgs, people, projects)
            for name, coverage, trained, orgs, people, projects in mv.pcn_rows
        ],
        columns=[
            "PCN",
            "Coverage",
            "Organisations trained",
            "Organisations",
            "People trained",
            "Projects active",
        ],
    )
    by_pcn = pd.DataFrame(
        {
            "name": [r[0] for r in mv.pcn_rows],
            "coverage_pct": pd.array([r[1] for r in mv.pcn_rows], dtype="Float64"),
        }
    )
    stage_counts = {stage: n for stage, _label, _colour, n in mv.stages}
    text = summaries.capability_map(stage_counts, STAGE_LABELS, by_pcn, "coverage_pct", "Coverage")
    return text, table
