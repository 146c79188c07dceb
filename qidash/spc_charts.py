"""Pure plotly builders for the Portfolio and Project pages: the run / SPC chart, its small multiple,
the progress-score history and the portfolio's priority and score bars.

Charts are drawn from a stored engine result (``SpcResult.to_dict()`` plus ``"periods"``, as kept in
``measure_analysis.result``), never by running the engine again. Point colours follow the point's
type (docs/spc-rules.md), as the engine classified it (:func:`qidash.spc.point_types`, for
every rule set): improvement blue, concern orange, no preferred direction purple, common cause grey.
The charts only colour what the engine decided, so every chart and icon speaks the same Making Data
Count language.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from qidash import spc
from qidash.icons import MID_GREY, PURPLE
from qidash.palette import (
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_GREEN,
    NHS_GREY,
    NHS_LIGHT_BLUE,
    NHS_ORANGE,
    NHS_PALE_GREY,
)
from qidash.spc import COMMON, CONCERN, IMPROVEMENT, NEUTRAL_HIGH, NEUTRAL_LOW, POINT_TYPES, point_types
from qidash.text import plotly_literal, plotly_literals

FONT = dict(family="Arial, Helvetica, sans-serif", size=13, color="#212B32")
LIMIT_GREY = "#9AA8B2"

POINT_COLOURS = {
    COMMON: MID_GREY,
    IMPROVEMENT: NHS_BLUE,
    CONCERN: NHS_ORANGE,
    NEUTRAL_HIGH: PURPLE,
    NEUTRAL_LOW: PURPLE,
}
POINT_LABELS = {
    COMMON: "Common cause",
    IMPROVEMENT: "Special cause: improvement",
    CONCERN: "Special cause: concern",
    NEUTRAL_HIGH: "Special cause: high (no direction)",
    NEUTRAL_LOW: "Special cause: low (no direction)",
}
CHANGE_STYLE = {  # change kind -> (legend name, marker symbol, colour)
    "pdsa": ("PDSA cycle", "triangle-down", NHS_DARK_BLUE),
    "change": ("Change", "diamond", NHS_GREEN),
    "rebase": ("Rebase (new phase)", "square", NHS_GREY),
}

# The IHI progress scale (0.5-5.0), in the words teams score themselves with.
IHI_SCORES = {
    0.5: "Intent to participate",
    1.0: "Charter and team established",
    1.5: "Planning for the project begun",
    2.0: "Activity, but no changes",
    2.5: "Changes tested, no improvement",
    3.0: "Modest improvement",
    3.5: "Improvement",
    4.0: "Significant improvement",
    4.5: "Sustainable improvement",
    5.0: "Outstanding sustainable results",
}
SCORE_BANDS = (  # (label, lowest score in band, colour); projects with no score form their own band
    ("0.5–1.5 getting started", 0.5, "#AEB7BD"),
    ("2.0–2.5 testing changes", 2.0, NHS_LIGHT_BLUE),
    ("3.0–3.5 improving", 3.0, NHS_BLUE),
    ("4.0–5.0 significant or sustained", 4.0, NHS_DARK_BLUE),
)
NO_SCORE = ("No score yet", NHS_PALE_GREY)


# --- units ---------------------------------------------------------------------------------------------


def scale_of(kind: str) -> float:
    """p charts hold proportions and are shown as percentages."""
    return 100.0 if kind == "p" else 1.0


def shown_target(kind: str, target: float | None) -> float | None:
    """The target on the chart's scale (a p-chart target given as a proportion is shown in %)."""
    if target is None:
        return None
    return target * 100 if kind == "p" and target <= 1 else target


def value_title(kind: str, unit: str | None) -> str:
    """The y-axis title: % for p charts, the unit ("per 1,000 bed days") otherwise."""
    if kind == "p":
        return "%"
    if kind == "u":
        return unit if unit and unit.startswith("per") else f"per {unit}" if unit else "per unit"
    return unit or ("count" if kind == "c" else "value")


