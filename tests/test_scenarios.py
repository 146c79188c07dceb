"""Each demo scenario tells its programme's true story (DESIGN.md section 1, the foundation issue)."""

import collections
import datetime as dt

import pytest
from sqlalchemy import func, select

from qidash import db, measures, scenarios
from qidash import models as m
from qidash.cli import main
from qidash.scope import Scope
from tests.support import engine_url


@pytest.fixture(scope="module")
def frames():
    return {name: scenarios.generate(name) for name in scenarios.NAMES}


def test_every_scenario_has_a_definition():
    assert scenarios.available() == list(scenarios.NAMES)


def test_generation_is_deterministic():
    assert scenarios.generate("barnet") == scenarios.generate("barnet")


def test_no_two_projects_in_the_five_demos_share_a_story_or_lessons(frames):
    """Each story and each lesson is composed from its own project's facts: none is repeated word for
    word, within a programme or across the five."""
    projects = [p for name in scenarios.NAMES for p in frames[name]["projects"]]
    assert len(projects) > 150
    for field in ("story", "lessons"):
        texts = [p[field] for p in projects]
        assert all(texts), f"a project without {field}"
        repeated = [t for t in set(texts) if texts.count(t) > 1]
        assert not repeated, repeated[:3]


def test_stories_are_the_projects_own_and_make_no_claim_about_the_data(frames):
    orgs = {
        o["ods_code"]: o["name"].replace(" (demo)", "")
        for name in scenarios.NAMES
        for o in frames[name]["organisations"]
    }
    for name in scenarios.NAMES:
        for p in frames[name]["projects"]:
            assert orgs[p["lead_ods_code"]] in p["story"], p["story"]
            assert f"{p['start_date']:%B %Y}" in p["story"], p["story"]
            # Whether the data shows a change is the chart analysis's word, shown beside the story.
            assert not any(w in p["story"] for w in ("shifted", "improved", "signal")), p["story"]


def test_stories_are_deterministic_per_seed_and_leave_the_rest_of_the_demo_alone():
    again = scenarios.generate("cornwall")
    assert [p["story"] for p in again["projects"]] == [
        p["story"] for p in scenarios.generate("cornwall")["projects"]
    ]
    spec = {**scenarios.definition("cornwall"), "seed": scenarios.definition("cornwall")["seed"] + 1}
    other = scenarios.Generator(spec, 1).run()
    assert [p["story"] for p in other["projects"]] != [p["story"] for p in again["projects"]]


def test_cornwall_care_homes_beds_localities_and_pcns(frames):
    f = frames["cornwall"]
    homes = [o for o in f["organisations"] if o["kind"] in m.CARE_HOME_KINDS]
    assert len(homes) >= 300
    assert sum(o["beds"] for o in homes) >= 5000
    assert {o["kind"] for o in homes} == set(m.CARE_HOME_KINDS)
    assert len(f["localities"]) == 4
    assert 13 <= len(f["pcns"]) <= 17
    practices = [o for o in f["organisations"] if o["kind"] == "gp_practice"]
    assert 50 <= len(practices) <= 70
    # Training was offered to every home (a level playing field), over several years.
    assert all(o["offered_on"] is not None for o in homes)
    offer_years = {o["offered_on"].year for o in homes}
    assert len(offer_years) >= 3
    kinds = {o["kind"] for o in f["organisations"]}
    assert {"acute_trust", "community_trust", "local_authority"} <= kinds
    assert all("(demo)" in o["name"] for o in f["organisations"])
    assert {p["priority_code"] for p in f["projects"]} <= {"FALLS", "PU", "UTI", "HYD", "MEDS"}


def test_cornwall_uptake_is_uneven_between_localities(any_demo):
    engine = any_demo("cornwall")
    with engine.connect() as conn:
        rows = measures.org_counts_by(conn, Scope(kind="care_home"), measures.default_as_of(conn), "locality")
    coverage = {r["group"]: r["coverage_pct"] for r in rows}
    assert max(coverage.values()) - min(coverage.values()) > 10


def test_somerset_target_patients_coaches(frames):
    f = frames["somerset"]
    assert f["targets"] == [
        {"measure": "people_trained", "value": 1000, "due_on": dt.date(2019, 12, 31), "scope": "system"}
    ]
    assert sum(p["is_patient_partner"] for p in f["people"]) >= 30
    assert {r["role"] for r in f["faculty"]} >= {"coach", "mentor"}
    tiers = [t["name"] for t in f["tiers"]]
    assert len(tiers) == 4 and all("dose" in t.lower() for t in tiers)


def test_somerset_reach_is_near_the_target(any_demo):
    engine = any_demo("somerset")
    with engine.connect() as conn:
        reach = measures.reach_vs_target(conn, Scope(), measures.default_as_of(conn))
    assert reach["target_value"] == 1000 and reach["due_on"] == "2019-12-31"
    assert 700 <= reach["people_trained"] <= 1000
    assert 850 <= reach["projected_at_due"] <= 1150


