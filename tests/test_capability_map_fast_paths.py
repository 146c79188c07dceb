"""The Capability map's fast paths, each against the plain way it replaces: stored areas drawn from
the JSON they were stored as (not parsed and written again), points written with one ``%``, gap
tables worked on arrays, and the per-PCN numbers written only once their expander is opened. Where
a database is read, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from qidash import catalog, geo, maps, measures
from qidash.map_fast_paths import haversine_km, json_bounds
from qidash.models import CARE_HOME_KINDS
from qidash.scope import Scope
from qidash.views import capability_map as view
from tests.support import demo_engine, no_exceptions, open_page

# --- stored areas: drawn from their JSON --------------------------------------------------------------------


def _parsed(areas: geo.Areas) -> geo.Areas:
    """The same areas made from their parsed polygons: what the map drew before it kept the JSON."""
    return geo.Areas(
        areas.source,
        [geo.Area(a.code, a.name, a.polygons, a.locality) for a in areas.pcns],
        [geo.Area(a.code, a.name, a.polygons, a.locality) for a in areas.localities],
    )


def _as_lists(rings) -> list:
    return json.loads(json.dumps(rings))


def test_stored_areas_draw_as_their_parsed_polygons(any_demo, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    engine = any_demo("somerset")
    with engine.connect() as c:
        stored = geo.stored_areas(c, catalog.pcn_localities(c))
        as_of = measures.default_as_of(c)
        orgs = view.capability_map_data(c, Scope(), as_of, with_gaps=False).orgs
    parsed = _parsed(stored)
    assert parsed == stored and stored.bounds == parsed.bounds
    assert any(len(a.polygons) > 1 for a in stored.pcns)  # islands: more than one polygon to split
    for kept, plain in zip(stored.pcns + stored.localities, parsed.pcns + parsed.localities, strict=True):
        assert [json.loads(p) for p in kept.polygons_json()] == _as_lists(plain.polygons)
        assert [json.loads(r) for r in kept.rings_json()] == _as_lists([r for p in plain.polygons for r in p])
        assert kept.bounds == plain.bounds == maps.area_bounds(plain)
    # The deck drawn from either is the same, with a PCN chosen or not, some PCNs outside the scope.
    values = {a.code: float(i % 7) for i, a in enumerate(stored.pcns) if i % 3}
    edges = maps.legend_breaks(values.values())
    tips = dict.fromkeys(list(values)[:5], ("one", "two", "three"))
    for chosen in (None, stored.pcns[1].code):
        decks = [
            json.loads(maps.capability_deck(areas, values, edges, tips, orgs, "beds", chosen).to_json())
            for areas in (stored, parsed)
        ]
        assert decks[0] == decks[1]
        layers = {layer["id"]: layer for layer in decks[0]["layers"]}
        assert len(layers[maps.AREAS_ID]["data"]) == sum(len(a.polygons) for a in stored.pcns)
        assert bool(layers[maps.SELECTED_ID]["data"]) == bool(chosen)


@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])
def test_polygons_and_bounds_read_from_json_however_it_is_spaced(separators):
    square_with_hole = [
        [[-5.0, 50.0], [-4.0, 50.0], [-4.0, 51.0], [-5.0, 50.0]],
        [[-4.8, 50.2], [-4.6, 50.2], [-4.6, 50.4], [-4.8, 50.2]],
    ]
    island = [[[-3.25, 49.5], [-3.0, 49.75], [-3.5, 49.625], [-3.25, 49.5]]]
    texts = [json.dumps(p, separators=separators) for p in ([square_with_hole, island], [island], [])]
    texts[0] = texts[0].replace("]], [[", "]],\n  [[") if separators[0] == ", " else texts[0]
    areas = [geo.Area(str(i), "x", stored_json=t) for i, t in enumerate(texts)]
    assert [json.loads(p) for p in areas[0].polygons_json()] == [square_with_hole, island]
    assert [json.loads(r) for r in areas[0].rings_json()] == [*square_with_hole, *island]
    assert areas[2].polygons_json() == [] and areas[2].rings_json() == []
    assert json_bounds(texts) == [(-5.0, 49.5, -3.0, 51.0), (-3.5, 49.5, -3.0, 49.75), None]
    assert json_bounds(["[]"]) == [None]


def test_areas_pickle_and_stay_read_only():
    import pickle

    area = geo.Area("P1", "Harbour", stored_json="[[[[1.5, 2.0], [3.0, 4.0], [1.5, 2.0]]]]", locality="L1",
                    bounds=(1.5, 2.0, 3.0, 4.0))
    again = pickle.loads(pickle.dumps(area))
    assert again == area and again.bounds == area.bounds and again.polygons_json() == area.polygons_json()
    with pytest.raises(AttributeError):
        again.code = "P2"


# --- points written in one go -------------------------------------------------------------------------------


def test_points_with_percent_signs_are_the_json_of_their_rows():
    """maps.org_rows writes every point with one ``%``: names holding % signs and format codes must
    come out as they are."""
    orgs = pd.DataFrame({
        "ods_code": ["A%s", "B2", "C%%3"], "name": ["Home 100%", "%s and %r %(x)s", "50% % %%"],
        "kind": ["care_home_nursing", "gp_practice", "care_home_residential"], "pcn": ["P%d", None, "P2"],
        "latitude": [50.1, 50.2, 50.3], "longitude": [-5.1, -5.2, -5.3], "beds": [40.0, None, 12.0],
        "stage": ["trained", "not_offered", "with_project"], "trained_in_post": [3, 0, 1],
    })
    radius = maps.point_radius(orgs["beds"]).tolist()
    expected = [
        {
            "ods_code": r.ods_code,
            "pcn": r.pcn,
            "title": r.name,
            "line1": line1,
            "line2": f"Stage: {maps.STAGE_LABELS[r.stage]}",
            "line3": f"People trained in post: {r.trained_in_post}",
            "position": [r.longitude, r.latitude],
            **maps.mark_fields(r.stage),
            "radius": maps.drawn_radius(rad, r.stage),
            "stage": r.stage,
        }
        for r, line1, rad in zip(
            orgs.astype(object).where(orgs.notna(), None).itertuples(),
            ["Care home nursing · 40 beds", "GP practice", "Care home residential · 12 beds"],
            radius,
            strict=True,
        )
    ]
    assert maps.org_rows(orgs, "beds").text == json.dumps(expected, sort_keys=True, separators=(",", ":"))


# --- gap tables on arrays ---------------------------------------------------------------------------------

NAMES = {"P1": "Harbour", "P2": "Moor"}
LOCALITIES = {"P1": "West", "P2": "West"}


def _stages(n: int = 400, seed: int = 3) -> dict[str, list]:
    """Organisations as measures.org_stage_columns returns them, with ties in size and name, sizes
    and locations missing, care homes and others, some trained."""
    rng = np.random.default_rng(seed)
    kind = [["care_home_nursing", "care_home_residential", "gp_practice", "pharmacy"][int(rng.integers(0, 4))]
            for _ in range(n)]
    # Every home records its beds (whole numbers in the homes' table), no practice or pharmacy does.
    beds = [int(rng.integers(10, 14)) if k in CARE_HOME_KINDS else None for k in kind]
    return {
        "ods_code": [f"O{i:04d}" for i in range(n)],
        "name": [f"Home {int(rng.integers(0, 60))}" for _ in range(n)],  # repeats: ties by name too
        "kind": kind,
        "sector": ["independent"] * n,
        "pcn": [None if rng.random() < 0.1 else ("P1" if rng.random() < 0.5 else "P2") for _ in range(n)],
        "latitude": [None if rng.random() < 0.05 else round(50 + rng.random(), 5) for _ in range(n)],
        "longitude": [round(-5 + rng.random(), 5) for _ in range(n)],
        "beds": beds,
        "staff_headcount": [None if rng.random() < 0.2 else int(rng.integers(5, 8)) for _ in range(n)],
        "offered": [True] * n, "engaged": [False] * n, "trained": [False] * n, "with_project": [False] * n,
        "trained_in_post": [int(rng.random() < 0.3) for _ in range(n)],
        "people_trained": [0] * n,
        "stage": [["offered", "engaged", "not_offered"][int(rng.integers(0, 3))] for _ in range(n)],
    }


COACHES = [
    {"person_ref": f"c{i}", "display_name": f"Coach {i}" if i % 2 else None, "role": "qi_lead",
     "organisation": f"Org {i}", "latitude": 50 + i / 25, "longitude": -5 + (i % 5) / 5}
    for i in range(12)
] + [{"person_ref": "twin", "display_name": "Twin", "role": "nurse", "organisation": "Org 0",
      "latitude": 50.0, "longitude": -5.0}]  # at c0's place: c0, listed first, is the nearest


def _plain_gaps(stages, coaches, named: bool) -> dict[str, pd.DataFrame]:
    """The gap tables the plain DataFrame way: sort, then each organisation's nearest coach by
    haversine (the first listed on a tie), rounded by Python."""
    orgs = pd.DataFrame(stages)
    orgs["beds"] = pd.to_numeric(orgs["beds"]).astype(float)
    orgs["staff_headcount"] = pd.to_numeric(orgs["staff_headcount"]).astype(float)
    orgs["latitude"] = pd.to_numeric(orgs["latitude"]).astype(float)
    gaps = orgs[orgs["trained_in_post"] == 0].sort_values(
        ["beds", "staff_headcount", "name"], ascending=[False, False, True], na_position="last", kind="stable"
    )
    who, where, km = [], [], []
    for lat, lon in zip(gaps["latitude"], gaps["longitude"], strict=True):
        if math.isnan(lat) or not coaches:
            who.append(None), where.append(None), km.append(None)
            continue
        d = haversine_km(lat, lon, [c["latitude"] for c in coaches], [c["longitude"] for c in coaches])
        best = coaches[int(np.argmin(d))]
        km.append(round(float(d.min()), 1))
        who.append(
            f"{(best['display_name'] if named else None) or 'A coach'} at {best['organisation']}, "
            f"{km[-1]:.1f} km"
        )
        where.append(best["organisation"])

    def table(rows: pd.Series) -> pd.DataFrame:
        g = gaps[rows.to_numpy()]
        out = pd.DataFrame(
            {
                "Organisation": g["name"].tolist(),
                "Beds": g["beds"].astype("Int64").to_numpy(),
                "Staff": g["staff_headcount"].astype("Int64").to_numpy(),
                "Stage": [maps.STAGE_LABELS[s] for s in g["stage"]],
                "Nearest coach or Lead": [w for w, keep in zip(who, rows, strict=True) if keep],
                "Distance (km)": pd.array(
                    [k for k, keep in zip(km, rows, strict=True) if keep], dtype="Float64"
                ),
                "PCN": [NAMES.get(p, "") for p in g["pcn"]],
                "Their organisation": [w for w, keep in zip(where, rows, strict=True) if keep],
                "Kind": [view.label(k) for k in g["kind"]],
                "Locality": [LOCALITIES.get(p, "") for p in g["pcn"]],
                "ODS code": g["ods_code"].tolist(),
            }
        )
        return out.drop(columns=[c for c in ("Beds", "Staff") if out[c].isna().all()])

    homes = gaps["kind"].isin(CARE_HOME_KINDS)
    return {"care_home": table(homes), "all": table(homes | True)}


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    for column in expected.columns:
        assert got[column].isna().tolist() == expected[column].isna().tolist(), column
        assert got[column].dropna().tolist() == expected[column].dropna().tolist(), column
    for column in ("Beds", "Staff"):
        if column in expected:
            assert got[column].dtype == expected[column].dtype, column  # whole numbers where all recorded


@pytest.mark.parametrize("named", [True, False])
@pytest.mark.parametrize("coaches", [COACHES, []], ids=["coaches", "no-coach"])
def test_gap_tables_on_arrays_equal_the_dataframe_way(named, coaches):
    stages = _stages()
    got = view.gap_tables(view.org_arrays(stages), coaches, NAMES, LOCALITIES, named)
    expected = _plain_gaps(stages, coaches, named)
    assert len(got["all"]) > len(got["care_home"]) > 50
    for among in view.GAPS_AMONG:
        _same(got[among], expected[among])
    if coaches:
        # The first at a shared place: never the twin listed after c0.
        assert not any(w.startswith("Twin ") for w in got["all"]["Nearest coach or Lead"].dropna().tolist())


def test_gap_tables_without_beds_or_anyone_unreached():
    stages = _stages(60)
    stages["beds"] = [None] * 60
    tables = view.gap_tables(view.org_arrays(stages), COACHES, NAMES, LOCALITIES)
    assert "Beds" not in tables["all"] and "Staff" in tables["all"]
    stages["trained_in_post"] = [1] * 60
    tables = view.gap_tables(view.org_arrays(stages), COACHES, NAMES, LOCALITIES)
    assert all(t.empty and list(t.columns) == view.GAP_COLUMNS for t in tables.values())


def test_distances_round_as_python_rounds():
    halves = np.arange(0, 20_000) / 20  # every half tenth up to 1,000 km, where the two ways can differ
    km = np.concatenate(
        [halves, halves + 1e-9, halves - 1e-9, np.random.default_rng(1).uniform(0, 900, 50_000)]
    )
    km = km[km >= 0]
    assert view.round_tenths(km).tolist() == [round(x, 1) for x in km.tolist()]


# --- the numbers behind the map: written when opened -------------------------------------------------------


def test_the_numbers_behind_the_map_are_written_when_opened():
    at = open_page("capability_map", "cornwall")
    no_exceptions(at)
    (numbers,) = [e for e in at.expander if e.label.startswith("The numbers behind the map")]
    assert not [d for d in at.dataframe if "Coverage %" in d.value.columns]  # closed: not written
    at.session_state["pcn_numbers"] = True
    at.run()
    no_exceptions(at)
    (table,) = [d.value for d in at.dataframe if "Coverage %" in d.value.columns]
    with demo_engine("cornwall").connect() as c:
        by_pcn = measures.org_counts_by(c, Scope(), measures.default_as_of(c), "pcn")
    assert numbers.label == f"The numbers behind the map: {len(by_pcn)} PCNs in scope"
    assert len(table) == len(by_pcn)
    assert sorted(table["Organisations"].tolist()) == sorted(r["orgs_in_scope"] for r in by_pcn)
    assert sorted(table["Trained"].tolist()) == sorted(r["orgs_trained"] for r in by_pcn)