def format_value(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "p":
        return f"{value:.1f}%"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def phase_change(result: dict) -> dict | None:
    """:func:`qidash.spc.phase_change` on the chart's scale (percentages for p charts)."""
    moved = spc.phase_change(result)
    if moved is None:
        return None
    s = scale_of(result.get("kind") or "run")
    return moved | {"first": moved["first"] * s, "last": moved["last"] * s}


def chart_data(result: dict) -> pd.DataFrame:
    """The data behind a chart, one row per period: period, value, denominator, y, cl, lcl, ucl, point_type.

    ``y`` and the lines are on the engine's scale (proportions for p charts).
    """
    n = len(result["y"])
    dens = result.get("denominators") or [None] * n
    return pd.DataFrame(
        {
            "period": result.get("periods") or [None] * n,
            "value": result.get("values") or [None] * n,
            "denominator": dens,
            "y": result["y"],
            "cl": result["cl"],
            "lcl": result["lcl"],
            "ucl": result["ucl"],
            "point_type": point_types(result),
        }
    )


# --- the chart -------------------------------------------------------------------------------------------


def _scaled(values: list, s: float) -> list:
    return [None if v is None else v * s for v in values]


def _layout_spec(height: int, **kw) -> dict:
    """The layout every chart here shares, with ``kw`` on top."""
    return {"height": height, "font": FONT, "plot_bgcolor": "white", "paper_bgcolor": "white", **kw}


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(**_layout_spec(height, **kw))
    return fig


def _figure(traces: list, height: int, **kw) -> go.Figure:
    """A figure given its layout as it is made: plotly checks each property once, where building it
    and then updating the layout checks the whole layout again (several times slower)."""
    return go.Figure(data=traces, layout=_layout_spec(height, **kw))


def _value_range(*series: list, headroom: float = 0.0) -> list[float] | None:
    values = [v for s in series for v in s if v is not None and math.isfinite(v)]
    if not values:
        return None
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(hi) or 1.0
    return [lo - 0.06 * span, hi + (0.06 + headroom) * span]


def _line(x, y, name, colour, dash=None, width=1.5, shape="linear", showlegend=True, group=None, hover=True):
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        name=name,
        legendgroup=group or name,
        showlegend=showlegend,
        line=dict(color=colour, width=width, dash=dash, shape=shape),
        hoverinfo="skip" if not hover else None,
        hovertemplate=None if not hover else f"{name}: %{{y:.3g}}<extra></extra>",
    )


