"""The chart geometry: one place decides what an SPC chart draws and how each class of point looks,
and the three renderers (plotly, SVG, PowerPoint) only translate it."""

from __future__ import annotations

import datetime as dt
import re

from pptx import Presentation
from pptx.util import Inches

from qidash import chart_geometry as cg
from qidash import spc, spc_charts
from qidash.exports import pptx_deck, svg
from qidash.views import showcase as sv

MONTHS = [dt.date(2023 + k // 12, k % 12 + 1, 1).isoformat() for k in range(24)]
# A stable baseline, then a jump well above the limits: special-cause points in the second half.
VALUES = [10, 12, 11, 13, 12, 11, 10, 12, 11, 13, 12, 11, 30, 31, 29, 32, 30, 31, 30, 29]


def stored(values=VALUES, improvement="decrease", phases=None, kind="xmr") -> dict:
    result = spc.analyse(values, kind=kind, phases=phases, improvement_direction=improvement).to_dict()
    result["periods"] = MONTHS[: len(values)]
    return result


def measure(result: dict, target=None) -> dict:
    return {"code": "M", "name": "Falls", "chart": result["kind"], "unit": "falls", "improvement":
            result["improvement_direction"], "target": target, "result": result, "changes": [],
            "variation_icon": None, "assurance_icon": None, "improving": False, "kind": "outcome"}


def test_geometry_scales_a_p_chart_and_splits_lines_at_phase_starts():
    result = stored([5, 6, 4, 7, 5, 6, 12, 13, 14, 12], improvement="increase", phases=[1] * 6 + [2] * 4,
                    kind="run")
    g = cg.geometry(result, target=9, suggestion={"start": 7},
                    impact={"start": 6, "baseline": 5.5, "later": 12.5, "words": "7 more"})
    assert g.phase_starts == (6,) and g.centre_name == "Median" and g.target == 9
    assert (g.suggestion.start, g.suggestion.end) == (7, 9)  # to the end of the suggestion's phase
    assert (g.impact.band.low, g.impact.band.high, g.impact.band.end) == (5.5, 12.5, 9)
    lines = cg.chart_lines("Falls", g.centre_name, g.y, g.cl, g.ucl, g.lcl, list(g.bounds), g.target)
    assert [(line.name, line.role, line.phase) for line in lines] == [
        ("Falls", cg.DATA, None), ("Median (phase 1)", cg.CENTRE, 0), ("Median (phase 2)", cg.CENTRE, 1),
        ("Target", cg.TARGET, None)]
    assert lines[1].values[6:] == (None,) * 4 and lines[2].values[:6] == (None,) * 6

    p = stored([5, 6, 4, 7, 9, 12], kind="run")
    p["kind"] = "p"
    assert cg.geometry(p, target=0.5).y[0] == 500 and cg.geometry(p, target=0.5).target == 50


def test_every_renderer_draws_a_point_in_its_class_colour_and_shape():
    """Concern and improvement differ by shape as well as colour (WCAG 1.4.1), in all three drawings."""
    result = stored()
    g = cg.geometry(result)
    special = {(cg.point_colour(t), cg.point_symbol(t)) for t in g.point_types if cg.is_special(t)}
    # a rise on a measure where lower is better: the high points are concern, the low shift improvement
    assert special == {(cg.ORANGE_MARK, cg.TRIANGLE_UP), (cg.NHS_BLUE, cg.SQUARE)}

    fig = spc_charts.spc_chart(result)
    plotly = {(t.marker.color, t.marker.symbol) for t in fig.data if t.mode == "markers"}
    assert special <= plotly

    chart = sv.chart_series(measure(result))
    drawn = svg.spc_chart(chart)
    # the special points: a path, its corners (3 a triangle, 4 a square), its fill, its class in its title
    found = re.findall(r'<path d="([^"]+)" fill="([^"]+)" stroke="white" stroke-width="1"><title>[^<]*'
                       r'\((Special cause[^)]*)\)</title>', drawn)
    corners = {3: cg.TRIANGLE_UP, 4: cg.SQUARE}
    assert {(fill, corners[d.count("L") + 1]) for d, fill, _ in found} == special
    assert len(found) == sum(cg.is_special(t) for t in g.point_types)

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    frame = pptx_deck.add_spc_chart(slide, chart, Inches(1), Inches(1), Inches(8), Inches(4))
    # a series of markers per class, in the legend with its words, on exactly the class's points
    series = {s.name: s for s in frame.chart.plots[0].series}
    drawn = {
        (str(series[name].marker.format.fill.fore_color.rgb), series[name].marker.style)
        for name in (cg.POINT_LABELS[spc.CONCERN], cg.POINT_LABELS[spc.IMPROVEMENT])
    }
    assert drawn == {
        (cg.ORANGE_MARK[1:], pptx_deck.MARKERS[cg.TRIANGLE_UP]),
        (cg.NHS_BLUE[1:], pptx_deck.MARKERS[cg.SQUARE]),
    }
    concern = series[cg.POINT_LABELS[spc.CONCERN]].values
    assert [i for i, v in enumerate(concern) if v is not None] == [
        i for i, t in enumerate(g.point_types) if t == spc.CONCERN
    ]


def test_a_changed_rule_reaches_every_renderer(monkeypatch):
    """A point class's colour lives in one place: change it there and all three drawings follow."""
    monkeypatch.setitem(cg.POINT_COLOURS, spc.CONCERN, "#123456")
    result = stored()
    assert any(t.marker.color == "#123456" for t in spc_charts.spc_chart(result).data if t.mode == "markers")
    chart = sv.chart_series(measure(result))
    assert 'fill="#123456"' in svg.spc_chart(chart)
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    frame = pptx_deck.add_spc_chart(slide, chart, Inches(1), Inches(1), Inches(8), Inches(4))
    assert 'val="123456"' in frame.chart.part.blob.decode()


# --- axes --------------------------------------------------------------------------------------------------


def _lines(*values_per_line) -> tuple:
    return tuple(cg.Line(f"l{i}", cg.DATA, None, tuple(v)) for i, v in enumerate(values_per_line))


def test_the_value_axis_pads_the_values_and_widens_to_whole_round_ticks():
    # data 10-14 and a target of 20: span 10, padded 0.6 below and 0.8 above to 9.4-20.8; a step of
    # 2.5 gives about five ticks, so the axis runs 7.5-22.5 and every label shows one decimal.
    lines = _lines([10, 12, None, 14], [20, 20, 20, 20])
    a = cg.value_axis("xmr", lines, marks=False, title="falls")
    assert (a.low, a.high, a.step, a.decimals, a.title) == (7.5, 22.5, 2.5, 1, "falls")
    assert [t.text for t in a.ticks] == ["7.5", "10.0", "12.5", "15.0", "17.5", "20.0", "22.5"]
    # with changes along the top: 2.2 above (22.2), a step of 5, 5-25, and the PDSA row 4% down from 25
    m = cg.value_axis("xmr", lines, marks=True, title="falls")
    assert (m.low, m.high, m.step, m.decimals) == (5, 25, 5, 0)
    assert [t.text for t in m.ticks] == ["5", "10", "15", "20", "25"]
    assert m.y_of_mark(cg.mark_style("pdsa")) == 25 - 0.04 * 20


def test_a_percentage_axis_labels_nothing_above_100_and_counts_stay_at_or_above_zero():
    # 40-98%: padded to 36.52-110.76, a step of 20, 20-120; 120% is headroom, not a share: no label
    p = cg.value_axis("p", _lines([40, 98]), marks=True, title="%")
    assert (p.low, p.high) == (20, 120) and [t.text for t in p.ticks] == ["20%", "40%", "60%", "80%", "100%"]
    # 0-10 would pad to -0.6: a count never goes below zero
    assert cg.value_axis("c", _lines([0, 10]), marks=False, title="n").low == 0
    big = cg.value_axis("c", _lines([1000, 5000]), marks=False, title="n")
    assert [t.text for t in big.ticks] == ["0", "1,000", "2,000", "3,000", "4,000", "5,000", "6,000"]


def test_the_period_axis_labels_at_most_twelve_periods():
    # 25 months: a label every 3rd (ceil(25 / 12)), from the first
    axis = cg.period_axis([dt.date(2023 + k // 12, k % 12 + 1, 1).isoformat() for k in range(25)])
    assert axis.every == 3 and len(axis.labels) == 25
    assert [(t.at, t.text) for t in axis.ticks][:3] == [(0, "Jan 23"), (3, "Apr 23"), (6, "Jul 23")]
    assert [t.at for t in axis.ticks][-1] == 24
    assert cg.period_axis(range(3)).labels == ("0", "1", "2")  # a result with no periods


def test_the_three_renderers_draw_the_geometrys_axes():
    result = stored()
    chart = sv.chart_series(measure(result))
    axes = chart.axes()
    value = axes.value

    fig = spc_charts.spc_chart(result, unit="falls")
    y, x = fig.layout.yaxis, fig.layout.xaxis
    assert list(y.range) == [value.low, value.high]
    assert list(y.ticktext) == [t.text for t in value.ticks]
    assert list(y.tickvals) == [t.at for t in value.ticks]
    assert list(x.ticktext) == [t.text for t in axes.period.ticks]
    assert list(x.tickvals) == [MONTHS[t.at] for t in axes.period.ticks]

    drawn = svg.spc_chart(chart)
    labels = re.findall(r'text-anchor="end" font-weight="normal">([^<]+)</text>', drawn)
    assert labels == [t.text for t in value.ticks]
    assert [t.text for t in axes.period.ticks] == re.findall(
        r'text-anchor="middle" font-weight="normal">([A-Z][a-z]{2} \d\d)</text>', drawn
    )

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    c = pptx_deck.add_spc_chart(slide, chart, Inches(1), Inches(1), Inches(8), Inches(4)).chart
    va = c.value_axis
    assert (va.minimum_scale, va.maximum_scale, va.major_unit) == (value.low, value.high, value.step)
    assert va.tick_labels.number_format == pptx_deck.value_format(value)
    assert list(c.plots[0].categories) == list(axes.period.labels)
    assert f'<c:tickLblSkip val="{axes.period.every}"/>' in c.part.blob.decode()
