"""Pure figure builders: DataFrames and dicts in, ``plotly.graph_objects.Figure`` out.

Colours come from the NHS identity palette. Every figure has a title-less layout (pages title their
sections) and readable hover text. Imported names (areas, priorities) go in through
:func:`qidash.text.plotly_literal`, so plotly shows them as written, never as markup.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import plotly.graph_objects as go

from qidash import palette
from qidash.palette import (
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_GREEN,
    NHS_GREY,
    NHS_MID_GREY,
    NHS_PALE_GREY,
    WARM_YELLOW_MARK,
    text_shade,
)
from qidash.text import plotly_literal, plotly_literals

TEXT = "#212B32"  # 14.4:1 on white
FONT = dict(family="Arial, Helvetica, sans-serif", size=13, color=TEXT)
AXIS_KEY = re.compile(r"[xy]axis\d*")


def axis(spec: dict | None = None) -> dict:
    """An axis in the house style, ``spec`` on top: its tick labels and title in the text colour.

    Set on every axis, because Streamlit's chart theme paints them its own grey otherwise (#808495,
    3.7:1 on white: under the 4.5:1 that WCAG 1.4.3 asks of text)."""
    spec = dict(spec or {})
    title = spec.pop("title", None)
    title = {"text": title} if isinstance(title, str) else dict(title or {})
    return {
        **spec,
        "tickfont": {**spec.get("tickfont", {}), "color": TEXT},
        "title": {**title, "font": {**title.get("font", {}), "color": TEXT}},
    }


def house_layout(layout: dict) -> dict:
    """``layout`` with every axis in the house style (:func:`axis`, the x and y axes always) and the
    legend's and hover labels' words in the text colour too (Streamlit's theme greys those as well)."""
    out = {key: axis(value) if AXIS_KEY.fullmatch(key) else value for key, value in layout.items()}
    for key in ("xaxis", "yaxis"):
        out.setdefault(key, axis())
    legend = out.get("legend", {})
    out["legend"] = {**legend, "font": {**legend.get("font", {}), "color": TEXT}}
    out["hoverlabel"] = {"bgcolor": "white", **out.get("hoverlabel", {}), "font": {"color": TEXT}}
    return out


def figure(
    traces: list,
    height: int = 340,
    xaxis: dict | None = None,
    yaxis: dict | None = None,
    legend: dict | None = None,
    **kw,
) -> go.Figure:
    """A figure in the house layout, with ``xaxis``, ``yaxis``, ``legend`` and ``kw`` on top.

    The layout is given as the figure is made: plotly checks each property once, where updating a
    built figure's layout and axes checks them again, several times slower."""
    layout = {
        "height": height,
        "margin": dict(l=10, r=10, t=30, b=10),
        "font": FONT,
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": dict(orientation="h", yanchor="bottom", y=1.02, x=0, **(legend or {})),
        "xaxis": {**(xaxis or {}), "showgrid": False, "linecolor": NHS_PALE_GREY},
        "yaxis": {**(yaxis or {}), "gridcolor": NHS_PALE_GREY, "zeroline": False},
        **kw,
    }
    return go.Figure(data=traces, layout=house_layout(layout))


def reach_vs_target(
    reach: pd.DataFrame, target: dict, as_of: dt.date, show_patients: bool = True
) -> go.Figure:
    """Cumulative people trained over time, the target and the projection to its due date."""
    traces = []
    if not reach.empty:
        days = list(reach["day"]) + ([as_of] if reach["day"].iloc[-1] < as_of else [])
        cum = list(reach["cumulative"]) + ([reach["cumulative"].iloc[-1]] if len(days) > len(reach) else [])
        traces.append(
            go.Scatter(
                x=days, y=cum, mode="lines", name="People trained",
                line=dict(color=NHS_BLUE, width=3, shape="hv"),
            )
        )
        if show_patients and reach["patients_cumulative"].iloc[-1] > 0:
            pats = list(reach["patients_cumulative"]) + (
                [reach["patients_cumulative"].iloc[-1]] if len(days) > len(reach) else []
            )
            traces.append(
                go.Scatter(
                    x=days, y=pats, mode="lines", name="of whom patients",
                    line=dict(color=NHS_GREEN, width=2, shape="hv"),
                )
            )
    if target.get("target_value") is not None:
        due = dt.date.fromisoformat(target["due_on"])
        if target.get("projected_at_due") is not None and due > as_of:
            traces.append(
                go.Scatter(
                    x=[as_of, due], y=[target["people_trained"], target["projected_at_due"]],
                    mode="lines+markers", name="Projection at recent rate",
                    line=dict(color=NHS_GREY, dash="dash", width=2), marker=dict(size=[0, 9]),
                )
            )
        # After the projection, so the star stays on top when the projection ends on the target; the
        # label above and to the left, clear of a line arriving from below.
        traces.append(
            go.Scatter(
                x=[due], y=[target["target_value"]], mode="markers+text", name="Target",
                marker=dict(
                    symbol="star", size=16, color=WARM_YELLOW_MARK, line=dict(color=NHS_DARK_BLUE, width=1)
                ),
                text=[f"Target {target['target_value']:,}"], textposition="top left", cliponaxis=False,
            )
        )
    return figure(traces, yaxis=dict(title="People", rangemode="tozero"))


def coverage_by_area(rows: pd.DataFrame, label_col: str = "name") -> go.Figure:
    """Horizontal bars: % of organisations with someone trained in post, per area, with counts."""
    traces = []
    if not rows.empty:
        rows = rows.sort_values("coverage_pct", na_position="first")
        text = [
            f"{c:.0f}% ({t} of {n})" if c is not None and c == c else f"– (0 of {n})"
            for c, t, n in zip(rows["coverage_pct"], rows["orgs_trained"], rows["orgs_in_scope"], strict=True)
        ]
        traces.append(
            go.Bar(
                y=plotly_literals(rows[label_col]), x=rows["coverage_pct"].fillna(0), orientation="h",
                marker_color=NHS_BLUE,
                text=text, textposition="outside", cliponaxis=False, name="Coverage",
                customdata=rows[["orgs_offered", "orgs_engaged", "orgs_trained", "orgs_in_scope"]].to_numpy(),
                hovertemplate="%{y}<br>%{x:.0f}% trained<br>offered %{customdata[0]}, engaged "
                "%{customdata[1]}, trained %{customdata[2]} of %{customdata[3]}<extra></extra>",
            )
        )
    return figure(
        traces, height=max(220, 60 + 38 * len(rows)), showlegend=False,
        xaxis=dict(title="Coverage (%)", range=[0, 135], tickvals=[0, 25, 50, 75, 100]),
    )


# The organisations' stages the side-by-side chart compares, each as a share of the sector's organisations.
SIDE_BY_SIDE_STAGES = (
    ("orgs_offered", "Offered training"),
    ("orgs_engaged", "Engaged"),
    ("orgs_trained", "Someone trained in post"),
    ("orgs_with_project", "With an active project"),
)


# The sectors' bars, each at least 3:1 on white: the orange in its darker (text) shade.
SECTOR_COLOURS = (NHS_BLUE, text_shade(palette.NHS_ORANGE), NHS_GREEN, "#7C2855")


def sector_side_by_side(sectors: dict[str, dict], names: dict[str, str]) -> go.Figure:
    """Grouped horizontal bars comparing sectors on one thing only: the percentage of each sector's
    organisations at each stage, each bar saying how many organisations it is a percentage of ("47% of
    120"). Per-bed and per-staff densities are not percentages, so they are left to the table."""
    colours = SECTOR_COLOURS
    labels = [lab for _, lab in SIDE_BY_SIDE_STAGES][::-1]  # the first stage at the top
    traces = []
    # Horizontal groups stack their bars upwards: the last sector is added first to put the first on top.
    for i, (sector, rep) in reversed(list(enumerate(sectors.items()))):
        total = rep.get("orgs_in_scope") or 0
        counts = [rep.get(key) or 0 for key, _ in SIDE_BY_SIDE_STAGES][::-1]
        shares = [100 * n / total if total else None for n in counts]
        traces.append(
            go.Bar(
                y=labels, x=[0 if v is None else v for v in shares], orientation="h",
                name=f"{plotly_literal(names.get(sector, sector))} ({total:,} organisations)",
                marker_color=colours[i % len(colours)],
                text=["–" if v is None else f"{v:.0f}% of {total:,}" for v in shares],
                textposition="outside", cliponaxis=False,
                customdata=counts,
                hovertemplate=f"{plotly_literal(names.get(sector, sector))}: %{{customdata:,}} of "
                f"{total:,} organisations "
                "(%{x:.0f}%)<br>%{y}<extra></extra>",
            )
        )
    return figure(
        traces, height=360, barmode="group", legend=dict(traceorder="reversed"),
        xaxis=dict(
            title="% of the sector's organisations in scope", range=[0, 135], tickvals=[0, 25, 50, 75, 100]
        ),
    )


def projects_by_priority(by_priority: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    """Stacked bars per priority: projects improving and the rest."""
    frame = by_priority[by_priority["projects"] > 0].copy()
    frame["label"] = [plotly_literal(names.get(c, c)) for c in frame["priority"]]
    frame = frame.sort_values("projects")
    traces = [
        go.Bar(y=frame["label"], x=frame["improving"], orientation="h",
               name="Improving (latest point or since baseline)", marker_color=NHS_GREEN),
        go.Bar(y=frame["label"], x=frame["projects"] - frame["improving"], orientation="h",
               name="Not (yet) showing improvement", marker_color=NHS_MID_GREY),
    ]
    return figure(
        traces, height=max(220, 70 + 40 * len(frame)), barmode="stack", xaxis=dict(title="Projects started")
    )


def cumulative_impact(frame: pd.DataFrame, label: str, low: float, high: float) -> go.Figure:
    """The running total of one like-for-like impact (``frame``: period, cumulative) by month, with the
    final estimate's range as a bar at its end (docs/impact.md). ``label`` (imported words) is shown as
    written."""
    label = plotly_literal(label)
    traces = []
    if not frame.empty:
        traces.append(go.Scatter(
            x=list(frame["period"]), y=list(frame["cumulative"]), mode="lines+markers", name=label,
            line=dict(color=NHS_BLUE, width=3), marker=dict(size=5),
            hovertemplate="%{x|%b %Y}: %{y:,.0f} " + label + "<extra></extra>",
        ))
        last, value = frame["period"].iloc[-1], frame["cumulative"].iloc[-1]
        traces.append(go.Scatter(
            x=[last], y=[value], mode="markers", name="Range of the estimate", showlegend=True,
            marker=dict(color=NHS_DARK_BLUE, size=9),
            error_y=dict(type="data", symmetric=False, array=[high - value], arrayminus=[value - low],
                         color=NHS_DARK_BLUE, thickness=2, width=8),
            hovertemplate=f"{value:,.0f} ({low:,.0f} to {high:,.0f})<extra>estimate and range</extra>",
        ))
    return figure(traces, height=300, yaxis=dict(title="Running total", rangemode="tozero"))
