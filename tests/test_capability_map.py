"""The Capability map: its measures pinned on a tiny hand-made system, PCN areas (derived and from a
boundary file), the deck and legend builders, and the page itself (AppTest) for every demo programme,
whose points and gaps must be the measures engine's."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from qidash import db, geo, maps, measures, scenarios
from qidash import models as m
from qidash.map_fast_paths import haversine_km
from qidash.models import CARE_HOME_KINDS
from qidash.scope import Scope
from qidash.views import capability_map as view
from tests.support import connection_to, deck_specs, no_exceptions, open_page

D = dt.date
AS_OF = D(2021, 1, 1)
EVERYONE = Scope()

# --- a tiny system, worked by hand ------------------------------------------------------------------------
#
# Locality L1 holds PCNs P1 (homes H1, H2) and P2 (home H3); locality L2 holds P3 (home H4, practice G1).
# Trust T1 belongs to no PCN. Tiers learn (course) -> live (project) -> lead (faculty). As of 01/01/2021:
#   H1  offered; h1a completed C1 (01/03/2020)                         -> trained, 1 in post
#   H2  offered; h2a attended C1, did not complete                       -> engaged, nobody trained (60 beds)
#   H3  never offered; h3a completed C1 but left 01/06/2020              -> engaged, nobody in post (20 beds)
#   H4  offered 01/05/2020; partner of project X; nobody there            -> with a project, nobody (30 beds)
#   G1  offered; g1a completed C1, leads X (from 01/06/2020), trains C2  -> with a project; g1a is Lead, named
#   T1  t1a coaches C1 (Lead through faculty, not named); t1b coached C1 but left -> trained, 1 in post
# Coaches as of the date: g1a (top tier) and t1a (coach); t1b has left.
SITES = {  # ODS code -> (latitude, longitude)
    "H1": (50.00, -5.00), "H2": (50.01, -4.98), "H3": (50.05, -5.02),
    "H4": (50.10, -4.90), "G1": (50.12, -4.88), "T1": (50.02, -4.99),
}


def _org(ods, name, kind, sector, pcn=None, **kw):
    lat, lon = SITES[ods]
    return {"ods_code": ods, "name": name, "kind": kind, "sector": sector, "pcn_code": pcn,
            "latitude": lat, "longitude": lon, **kw}


FRAMES = {
    "localities": [{"code": "L1", "name": "West"}, {"code": "L2", "name": "East"}],
    "pcns": [
        {"code": "P1", "name": "Harbour", "locality_code": "L1"},
        {"code": "P2", "name": "Moor PCN", "locality_code": "L1"},
        {"code": "P3", "name": "Valley", "locality_code": "L2"},
    ],
    "organisations": [
        _org(
            "H1",
            "Home one",
            "care_home_residential",
            "independent",
            "P1",
            beds=40,
            staff_headcount=50,
            offered_on=D(2020, 1, 1),
        ),
        _org(
            "H2",
            "Home two",
            "care_home_nursing",
            "independent",
            "P1",
            beds=60,
            staff_headcount=70,
            offered_on=D(2020, 1, 1),
        ),
        _org("H3", "Home three", "care_home_residential", "independent", "P2", beds=20, staff_headcount=25),
        _org("H4", "Home four", "care_home_nursing", "nhs", "P3", beds=30, offered_on=D(2020, 5, 1)),
        _org("G1", "Practice one", "gp_practice", "nhs", "P3", staff_headcount=10, offered_on=D(2020, 1, 1)),
        _org("T1", "Trust one", "acute_trust", "nhs", staff_headcount=1000),
    ],
    "people": [
        {"person_ref": "h1a", "ods_code": "H1", "role": "care_assistant"},
        {"person_ref": "h2a", "ods_code": "H2", "role": "nurse"},
        {"person_ref": "h3a", "ods_code": "H3", "role": "manager", "left_on": D(2020, 6, 1)},
        {
            "person_ref": "g1a",
            "ods_code": "G1",
            "role": "gp",
            "display_name": "Dr Ann Lead",
            "consents_to_be_named": True,
        },
        {"person_ref": "t1a", "ods_code": "T1", "role": "qi_lead", "display_name": "Secret Sam"},
        {"person_ref": "t1b", "ods_code": "T1", "role": "nurse", "left_on": D(2020, 6, 1)},
    ],
    "tiers": [
        {"framework": "lll", "code": "learn", "name": "Learn", "rank": 1, "attained_by": "course"},
        {"framework": "lll", "code": "live", "name": "Live", "rank": 2, "attained_by": "project"},
        {"framework": "lll", "code": "lead", "name": "Lead", "rank": 3, "attained_by": "faculty"},
    ],
    "courses": [{"code": "LC", "name": "Learn course", "tier_code": "learn"}],
    "cohorts": [
        {
            "code": "C1",
            "course_code": "LC",
            "start_date": D(2020, 2, 1),
            "end_date": D(2020, 3, 1),
            "sessions": 2,
        },
        {
            "code": "C2",
            "course_code": "LC",
            "start_date": D(2020, 9, 1),
            "end_date": D(2020, 10, 1),
            "sessions": 2,
        },
    ],
    "enrolments": [
        {"person_ref": "h1a", "cohort_code": "C1", "status": "completed", "completed_on": D(2020, 3, 1)},
        {"person_ref": "h2a", "cohort_code": "C1", "status": "attended"},
        {"person_ref": "h3a", "cohort_code": "C1", "status": "completed", "completed_on": D(2020, 3, 1)},
        {"person_ref": "g1a", "cohort_code": "C1", "status": "completed", "completed_on": D(2020, 3, 1)},
    ],
    "faculty": [
        {"person_ref": "t1a", "cohort_code": "C1", "role": "coach"},
        {"person_ref": "t1b", "cohort_code": "C1", "role": "coach"},
        {"person_ref": "g1a", "cohort_code": "C2", "role": "trainer"},
    ],
    "priorities": [{"code": "PR", "name": "Priority"}],
    "projects": [
        {
            "code": "X",
            "title": "X",
            "priority_code": "PR",
            "lead_ods_code": "G1",
            "lead_person_ref": "g1a",
            "partner_ods_codes": ["H4"],
            "start_date": D(2020, 6, 1),
            "status": "active",
        },
    ],
}


@pytest.fixture(scope="module")
def conn(backend, databases):
    """A connection to the tiny system, on SQLite and on PostgreSQL."""
    with connection_to(databases, backend, FRAMES) as connection:
        yield connection


# --- measures -----------------------------------------------------------------------------------------


def test_org_stages_by_hand(conn):
    rows = {r["ods_code"]: r for r in measures.org_stages(conn, EVERYONE, AS_OF)}
    assert {k: r["stage"] for k, r in rows.items()} == {
        "G1": "with_project", "H1": "trained", "H2": "engaged", "H3": "engaged", "H4": "with_project",
        "T1": "trained",
    }
    assert {k: r["trained_in_post"] for k, r in rows.items()} == {
        "G1": 1, "H1": 1, "H2": 0, "H3": 0, "H4": 0, "T1": 1,
    }
    assert rows["H3"]["offered"] is False and rows["H4"]["engaged"] is False
    assert rows["T1"]["pcn"] is None and rows["H4"]["pcn"] == "P3" and rows["H2"]["beds"] == 60
    # Before H4 was offered and before project X started, H4 had reached nothing.
    early = {r["ods_code"]: r["stage"] for r in measures.org_stages(conn, EVERYONE, D(2020, 4, 1))}
    assert early["H4"] == "not_offered" and early["G1"] == "trained"


@pytest.mark.parametrize(
    "scope", [EVERYONE, Scope(kind="care_home"), Scope(locality="L1"), Scope(pcn="P3"), Scope(sector="nhs")]
)
def test_org_stage_flags_add_up_to_the_org_counts(conn, scope):
    rows = measures.org_stages(conn, scope, AS_OF)
    counts = measures.org_counts(conn, scope, AS_OF)
    assert len(rows) == counts["orgs_in_scope"]
    for flag in ("offered", "engaged", "trained", "with_project"):
        assert sum(r[flag] for r in rows) == counts[f"orgs_{flag}"], flag


def test_org_stage_is_the_furthest_step():
    assert measures.org_stage(False, False, False, False) == "not_offered"
    assert measures.org_stage(True, False, False, False) == "offered"
    assert measures.org_stage(False, True, False, False) == "engaged"
    assert measures.org_stage(True, True, True, False) == "trained"
    assert measures.org_stage(False, False, False, True) == "with_project"


def test_people_and_projects_per_pcn_by_hand(conn):
    got = measures.pcn_people_and_projects(conn, EVERYONE, AS_OF)
    # P2's trained manager has left: people_trained counts leavers. X counts once in P3 (lead and partner).
    assert got == {
        "P1": {"people_trained": 1, "projects_active": 0},
        "P2": {"people_trained": 1, "projects_active": 0},
        "P3": {"people_trained": 1, "projects_active": 1},
    }
    homes = measures.pcn_people_and_projects(conn, Scope(kind="care_home"), AS_OF)
    assert homes["P3"] == {"people_trained": 0, "projects_active": 1}  # through partner H4


@pytest.mark.parametrize("scope", [EVERYONE, Scope(kind="care_home"), Scope(sector="nhs")])
def test_people_and_projects_per_pcn_equal_the_report_narrowed_to_each_pcn(conn, scope):
    for code, got in measures.pcn_people_and_projects(conn, scope, AS_OF).items():
        report = measures.report(conn, scope.with_(pcn=code), AS_OF)
        assert got == {
            "people_trained": report["people_trained"],
            "projects_active": report["projects_active"],
        }


def test_coaches_by_hand(conn):
    rows = {r["person_ref"]: r for r in measures.coaches(conn, EVERYONE, AS_OF)}
    assert set(rows) == {"g1a", "t1a"}  # t1b has left
    assert (
        rows["g1a"]["display_name"] == "Dr Ann Lead"
        and rows["g1a"]["is_top_tier"]
        and not rows["g1a"]["is_coach"]
    )
    assert rows["t1a"]["display_name"] is None and rows["t1a"]["is_coach"]  # no consent to be named
    assert rows["t1a"]["organisation"] == "Trust one" and rows["t1a"]["latitude"] == 50.02
    # Before C2 started, g1a had not taught: only the coach counts.
    assert [r["person_ref"] for r in measures.coaches(conn, EVERYONE, D(2020, 8, 1))] == ["t1a"]


# --- the view ---------------------------------------------------------------------------------------------


def test_gaps_are_homes_with_nobody_in_post_largest_first_with_the_nearest_coach(conn):
    data = view.capability_map_data(conn, EVERYONE, AS_OF, can_see_people=True)
    gaps = data.gaps["care_home"]
    assert list(gaps["Organisation"]) == ["Home two", "Home four", "Home three"]
    assert list(gaps["Beds"]) == [60, 30, 20]
    assert list(gaps["Stage"]) == ["Engaged", "With a project", "Engaged"]
    # H2 is nearest the trust's coach (not named: "a coach" at their organisation, never a bare job
    # title); H4 nearest the named Lead at G1. Distances by hand below.
    km = [round(float(haversine_km(*SITES[home], *SITES[coach])), 1) for home, coach in (
        ("H2", "T1"), ("H4", "G1"), ("H3", "T1"),
    )]
    assert list(gaps["Nearest coach or Lead"]) == [
        f"A coach at Trust one, {km[0]:.1f} km", f"Dr Ann Lead at Practice one, {km[1]:.1f} km",
        f"A coach at Trust one, {km[2]:.1f} km",
    ]
    # Executives and locality leads never see a name.
    hidden = view.capability_map_data(conn, EVERYONE, AS_OF).gaps["care_home"]
    assert list(hidden["Nearest coach or Lead"]) == [
        f"A coach at Trust one, {km[0]:.1f} km", f"A coach at Practice one, {km[1]:.1f} km",
        f"A coach at Trust one, {km[2]:.1f} km",
    ]
    assert list(gaps["Their organisation"]) == ["Trust one", "Practice one", "Trust one"]
    assert list(gaps["Distance (km)"]) == km
    homes = measures.report(conn, Scope(kind="care_home"), AS_OF)
    assert len(gaps) == homes["orgs_in_scope"] - homes["orgs_trained"]
    assert list(data.gaps["all"]["Organisation"]) == ["Home two", "Home four", "Home three"]  # G1, T1 trained
    assert data.counts == {"orgs": 6, "trained": 3, "care_homes": 4, "without_pcn": 1, "unlocated": 0}
    assert data.stage_counts == {
        "not_offered": 0,
        "offered": 0,
        "engaged": 2,
        "trained": 2,
        "with_project": 2,
    }
    assert data.default_gaps_among == "care_home"


def test_pcn_measures_and_tooltips(conn):
    data = view.capability_map_data(conn, EVERYONE, AS_OF)
    by = data.by_pcn.set_index("pcn")
    assert by.loc["P1", "coverage_pct"] == 50.0 and by.loc["P2", "coverage_pct"] == 0.0
    assert by.loc["P3", "trained_per_10_beds"] == 0.0 and by.loc[
        "P1", "trained_per_10_beds"
    ] == pytest.approx(0.1)  # 1 in post over 100 beds
    assert by.loc["P3", "locality"] == "L2"
    tips = view.pcn_tips(data)
    assert tips["P1"][0] == "Coverage 50%: 1 of 2 organisations trained"
    assert tips["P1"][1] == "People trained 1 · 0.10 per 10 beds"
    assert set(view.colour_measures(data)) == set(view.COLOUR_MEASURES)
    assert view.size_options(data) == view.SIZE_BY and view.default_size_by(data) == "beds"


def test_haversine():
    assert haversine_km(50, -5, 51, -5) == pytest.approx(111.2, abs=0.1)  # a degree of latitude
    assert haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(
        343.6, abs=0.5
    )  # London–Paris


# --- areas ------------------------------------------------------------------------------------------------


def _clustered_sites(n_pcns: int, per_pcn: int, seed: int = 7) -> list[tuple[str, float, float]]:
    """Sites around n PCN centres on a grid, with some spill-over, like the demo generator's."""
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n_pcns))
    sites = []
    for k in range(n_pcns):
        lat0, lon0 = 50 + 0.12 * (k // side), -5 + 0.18 * (k % side)
        lats = lat0 + rng.normal(0, 0.03, per_pcn)
        lons = lon0 + rng.normal(0, 0.045, per_pcn)
        sites += [(f"P{k:03d}", round(a, 5), round(b, 5)) for a, b in zip(lats, lons, strict=True)]
    return sites


def test_derived_areas_tile_the_system_without_gaps_or_overlaps():
    sites = _clustered_sites(9, 30)
    shapes = geo.derive_pcn_shapes(sites)
    assert set(shapes) == {s[0] for s in sites}
    whole = geo.system_area(sites)
    union = shapely.union_all(list(shapes.values()))
    assert union.area == pytest.approx(whole.area, rel=1e-6)
    assert union.symmetric_difference(whole).area < 1e-6 * whole.area
    assert sum(g.area for g in shapes.values()) == pytest.approx(whole.area, rel=1e-6)  # so no overlaps
    codes = list(shapes)
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            assert shapes[a].intersection(shapes[b]).area < 1e-9 * whole.area, (a, b)
    for code, lat, lon in sites:
        assert shapes[code].contains(shapely.Point(lon, lat)), (code, lat, lon)


def test_derived_areas_survive_shared_places_and_tiny_systems():
    shared = [("A", 50.0, -5.0), ("B", 50.0, -5.0), ("B", 50.1, -5.1)]  # A and B at the same place
    shapes = geo.derive_pcn_shapes(shared)
    assert shapes["A"].contains(shapely.Point(-5.0, 50.0)) and not shapes["B"].contains(
        shapely.Point(-5.0, 50.0)
    )
    one = geo.derive_pcn_shapes([("A", 50.0, -5.0)])
    assert one["A"].contains(shapely.Point(-5.0, 50.0)) and one["A"].area > 0
    assert geo.derive_pcn_shapes([]) == {}


def test_derivation_covers_fifteen_thousand_sites():
    # Its speed is measured by `python -m qidash bench` (the capability map's cold time at scale 50),
    # not by a clock here; this pins that every PCN of a national-sized system gets its area.
    sites = _clustered_sites(150, 100)
    shapes = geo.derive_pcn_shapes(sites)
    assert len(shapes) == 150
    assert all(not shape.is_empty and shape.is_valid for shape in shapes.values())


def test_areas_of_the_tiny_system(conn, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    areas = geo.pcn_areas(conn)
    assert areas.source == "derived"
    assert [a.code for a in areas.pcns] == ["P1", "P2", "P3"] and [a.code for a in areas.localities] == [
        "L1",
        "L2",
    ]
    shapes = {a.code: geo.as_shape(a) for a in areas.pcns}
    for ods, (lat, lon) in SITES.items():
        pcn = next((o["pcn_code"] for o in FRAMES["organisations"] if o["ods_code"] == ods), None)
        if pcn:
            assert shapes[pcn].contains(shapely.Point(lon, lat)), ods
    west = geo.as_shape(areas.localities[0])
    assert west.symmetric_difference(shapes["P1"].union(shapes["P2"])).area < 1e-6 * west.area


def test_a_boundary_file_is_used_when_it_names_the_pcns(conn, monkeypatch, tmp_path):
    def square(x, y):
        return [[[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]]

    features = [
        {
            "type": "Feature",
            "properties": {"pcn_code": "P1"},
            "geometry": {"type": "Polygon", "coordinates": square(-5, 50)},
        },
        {
            "type": "Feature",
            "properties": {"pcn_code": "P1"},
            "geometry": {"type": "Polygon", "coordinates": square(-4.9, 50)},
        },
        {
            "type": "Feature",
            "properties": {"pcn_code": "ELSEWHERE"},
            "geometry": {"type": "Polygon", "coordinates": square(0, 0)},
        },
    ]
    path = tmp_path / "pcns.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(path))
    areas = geo.pcn_areas(conn, geo.boundary_stamp())
    assert areas.source == "file"
    assert [a.code for a in areas.pcns] == ["P1"]  # the file leaves P2 and P3 out: they have no area
    assert geo.as_shape(areas.pcns[0]).area == pytest.approx(0.02)  # two squares merged
    assert [a.code for a in areas.localities] == ["L1"]
    # A file for another system is ignored; a broken one is a message.
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features[2:]}))
    assert geo.pcn_areas(conn).source == "derived"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a GeoJSON FeatureCollection"):
        geo.pcn_areas(conn)


