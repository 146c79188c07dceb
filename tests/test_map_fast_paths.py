"""qidash.map_fast_paths held to the plain way's answers: the deck's JSON to what pydeck's own
``to_json`` writes, the rows written with one ``%`` to json.dumps, and the nearest coach by k-d tree
to haversine against every coach (and to the answers of the matrix search it replaced), and each PCN
boundary drawn once to every edge of every area, drawn by it or by a locality outline."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pydeck as pdk
import pytest
from pydeck.types import String

from qidash import geo, maps
from qidash.map_fast_paths import (
    JsonRows,
    MapDeck,
    MapLayer,
    accessor,
    boundary_paths,
    haversine_km,
    joined,
    nearest,
    object_template,
    template_rows,
    written_rows,
)
from tests.support import demo_engine, no_exceptions, open_page

# --- the deck's JSON --------------------------------------------------------------------------------

TOOLTIP = {"text": "{title}", "style": {"color": "#425563"}}


def test_the_deck_is_the_json_pydeck_writes_for_the_same_layers():
    rows = [{"position": [-5.0, 50.3], "name": "Truro", "fill": [1, 2, 3, 255]}]
    view = pdk.ViewState(latitude=50.3, longitude=-5.0, zoom=8.5, pitch=0, bearing=0)
    ours = MapDeck(
        [
            MapLayer("ScatterplotLayer", "points", JsonRows(json.dumps(rows)), {
                "getPosition": accessor("position"), "getFillColor": accessor("fill"), "getRadius": 4,
                "radiusUnits": "pixels", "pickable": True, "highlightColor": [1, 2, 3, 90],
            }),
            MapLayer("TextLayer", "names", rows, {
                "getPosition": accessor("position"), "getText": accessor("name"),
                "fontFamily": "Helvetica, Arial", "fontSettings": {"sdf": True},
            }),
        ],
        view, TOOLTIP,
    )
    theirs = pdk.Deck(
        layers=[
            pdk.Layer("ScatterplotLayer", id="points", data=rows, get_position="position",
                      get_fill_color="fill", get_radius=4, radius_units=String("pixels"), pickable=True,
                      highlight_color=[1, 2, 3, 90]),
            pdk.Layer("TextLayer", id="names", data=rows, get_position="position", get_text="name",
                      font_family=String("Helvetica, Arial"), font_settings={"sdf": True}),
        ],
        initial_view_state=view, map_provider=None, tooltip=TOOLTIP,
    )
    assert json.loads(ours.to_json()) == json.loads(theirs.to_json())
    assert ours.to_json() == ours.to_json()  # the same text each time: Streamlit keys the element by it


def test_streamlit_draws_the_deck_with_its_tooltip():
    at = open_page("capability_map", "cornwall")
    no_exceptions(at)
    (chart,) = at.get("deck_gl_json_chart")
    assert json.loads(chart.proto.tooltip) == maps.TOOLTIP
    spec = json.loads(chart.proto.json)
    assert [layer["id"] for layer in spec["layers"]][-1] == maps.ORGS_ID
    # pydeck's "no style" marker: without it Streamlit fetches a basemap from the internet.
    assert spec["mapStyle"] == "__MAP_STYLE__"
    legend = "".join(m.value for m in at.markdown)
    assert all(mark.words in legend for mark in maps.STAGE_MARKS.values())  # the legend names each mark


def test_rows_written_with_one_percent_are_their_json():
    names = ["100% sure", "%s %r %(x)s", 'quote " and \\', "Café"]
    template = object_template(
        {"fixed": json.dumps("50% of %d"), "colour": "[1,2,3]"}, {"name": "%s", "at": "[%r,%r]"}
    )
    # Slots fill in their keys' order: "at" (two floats), then "name".
    values = [(0.1 * i, -5.0, json.dumps(n)) for i, n in enumerate(names)]
    rows = template_rows([template] * len(names), values)
    expected = [{"at": [0.1 * i, -5.0], "colour": [1, 2, 3], "fixed": "50% of %d", "name": n}
                for i, n in enumerate(names)]
    assert rows.text == json.dumps(expected, sort_keys=True, separators=(",", ":"))
    assert written_rows([{"b": "1", "a": '"x"'}]).text == '[{"a":"x","b":1}]'  # keys sorted
    assert json.loads(joined(rows, JsonRows("[]"), JsonRows('[{"z":0}]')).text) == [*expected, {"z": 0}]
    assert template_rows([], []).text == "[]"


# --- the nearest coach ------------------------------------------------------------------------------


def _plain_nearest(lat, lon, to_lat, to_lon):
    """Haversine from each point to every target; the first of the nearest."""
    d = haversine_km(np.asarray(lat)[:, None], np.asarray(lon)[:, None], np.asarray(to_lat)[None, :],
                     np.asarray(to_lon)[None, :])
    return d.argmin(axis=1), d.min(axis=1)


# Targets on quarter degrees (exact in binary), so points halfway between two are true ties.
TARGETS = [(50.0, -5.0), (50.0, -5.0), (50.0, -4.5), (50.25, -4.75), (51.0, -3.0), (50.5, -4.5),
           (49.0, -4.0), (49.0, -4.5)]
POINTS = [(50.0, -4.75), (50.0, -5.0), (50.25, -4.5), (50.9, -3.1), (50.125, -4.75), (49.0, -4.25),
          (49.0, -4.5), (52.0, -1.0), (50.2, -4.9)]
# What the matrix search this replaced answered for them (the first listed at a shared place, and on a
# tie in haversine; 49.0, -4.25 is a hair nearer the second, in floating point, than the first).
BEFORE = [0, 0, 3, 4, 3, 7, 7, 4, 3]
BEFORE_KM = [17.868697, 0.0, 17.775609, 13.142192, 13.899385, 18.237626, 0.0, 177.55649, 12.032468]


def test_nearest_on_a_hand_made_set_with_ties_and_a_shared_place():
    best, km = nearest(*zip(*POINTS, strict=True), *zip(*TARGETS, strict=True))
    assert best.tolist() == BEFORE
    assert np.round(km, 6).tolist() == BEFORE_KM
    plain_best, plain_km = _plain_nearest(*zip(*POINTS, strict=True), *zip(*TARGETS, strict=True))
    assert best.tolist() == plain_best.tolist()
    np.testing.assert_allclose(km, plain_km, rtol=1e-12)


def test_nearest_with_nothing_to_match_or_nothing_to_match_against():
    best, km = nearest([], [], [50.0], [-5.0])
    assert best.tolist() == [] and km.tolist() == []
    with pytest.raises(ValueError, match="at least one place"):
        nearest([50.0], [-5.0], [], [])
    best, km = nearest([50.0, 51.0], [-5.0, -1.0], [49.0], [-4.0])  # one target: everyone's nearest
    assert best.tolist() == [0, 0]
    np.testing.assert_allclose(km, haversine_km([50.0, 51.0], [-5.0, -1.0], 49.0, -4.0), rtol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_is_haversine_against_every_coach_across_england(seed):
    """England is 1.6 times as wide in degrees of longitude as in kilometres: a tree over degrees would
    pick the wrong coach here; the unit sphere does not. Coaches cluster at a few places (a trust's
    many coaches), and some points sit exactly on a coach."""
    rng = np.random.default_rng(seed)
    places = np.column_stack((rng.uniform(50.0, 55.5, 300), rng.uniform(-5.7, 1.7, 300)))
    coaches = places[rng.integers(0, len(places), 1_200)]
    points = np.column_stack((rng.uniform(49.9, 55.8, 5_000), rng.uniform(-6.0, 1.8, 5_000)))
    points[:50] = coaches[:50]
    best, km = nearest(points[:, 0], points[:, 1], coaches[:, 0], coaches[:, 1])
    plain_best, plain_km = _plain_nearest(points[:, 0], points[:, 1], coaches[:, 0], coaches[:, 1])
    assert best.tolist() == plain_best.tolist()
    np.testing.assert_allclose(km, plain_km, rtol=1e-12)
    # And the planar shortcut the tree avoids would have disagreed somewhere.
    flat = ((points[:, None, 0] - coaches[None, :, 0]) ** 2 + (points[:, None, 1] - coaches[None, :, 1]) ** 2)
    assert (flat.argmin(axis=1) != plain_best).any()


# --- each boundary once ------------------------------------------------------------------------------


def _ring(*points) -> str:
    return json.dumps([list(p) for p in (*points, points[0])])


def _edges(paths: list[str]) -> list[frozenset]:
    out = []
    for path in paths:
        points = [tuple(p) for p in json.loads(path)]
        out += [frozenset(pair) for pair in itertools.pairwise(points)]
    return out


def test_two_squares_side_by_side_share_their_middle_edge_once():
    # A and B: unit squares side by side, sharing the edge x = 1; C: a square with a square hole.
    a = [_ring((0, 0), (1, 0), (1, 1), (0, 1))]
    b = [_ring((1, 0), (2, 0), (2, 1), (1, 1))]
    c = [_ring((5, 0), (9, 0), (9, 4), (5, 4)), _ring((6, 1), (8, 1), (8, 3), (6, 3))]
    edges = _edges(boundary_paths([a, b, c]))
    assert len(edges) == len(set(edges)) == 7 + 8  # 4 + 4 - the shared one; the outline and the hole
    assert frozenset({(1, 0), (1, 1)}) in edges
    # Each square's run round its ring is one path, joined where the ring starts and ends.
    assert [len(json.loads(p)) for p in boundary_paths([a])] == [5]
    # B's path leaves out x = 1, drawn with A
    assert [json.loads(p) for p in boundary_paths([a, b])][1] == [[1, 0], [2, 0], [2, 1], [1, 1]]
    # A locality outline round both squares leaves only the shared edge to the areas' layer.
    outline = _ring((0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1))
    assert _edges(boundary_paths([a, b], [outline])) == [frozenset({(1, 0), (1, 1)})]
    # Edges that only touch (corners not shared) are each drawn: nothing is left out that is not drawn.
    d = [_ring((1, 0.5), (3, 0.5), (3, 2), (1, 2))]
    assert len(_edges(boundary_paths([a, d]))) == 8
    assert boundary_paths([]) == []


def test_every_edge_of_every_area_is_drawn_once_on_a_demo():
    """On each stored demo's areas: every edge of every PCN area is in the boundaries or on a locality
    outline, and none is drawn twice. (In barnet each PCN is a locality of its own: the outlines draw
    every edge.)"""
    for scenario in ("cornwall", "barnet"):
        with demo_engine(scenario).connect() as conn:
            areas = geo.pcn_areas(conn)
        rings = [a.rings_json() for a in areas.pcns]
        outlines = [r for a in areas.localities for r in a.rings_json()]
        drawn = _edges(boundary_paths(rings, outlines))
        assert len(drawn) == len(set(drawn)) and (len(drawn) > 0) == (scenario == "cornwall")
        every = {e for e in _edges([r for rs in rings for r in rs]) if len(e) == 2}  # not a repeated point
        on_outlines = set(_edges(outlines))
        assert every == set(drawn) | (every & on_outlines), scenario
        assert not set(drawn) & on_outlines
        # and fewer edges than stroking every ring drew (each inner edge twice, each outline edge thrice)
        assert len(drawn) < len(_edges([r for rs in rings for r in rs])) / 2
