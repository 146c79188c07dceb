"""Pure figure builders for the Tiers page: frames and dicts in, ``plotly.graph_objects.Figure`` out.

Tier names always come from the framework passed in (Learn / Live / Lead, IHI dosing levels, QSIR...),
never from this module; like area and role names they are imported, so they go in through
:func:`qidash.text.plotly_literal` and plotly shows them as written, never as markup. Colours are the
NHS identity palette; tiers deepen in colour as they rise.

Columns reach plotly as plain lists (``.tolist()``): handed a pandas Series, plotly first loads its
dataframe layer (narwhals' pandas support) and converts each one, which made a page's first bar chart
take about 15 ms more.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from qidash.charts import figure
from qidash.palette import (
    LIGHT_BLUE_MARK,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_GREEN,
    NHS_GREY,
    NHS_MID_GREY,
    NHS_PALE_GREY,
    WARM_YELLOW_MARK,
    in_sentence,
    readable_on,
    text_shade,
)
from qidash.text import plotly_literal, plotly_literals

# Light Blue (its darker shade for marks, 3:1 on white), Blue, Dark Blue, then the identity's Dark Pink and
# Purple: tiers deepen as they rise.
TIER_COLOURS = (LIGHT_BLUE_MARK, NHS_BLUE, NHS_DARK_BLUE, "#7C2855", "#330072")
# The green's darker shade (5.1:1): the patients' funnel writes its numbers in white on it.
PATIENT_COLOUR = text_shade(NHS_GREEN)
EXTERNAL_COLOUR = NHS_MID_GREY  # cohorts taught by an external provider
TEXT = "#212B32"


def tier_colour(index: int) -> str:
    return TIER_COLOURS[min(index, len(TIER_COLOURS) - 1)]


def _literal_names(tiers: list[dict]) -> list[dict]:
    """``tiers`` with each name as plotly text (shown as written in labels, legends and hovers)."""
    return [{**t, "name": plotly_literal(t["name"])} for t in tiers]


def text_on(fill: str) -> str:
    """The colour of numbers written on a bar of ``fill``: the text colour or white, whichever stands out
    more (every bar colour here gives one of them 4.5:1)."""
    return readable_on(fill, TEXT)


def _pct(value) -> str:
    return "–" if pd.isna(value) else f"{value * 100:.0f}%"


def _share(n: int, total: int) -> str:
    """n as a share of total: "12%", "<1%" for a few, "–" with no total."""
    if not total:
        return "–"
    return "<1%" if 0 < n / total < 0.005 else f"{n / total:.0%}"


def _days(value) -> str:
    return "–" if value is None else f"{value:,.0f} days"


def tier_funnel(
    tiers: list[dict],
    counts: dict[str, int],
    conversion: dict[str, dict] | None = None,
    colour: str | None = None,
    name: str = "People",
) -> go.Figure:
    """A funnel of people who reached at least each tier, lowest tier on top.

    Each stage after the first shows its number and the conversion from the tier above (reached this ÷
    reached that: ``conversion``'s ratio, else computed from ``counts``); the hover adds the median days
    between the two when ``conversion`` gives them. With ``colour`` every stage has that colour (the
    patients' funnel); otherwise each tier has its own.
    """
    conversion = conversion or {}
    tiers = _literal_names(tiers)
    values = [counts.get(t["code"], 0) for t in tiers]
    fills = [colour or tier_colour(i) for i in range(len(tiers))]
    text, hover = [], []
    for i, tier in enumerate(tiers):
        n = f"{values[i]:,}"
        reached = f"{n} reached {tier['name']} or beyond"
        if i == 0:
            text.append(n)
            hover.append(reached)
            continue
        prev = tiers[i - 1]
        step = conversion.get(f"{prev['code']}->{tier['code']}")
        ratio = step["ratio"] if step else (values[i] / values[i - 1] if values[i - 1] else None)
        text.append(n if ratio is None else f"{n} · {_pct(ratio)}")
        median = f"<br>median {_days(step['median_days'])} after {prev['name']}" if step else ""
        hover.append(f"{reached}<br>{_pct(ratio)} of those who reached {prev['name']}{median}")
    funnel = go.Funnel(
        y=[t["name"] for t in tiers],
        x=values,
        name=name,
        text=text,
        textinfo="text",
        textposition="auto",
        insidetextfont=dict(color=[text_on(f) for f in fills]),
        outsidetextfont=dict(color=TEXT),
        hovertext=hover,
        hoverinfo="text",
        marker=dict(color=fills),
        connector=dict(fillcolor=NHS_PALE_GREY, line=dict(width=0)),
    )
    return figure([funnel], max(200, 60 + 62 * len(tiers)), yaxis=dict(showgrid=False), showlegend=False)


# Shades of grey, lightest first (3.75:1 on white), for the people in no area: not an area, so not in the
# tiers' blues.
OUTSIDE_COLOURS = (NHS_MID_GREY, NHS_GREY, "#2F3B42", "#1D262B")


def tier_comparison(
    groups: pd.DataFrame, tiers: list[dict], max_groups: int = 15, outside: dict[str, int] | None = None,
    outside_name: str = "",
) -> go.Figure:
    """Grouped horizontal bars: per area (largest first, at most ``max_groups``), people reaching at
    least each tier, one bar per tier; the hover gives each tier as a share of the area's first.
    ``outside`` (people per tier in no area) is drawn as one more group, ``outside_name``, last and in
    greys, when anyone reached the first tier there: often most people (trusts belong to no PCN), and a
    chart without them would say the areas hold everyone."""
    frame = groups.head(max_groups).iloc[::-1]
    tiers = _literal_names(tiers)
    first = tiers[0]["code"] if tiers else None
    extra = bool(outside and first and outside.get(first, 0))
    traces = []
    # Horizontal groups stack their bars upwards, so the highest tier is added first to put the first on top.
    for i, tier in reversed(list(enumerate(tiers))):
        code = tier["code"]
        values = [int(v) for v in frame[code].fillna(0).tolist()] if code in frame else [0] * len(frame)
        share = [v / f if f else None for v, f in zip(values, frame[first], strict=True)]
        bars = dict(
            orientation="h", name=tier["name"], textposition="outside", cliponaxis=False, offsetgroup=code
        )
        hover = (
            f"%{{y}}<br>%{{x:,}} reached {tier['name']}"
            + ("" if i == 0 else f" (%{{customdata}} of {tiers[0]['name']})")
            + "<extra></extra>"
        )
        if extra:
            # The people in no area: a trace of their own in the tier's slot (offsetgroup), drawn first,
            # so at the bottom, in grey, and left out of the legend, which keeps the tiers' blues.
            n, of = outside.get(code, 0), outside.get(first, 0)
            traces.append(
                go.Bar(
                    y=[outside_name], x=[n], marker_color=OUTSIDE_COLOURS[min(i, len(OUTSIDE_COLOURS) - 1)],
                    text=[f"{in_sentence(outside_name)}: {n:,}" if i == 0 else f"{n:,}"], showlegend=False,
                    customdata=[_pct(n / of if of else None)], hovertemplate=hover, **bars,
                )
            )
        traces.append(
            go.Bar(
                y=plotly_literals(frame["name"].tolist()), x=values, marker_color=tier_colour(i),
                text=[f"{v:,}" for v in values],
                customdata=[_pct(s) for s in share], hovertemplate=hover, **bars,
            )
        )
    frame_rows = len(frame) + extra
    longest = max((max(t.x, default=0) for t in traces), default=0)
    return figure(
        traces,
        max(260, 90 + 16 * frame_rows * max(1, len(tiers)) + 14 * frame_rows),
        # Room on the right for the numbers written after the longest bars ("no locality: 661").
        xaxis=dict(
            title="People who reached at least this tier",
            range=[0, max(longest, 1) * (1.3 if extra else 1.1)],
        ),
        legend=dict(traceorder="reversed"),
        barmode="group",
        bargap=0.25,
    )


def reach_by_tier(reach: pd.DataFrame, tiers: list[dict], target: dict, as_of: dt.date) -> go.Figure:
    """Cumulative people reaching at least each tier over time, with the people-trained target and the
    projection to its due date on the first tier's line."""
    tiers = _literal_names(tiers)
    traces = []
    for i, tier in enumerate(tiers):
        rows = reach[reach["tier"] == tier["code"]]
        if rows.empty:
            continue
        days, cum = rows["day"].tolist(), rows["cumulative"].tolist()
        if days[-1] < as_of:
            days.append(as_of)
            cum.append(cum[-1])
        # A trace as a dict, with ISO dates and Python ints as the figure's JSON holds them: the figure
        # checks a thousand points per tier once, where a go.Scatter is checked again by the figure, and
        # date objects and NumPy integers are copied and checked several times slower.
        traces.append(
            dict(
                type="scatter",
                x=[d.isoformat() for d in days],
                y=cum,
                mode="lines",
                name=tier["name"],
                line=dict(color=tier_colour(i), width=3 if i == 0 else 2, shape="hv"),
                hovertemplate=f"%{{x|%d %b %Y}}<br>%{{y:,}} reached {tier['name']}<extra></extra>",
            )
        )
    if target.get("target_value") is not None:
        due = dt.date.fromisoformat(target["due_on"])
        traces.append(
            go.Scatter(
                x=[due],
                y=[target["target_value"]],
                mode="markers+text",
                name="Target (people trained)",
                marker=dict(
                    symbol="star", size=16, color=WARM_YELLOW_MARK, line=dict(color=NHS_DARK_BLUE, width=1)
                ),
                text=[f"Target {target['target_value']:,}"],
                textposition="top left",
            )
        )
        if target.get("projected_at_due") is not None and due > as_of:
            traces.append(
                go.Scatter(
                    x=[as_of, due],
                    y=[target["people_trained"], target["projected_at_due"]],
                    mode="lines+markers",
                    name="Projection at recent rate",
                    line=dict(color=NHS_GREY, dash="dash", width=2),
                    marker=dict(size=[0, 9]),
                )
            )
    return figure(traces, 380, yaxis=dict(title="People (reached at least)", rangemode="tozero"))


def session_attendance(sessions: pd.DataFrame) -> go.Figure:
    """Bars of people attending each numbered session of one cohort, against those on its register."""
    traces, yaxis = [], dict(title="People")
    if not sessions.empty:
        numbers = [str(n) for n in sessions["session_no"]]
        held = ["date not recorded" if pd.isna(d) else f"{d:%d %b %Y}" for d in sessions["held_on"]]
        rate = [
            a / r if r else None for a, r in zip(sessions["attended"], sessions["on_register"], strict=True)
        ]
        traces.append(
            go.Bar(
                x=numbers,
                y=sessions["attended"].tolist(),
                name="Attended",
                marker_color=NHS_BLUE,
                text=[f"{a}" for a in sessions["attended"]],
                textposition="inside",
                insidetextanchor="end",
                insidetextfont=dict(color="white"),
                customdata=list(zip(held, [_pct(r) for r in rate], strict=True)),
                hovertemplate="Session %{x}, %{customdata[0]}<br>%{y} attended (%{customdata[1]})"
                "<extra></extra>",
            )
        )
        traces.append(
            go.Scatter(
                x=numbers,
                y=sessions["on_register"].tolist(),
                name="On the register",
                mode="lines+markers",
                line=dict(color=NHS_GREY, dash="dot", width=2, shape="hvh"),
                marker=dict(size=7),
                hovertemplate="Session %{x}<br>%{y} on the register<extra></extra>",
            )
        )
        top = max(int(sessions["on_register"].max()), int(sessions["attended"].max()))
        yaxis["range"] = [0, top * 1.15 + 1]
    return figure(traces, 320, xaxis=dict(title="Session", type="category"), yaxis=yaxis)


def role_mix(
    roles: pd.DataFrame, names: dict[str, str], patient_group: str, max_roles: int = 12
) -> go.Figure:
    """Horizontal bars of participants by role, largest at the top; patients in their own colour.

    Roles beyond ``max_roles`` are summed into "Other roles" (patients are always shown).
    """
    frame = roles.copy()
    frame["label"] = [names.get(r, r) if r is not None else "Role not recorded" for r in frame["role"]]
    if len(frame) > max_roles:
        keep = frame.head(max_roles - 1)
        if patient_group in set(frame["role"]) and patient_group not in set(keep["role"]):
            keep = pd.concat([keep.head(max_roles - 2), frame[frame["role"] == patient_group]])
        rest = frame.drop(keep.index)
        frame = pd.concat(
            [keep, pd.DataFrame([{"role": "_other", "people": rest["people"].sum(), "label": "Other roles"}])]
        )
    total = frame["people"].sum()
    frame = frame.iloc[::-1]
    colours = [PATIENT_COLOUR if r == patient_group else NHS_BLUE for r in frame["role"]]
    bars = go.Bar(
        y=plotly_literals(frame["label"].tolist()),
        x=frame["people"].tolist(),
        orientation="h",
        marker_color=colours,
        name="Participants",
        text=[f"{n:,} ({_share(n, total)})" for n in frame["people"]],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}: %{x:,}<extra></extra>",
    )
    return figure(
        [bars],
        max(200, 60 + 30 * len(frame)),
        xaxis=dict(title="People enrolled", range=[0, max(1, frame["people"].max()) * 1.25]),
        showlegend=False,
    )


def local_faculty_over_time(periods: pd.DataFrame, months: int = 6) -> go.Figure:
    """Cohorts started per period, taught by local faculty or external providers (stacked bars), with
    the local share as a line on a 0–100% axis."""
    traces, xaxis, top = [], {}, 1
    if not periods.empty:
        labels = [_period_label(d, months) for d in periods["period_start"]]
        external = periods["cohorts"] - periods["local"]
        top = max(1, int(periods["cohorts"].max()))
        traces.append(
            go.Bar(
                x=labels,
                y=periods["local"].tolist(),
                name="Local faculty",
                marker_color=NHS_BLUE,
                hovertemplate="%{x}: %{y} cohorts taught by local faculty<extra></extra>",
            )
        )
        traces.append(
            go.Bar(
                x=labels,
                y=external.tolist(),
                name="External provider",
                marker_color=EXTERNAL_COLOUR,
                hovertemplate="%{x}: %{y} cohorts taught by an external provider<extra></extra>",
            )
        )
        share = [None if pd.isna(s) else s * 100 for s in periods["share"]]
        traces.append(
            go.Scatter(
                x=labels,
                y=share,
                name="Local share",
                mode="lines+markers+text",
                yaxis="y2",
                line=dict(color=WARM_YELLOW_MARK, width=3),
                marker=dict(size=8, color=WARM_YELLOW_MARK, line=dict(color=NHS_DARK_BLUE, width=1)),
                text=[_pct(None if s is None else s / 100) for s in share],
                textposition="top center",
                connectgaps=False,
                hovertemplate="%{x}: %{y:.0f}% taught locally<extra></extra>",
            )
        )
        if len(labels) < 4:  # keep a lone period's bar from filling the whole width
            xaxis["range"] = [-1.5, len(labels) + 0.5]
    return figure(
        traces,
        340,
        xaxis=xaxis,
        yaxis=dict(title="Cohorts started", range=[0, top * 1.25], tick0=0, dtick=max(1, round(top / 5))),
        barmode="stack",
        # The house layout's y-axis settings reach every y axis, the right-hand one too.
        yaxis2=dict(
            title="Taught locally",
            overlaying="y",
            side="right",
            range=[0, 125],
            showgrid=False,
            tickvals=[0, 25, 50, 75, 100],
            ticktext=["0%", "25%", "50%", "75%", "100%"],
            gridcolor=NHS_PALE_GREY,
            zeroline=False,
        ),
    )


def period_labels(starts, months: int) -> list[str]:
    """The periods' names on the local-faculty chart ("Apr–Sep 2024"), for its text alternative too."""
    return [_period_label(d, months) for d in starts]


def _period_label(start: dt.date, months: int) -> str:
    if months == 12:
        return f"{start:%Y}"
    end = dt.date(start.year, start.month + months - 1, 1)
    return f"{start:%b}–{end:%b} {start:%Y}"