def spc_chart(
    result: dict,
    *,
    changes: list[dict] | None = None,
    target: float | None = None,
    unit: str | None = None,
    height: int = 420,
    suggestion: dict | None = None,
    impact: dict | None = None,
) -> go.Figure:
    """The run or control chart of one measure from its stored result.

    Centre line (median on run charts) and limits are drawn per phase, as separate segments, with a
    dotted vertical line where a new phase starts. Points are coloured by type (:func:`point_types`).
    ``changes`` (dicts with ``day``, ``title``, ``kind`` pdsa | change | rebase) are markers along the
    top of the chart with their titles on hover, one marker per change. ``target`` is a dashed line.
    ``suggestion`` (:func:`qidash.analysis.suggested_recalculation`) is drawn as a proposal: a dashed
    line where the suggested phase would start and a pale band over it, nothing recalculated.
    ``impact`` (``start``, ``baseline``, ``later`` on the engine's scale, and ``words``: the estimate
    of :func:`qidash.impact.benefit` in words) shades the gap between the baseline's centre line and
    the later phase's over that phase, labelled with the estimate and its range.
    """
    kind = result.get("kind") or "run"
    s = scale_of(kind)
    x = list(result.get("periods") or range(len(result["y"])))
    y = _scaled(result["y"], s)
    cl, lcl, ucl = _scaled(result["cl"], s), _scaled(result["lcl"], s), _scaled(result["ucl"], s)
    types = point_types(result)
    bounds = spc.phase_bounds(result.get("phases"), len(y))
    centre_name = "Median" if kind == "run" else "Mean" if kind == "xmr" else "Centre line"
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            name="Data",
            showlegend=False,
            hoverinfo="skip",
            line=dict(color=MID_GREY, width=1.5),
            connectgaps=True,
        )
    )
    # Limits that vary with the denominator are steps; dashes would break them into noise.
    limit_shape, limit_dash = ("hvh", None) if kind in ("p", "u") else ("linear", "dash")
    for k, (a, b) in enumerate(bounds):
        phase = f" (phase {k + 1})" if len(bounds) > 1 else ""
        fig.add_trace(_line(x[a:b], cl[a:b], centre_name, NHS_GREY, showlegend=k == 0, group="cl", width=2))
        fig.data[-1].hovertemplate = f"{centre_name}{phase}: %{{y:.3g}}<extra></extra>"
        for name, line in (("Upper limit", ucl), ("Lower limit", lcl)):
            if any(v is not None for v in line[a:b]):
                fig.add_trace(
                    _line(
                        x[a:b],
                        line[a:b],
                        "Control limits",
                        LIMIT_GREY,
                        dash=limit_dash,
                        width=1.2,
                        shape=limit_shape,
                        showlegend=k == 0 and name == "Upper limit",
                        group="limits",
                    )
                )
                fig.data[-1].hovertemplate = f"{name}{phase}: %{{y:.3g}}<extra></extra>"
    shown = shown_target(kind, target)
    if shown is not None and x:
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[shown, shown],
                mode="lines",
                name=f"Target {format_value(shown, kind)}",
                line=dict(color=NHS_GREEN, width=2, dash="dash"),
                hoverinfo="skip",
            )
        )
    for t in POINT_TYPES:
        idx = [i for i, v in enumerate(types) if v == t]
        if not idx:
            continue
        fig.add_trace(
            go.Scatter(
                x=[x[i] for i in idx],
                y=[y[i] for i in idx],
                mode="markers",
                name=POINT_LABELS[t],
                marker=dict(
                    color=POINT_COLOURS[t], size=7 if t == COMMON else 9, line=dict(color="white", width=1)
                ),
                hovertemplate="%{x|%b %Y}: %{y:.3g}"
                + ("%" if kind == "p" else "")
                + f"<extra>{POINT_LABELS[t]}</extra>",
            )
        )
    changes = list(changes or [])
    for change_kind, (name, symbol, colour) in CHANGE_STYLE.items():
        mine = [c for c in changes if (c.get("kind") or "pdsa") == change_kind]
        if not mine:
            continue
        fig.add_trace(
            go.Scatter(
                x=[str(c["day"]) for c in mine],
                y=[0.965] * len(mine),
                yaxis="y2",
                mode="markers",
                name=name,
                marker=dict(symbol=symbol, size=11, color=colour, line=dict(color="white", width=1)),
                customdata=plotly_literals(c["title"] for c in mine),
                hovertemplate=f"<b>{name}</b> %{{x|%d %b %Y}}<br>%{{customdata}}<extra></extra>",
            )
        )
    shapes = [
        dict(
            type="line",
            xref="x",
            yref="paper",
            x0=x[a],
            x1=x[a],
            y0=0,
            y1=0.92,
            line=dict(color=NHS_GREY, width=1.5, dash="dot"),
        )
        for a, _ in bounds[1:]
    ]
    annotations = [
        dict(
            x=x[a],
            y=0.92,
            xref="x",
            yref="paper",
            text=f"Phase {k + 2}",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font=dict(size=11, color=NHS_GREY),
        )
        for k, (a, _) in enumerate(bounds[1:])
    ]
    if suggestion is not None and x:
        start = x[suggestion["start"]]
        end = x[next((b for a, b in bounds if a <= suggestion["start"] < b), len(x)) - 1]
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=start, x1=end, y0=0, y1=0.92,
                           fillcolor=NHS_LIGHT_BLUE, opacity=0.12, line=dict(width=0), layer="below"))
        shapes.append(dict(type="line", xref="x", yref="paper", x0=start, x1=start, y0=0, y1=0.92,
                           line=dict(color=NHS_DARK_BLUE, width=2, dash="dash")))
        annotations.append(dict(x=start, y=0.86, xref="x", yref="paper", text="Suggested new phase",
                                showarrow=False, xanchor="left", yanchor="top",
                                font=dict(size=11, color=NHS_DARK_BLUE)))
    if impact is not None and x:
        start, end = x[impact["start"]], x[-1]
        low, high = sorted((impact["baseline"] * s, impact["later"] * s))
        shapes.append(dict(type="rect", xref="x", yref="y", x0=start, x1=end, y0=low, y1=high,
                           fillcolor=NHS_GREEN, opacity=0.18, line=dict(width=0), layer="below"))
        shapes.append(dict(type="line", xref="x", yref="y", x0=start, x1=end, y0=impact["baseline"] * s,
                           y1=impact["baseline"] * s, line=dict(color=NHS_GREY, width=1.5, dash="dot")))
        annotations.append(dict(x=start, y=impact["baseline"] * s, xref="x", yref="y",
                                text=plotly_literal(impact["words"]), showarrow=False, xanchor="left",
                                yanchor="bottom" if impact["later"] < impact["baseline"] else "top",
                                font=dict(size=12, color=NHS_DARK_BLUE), bgcolor="rgba(255,255,255,0.8)"))
    value_range = _value_range(
        y, cl, lcl, ucl, [shown] if shown is not None else [], headroom=0.16 if changes else 0
    )
    _layout(
        fig,
        height,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0),
        shapes=shapes,
        annotations=annotations,
        yaxis=dict(title=plotly_literal(value_title(kind, unit)), gridcolor=NHS_PALE_GREY, zeroline=False, range=value_range),
        yaxis2=dict(overlaying="y", range=[0, 1], visible=False, fixedrange=True),
        xaxis=dict(showgrid=False, linecolor=NHS_PALE_GREY),
        hovermode="closest",
    )
    return fig


