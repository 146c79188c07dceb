"""The Capability map as the Showcase exports it (SVG for the report, PowerPoint for the deck): each
stage drawn by its own mark as well as its colour, as the page's map draws it, and the legend naming
each mark, so a printed deck never relies on colour alone (WCAG 1.4.1). Worked on a hand-made map."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pandas as pd
from pptx import Presentation
from pptx.util import Emu, Pt

from qidash import geo, maps
from qidash.exports import pptx_deck, svg
from qidash.views.showcase import MapView

STAGES = list(maps.STAGE_MARKS)


def hand_made_map() -> MapView:
    """One organisation at each stage, in a row across the map, and no PCN areas."""
    orgs = pd.DataFrame({
        "ods_code": [f"O{i}" for i in range(5)], "name": [f"Org {i}" for i in range(5)],
        "kind": ["care_home"] * 5, "pcn": [None] * 5, "stage": STAGES,
        "latitude": [50.3] * 5, "longitude": [-5.0 + 0.1 * i for i in range(5)],
        "beds": [10] * 5, "trained_in_post": [0, 0, 0, 1, 2],
    })
    return MapView(
        areas=geo.Areas("none", [], []), values={}, edges=[], legend=(), tips={}, orgs=orgs,
        stages=tuple((s, maps.STAGE_LABELS[s], maps.STAGE_COLOURS[s], 1) for s in STAGES),
        size_by="beds", headline="2 of 5 organisations have someone trained still in post.", note="",
    )


def _circles(drawing: str) -> list[dict]:
    return [dict(re.findall(r'([a-z-]+)="([^"]*)"', c)) for c in re.findall(r"<circle [^>]*/>", drawing)]


def test_the_svg_map_marks_each_stage_as_the_page_does():
    circles = _circles(svg.capability_map(hand_made_map()))
    assert len(circles) == 10  # five points and five legend keys
    for stage in STAGES:
        mark = maps.STAGE_MARKS[stage]
        drawn = [c for c in circles if c["data-stage"] == stage]
        assert len(drawn) == 2, stage
        for c in drawn:
            assert c["fill"] == ("#FFFFFF" if mark.hollow else mark.colour), stage
            assert (c["stroke"], float(c["stroke-width"])) == (mark.outline, mark.ring_px), stage
    # no two stages look alike once their colour is taken away: a white centre or not, the outline's width
    looks = {(c["fill"] == "#FFFFFF", c["stroke-width"]) for c in circles}
    assert len(looks) == len(STAGES)
    # and the legend says each mark in words
    drawing = svg.capability_map(hand_made_map())
    assert all(f">{maps.STAGE_MARKS[s].words}<" in drawing for s in STAGES)


def test_the_svg_map_outlines_every_area_in_the_boundary_line():
    ring = [(-5.0, 50.0), (-4.0, 50.0), (-4.0, 51.0), (-5.0, 50.0)]
    view = dataclasses.replace(
        hand_made_map(), areas=geo.Areas("file", [geo.Area("P1", "Bude", [[ring]], "L1")], []),
        values={"P1": 10.0}, edges=[0, 20, 40, 60, 80, 100],
    )
    (path,) = re.findall(r"<path [^>]*>", svg.capability_map(view))
    assert f'stroke="{maps.AREA_LINE}"' in path
    assert f'fill="{maps.drawn_fill(maps.AREA_RAMP[0])}"' in path


def test_the_deck_map_slide_marks_each_stage_by_shape_and_outline():
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    pptx_deck._map_slide(slide, SimpleNamespace(map=hand_made_map()))
    marks = {s.name: s for s in slide.shapes if s.name.startswith(("Organisation (", "Key ("))}
    assert len(marks) == 10
    for stage in STAGES:
        fill, outline, ring_px = maps.stage_paint(stage)
        for name in (f"Organisation ({stage})", f"Key ({stage})"):
            shape = marks[name]
            assert str(shape.fill.fore_color.rgb) == fill.lstrip("#"), name
            assert str(shape.line.color.rgb) == outline.lstrip("#"), name
            assert shape.line.width == Pt(0.75 * ring_px), name
        assert marks[f"Organisation ({stage})"].width > Emu(2 * pptx_deck.POINT_R)  # the ring is outside
    words = [p.text for s in slide.shapes if s.has_text_frame for p in s.text_frame.paragraphs]
    assert all(maps.STAGE_MARKS[s].words in words for s in STAGES)
    # the stages differ by more than colour: a white centre (ring) or not, and the outline's width
    looks = {(str(marks[f"Organisation ({s})"].fill.fore_color.rgb) == "FFFFFF",
              marks[f"Organisation ({s})"].line.width) for s in STAGES}
    assert len(looks) == len(STAGES)
