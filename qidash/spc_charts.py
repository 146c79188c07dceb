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

from qidash import chart_geometry, spc
from qidash.charts import house_layout
from qidash.palette import (
    LIGHT_BLUE_MARK,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_GREEN,
    NHS_GREY,
    NHS_MID_GREY,
    NHS_PALE_GREY,
)
from qidash.spc import point_types
from qidash.text import plotly_literal, plotly_literals

FONT = dict(family="Arial, Helvetica, sans-serif", size=13, color="#212B32")
# The visual rules (colours and words of each point class, line and mark styles) are the chart
# geometry's, shared with the SVG and PowerPoint exports; these names keep reading them here.
LIMIT_GREY = chart_geometry.LIMIT_GREY
POINT_COLOURS = chart_geometry.POINT_COLOURS
POINT_LABELS = chart_geometry.POINT_LABELS
CHANGE_STYLE = {kind: (m.name, m.symbol, m.colour) for kind, m in chart_geometry.MARK_STYLES.items()}

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
    ("0.5–1.5 getting started", 0.5, NHS_MID_GREY),
    ("2.0–2.5 testing changes", 2.0, "#2F8DD0"),  # a blue between the light and NHS blues, 3.6:1 on white
    ("3.0–3.5 improving", 3.0, NHS_BLUE),
    ("4.0–5.0 significant or sustained", 4.0, NHS_DARK_BLUE),
)
NO_SCORE = ("No score yet", NHS_GREY)


# --- units ---------------------------------------------------------------------------------------------


scale_of = chart_geometry.scale_of
shown_target = chart_geometry.shown_target


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


def _layout_spec(height: int, **kw) -> dict:
    """The layout every chart here shares, with ``kw`` on top, its axes in the house style
    (:func:`qidash.charts.house_layout`)."""
    layout = {"height": height, "font": FONT, "plot_bgcolor": "white", "paper_bgcolor": "white", **kw}
    return house_layout(layout)


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(**_layout_spec(height, **kw))
    return fig