# --- legend and deck ---------------------------------------------------------------------------------------


def test_legend_breaks():
    assert maps.legend_breaks([None, 12.5, 80.0], percent=True) == [0, 20, 40, 60, 80, 100]
    assert maps.legend_breaks([None, None]) == []
    assert maps.legend_breaks([0, 0, 0]) == [0.0, 0.0]
    edges = maps.legend_breaks(range(101), integer=True)
    assert edges == [0, 20, 40, 60, 80, 100]
    # Few distinct counts: a class each, so 0 and 1 active projects never share a colour.
    assert maps.legend_breaks([0, 1, 0, 0, 1, 0], integer=True) == [0, 1, 1]
    assert maps.legend_breaks([3, 4, 4], integer=True) == [3, 4, 4]
    spread = maps.legend_breaks([0, 1, 2, 3, 5, 8, 13, 21, 34, 55], integer=True)
    assert (
        len(spread) == 6
        and spread[0] == 0
        and spread[-1] == 55
        and all(float(e).is_integer() for e in spread)
    )
    skewed = maps.legend_breaks([0.3, 0.74, 0.8, 1.2, 1.4054])
    assert skewed[0] == 0 and skewed[-1] == 1.4054 and skewed == sorted(set(skewed))
    two = maps.legend_breaks([57.3, 86.1])  # two PCNs: two classes, not five
    assert len(two) == 3 and maps.class_of(57.3, two) == 0 and maps.class_of(86.1, two) == 1