def small_multiple(result: dict, *, target: float | None = None, height: int = 170) -> go.Figure:
    """A compact chart for the portfolio grid: data, centre line and limits per phase, points by type."""
    kind = result.get("kind") or "run"
    s = scale_of(kind)
    x = list(result.get("periods") or range(len(result["y"])))
    y = _scaled(result["y"], s)
    types = point_types(result)
    bounds = spc.phase_bounds(result.get("phases"), len(y))

    def gapped(values: list) -> tuple[list, list]:
        # One trace per line, with a gap between phases, keeps the figure small and fast.
        gx, gy = [], []
        for a, b in bounds:
            if gx:
                gx.append(None)
                gy.append(None)
            gx.extend(x[a:b])
            gy.extend(values[a:b])
        return gx, gy

    traces = []
    for values, colour, dash in (
        (result["cl"], NHS_GREY, None),
        (result["ucl"], LIMIT_GREY, "dash"),
        (result["lcl"], LIMIT_GREY, "dash"),
    ):
        if any(v is not None for v in values):
            gx, gy = gapped(_scaled(values, s))
            stepped = dash is not None and kind in ("p", "u")
            traces.append(
                go.Scatter(
                    x=gx,
                    y=gy,
                    mode="lines",
                    hoverinfo="skip",
                    connectgaps=False,
                    line=dict(
                        color=colour,
                        width=1,
                        dash=None if stepped else dash,
                        shape="hvh" if stepped else "linear",
                    ),
                )
            )
    shown = shown_target(kind, target)
    if shown is not None and x:
        traces.append(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[shown, shown],
                mode="lines",
                hoverinfo="skip",
                line=dict(color=NHS_GREEN, width=1.2, dash="dot"),
            )
        )
    colours = [POINT_COLOURS.get(t, MID_GREY) for t in types]
    sizes = [4 if t in (COMMON, None) else 6 for t in types]
    traces.append(
        go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            line=dict(color=MID_GREY, width=1),
            marker=dict(color=colours, size=sizes),
            hovertemplate="%{x|%b %Y}: %{y:.3g}" + ("%" if kind == "p" else "") + "<extra></extra>",
        )
    )
    shapes = [
        dict(
            type="line",
            xref="x",
            yref="paper",
            x0=x[a],
            x1=x[a],
            y0=0,
            y1=1,
            line=dict(color=NHS_GREY, width=1, dash="dot"),
        )
        for a, _ in bounds[1:]
    ]
    return _figure(
        traces,
        height,
        margin=dict(l=0, r=0, t=4, b=0),
        showlegend=False,
        shapes=shapes,
        font=dict(FONT, size=10),
        xaxis=dict(showgrid=False, nticks=4, tickformat="%b %y", linecolor=NHS_PALE_GREY),
        yaxis=dict(nticks=4, gridcolor=NHS_PALE_GREY, zeroline=False, ticksuffix="%" if kind == "p" else ""),
    )


# --- progress scores and the portfolio -------------------------------------------------------------------