def _figure(traces: list, height: int, **kw) -> go.Figure:
    """A figure given its layout as it is made: plotly checks each property once, where building it
    and then updating the layout checks the whole layout again (several times slower)."""
    return go.Figure(data=traces, layout=_layout_spec(height, **kw))


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
    g = chart_geometry.geometry(result, changes=changes, target=target, suggestion=suggestion, impact=impact)
    kind = g.kind
    x, y = list(g.x), list(g.y)
    cl, lcl, ucl = list(g.cl), list(g.lcl), list(g.ucl)
    bounds = list(g.bounds)
    centre_name = g.centre_name
    data_style = chart_geometry.LINE_STYLES[chart_geometry.DATA]
    centre_style = chart_geometry.LINE_STYLES[chart_geometry.CENTRE]
    limit_style = chart_geometry.LINE_STYLES[chart_geometry.UPPER]
    target_style = chart_geometry.LINE_STYLES[chart_geometry.TARGET]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            name="Data",
            showlegend=False,
            hoverinfo="skip",
            line=dict(color=data_style.colour, width=1.5),
            connectgaps=True,
        )
    )
    limit_shape, limit_dash = ("hvh", None) if g.stepped_limits else ("linear", "dash")
    for k, (a, b) in enumerate(bounds):
        phase = f" (phase {k + 1})" if len(bounds) > 1 else ""
        fig.add_trace(
            _line(x[a:b], cl[a:b], centre_name, centre_style.colour, showlegend=k == 0, group="cl", width=2)
        )
        fig.data[-1].hovertemplate = f"{centre_name}{phase}: %{{y:.3g}}<extra></extra>"
        for role, line in ((chart_geometry.UPPER, ucl), (chart_geometry.LOWER, lcl)):
            name = chart_geometry.LIMIT_NAMES[role]
            if any(v is not None for v in line[a:b]):
                fig.add_trace(
                    _line(
                        x[a:b],
                        line[a:b],
                        chart_geometry.LIMITS_LEGEND,
                        limit_style.colour,
                        dash=limit_dash,
                        width=1.2,
                        shape=limit_shape,
                        showlegend=k == 0 and role == chart_geometry.UPPER,
                        group="limits",
                    )
                )
                fig.data[-1].hovertemplate = f"{name}{phase}: %{{y:.3g}}<extra></extra>"
    shown = g.target
    if shown is not None and x:
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[shown, shown],
                mode="lines",
                name=f"Target {format_value(shown, kind)}",
                line=dict(color=target_style.colour, width=2, dash="dash"),
                hoverinfo="skip",
            )
        )
    for t, idx in g.points_by_type():
        fig.add_trace(
            go.Scatter(
                x=[x[i] for i in idx],
                y=[y[i] for i in idx],
                mode="markers",
                name=POINT_LABELS[t],
                marker=dict(
                    color=chart_geometry.point_colour(t),
                    symbol=chart_geometry.point_symbol(t),
                    size=10 if chart_geometry.is_special(t) else 7,
                    line=dict(color="white", width=1),
                ),
                hovertemplate="%{x|%b %Y}: %{y:.3g}"
                + ("%" if kind == "p" else "")
                + f"<extra>{POINT_LABELS[t]}</extra>",
            )
        )
    for style, mine in g.changes_by_kind():
        name = style.name
        fig.add_trace(
            go.Scatter(
                x=[str(c["day"]) for c in mine],
                y=[1 - style.row] * len(mine),
                yaxis="y2",
                mode="markers",
                name=name,
                marker=dict(
                    symbol=style.symbol, size=11, color=style.colour, line=dict(color="white", width=1)
                ),
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
        for a in g.phase_starts
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
        for k, a in enumerate(g.phase_starts)
    ]
    if g.suggestion is not None:
        start, end = x[g.suggestion.start], x[g.suggestion.end]
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=start, x1=end, y0=0, y1=0.92,
                           fillcolor=LIGHT_BLUE_MARK, opacity=0.12, line=dict(width=0), layer="below"))
        shapes.append(dict(type="line", xref="x", yref="paper", x0=start, x1=start, y0=0, y1=0.92,
                           line=dict(color=NHS_DARK_BLUE, width=2, dash="dash")))
        annotations.append(dict(x=start, y=0.86, xref="x", yref="paper", text="Suggested new phase",
                                showarrow=False, xanchor="left", yanchor="top",
                                font=dict(size=11, color=NHS_DARK_BLUE)))
    if g.impact is not None:
        gap = g.impact
        start, end = x[gap.band.start], x[gap.band.end]
        shapes.append(dict(type="rect", xref="x", yref="y", x0=start, x1=end,
                           y0=gap.band.low, y1=gap.band.high,
                           fillcolor=NHS_GREEN, opacity=0.18, line=dict(width=0), layer="below"))
        shapes.append(dict(type="line", xref="x", yref="y", x0=start, x1=end, y0=gap.baseline,
                           y1=gap.baseline, line=dict(color=NHS_GREY, width=1.5, dash="dot")))
        annotations.append(dict(x=start, y=gap.baseline, xref="x", yref="y",
                                text=plotly_literal(gap.words), showarrow=False, xanchor="left",
                                yanchor="bottom" if gap.later < gap.baseline else "top",
                                font=dict(size=12, color=NHS_DARK_BLUE), bgcolor="rgba(255,255,255,0.8)"))
    axes = g.axes(value_title(kind, unit))
    _layout(
        fig,
        height,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0),
        shapes=shapes,
        annotations=annotations,
        # The axes are the geometry's (range, ticks and their words), as the SVG and the deck draw them.
        yaxis=dict(
            title=plotly_literal(axes.value.title), gridcolor=NHS_PALE_GREY, zeroline=False,
            range=[axes.value.low, axes.value.high], tickmode="array",
            tickvals=[t.at for t in axes.value.ticks], ticktext=[t.text for t in axes.value.ticks],
        ),
        yaxis2=dict(overlaying="y", range=[0, 1], visible=False, fixedrange=True),
        xaxis=dict(
            showgrid=False, linecolor=chart_geometry.AXIS_LINE, tickmode="array",
            tickvals=[x[t.at] for t in axes.period.ticks], ticktext=[t.text for t in axes.period.ticks],
        ),
        hovermode="closest",
    )
    return fig


def small_multiple(result: dict, *, target: float | None = None, height: int = 170) -> go.Figure:
    """A compact chart for the portfolio grid: data, centre line and limits per phase, points by type."""
    g = chart_geometry.geometry(result, target=target)
    kind = g.kind
    x, y = list(g.x), list(g.y)
    types = g.point_types
    bounds = list(g.bounds)

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
    for values, role in (
        (g.cl, chart_geometry.CENTRE), (g.ucl, chart_geometry.UPPER), (g.lcl, chart_geometry.LOWER)
    ):
        style = chart_geometry.LINE_STYLES[role]
        colour, dash = style.colour, "dash" if style.dashed else None
        if any(v is not None for v in values):
            gx, gy = gapped(list(values))
            stepped = dash is not None and g.stepped_limits
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
    shown = g.target
    if shown is not None and x:
        traces.append(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[shown, shown],
                mode="lines",
                hoverinfo="skip",
                line=dict(
                    color=chart_geometry.LINE_STYLES[chart_geometry.TARGET].colour, width=1.2, dash="dot"
                ),
            )
        )
    colours = [chart_geometry.point_colour(t) for t in types]
    sizes = [6 if chart_geometry.is_special(t) else 4 for t in types]
    symbols = [chart_geometry.point_symbol(t) for t in types]
    traces.append(
        go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            line=dict(color=chart_geometry.LINE_STYLES[chart_geometry.DATA].colour, width=1),
            marker=dict(color=colours, size=sizes, symbol=symbols),
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
        for a in g.phase_starts
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