def test_classes_and_legend_labels():
    edges = [0, 20, 40, 60, 80, 100]
    assert [maps.class_of(v, edges) for v in (0, 19.9, 20, 99, 100, None)] == [0, 0, 1, 4, 4, None]
    assert maps.class_colours(5) == list(maps.AREA_RAMP)
    assert maps.class_colours(2) == [maps.AREA_RAMP[0], maps.AREA_RAMP[-1]]
    assert maps.legend([0, 3, 8, 15], integer=True, fmt=str) == [
        (maps.AREA_RAMP[0], "0–2"), (maps.AREA_RAMP[2], "3–7"), (maps.AREA_RAMP[-1], "8–15")
    ]
    assert maps.legend([0, 1, 2], integer=True, fmt=str) == [
        (maps.AREA_RAMP[0], "0"),
        (maps.AREA_RAMP[-1], "1–2"),
    ]
    assert maps.legend([0, 1, 1], integer=True, fmt=str) == [
        (maps.AREA_RAMP[0], "0"),
        (maps.AREA_RAMP[-1], "1"),
    ]
    assert [maps.class_of(v, [0, 1, 1]) for v in (0, 1)] == [0, 1]
    assert maps.legend([0.0, 0.74, 1.4054], integer=False)[1][1] == "0.74–1.41"
    assert maps.legend([0.0, 0.0], integer=True, fmt=str) == [(maps.AREA_RAMP[2], "0")]
    assert maps.area_colour(None, edges) == maps.NO_DATA and maps.area_colour(85, edges) == maps.AREA_RAMP[-1]