def test_fylde_partners_pathways_and_junior_doctors(frames):
    f = frames["fylde"]
    partners = [o for o in f["organisations"] if o["kind"] != "gp_practice"]
    assert len(partners) == 12
    pathways = {p["code"] for p in f["priorities"] if p.get("parent_code") == "PATHWAYS"}
    assert pathways == {"SEPSIS", "PNEU", "STROKE", "COPD", "DIAB"}
    assert {p["priority_code"] for p in f["projects"]} <= pathways
    assert sum(p["role"] == "junior_doctor" for p in f["people"]) >= 20
    assert [t["code"] for t in f["tiers"]] == ["qsir_fundamentals", "qsir_practitioner", "qsir_associate"]


def test_nw_surrey_partners_practices_waves_and_local_faculty(frames):
    f = frames["nw_surrey"]
    practices = [o for o in f["organisations"] if o["kind"] == "gp_practice"]
    partners = [o for o in f["organisations"] if o["kind"] != "gp_practice"]
    assert len(practices) == 40 and len(partners) == 11
    assert [t["name"] for t in f["tiers"]] == ["Learn", "Live", "Lead"]
    first = min(c["start_date"] for c in f["cohorts"])
    assert first.year == 2020 and first.month == 1
    # Faculty come increasingly from local Lead-tier people.
    by_year = collections.defaultdict(list)
    for c in f["cohorts"]:
        by_year[c["start_date"].year].append(c["delivered_by"] == "local")
    share = {y: sum(v) / len(v) for y, v in by_year.items()}
    assert share[2020] < share[2023]


def test_barnet_one_cohort_eight_sessions_thirteen_participants(frames):
    f = frames["barnet"]
    assert len(f["cohorts"]) == 1
    cohort = f["cohorts"][0]
    assert cohort["sessions"] == 8
    assert cohort["start_date"] == dt.date(2017, 12, 7) and cohort["end_date"] == dt.date(2018, 9, 20)
    enrolled = {e["person_ref"] for e in f["enrolments"]}
    roles = collections.Counter(p["role"] for p in f["people"] if p["person_ref"] in enrolled)
    assert roles == {"practice_manager": 8, "gp": 3, "pharmacist": 1, "nurse": 1}
    assert {loc["name"] for loc in f["localities"]} == {"North Barnet", "West Barnet", "South Barnet"}
    assert len(f["projects"]) == 3
    pdsa = [c for c in f["changes"] if c["kind"] == "pdsa"]
    assert len({c["project_code"] for c in pdsa}) == 3
    sessions = {a["session"] for a in f["attendance"]}
    assert sessions == set(range(1, 9))


def test_scale_makes_distinct_copies():
    one, three = scenarios.generate("barnet"), scenarios.generate("barnet", scale=3)
    assert len(three["organisations"]) == 3 * len(one["organisations"])
    codes = [o["ods_code"] for o in three["organisations"]]
    assert len(set(codes)) == len(codes)
    places = {(o["latitude"], o["longitude"]) for o in three["organisations"]}
    assert len(places) == len(codes)


def test_unknown_scenario_is_a_clear_error(capsys, tmp_path):
    code = main(["demo", "--scenario", "atlantis", "--db", db.sqlite_url(tmp_path / "x.db")])
    assert code == 2
    assert "Unknown scenario 'atlantis'" in capsys.readouterr().err


def test_bad_database_url_is_a_clear_error(capsys):
    assert main(["info", "--db", "nosuchdriver://x"]) == 2
    assert "not usable" in capsys.readouterr().err


def test_demo_refuses_to_overwrite_without_replace(any_engine, capsys):
    url = engine_url(any_engine)
    assert main(["demo", "--scenario", "barnet", "--db", url]) == 0
    assert main(["demo", "--scenario", "barnet", "--db", url]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["demo", "--scenario", "fylde", "--db", url, "--replace"]) == 0
    assert main(["info", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "Scenario: fylde" in out and "organisation" in out


def test_loaded_demo_derives_tiers_and_analysis(any_engine):
    engine = any_engine
    scenarios.load_demo(engine, "barnet")
    with engine.connect() as conn:
        attained = conn.execute(select(func.count()).select_from(m.TierAttainment)).scalar_one()
        analysed = conn.execute(select(func.count()).select_from(m.MeasureAnalysis)).scalar_one()
        measures_n = conn.execute(select(func.count()).select_from(m.Measure)).scalar_one()
        assert db.get_setting(conn, "scenario") == "barnet"
    assert attained >= 13 and analysed == measures_n > 0


def test_a_measure_with_no_data_point_yet_gets_no_recalculation_suggestion():
    # At scale 50 some project starts just before the data ends: its measure has no point to analyse.
    class Frames:
        def __init__(self):
            self.added = []

        def add(self, table, **row):
            self.added.append((table, row))

    copy = object.__new__(scenarios._CopyGenerator)
    copy.f = Frames()
    copy._recalculate("P-1", {"code": "M-1", "chart": "xmr", "improvement": "increase"}, [], [])
    assert copy.f.added == []
