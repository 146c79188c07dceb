"""The Capability map on real geography once the public registers are loaded: the ICB's outline and
local authorities under the PCN areas, derived areas clipped to the outline, the main towns named,
the attribution shown, and colour classes that can be told apart."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import shapely
from shapely.geometry import shape

from qidash import catalog, geo, maps, registers
from qidash.registers import lookups
from tests.support import ROOT, deck_specs, open_page

FIX = ROOT / "tests" / "fixtures" / "registers"


def _cornwall(engine):
    plan = registers.plan(
        engine,
        "QT6",
        practices=FIX / "epraccur.csv",
        pcns=FIX / "epcn.xlsx",
        postcodes=FIX / "postcodes",
        as_of=dt.date(2025, 3, 1),
    )
    assert registers.load(engine, plan, user="t").outcome == "loaded"
    return plan


def _blend(colour: str, alpha: int, under: str) -> list[float]:
    a = alpha / 255
    return [a * f + (1 - a) * b for f, b in zip(maps.rgba(colour)[:3], maps.rgba(under)[:3], strict=True)]


def _luminance(rgb: list[float]) -> float:
    c = [x / 255 for x in rgb]
    c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def test_neighbouring_colour_classes_can_be_told_apart_as_drawn():
    # As drawn: at the areas' opacity over the ICB's land. The earlier ramp's 0-20% and 20-40%
    # differed by a contrast of 1.16, which most people cannot tell apart on a screen.
    shades = [_luminance(_blend(c, maps.AREA_ALPHA, maps.LAND)) for c in maps.AREA_RAMP]
    ratios = [(max(a, b) + 0.05) / (min(a, b) + 0.05) for a, b in itertools.pairwise(shades)]
    assert min(ratios) >= 1.3, ratios


def test_the_shipped_boundaries_cover_every_icb_and_their_local_authorities():
    assert len(lookups.icbs()) == 42
    for code in lookups.icbs():
        assert lookups.icb_outline(code) is not None, code
        assert lookups.local_authorities(code), code
    names = {f["properties"]["name"] for f in lookups.local_authorities("QT6")}
    assert names == {"Cornwall", "Isles of Scilly"}
    assert "Plymouth" in {f["properties"]["name"] for f in lookups.local_authorities("QJK")}


def test_derived_pcn_areas_stop_at_the_real_outline(any_engine):
    _cornwall(any_engine)
    outline = shape(lookups.icb_outline("QT6"))
    with any_engine.connect() as conn:
        areas = geo.pcn_areas(conn)
        sites = catalog.pcn_sites(conn)
    assert areas.source == "derived" and areas.pcns
    for area in areas.pcns:  # outside by no more than slivers of rounding along the coast (< 0.01 km²)
        assert geo.as_shape(area).difference(outline).area < 1e-6, area.code
    # The control: drawn around the sites alone, the areas reach out into the sea.
    unclipped = shapely.union_all(list(geo.derive_pcn_shapes(sites).values()))
    assert unclipped.difference(outline).area > 0.01


def test_the_map_draws_the_outline_local_authorities_and_towns_only_with_the_registers(engine):
    with engine.connect() as conn:
        assert geo.registers_geography(conn) is None
    plan = _cornwall(engine)
    with engine.connect() as conn:
        geography = geo.registers_geography(conn)
        areas = geo.pcn_areas(conn)
    assert geography.icb_name == "NHS Cornwall and the Isles of Scilly ICB"
    assert len(geography.local_authorities) == 2 and geography.outline
    assert geography.towns == plan.towns and {t["name"] for t in plan.towns} >= {"Truro"}
    import pandas as pd

    deck = json.loads(
        maps.capability_deck(
            areas,
            {},
            [],
            {},
            pd.DataFrame(
                columns=[
                    "ods_code",
                    "name",
                    "kind",
                    "pcn",
                    "latitude",
                    "longitude",
                    "beds",
                    "staff_headcount",
                    "stage",
                    "trained_in_post",
                    "people_trained",
                ]
            ),
            geography=geography,
        ).to_json()
    )
    ids = [layer["id"] for layer in deck["layers"]]
    assert ids[:4] == [maps.LAND_ID, maps.LA_ID, maps.AREAS_ID, maps.BOUNDARIES_ID]
    assert ids[-1] == maps.TOWNS_ID
    town_layer = next(layer for layer in deck["layers"] if layer["id"] == maps.TOWNS_ID)
    assert town_layer["fontFamily"] == "Helvetica, Arial, sans-serif"  # a font, not an accessor ("@@=...")
    towns = town_layer["data"]
    assert {
        "position": [plan.towns[0]["longitude"], plan.towns[0]["latitude"]],
        "name": plan.towns[0]["name"],
    } in towns


def test_the_capability_map_page_shows_the_real_geography_and_its_attribution(engine, monkeypatch):
    _cornwall(engine)
    monkeypatch.setenv("QIDASH_DB_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    at = open_page("capability_map", demo_role="admin")
    assert not at.exception, [e.value for e in at.exception]
    ids = [layer["id"] for spec in deck_specs(at) for layer in spec["layers"]]
    assert maps.LAND_ID in ids and maps.TOWNS_ID in ids
    captions = " ".join(c.value for c in at.caption)
    assert "Open Government Licence v3.0" in captions and "within the outline of NHS Cornwall" in captions
