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


def test_every_renderer_colours_a_point_as_the_geometry_says():
    result = stored()
    g = cg.geometry(result)
    special = {cg.point_colour(t) for t in g.point_types if cg.is_special(t)}
    # a rise on a measure where lower is better: the high points are concern, the low shift improvement
    assert special == {cg.POINT_COLOURS[spc.CONCERN], cg.POINT_COLOURS[spc.IMPROVEMENT]}

    fig = spc_charts.spc_chart(result)
    plotly_colours = {t.marker.color for t in fig.data if t.mode == "markers"}
    assert special <= plotly_colours

    chart = sv.chart_series(measure(result))
    drawn = svg.spc_chart(chart)
    circles = re.findall(r'<circle cx="[^"]+" cy="[^"]+" r="5" fill="([^"]+)" stroke="white"', drawn)
    assert set(circles) == special and len(circles) == sum(cg.is_special(t) for t in g.point_types)

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    frame = pptx_deck.add_spc_chart(slide, chart, Inches(1), Inches(1), Inches(8), Inches(4))
    xml = frame.chart.part.blob.decode()
    point_fills = set(re.findall(r'<c:dPt>.*?<a:srgbClr val="([0-9A-F]{6})"', xml, re.S))
    assert {"#" + c for c in point_fills} == special


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