def _deck(conn, measure="coverage_pct", scope=EVERYONE, size_by="beds"):
    data = view.capability_map_data(conn, scope, AS_OF)
    areas = geo.pcn_areas(conn)
    scale = view.colour_scale(data, measure)
    deck = maps.capability_deck(
        areas, scale.values, scale.edges, view.pcn_tips(data), data.orgs, size_by, scope.pcn
    )
    return json.loads(deck.to_json()), scale, data


def test_the_deck_layers_points_and_colours(conn, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    spec, scale, _data = _deck(conn)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert [layer["id"] for layer in spec["layers"]] == [
        maps.AREAS_ID,
        maps.BOUNDARIES_ID,
        maps.LOCALITIES_ID,
        maps.SELECTED_ID,
        maps.ORGS_ID,
    ]
    assert [layer["@@type"] for layer in spec["layers"]] == [
        "PolygonLayer",
        "PathLayer",
        "PathLayer",
        "PathLayer",
        "ScatterplotLayer",
    ]
    # The areas are filled, never stroked: their boundaries are one layer nobody picks, each edge once.
    assert layers[maps.AREAS_ID]["stroked"] is False and layers[maps.AREAS_ID]["pickable"] is True
    assert layers[maps.BOUNDARIES_ID]["pickable"] is False and layers[maps.BOUNDARIES_ID]["data"]
    assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec  # no basemap, no request
    assert layers[maps.ORGS_ID]["radiusUnits"] == "pixels"  # a literal, not an accessor expression
    points = layers[maps.ORGS_ID]["data"]
    assert len(points) == 6
    stages = {r["ods_code"]: r["stage"] for r in measures.org_stages(conn, EVERYONE, AS_OF)}
    assert {p["ods_code"]: {k: p[k] for k in ("fill", "line", "width")} for p in points} == {
        code: maps.mark_fields(stage) for code, stage in stages.items()
    }
    orgs_layer = layers[maps.ORGS_ID]
    assert orgs_layer["getLineWidth"] == "@@=width" and orgs_layer["getLineColor"] == "@@=line"
    size = {p["ods_code"]: p["radius"] - maps.STAGE_MARKS[p["stage"]].ring_px / 2 for p in points}
    assert size["T1"] == maps.POINT_MIN_PX and size["H2"] > size["H1"] > size["H3"]  # by beds
    for row in points + layers[maps.AREAS_ID]["data"]:
        assert {"title", "line1", "line2", "line3"} <= set(row)  # one tooltip template serves both layers
    # Area fills follow the legend's classes: P1 50% -> third fifth, P2 0% -> first, P3 50%.
    assert scale.edges == [0, 20, 40, 60, 80, 100]
    fills = {row["pcn"]: row["fill"] for row in layers[maps.AREAS_ID]["data"]}
    for code, value in scale.values.items():
        assert fills[code] == maps.rgba(maps.AREA_RAMP[maps.class_of(value, scale.edges)], maps.AREA_ALPHA)
    assert fills["P2"][:3] == maps.rgba(scale.legend[0][0])[:3]
    assert layers[maps.SELECTED_ID]["data"] == []


def test_every_stage_has_a_mark_besides_its_colour():
    """WCAG 1.4.1: two stages never differ by colour alone. Each has its own pair of ring or disc and
    ring width, or a dark outline where the other has none; the legend draws and names the mark."""
    def shape(mark):
        return mark.hollow, mark.ring_px, mark.outline == maps.SELECTED_LINE

    shapes = [shape(m) for m in maps.STAGE_MARKS.values()]
    assert len(set(shapes)) == len(shapes) == 5
    assert list(maps.STAGE_MARKS) == list(maps.STAGE_LABELS) == list(maps.STAGE_COLOURS)
    for stage, mark in maps.STAGE_MARKS.items():
        fields = maps.mark_fields(stage)
        assert fields["fill"] == maps.rgba("#FFFFFF" if mark.hollow else mark.colour)
        assert fields["line"] == maps.rgba(mark.colour if mark.hollow else mark.outline)
        assert maps.drawn_radius(4.0, stage) == 4.0 + mark.ring_px / 2  # the ring lies outside the size
    lines = maps.stage_legend({"not_offered": 4, "with_project": 1200})
    assert lines[0].startswith("<svg") and "Not offered (4)" in lines[0] and "thin ring" in lines[0]
    assert 'stroke="#231F20"' in lines[1] and "With a project (1,200)" in lines[1]


def test_the_deck_under_a_pcn_filter(conn, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    spec, scale, _data = _deck(conn, "people_trained", Scope(pcn="P3"), "staff_headcount")
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert {p["ods_code"] for p in layers[maps.ORGS_ID]["data"]} == {"H4", "G1"}
    assert {row["pcn"] for row in layers[maps.SELECTED_ID]["data"]} == {"P3"}
    fills = {row["pcn"]: row["fill"] for row in layers[maps.AREAS_ID]["data"]}
    assert fills["P1"] == maps.rgba(maps.OUTSIDE, maps.OUTSIDE_ALPHA)  # outside the filter: not coloured
    assert scale.values == {"P3": 1.0}
    # The view is fitted around P3, not the whole system.
    assert 50.0 < spec["initialViewState"]["latitude"] < 50.2 and spec["initialViewState"]["zoom"] > 9


# --- every organisation and its stage: the map's points as a list ----------------------------------------


def test_the_organisation_list_holds_the_map_layers_organisations_and_stages(conn, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    spec, _scale, data = _deck(conn)
    (points,) = [layer["data"] for layer in spec["layers"] if layer["id"] == maps.ORGS_ID]
    table = view.organisation_list(data)
    assert list(table.columns) == view.ORG_LIST_COLUMNS
    # the same organisations at the same stages, in words, with the tooltip's people trained in post
    assert dict(zip(table["ODS code"], table["Stage"], strict=True)) == {
        p["ods_code"]: maps.STAGE_LABELS[p["stage"]] for p in points
    }
    assert {f"People trained in post: {n}" for n in table["People trained in post"]} == {
        p["line3"] for p in points
    }
    # by hand (see the system at the top): sorted by name, the trust in no PCN
    assert table.to_dict("list") == {
        "Organisation": ["Home four", "Home one", "Home three", "Home two", "Practice one", "Trust one"],
        "Kind": ["Care home nursing", "Care home residential", "Care home residential", "Care home nursing",
                 "GP practice", "Acute trust"],
        "PCN": ["Valley", "Harbour", "Moor PCN", "Harbour", "Valley", ""],
        "Locality": ["East", "West", "West", "West", "East", ""],
        "Stage": ["With a project", "Trained", "Engaged", "Engaged", "With a project", "Trained"],
        "People trained in post": [0, 1, 0, 0, 1, 1],
        "Active project": ["Yes", "No", "No", "No", "Yes", "No"],
        "ODS code": ["H4", "H1", "H3", "H2", "G1", "T1"],
    }


def test_a_locality_lead_lists_only_their_areas_organisations(conn):
    lead = Scope(within_localities=("L1",))
    table = view.organisation_list(view.capability_map_data(conn, lead, AS_OF))
    assert table["ODS code"].tolist() == ["H1", "H3", "H2"]  # Home one, Home three, Home two: West only
    assert set(table["Locality"]) == {"West"}
    everyone = view.organisation_list(view.capability_map_data(conn, EVERYONE, AS_OF))
    assert len(everyone) == 6  # the control: unrestricted, East and the trust are listed


def test_finding_organisations_by_name_code_or_stage(conn):
    table = view.organisation_list(view.capability_map_data(conn, EVERYONE, AS_OF))
    assert view.find_organisations(table)["ODS code"].tolist() == table["ODS code"].tolist()
    assert view.find_organisations(table, " HOME T")["ODS code"].tolist() == ["H3", "H2"]
    assert view.find_organisations(table, "g1")["ODS code"].tolist() == ["G1"]
    assert view.find_organisations(table, stages=["Trained"])["ODS code"].tolist() == ["H1", "T1"]
    assert view.find_organisations(table, "home", ["Trained", "Engaged"])["ODS code"].tolist() == [
        "H1", "H3", "H2",
    ]
    assert view.find_organisations(table, "(").empty  # words, not a pattern
    assert view.organisations_shown(6, 6) == (
        "All 6 organisations in scope, by name. The download holds every organisation in scope (6)."
    )
    shown = view.organisations_shown
    assert shown(450, 1200, 200).startswith("The first 200 of the 450 matching organisations,")
    assert shown(375, 375, 200).startswith("The first 200 of the 375 organisations in scope,")


def test_fit_view():
    whole = maps.fit_view((-5.7, 50.0, -4.2, 50.9))
    assert whole.latitude == pytest.approx(50.45, abs=0.01) and 7.5 < whole.zoom < 9.5
    narrow = maps.fit_view((-5.0, 50.0, -4.95, 50.05))
    assert narrow.zoom > whole.zoom + 3
    assert maps.fit_view(None).zoom < 7


# --- the page (AppTest) -----------------------------------------------------------------------------------


def engine_of(scenario: str):
    return db.make_engine(db.demo_url(scenario))


def gaps_expected(conn, scope: Scope, as_of: dt.date) -> int:
    """Gaps the page lists by default, from the measures engine: care homes in scope with nobody
    trained in post, or every organisation in scope when care homes are under a tenth of it."""
    everything = measures.report(conn, scope, as_of)
    if scope.kind is None:
        homes = measures.report(conn, scope.with_(kind="care_home"), as_of)
    elif scope.kind in ("care_home", *CARE_HOME_KINDS):
        homes = everything
    else:
        homes = None
    if homes and homes["orgs_in_scope"] and homes["orgs_in_scope"] * 10 >= everything["orgs_in_scope"]:
        return homes["orgs_in_scope"] - homes["orgs_trained"]
    return everything["orgs_in_scope"] - everything["orgs_trained"]


def gaps_table(at) -> pd.DataFrame | None:
    tables = [d.value for d in at.dataframe if "Nearest coach or Lead" in d.value.columns]
    return tables[0] if tables else None


def check_page(at, engine, scope: Scope) -> dict:
    """The page's deck, checked against the measures engine on ``engine``, the data the page shows."""
    no_exceptions(at)
    specs = deck_specs(at)
    assert len(specs) == 1
    spec = specs[0]
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert list(layers) == [
        maps.AREAS_ID, maps.BOUNDARIES_ID, maps.LOCALITIES_ID, maps.SELECTED_ID, maps.ORGS_ID
    ]
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        counts = measures.org_counts(conn, scope, as_of)
        expected_gaps = gaps_expected(conn, scope, as_of)
        pcns_in_scope = {r["group"] for r in measures.org_counts_by(conn, scope, as_of, "pcn")}
    assert len(layers[maps.ORGS_ID]["data"]) == counts["orgs_in_scope"]
    summary = next(m.value for m in at.markdown if "organisations in scope have someone" in m.value)
    assert summary.startswith(f"**{counts['orgs_trained']:,} of {counts['orgs_in_scope']:,}**")
    coloured = {row["pcn"] for row in layers[maps.AREAS_ID]["data"] if row["fill"][3] == maps.AREA_ALPHA}
    assert coloured == pcns_in_scope
    table = gaps_table(at)
    assert (0 if table is None else len(table)) == expected_gaps
    return layers


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_the_page_for_every_programme(scenario):
    at = open_page("capability_map", scenario)
    layers = check_page(at, engine_of(scenario), EVERYONE)
    assert layers[maps.AREAS_ID]["data"] and layers[maps.LOCALITIES_ID]["data"]
    assert not layers[maps.BOUNDARIES_ID]["pickable"]
    assert bool(layers[maps.BOUNDARIES_ID]["data"]) == (scenario != "barnet")  # a PCN a locality: outlined
    assert not layers[maps.SELECTED_ID]["data"]
    assert any("PCN areas are drawn around" in c.value for c in at.caption)  # says they are not boundaries


def test_the_page_filtered_to_a_pcn(app_database):
    engine = app_database("cornwall")
    at = open_page("capability_map", "cornwall", pcn="E-LIS")
    layers = check_page(at, engine, Scope(pcn="E-LIS"))
    assert {row["pcn"] for row in layers[maps.SELECTED_ID]["data"]} == {"E-LIS"}
    assert {p["pcn"] for p in layers[maps.ORGS_ID]["data"]} == {"E-LIS"}


def test_the_page_filtered_to_a_locality_and_kind():
    at = open_page("capability_map", "somerset", locality="MENDIP", kind="care_home")
    check_page(at, engine_of("somerset"), Scope(locality="MENDIP", kind="care_home"))


def test_the_page_coloured_by_people_trained_follows_that_legend():
    at = open_page("capability_map", "cornwall", colour="people_trained")
    no_exceptions(at)
    layers = {layer["id"]: layer for layer in deck_specs(at)[0]["layers"]}
    legend = next(m.value for m in at.markdown if "per PCN" in m.value)
    assert legend.startswith("**People trained** per PCN")
    with engine_of("cornwall").connect() as conn:
        trained = measures.pcn_people_and_projects(conn, EVERYONE, measures.default_as_of(conn))
    edges = maps.legend_breaks([v["people_trained"] for v in trained.values()], integer=True)
    for row in layers[maps.AREAS_ID]["data"]:
        colour = maps.area_colour(trained[row["pcn"]]["people_trained"], edges)
        assert row["fill"] == maps.rgba(colour, maps.AREA_ALPHA)
        assert maps.area_key_svg(colour) in legend


def test_the_organisation_list_is_written_when_opened_and_a_lead_gets_only_their_area():
    from qidash.ui.context import CONTEXT_KEY

    at = open_page("capability_map", "cornwall", demo_role="locality_lead", demo_area="EAST")
    no_exceptions(at)
    (listing,) = [e for e in at.expander if e.label.startswith("Every organisation and its stage")]
    assert not [d for d in at.dataframe if "Active project" in d.value.columns]  # closed: not built
    at.session_state["org_list"] = True
    at.run()
    no_exceptions(at)
    (table,) = [d.value for d in at.dataframe if "Active project" in d.value.columns]
    scope = at.session_state[CONTEXT_KEY].filters.scope
    assert scope.within_localities == ("EAST",)
    (points,) = [layer["data"] for layer in deck_specs(at)[0]["layers"] if layer["id"] == maps.ORGS_ID]
    stages = {p["ods_code"]: maps.STAGE_LABELS[p["stage"]] for p in points}
    with engine_of("cornwall").connect() as conn:
        as_of = measures.default_as_of(conn)
        everyone = view.organisation_list(view.capability_map_data(conn, scope, as_of))
        east = conn.execute(sa.select(m.Locality.name).where(m.Locality.code == "EAST")).scalar_one()
    assert listing.label == f"Every organisation and its stage: {len(everyone):,} in scope"
    assert len(table) == min(len(everyone), view.ORG_LIST_SHOWN)
    assert set(table["Locality"]) == {east}  # the lead's own area only
    assert dict(zip(table["ODS code"], table["Stage"], strict=True)).items() <= stages.items()
    assert any(c.value == view.organisations_shown(len(everyone), len(everyone)) for c in at.caption)
    assert len([b for b in at.get("download_button") if "every organisation" in b.proto.label]) == 1
    # finding one by part of its name
    name = everyone["Organisation"].iloc[len(everyone) // 2]
    at.text_input(key="org_find").set_value(name[1:-1].upper()).run()
    (found,) = [d.value for d in at.dataframe if "Active project" in d.value.columns]
    assert name in found["Organisation"].tolist() and len(found) < len(everyone)


def test_the_page_with_nothing_in_scope_says_so():
    at = open_page("capability_map", "cornwall", locality="EAST", kind="acute_trust")  # trusts have no PCN
    no_exceptions(at)
    assert any("No organisation is in this scope" in i.value for i in at.info)
    assert not deck_specs(at)


def test_the_page_for_organisations_outside_every_pcn():
    at = open_page("capability_map", "fylde", kind="acute_trust")
    layers = check_page(at, engine_of("fylde"), Scope(kind="acute_trust"))
    assert all(
        row["fill"] == maps.rgba(maps.OUTSIDE, maps.OUTSIDE_ALPHA) for row in layers[maps.AREAS_ID]["data"]
    )


def test_the_gaps_table_lists_the_largest_and_the_download_holds_them_all(monkeypatch):
    monkeypatch.setattr(view, "GAP_ROWS", 5)
    at = open_page("capability_map", "cornwall")
    no_exceptions(at)
    with engine_of("cornwall").connect() as conn:
        data = view.capability_map_data(conn, EVERYONE, measures.default_as_of(conn))
    gaps = data.gaps[data.default_gaps_among]
    assert len(gaps) > 5
    (listed,) = [d.value for d in at.dataframe if "Nearest coach or Lead" in d.value.columns]
    assert listed["Organisation"].tolist() == gaps["Organisation"].head(5).tolist()  # the largest first
    assert list(listed.columns) == [c for c in view.GAP_COLUMNS_SHOWN if c in gaps]  # no hidden columns sent
    said = f"Listing the largest 5 of {len(gaps)}; the download holds them all."
    assert said in [c.value for c in at.caption]
    assert [b.proto.label for b in at.get("download_button")] == ["Download the gaps (CSV)"]
