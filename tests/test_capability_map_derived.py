"""What the Capability map reads instead of working it out on each first view: the derived PCN areas
stored at every load (and by migration 0006), and the per-PCN figures added up from the
organisations' stages, which must equal the measures they replace. On both databases."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import shapely
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from qidash import catalog, derive, geo, ingest, maps, measures, palette, store
from qidash import models as m
from qidash.scope import Scope
from tests.support import connection_to, migrate_again_from
from tests.test_capability_map import AS_OF, FRAMES

SCOPES = [Scope(), Scope(kind="care_home"), Scope(locality="L1"), Scope(pcn="P3"), Scope(sector="nhs"),
          Scope(kind="acute_trust")]


@pytest.fixture(scope="module")
def conn(backend, databases):
    """The tiny system of test_capability_map, on SQLite and on PostgreSQL."""
    with connection_to(databases, backend, FRAMES) as connection:
        yield connection


def _replaced(conn, scope, as_of):
    """What pcn_capability replaces: org_counts_by PCN with pcn_people_and_projects, by PCN code."""
    reach = measures.pcn_people_and_projects(conn, scope, as_of)
    return {r["group"]: {**r, **reach[r["group"]]} for r in measures.org_counts_by(conn, scope, as_of, "pcn")}


@pytest.mark.parametrize("scope", SCOPES)
def test_pcn_capability_equals_the_measures_it_replaces(conn, scope):
    got = measures.pcn_capability(conn, scope, AS_OF)
    assert [r["group"] for r in got] == sorted(r["group"] for r in got)
    assert {r["group"]: r for r in got} == _replaced(conn, scope, AS_OF)


def test_pcn_capability_by_hand(conn):
    rows = {r["group"]: r for r in measures.pcn_capability(conn, Scope(), AS_OF)}
    # P3: H4 (30 beds, nobody) and G1 (no beds, g1a in post); project X counts once though both take part.
    assert rows["P3"] == {
        "group": "P3", "name": "Valley", "orgs_in_scope": 2, "orgs_offered": 2, "orgs_engaged": 1,
        "orgs_trained": 1, "orgs_with_project": 2, "coverage_pct": 50.0, "trained_in_post": 1, "beds": 30,
        "trained_per_10_beds": 0.0, "people_trained": 1, "projects_active": 1,
    }
    assert rows["P2"]["people_trained"] == 1 and rows["P2"]["trained_in_post"] == 0  # h3a has left
    assert "T1" not in {r["group"] for r in rows.values()}  # the trust is in no PCN
    stages = {r["ods_code"]: r for r in measures.org_stages(conn, Scope(), AS_OF)}
    assert stages["H3"]["people_trained"] == 1 and stages["T1"]["people_trained"] == 2  # leavers count
    assert measures.pcn_capability(conn, Scope(pcn="P3"), dt.date(2019, 1, 1)) == [
        {**rows["P3"], "orgs_offered": 0, "orgs_engaged": 0, "orgs_trained": 0, "orgs_with_project": 0,
         "coverage_pct": 0.0, "trained_in_post": 0, "trained_per_10_beds": 0.0, "people_trained": 0,
         "projects_active": 0}
    ]


def test_pcn_capability_on_a_demo(any_demo):
    engine = any_demo("somerset")
    with engine.connect() as c:
        as_of = measures.default_as_of(c)
        for scope in (Scope(), Scope(kind="care_home"), Scope(sector="independent")):
            got = measures.pcn_capability(c, scope, as_of)
            assert got and {r["group"]: r for r in got} == _replaced(c, scope, as_of)


# --- stored areas -----------------------------------------------------------------------------------------


def test_without_stored_areas_they_are_derived_when_drawn(conn, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    assert conn.execute(select(func.count()).select_from(m.DerivedArea)).scalar_one() == 0
    areas = geo.pcn_areas(conn)
    assert areas == geo.derived_areas(conn) and areas.source == "derived" and len(areas.pcns) == 3


def test_a_load_stores_the_derived_areas(any_demo, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    engine = any_demo("somerset")
    with engine.connect() as c:
        pcns = catalog.pcn_localities(c)
        stored = geo.stored_areas(c, pcns)
        assert stored is not None and stored.pcns and stored.localities
        assert stored == geo.derived_areas(c)  # names, order, locality of each PCN and every coordinate
        assert geo.pcn_areas(c) == stored


def test_an_import_stores_the_areas_again(backend, databases, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    engine = databases.copy(databases.demo_snapshot(backend, "somerset"))
    try:
        with engine.connect() as c:
            before = geo.stored_areas(c, catalog.pcn_localities(c))
            pcn = before.pcns[0]
        # A new home of the first PCN far out to sea west of everything: that PCN's area reaches it.
        west, south, _east, _north = before.bounds
        lat, lon = south + 0.05, west - 0.3
        csv = (
            "ods_code,name,kind,sector,pcn_code,latitude,longitude\n"
            f"ZZ001,Far Home,care_home_residential,independent,{pcn.code},{lat},{lon}\n"
        )
        result = ingest.commit(engine, ingest.read_upload([("organisations.csv", csv.encode())]), user="t")
        assert result.outcome == "loaded"
        with engine.connect() as c:
            after = geo.stored_areas(c, catalog.pcn_localities(c))
            assert after == geo.derived_areas(c) and after != before
        moved = next(a for a in after.pcns if a.code == pcn.code)
        assert geo.as_shape(moved).contains(shapely.Point(lon, lat))
    finally:
        databases.drop(engine)


def test_no_located_site_stores_no_area(backend, databases):
    engine = databases.new(backend)
    try:
        frames = {
            **FRAMES,
            "organisations": [
                {k: v for k, v in o.items() if k not in ("latitude", "longitude")}
                for o in FRAMES["organisations"]
            ],
        }
        with Session(engine) as session, session.begin():
            store.write_frames(session, frames)
            derive.refresh_derived(session)
        with engine.connect() as c:
            assert geo.stored_areas(c, catalog.pcn_localities(c)) is None
            assert geo.pcn_areas(c) == geo.Areas("none", [], [])
    finally:
        databases.drop(engine)


def test_0006_stores_the_areas_of_existing_data(backend, databases, monkeypatch, tmp_path):
    monkeypatch.setenv("QIDASH_BOUNDARIES", str(tmp_path / "none.geojson"))
    engine = databases.copy(databases.demo_snapshot(backend, "somerset"))
    try:
        with engine.connect() as c:
            as_loaded = sorted(c.execute(select(m.DerivedArea.level, m.DerivedArea.code)).all())
            areas = geo.stored_areas(c, catalog.pcn_localities(c))
        migrate_again_from(engine, "0005")  # as a database loaded before 0006 was
        with engine.connect() as c:
            assert sorted(c.execute(select(m.DerivedArea.level, m.DerivedArea.code)).all()) == as_loaded
            assert geo.stored_areas(c, catalog.pcn_localities(c)) == areas
        with Session(engine) as session, session.begin():
            session.execute(delete(m.DerivedArea))
        with engine.connect() as c:
            assert geo.pcn_areas(c) == areas  # derived when drawn, the same
    finally:
        databases.drop(engine)


# --- points written straight to JSON ------------------------------------------------------------------------


def test_points_are_the_json_of_their_rows():
    """maps.org_rows writes each point's JSON itself: it must be exactly what json.dumps writes for the
    row (keys sorted, no spaces), names with quotes, backslashes and accents included."""
    orgs = pd.DataFrame({
        "ods_code": ["A1", "B\"2", "C3", "D4"],
        "name": ['Home "Rose" \\ Lodge', "Café Ōrbit", "Plain", "Nowhere"],
        "kind": ["care_home_nursing", "gp_practice", "care_home_residential", "gp_practice"],
        "pcn": ["P1", None, "P2", "P1"],
        "latitude": [50.12345, 50.2, 50.3, None],
        "longitude": [-5.06265, -5.1, -4.9, -5.0],
        "beds": [40.0, None, 12.0, 3.0],
        "stage": ["trained", "not_offered", "with_project", "offered"],
        "trained_in_post": [3, 0, 1234, 0],
    })
    rows = json.loads(maps.org_rows(orgs, "beds").text)
    radius = maps.point_radius(orgs["beds"].iloc[:3])
    expected = [
        {
            "ods_code": ods,
            "pcn": pcn,
            "title": name,
            "line1": line1,
            "line2": f"Stage: {maps.STAGE_LABELS[stage]}",
            "line3": f"People trained in post: {palette.fmt_int(n)}",
            "position": [lon, lat],
            **maps.mark_fields(stage),
            "radius": maps.drawn_radius(float(r), stage),
            "stage": stage,
        }
        for ods, pcn, name, line1, stage, n, lon, lat, r in zip(
            ["A1", 'B"2', "C3"],
            ["P1", None, "P2"],
            ['Home "Rose" \\ Lodge', "Café Ōrbit", "Plain"],
            ["Care home nursing · 40 beds", "GP practice", "Care home residential · 12 beds"],
            ["trained", "not_offered", "with_project"],
            [3, 0, 1234],
            [-5.06265, -5.1, -4.9],
            [50.12345, 50.2, 50.3],
            radius,
            strict=True,
        )
    ]
    assert rows == expected  # the organisation with no location is not drawn
    assert maps.org_rows(orgs, "beds").text == json.dumps(expected, sort_keys=True, separators=(",", ":"))