def score_band(score: float | None) -> str:
    """The band a latest IHI progress score falls in (:data:`SCORE_BANDS`), or "No score yet"."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return NO_SCORE[0]
    band = SCORE_BANDS[0][0]
    for name, low, _ in SCORE_BANDS:
        if score >= low:
            band = name
    return band


def progress_history(scores: pd.DataFrame, as_of=None, height: int = 340) -> go.Figure:
    """A project's IHI progress scores over time (``scored_on``, ``score``) on the 0.5–5.0 scale,
    labelled in the IHI's words; the latest score is carried to ``as_of``."""
    fig = go.Figure()
    if not scores.empty:
        days = [str(d) for d in scores["scored_on"]]
        values = list(scores["score"])
        if as_of is not None and str(as_of) > days[-1]:
            fig.add_trace(
                go.Scatter(
                    x=[days[-1], str(as_of)],
                    y=[values[-1]] * 2,
                    mode="lines",
                    hoverinfo="skip",
                    showlegend=False,
                    line=dict(color=NHS_BLUE, width=2, dash="dot"),
                )
            )
        fig.add_trace(
            go.Scatter(
                x=days,
                y=values,
                mode="lines+markers",
                name="Progress score",
                showlegend=False,
                line=dict(color=NHS_BLUE, width=3, shape="hv"),
                marker=dict(size=8),
                customdata=[IHI_SCORES.get(v, "") for v in values],
                hovertemplate="%{x|%d %b %Y}: %{y:.1f} %{customdata}<extra></extra>",
            )
        )
    fig.update_yaxes(
        range=[0.3, 5.2],
        tickvals=list(IHI_SCORES),
        gridcolor=NHS_PALE_GREY,
        zeroline=False,
        ticktext=[f"{v:.1f} {words}" for v, words in IHI_SCORES.items()],
    )
    fig.update_xaxes(showgrid=False, linecolor=NHS_PALE_GREY)
    fig.add_hline(y=3.0, line=dict(color=NHS_GREEN, width=1, dash="dot"))
    return _layout(fig, height, margin=dict(l=10, r=10, t=10, b=10))


def projects_by_priority_and_score(
    projects: pd.DataFrame, names: dict[str, str], height: int | None = None
) -> go.Figure:
    """Stacked horizontal bars: projects per priority, split by the band of their latest progress score.

    ``projects`` has one row per project with ``priority`` (code) and ``latest_score`` (None if unscored).
    """
    if projects.empty:
        return _figure([], 220)
    bands = projects["latest_score"].map(score_band)
    table = pd.crosstab(projects["priority"], bands)
    order = table.sum(axis=1).sort_values().index
    labels = [plotly_literal(names.get(code, code)) for code in order]
    traces = [
        go.Bar(
            y=labels,
            x=table.loc[order, band],
            orientation="h",
            name=band,
            marker_color=colour,
            hovertemplate="%{y}: %{x} projects<extra>" + band + "</extra>",
        )
        for band, colour in [(NO_SCORE[0], NO_SCORE[1])] + [(b, c) for b, _, c in SCORE_BANDS]
        if band in table.columns
    ]
    return _figure(
        traces,
        height or max(240, 90 + 38 * len(order)),
        barmode="stack",
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, traceorder="normal"),
        xaxis=dict(title="Projects", gridcolor=NHS_PALE_GREY, **_whole_numbers(table.sum(axis=1).max())),
    )


def latest_score_bars(projects: pd.DataFrame, height: int = 300) -> go.Figure:
    """Projects per latest IHI progress score (0.5–5.0), coloured by band, IHI meaning on hover."""
    scored = projects["latest_score"].dropna()
    counts = scored.value_counts()
    scores = list(IHI_SCORES)
    bars = go.Bar(
        x=[f"{v:.1f}" for v in scores],
        y=[int(counts.get(v, 0)) for v in scores],
        marker_color=[next(c for b, _, c in SCORE_BANDS if b == score_band(v)) for v in scores],
        customdata=[IHI_SCORES[v] for v in scores],
        hovertemplate="%{x} %{customdata}: %{y} projects<extra></extra>",
    )
    return _figure(
        [bars],
        height,
        margin=dict(l=10, r=10, t=10, b=10),
        showlegend=False,
        xaxis=dict(title="Latest IHI progress score", type="category"),
        yaxis=dict(
            title="Projects", gridcolor=NHS_PALE_GREY, **_whole_numbers(counts.max() if len(counts) else 0)
        ),
    )


def _whole_numbers(largest) -> dict:
    """Axis settings that keep a count axis on whole numbers (no 0.2, 0.4… ticks for small counts)."""
    return (
        {"dtick": 1, "rangemode": "tozero"} if largest <= 6 else {"tickformat": ",d", "rangemode": "tozero"}
    )
