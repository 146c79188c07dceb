"""The Tiers page: its measures pinned on a tiny hand-made programme, its figure builders, and the page
itself (AppTest) for every demo programme, whose funnel must be the measures engine's."""

from __future__ import annotations

import base64
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from qidash import catalog, db, measures, scenarios, tier_charts
from qidash.measures import PATIENT_GROUP
from qidash.palette import label
from qidash.scope import Scope
from qidash.text import markdown_literal
from qidash.views import tiers as view
from tests.support import connection_to

D = dt.date
LATE = D(2021, 6, 30)
EVERYONE = Scope()


# --- a tiny programme, worked by hand -------------------------------------------------------------------
#
# Learn (course) -> Live (project) -> Lead (faculty). Localities L1 (PCN P1: practice A), L2 (PCN P2:
# care home B), L3 (PCN P3: care home C, nobody in it); trust T has no PCN.
#   p1 (A, GP)                 completes C1 on 10/03/2020 -> Learn; leads project X from 01/05/2020 -> Live;
#                              trains cohort C2 (starts 01/09/2020) -> Lead
#   p2 (A, practice manager)   completes C1 on 15/03/2020 -> Learn; member of X -> Live 01/05/2020
#   p3 (B, care assistant)     withdraws from C1
#   p4 (B, care assistant)     completes C2 on 01/10/2020 -> Learn; led project Y (01/06–01/08/2020), before
#   p5 (T, patient partner)    completes C2 on 05/10/2020 -> Learn
#   p6 (T, QI lead)            coaches cohort C3 (starts 01/02/2021) -> Lead only; coaches projects X and Z
#   p7 (B, care assistant)     in cohort C3 (not finished); leads project Z from 01/03/2021
# Cohorts: C1 Jan–Mar 2020, 3 sessions, external; C2 Sep–Oct 2020, 2 sessions, local; C3 Feb–Mar 2021, local.

FRAMES = {
    "localities": [{"code": c, "name": n} for c, n in (("L1", "North"), ("L2", "South"), ("L3", "East"))],
    "pcns": [
        {"code": "P1", "name": "PCN one", "locality_code": "L1"},
        {"code": "P2", "name": "PCN two", "locality_code": "L2"},
        {"code": "P3", "name": "PCN three", "locality_code": "L3"},
    ],
    "organisations": [
        {"ods_code": "A", "name": "Practice A", "kind": "gp_practice", "sector": "nhs", "pcn_code": "P1"},
        {
            "ods_code": "B",
            "name": "Home B",
            "kind": "care_home_residential",
            "sector": "independent",
            "pcn_code": "P2",
        },
        {
            "ods_code": "C",
            "name": "Home C",
            "kind": "care_home_residential",
            "sector": "independent",
            "pcn_code": "P3",
        },
        {"ods_code": "T", "name": "Trust T", "kind": "acute_trust", "sector": "nhs"},
    ],
    "people": [
        {"person_ref": "p1", "ods_code": "A", "role": "gp"},
        {"person_ref": "p2", "ods_code": "A", "role": "practice_manager"},
        {"person_ref": "p3", "ods_code": "B", "role": "care_assistant"},
        {"person_ref": "p4", "ods_code": "B", "role": "care_assistant"},
        {"person_ref": "p5", "ods_code": "T", "role": "patient_partner", "is_patient_partner": True},
        {"person_ref": "p6", "ods_code": "T", "role": "qi_lead"},
        {"person_ref": "p7", "ods_code": "B", "role": "care_assistant"},
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
            "start_date": D(2020, 1, 10),
            "end_date": D(2020, 3, 10),
            "sessions": 3,
            "delivered_by": "external",
        },
        {
            "code": "C2",
            "course_code": "LC",
            "start_date": D(2020, 9, 1),
            "end_date": D(2020, 10, 1),
            "sessions": 2,
            "delivered_by": "local",
            "locality_code": "L2",
        },
        {
            "code": "C3",
            "course_code": "LC",
            "start_date": D(2021, 2, 1),
            "end_date": D(2021, 3, 1),
            "sessions": 2,
            "delivered_by": "local",
        },
    ],
    "enrolments": [
        {
            "person_ref": "p1",
            "cohort_code": "C1",
            "status": "completed",
            "completed_on": D(2020, 3, 10),
            "sessions_attended": 3,
        },
        {
            "person_ref": "p2",
            "cohort_code": "C1",
            "status": "completed",
            "completed_on": D(2020, 3, 15),
            "sessions_attended": 2,
        },
        {"person_ref": "p3", "cohort_code": "C1", "status": "withdrawn", "sessions_attended": 1},
        {
            "person_ref": "p4",
            "cohort_code": "C2",
            "status": "completed",
            "completed_on": D(2020, 10, 1),
            "sessions_attended": 2,
        },
        {
            "person_ref": "p5",
            "cohort_code": "C2",
            "status": "completed",
            "completed_on": D(2020, 10, 5),
            "sessions_attended": 2,
        },
        {"person_ref": "p7", "cohort_code": "C3", "status": "attended", "sessions_attended": 1},
    ],
    "attendance": [
        {"person_ref": p, "cohort_code": "C1", "session": n, "held_on": held, "attended": went}
        for p, pattern in (("p1", (1, 1, 1)), ("p2", (1, 0, 1)), ("p3", (1, 0, 0)))
        for n, (held, went) in enumerate(
            zip((D(2020, 1, 10), D(2020, 2, 10), D(2020, 3, 10)), map(bool, pattern), strict=True), start=1
        )
    ],
    "faculty": [
        {"person_ref": "p1", "cohort_code": "C2", "role": "trainer"},
        {"person_ref": "p6", "cohort_code": "C3", "role": "coach"},
    ],
    "priorities": [{"code": "PR", "name": "Priority"}],
    "projects": [
        {
            "code": "X",
            "title": "X",
            "priority_code": "PR",
            "lead_ods_code": "A",
            "lead_person_ref": "p1",
            "start_date": D(2020, 5, 1),
            "status": "active",
        },
        {
            "code": "Y",
            "title": "Y",
            "priority_code": "PR",
            "lead_ods_code": "B",
            "lead_person_ref": "p4",
            "start_date": D(2020, 6, 1),
            "end_date": D(2020, 8, 1),
            "status": "completed",
        },
        {
            "code": "Z",
            "title": "Z",
            "priority_code": "PR",
            "lead_ods_code": "B",
            "lead_person_ref": "p7",
            "start_date": D(2021, 3, 1),
            "status": "active",
        },
        {
            "code": "W",
            "title": "W",
            "priority_code": "PR",
            "lead_ods_code": "T",
            "start_date": D(2021, 1, 1),
            "end_date": D(2021, 2, 1),
            "status": "stopped",
        },
    ],
    "project_members": [
        {"project_code": "X", "person_ref": "p2", "role": "member"},
        {"project_code": "X", "person_ref": "p6", "role": "coach"},
        {"project_code": "Y", "person_ref": "p1", "role": "coach"},
        {"project_code": "Z", "person_ref": "p6", "role": "coach"},
    ],
}


@pytest.fixture(scope="module")
def conn(backend, databases):
    """A connection to the tiny programme, on SQLite and on PostgreSQL."""
    with connection_to(databases, backend, FRAMES) as connection:
        yield connection


def test_the_hand_worked_funnel(conn):
    assert measures.people_by_tier(conn, EVERYONE, LATE) == {"learn": 5, "live": 3, "lead": 2}
    assert measures.patients_by_tier(conn, EVERYONE, LATE) == {"learn": 1, "live": 0, "lead": 0}


def test_people_by_tier_by_locality_lists_every_area_and_leaves_out_organisations_without_one(conn):
    rows = measures.people_by_tier_by(conn, EVERYONE, LATE, "locality")
    got = {(r["group"], r["tier"]): r["people"] for r in rows}
    assert got == {
        ("L1", "learn"): 2,
        ("L1", "live"): 2,
        ("L1", "lead"): 1,
        ("L2", "learn"): 1,
        ("L2", "live"): 0,
        ("L2", "lead"): 0,
        ("L3", "learn"): 0,
        ("L3", "live"): 0,
        ("L3", "lead"): 0,
    }
    assert {r["name"] for r in rows} == {"North", "South", "East"}


def test_people_by_tier_by_sector_adds_up_to_people_by_tier(conn):
    rows = measures.people_by_tier_by(conn, EVERYONE, LATE, "sector")
    got = {(r["group"], r["tier"]): r["people"] for r in rows}
    assert got == {
        ("independent", "learn"): 1,
        ("independent", "live"): 0,
        ("independent", "lead"): 0,
        ("nhs", "learn"): 4,
        ("nhs", "live"): 3,
        ("nhs", "lead"): 2,
    }


def test_people_by_tier_by_follows_the_scope_and_the_date(conn):
    rows = measures.people_by_tier_by(conn, Scope(sector="independent"), LATE, "locality")
    assert {(r["group"], r["tier"]): r["people"] for r in rows} == {
        ("L2", "learn"): 1,
        ("L2", "live"): 0,
        ("L2", "lead"): 0,
        ("L3", "learn"): 0,
        ("L3", "live"): 0,
        ("L3", "lead"): 0,
    }
    early = measures.people_by_tier_by(conn, EVERYONE, D(2020, 4, 1), "locality")
    assert {(r["group"], r["tier"]): r["people"] for r in early if r["people"]} == {("L1", "learn"): 2}
    with pytest.raises(ValueError):
        measures.people_by_tier_by(conn, EVERYONE, LATE, "postcode")


def test_people_reaching_tier_by_day(conn):
    rows = measures.people_reaching_tier_by_day(conn, EVERYONE, LATE)
    assert rows == [
        ("learn", D(2020, 3, 10), 1),
        ("learn", D(2020, 3, 15), 1),
        ("learn", D(2020, 10, 1), 1),
        ("learn", D(2020, 10, 5), 1),
        ("learn", D(2021, 2, 1), 1),  # p6 teaches without the course
        ("live", D(2020, 5, 1), 2),
        ("live", D(2021, 2, 1), 1),
        ("lead", D(2020, 9, 1), 1),
        ("lead", D(2021, 2, 1), 1),
    ]
    assert measures.people_reaching_tier_by_day(conn, Scope(locality="L1"), D(2020, 4, 1)) == [
        ("learn", D(2020, 3, 10), 1),
        ("learn", D(2020, 3, 15), 1),
    ]


def test_reach_by_tier_ends_on_people_by_tier_at_every_date(conn):
    for day in (D(2020, 3, 12), D(2020, 9, 30), LATE):
        frame = view.reach_by_tier(conn, EVERYONE, day)
        last = frame.groupby("tier")["cumulative"].last().to_dict()
        expected = {k: v for k, v in measures.people_by_tier(conn, EVERYONE, day).items() if v}
        assert last == expected


def test_the_funnel_on_any_date_follows_from_the_reach_rows(conn):
    all_tiers = measures.tiers(conn)
    for scope in (EVERYONE, Scope(locality="L1"), Scope(kind="care_home")):
        reaching = measures.people_reaching_tier_by_day(conn, scope, LATE)
        for day in (D(2020, 3, 12), D(2020, 5, 1), D(2020, 9, 30), D(2021, 2, 1), LATE):
            on = measures.people_by_tier_on(reaching, all_tiers, day)
            assert on == measures.people_by_tier(conn, scope, day)
            assert list(on) == list(measures.people_by_tier(conn, scope, day))  # tier order kept
    early = measures.people_by_tier_on(
        measures.people_reaching_tier_by_day(conn, EVERYONE, LATE), all_tiers, D(2019, 1, 1)
    )
    assert early == {"learn": 0, "live": 0, "lead": 0}


def test_highest_tier_and_lead_per_live_follow_from_the_funnel(conn):
    all_tiers = measures.tiers(conn)
    reached = measures.people_by_tier(conn, EVERYONE, LATE)
    # Highest tier: p4 and p5 Learn; p2 Live; p1 and p6 Lead.
    assert measures.highest_from_reached(all_tiers, reached) == {"learn": 2, "live": 1, "lead": 2}
    for scope in (EVERYONE, Scope(locality="L1"), Scope(sector="independent")):
        for day in (D(2020, 5, 1), D(2020, 9, 30), LATE):
            reached = measures.people_by_tier(conn, scope, day)
            highest = measures.people_by_highest_tier(conn, scope, day)
            assert measures.highest_from_reached(all_tiers, reached) == highest
            assert measures.lead_per_live(conn, scope, day, reached) == measures.lead_per_live(
                conn, scope, day
            )
    assert measures.lead_per_live(conn, EVERYONE, LATE, measures.people_by_tier(conn, EVERYONE, LATE)) == 2.0


def test_highest_from_reached_keeps_each_framework_to_itself():
    all_tiers = [
        {"code": "a1", "framework_id": 1},
        {"code": "a2", "framework_id": 1},
        {"code": "b1", "framework_id": 2},
        {"code": "b2", "framework_id": 2},
        {"code": "b3", "framework_id": 2},
    ]
    reached = {"a1": 10, "a2": 4, "b1": 7, "b2": 7, "b3": 1}
    assert measures.highest_from_reached(all_tiers, reached) == {"a1": 6, "a2": 4, "b1": 0, "b2": 6, "b3": 1}


def test_people_by_tier_by_can_count_the_people_outside_every_group(conn):
    rows = measures.people_by_tier_by(conn, EVERYONE, LATE, "locality", outside=True)
    got = {(r["group"], r["tier"]): r["people"] for r in rows}
    # p5 and p6 work for trust T, which has no PCN and so no locality.
    assert {t: n for (g, t), n in got.items() if g is None} == {"learn": 2, "live": 1, "lead": 1}
    assert {k: n for k, n in got.items() if k[0] is not None} == {
        (r["group"], r["tier"]): r["people"]
        for r in measures.people_by_tier_by(conn, EVERYONE, LATE, "locality")
    }
    for by in ("locality", "pcn", "sector", "kind"):
        rows = measures.people_by_tier_by(conn, Scope(sector="nhs"), LATE, by, outside=True)
        totals = {t: sum(r["people"] for r in rows if r["tier"] == t) for t in ("learn", "live", "lead")}
        assert totals == measures.people_by_tier(conn, Scope(sector="nhs"), LATE)
    # Over the care homes, every organisation has a PCN: nobody is outside.
    homes = measures.people_by_tier_by(conn, Scope(kind="care_home"), LATE, "pcn", outside=True)
    assert all(r["group"] is not None for r in homes)


def test_cohort_summary(conn):
    rows = {r["code"]: r for r in measures.cohort_summary(conn, EVERYONE, LATE)}
    assert list(rows) == ["C1", "C2", "C3"]
    c1, c2, c3 = rows["C1"], rows["C2"], rows["C3"]
    assert (c1["enrolled"], c1["withdrawn"], c1["completed"]) == (2, 1, 2)
    assert c1["completion_rate"] == pytest.approx(2 / 3)  # withdrawals took a place too
    assert (c2["completed"], c2["completion_rate"], c2["locality"], c2["delivered_by"]) == (
        2,
        1.0,
        "South",
        "local",
    )
    assert (c3["enrolled"], c3["completed"], c3["completion_rate"]) == (1, 0, 0.0)
    assert c1["tier"] == "learn" and c1["sessions"] == 3 and c1["start_date"] == D(2020, 1, 10)


def test_cohort_summary_as_of_and_scope(conn):
    # On 3 October 2020 p5's completion (5 October) has not happened; C3 has not started.
    rows = {r["code"]: r for r in measures.cohort_summary(conn, EVERYONE, D(2020, 10, 3))}
    assert list(rows) == ["C1", "C2"]
    assert (rows["C2"]["completed"], rows["C2"]["completion_rate"]) == (1, 0.5)
    # A cohort still running has no completion rate yet.
    running = {r["code"]: r for r in measures.cohort_summary(conn, EVERYONE, D(2021, 2, 15))}
    assert running["C3"]["completion_rate"] is None
    # Scoped to the care homes: only their people's enrolments, only cohorts they hold a place in.
    homes = {r["code"]: r for r in measures.cohort_summary(conn, Scope(kind="care_home"), LATE)}
    assert list(homes) == ["C2", "C3"]  # p3's withdrawn place in C1 does not bring C1 in
    assert (homes["C2"]["enrolled"], homes["C2"]["completed"]) == (1, 1)


def test_cohort_table_carries_the_attendance_rate(conn):
    table = view.cohort_table(conn, EVERYONE, LATE)
    assert list(table["code"]) == ["C3", "C2", "C1"]  # newest first
    rates = dict(zip(table["code"], table["attendance_rate"], strict=True))
    assert rates == measures.attendance_rate(conn, EVERYONE, LATE)
    assert rates["C1"] == pytest.approx(5 / 6)
    for scope, day in (
        (Scope(kind="care_home"), LATE),
        (Scope(locality="L1"), LATE),
        (EVERYONE, D(2020, 9, 15)),
    ):
        summary = {r["code"]: r["attendance_rate"] for r in measures.cohort_summary(conn, scope, day)}
        assert summary == measures.attendance_rate(conn, scope, day)
    totals = view.cohort_totals(table)
    assert totals == {
        "cohorts": 3,
        "local": 2,
        "withdrawn": 1,
        "completed": 4,
        "took_place": 6,
        "completion_rate": pytest.approx(4 / 6),
    }


def test_attendance_by_session(conn):
    assert measures.attendance_by_session(conn, EVERYONE, LATE, "C1") == [
        {"session_no": 1, "held_on": D(2020, 1, 10), "on_register": 3, "attended": 3},
        {"session_no": 2, "held_on": D(2020, 2, 10), "on_register": 3, "attended": 1},
        {"session_no": 3, "held_on": D(2020, 3, 10), "on_register": 3, "attended": 2},
    ]
    early = measures.attendance_by_session(conn, EVERYONE, D(2020, 2, 20), "C1")
    assert [r["session_no"] for r in early] == [1, 2]
    north = measures.attendance_by_session(conn, Scope(locality="L1"), LATE, "C1")
    assert [(r["on_register"], r["attended"]) for r in north] == [(2, 2), (2, 1), (2, 2)]
    assert measures.attendance_by_session(conn, EVERYONE, LATE, "NOPE") == []


def test_participants_by_role_puts_patients_in_their_own_group(conn):
    assert measures.participants_by_role(conn, EVERYONE, LATE) == [
        {"role": "care_assistant", "people": 2},
        {"role": "gp", "people": 1},
        {"role": PATIENT_GROUP, "people": 1},
        {"role": "practice_manager", "people": 1},
    ]
    assert measures.participants_by_role(conn, EVERYONE, LATE, "C1") == [
        {"role": "gp", "people": 1},
        {"role": "practice_manager", "people": 1},  # p3 withdrew
    ]


def test_local_faculty_share_by_period(conn):
    halves = measures.local_faculty_share_by_period(conn, EVERYONE, LATE, 6)
    assert halves == [
        {"period_start": D(2020, 1, 1), "cohorts": 1, "local": 0, "share": 0.0},
        {"period_start": D(2020, 7, 1), "cohorts": 1, "local": 1, "share": 1.0},
        {"period_start": D(2021, 1, 1), "cohorts": 1, "local": 1, "share": 1.0},
    ]
    quarters = measures.local_faculty_share_by_period(conn, EVERYONE, LATE, 3)
    assert [(q["period_start"], q["cohorts"], q["share"]) for q in quarters] == [
        (D(2020, 1, 1), 1, 0.0),
        (D(2020, 4, 1), 0, None),
        (D(2020, 7, 1), 1, 1.0),
        (D(2020, 10, 1), 0, None),
        (D(2021, 1, 1), 1, 1.0),
    ]
    total = sum(h["local"] for h in halves) / sum(h["cohorts"] for h in halves)
    assert total == measures.local_faculty_share(conn, EVERYONE, LATE)
    with pytest.raises(ValueError):
        measures.local_faculty_share_by_period(conn, EVERYONE, LATE, 5)


def test_coaches_per_active_project(conn):
    # On 30 June 2021 X and Z are active, both coached by p6.
    assert measures.coaches_per_active_project(conn, EVERYONE, LATE) == {
        "coaches": 1,
        "active_projects": 2,
        "projects_with_coach": 2,
        "ratio": 0.5,
    }
    # On 1 July 2020 X (coach p6) and Y (coach p1) are active.
    assert measures.coaches_per_active_project(conn, EVERYONE, D(2020, 7, 1))["ratio"] == 1.0
    assert measures.coaches_per_active_project(conn, Scope(locality="L1"), LATE)["ratio"] == 1.0
    assert measures.coaches_per_active_project(conn, EVERYONE, D(2020, 1, 1))["ratio"] is None


def test_projects_led_by_trained(conn):
    # X: p1 trained before it began. Y: p4 trained after it began. Z: p7 in training. W: no lead.
    assert measures.projects_led_by_trained(conn, EVERYONE, LATE) == {
        "started": 4,
        "led_by_trained": 1,
        "led_in_training": 1,
        "ratio": 0.25,
    }
    assert measures.projects_led_by_trained(conn, EVERYONE, D(2020, 1, 1))["ratio"] is None


def test_tier_comparison_view(conn):
    comparison = view.tier_comparison(conn, EVERYONE, LATE, "locality")
    assert list(comparison.groups.columns) == ["group", "name", "learn", "live", "lead"]
    assert list(comparison.groups["group"]) == ["L1", "L2", "L3"]  # most people at the first tier first
    assert comparison.outside == {"learn": 2, "live": 1, "lead": 1}  # p5 and p6 work for the trust
    table = view.comparison_table(comparison, catalog.frameworks(conn)[0]["tiers"])
    assert list(table.columns) == ["Locality", "Learn", "Live", "Lead", "Live ÷ Learn", "Lead ÷ Live"]
    # p5 and p6 (the trust) are the last row, in words: the table adds up to everyone in scope.
    assert list(table["Locality"])[-1] == "No locality" and list(table["Learn"])[-1] == 2
    assert list(table["Live ÷ Learn"]) == ["100%", "0%", "–", "50%"]
    assert view.outside_name(view.tier_comparison(conn, EVERYONE, LATE, "pcn")) == "No PCN"
    sectors = view.tier_comparison(conn, EVERYONE, LATE, "sector")
    assert sectors.outside == {"learn": 0, "live": 0, "lead": 0}
    trust = view.tier_comparison(conn, Scope(kind="acute_trust"), LATE, "locality")
    assert trust.groups.empty and trust.outside == {"learn": 2, "live": 1, "lead": 1}
    assert view.area_names(sectors) == ["NHS", "Independent"]


def test_tiers_data_view(conn):
    data = view.tiers_data(conn, EVERYONE, LATE)
    assert [t["name"] for t in data.ladders[0]["tiers"]] == ["Learn", "Live", "Lead"]
    assert data.funnel == measures.people_by_tier(conn, EVERYONE, LATE)
    year_ago = LATE - dt.timedelta(days=365)
    assert (
        data.funnel_year_ago
        == measures.people_by_tier(conn, EVERYONE, year_ago)
        == {
            "learn": 2,
            "live": 2,
            "lead": 0,
        }
    )
    assert data.sustainability["lead_per_live"] == measures.lead_per_live(conn, EVERYONE, LATE) == 2.0
    assert data.sustainability_year_ago["lead_per_live"] == measures.lead_per_live(conn, EVERYONE, year_ago)
    assert data.target == measures.reach_vs_target(conn, EVERYONE, LATE)
    assert data.conversion == measures.tier_conversion(conn, EVERYONE, LATE)
    assert data.patients["trained"] == 1 and data.patients["share_of_trained"] == pytest.approx(1 / 5)
    assert data.patients["enrolled"] == 1
    assert data.sustainability["led"]["ratio"] == 0.25
    assert view.default_cohort(data.cohorts) == "C1"  # the ended cohort with the most sessions
    assert view.roles_in_words(data.roles) == "2 care assistants, 1 GP, 1 patient partner, 1 practice manager"
    assert view.ladder_in_words(data.ladders[0]) == (
        "Learn (a course) → Live (applying QI on a project) → Lead (teaching or coaching)"
    )
    rows = view.conversion_rows(data.ladders[0], data.funnel, data.conversion)
    assert rows[0] == {
        "From": "Learn",
        "To": "Live",
        "Reached": "3 of 5",
        "Conversion": "60%",
        "Median time": rows[0]["Median time"],
    }


# --- figure builders ------------------------------------------------------------------------------------

TIERS = [
    {"code": "learn", "name": "Learn"},
    {"code": "live", "name": "Live"},
    {"code": "lead", "name": "Lead"},
]


def values(v) -> list:
    """Plotly's JSON may hold arrays as base64 typed arrays; give them back as a list."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


def test_tier_funnel_figure():
    conversion = {
        "learn->live": {"ratio": 0.25, "median_days": 90},
        "live->lead": {"ratio": 0.5, "median_days": None},
    }
    fig = tier_charts.tier_funnel(TIERS, {"learn": 40, "live": 10, "lead": 5}, conversion)
    (trace,) = fig.data
    assert trace.type == "funnel"
    assert list(trace.y) == ["Learn", "Live", "Lead"] and list(trace.x) == [40, 10, 5]
    assert list(trace.text) == ["40", "10 · 25%", "5 · 50%"]
    assert "median 90 days after Learn" in trace.hovertext[1]
    assert list(trace.marker.color) == [tier_charts.tier_colour(i) for i in range(3)]
    patients = tier_charts.tier_funnel(TIERS, {"learn": 4, "live": 0}, colour=tier_charts.PATIENT_COLOUR)
    assert list(patients.data[0].x) == [4, 0, 0]
    assert list(patients.data[0].text) == ["4", "0 · 0%", "0"]
    assert set(patients.data[0].marker.color) == {tier_charts.PATIENT_COLOUR}


def test_tier_comparison_figure():
    groups = pd.DataFrame(
        {
            "group": ["A", "B", "C"],
            "name": ["Alpha", "Beta", "Gamma"],
            "learn": [9, 5, 1],
            "live": [3, 1, 0],
            "lead": [1, 0, 0],
        }
    )
    fig = tier_charts.tier_comparison(groups, TIERS, max_groups=2)
    assert [t.name for t in fig.data] == ["Lead", "Live", "Learn"]  # added top tier first: Learn on top
    learn = fig.data[-1]
    assert list(learn.y) == ["Beta", "Alpha"] and values(learn.x) == [5, 9]
    assert fig.layout.barmode == "group"
    assert list(fig.data[1].customdata) == ["20%", "33%"]  # Live as a share of each area's Learn


def test_tier_comparison_figure_draws_the_people_in_no_area_as_a_bar_of_their_own():
    """When most people work for organisations in no locality (trusts), the chart says so itself."""
    groups = pd.DataFrame({"group": ["A"], "name": ["Alpha"], "learn": [9], "live": [3], "lead": [1]})
    outside = {"learn": 661, "live": 40, "lead": 0}
    fig = tier_charts.tier_comparison(groups, TIERS, outside=outside, outside_name="No locality")
    nowhere = [t for t in fig.data if list(t.y) == ["No locality"]]
    areas = [t for t in fig.data if list(t.y) == ["Alpha"]]
    assert [t.name for t in nowhere] == [t.name for t in areas] == ["Lead", "Live", "Learn"]
    assert fig.data[0] is nowhere[0]  # drawn first: the bottom row, after the areas
    learn = nowhere[-1]
    assert values(learn.x) == [661] and list(learn.text) == ["no locality: 661"]
    assert [list(t.text) for t in nowhere[:2]] == [["0"], ["40"]]
    # Each in its tier's slot beside the areas' bars, in grey, out of the legend (which keeps the blues).
    assert all(n.offsetgroup == a.offsetgroup for n, a in zip(nowhere, areas, strict=True))
    assert all(
        n.showlegend is False and n.marker.color != a.marker.color
        for n, a in zip(nowhere, areas, strict=True)
    )
    assert fig.layout.xaxis.range[1] > 661  # room for the words after the bar
    nobody = tier_charts.tier_comparison(
        groups, TIERS, outside=dict.fromkeys(outside, 0), outside_name="No locality"
    )
    assert {y for t in nobody.data for y in t.y} == {"Alpha"}


def test_reach_by_tier_figure():
    reach = pd.DataFrame(
        {
            "tier": ["learn", "learn", "live"],
            "day": [D(2020, 1, 1), D(2020, 2, 1), D(2020, 3, 1)],
            "new": [2, 3, 1],
            "cumulative": [2, 5, 1],
        }
    )
    target = {
        "people_trained": 5,
        "target_value": 20,
        "due_on": "2020-12-31",
        "projected_at_due": 12,
        "on_track": False,
    }
    fig = tier_charts.reach_by_tier(reach, TIERS, target, D(2020, 6, 30))
    names = [t.name for t in fig.data]
    assert names == ["Learn", "Live", "Target (people trained)", "Projection at recent rate"]
    # Carried to the date; days as ISO strings, which is how the figure's JSON holds dates anyway.
    assert list(fig.data[0].y) == [2, 5, 5]
    assert list(fig.data[0].x) == ["2020-01-01", "2020-02-01", "2020-06-30"]
    assert list(fig.data[2].y) == [20] and list(fig.data[3].y) == [5, 12]
    no_target = {**target, "target_value": None, "due_on": None, "projected_at_due": None}
    assert [t.name for t in tier_charts.reach_by_tier(reach, TIERS, no_target, D(2020, 6, 30)).data] == [
        "Learn",
        "Live",
    ]


def test_session_attendance_figure():
    sessions = pd.DataFrame(
        {"session_no": [1, 2], "held_on": [D(2018, 1, 5), None], "on_register": [13, 13], "attended": [12, 9]}
    )
    fig = tier_charts.session_attendance(sessions)
    bars, register = fig.data
    assert list(bars.x) == ["1", "2"] and values(bars.y) == [12, 9]
    assert values(register.y) == [13, 13]
    assert [tuple(c) for c in bars.customdata] == [("05 Jan 2018", "92%"), ("date not recorded", "69%")]
    assert tier_charts.session_attendance(sessions.iloc[0:0]).data == ()


def test_role_mix_figure_shows_patients_in_their_own_colour_and_sums_the_tail():
    roles = pd.DataFrame({"role": ["nurse", "gp", PATIENT_GROUP, "a", "b"], "people": [10, 5, 3, 1, 1]})
    fig = tier_charts.role_mix(
        roles, {"nurse": "Nurse", "gp": "GP", PATIENT_GROUP: "Patient partner"}, PATIENT_GROUP, max_roles=4
    )
    (bar,) = fig.data
    assert list(bar.y) == ["Other roles", "Patient partner", "GP", "Nurse"]
    assert values(bar.x) == [2, 3, 5, 10]
    assert (
        bar.marker.color[1] == tier_charts.PATIENT_COLOUR
        and bar.marker.color[3] != tier_charts.PATIENT_COLOUR
    )
    assert bar.text[-1] == "10 (50%)"


def test_local_faculty_over_time_figure():
    periods = pd.DataFrame(
        {
            "period_start": [D(2020, 1, 1), D(2020, 7, 1), D(2021, 1, 1)],
            "cohorts": [4, 0, 5],
            "local": [1, 0, 5],
            "share": [0.25, None, 1.0],
        }
    )
    fig = tier_charts.local_faculty_over_time(periods, 6)
    local, external, share = fig.data
    assert list(local.x) == ["Jan–Jun 2020", "Jul–Dec 2020", "Jan–Jun 2021"]
    assert values(local.y) == [1, 0, 5] and values(external.y) == [3, 0, 0]
    assert list(share.y) == [25.0, None, 100.0] and share.yaxis == "y2"
    assert fig.layout.barmode == "stack"


# --- the page, for every programme ------------------------------------------------------------------------


def _figures(at):
    from tests.support import plotly_specs

    return [spec["data"] for spec in plotly_specs(at)]


def _trace(at, type_: str, name: str | None = None) -> dict:
    return next(
        t
        for data in _figures(at)
        for t in data
        if t["type"] == type_ and (name is None or t.get("name") == name)
    )


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_page_funnel_is_the_measures_engines_for_every_programme(scenario):
    from tests.support import no_exceptions, open_page

    at = open_page("tiers", scenario)
    no_exceptions(at)
    engine = db.make_engine(db.demo_url(scenario))
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        by_tier = measures.people_by_tier(conn, EVERYONE, as_of)
        conversion = measures.tier_conversion(conn, EVERYONE, as_of)
        ladder = catalog.frameworks(conn)[0]["tiers"]
        split = measures.people_trained_split(conn, EVERYONE, as_of)
    engine.dispose()
    funnel = _trace(at, "funnel", "People")
    assert funnel["y"] == [t["name"] for t in ladder]  # the programme's own tier names
    assert values(funnel["x"]) == [by_tier[t["code"]] for t in ladder]
    tiles = {m.label: m.value for m in at.metric}
    for tier in ladder:
        assert tiles[markdown_literal(tier["name"])] == f"{by_tier[tier['code']]:,}"  # shown as written
    assert tiles["Patients trained"] == f"{split['patients']:,}"
    table = at.table[0].value
    assert list(table["Conversion"]) == [
        f"{conversion[f'{a}->{b}']['ratio']:.0%}"
        for a, b in zip([t["code"] for t in ladder], [t["code"] for t in ladder[1:]], strict=False)
    ]
    assert [h.value for h in at.subheader] == ["Progression funnel"]  # the first section only


# Each section, when opened: its heading, and the charts it draws (keys of components.chart).
SECTIONS = {
    "Progression": ("Progression funnel", {"funnel_"}),
    "Compared across areas": ("Compared across areas", {"comparison"}),
    "Reach over time": ("Reach over time", {"reach"}),
    "Cohorts": ("Cohorts", {"sessions", "roles"}),
    "Self-sustainability": ("Self-sustainability", {"local_faculty"}),
    "Patients trained": ("Patients trained", {"patients_"}),
}


def _drawn(charted: set[str], key: str) -> bool:
    """A chart of key ``key`` is among ``charted`` (a key ending in "_" is a prefix: one per ladder)."""
    return any(c == key or (key.endswith("_") and c.startswith(key)) for c in charted)


def test_only_the_open_section_is_built_and_each_shows_its_content_when_opened():
    from tests.support import no_exceptions, open_page, open_section

    at = open_page("tiers", "somerset")  # a programme that trains patients: every section draws charts
    no_exceptions(at)
    assert [t.label for t in at.tabs] == list(SECTIONS)
    for section, (heading, keys) in SECTIONS.items():
        open_section(at, "tiers_tab", section)
        no_exceptions(at)
        assert [h.value for h in at.subheader] == [heading]
        charted = {c.key for c in at.get("plotly_chart")}
        assert all(_drawn(charted, k) for k in keys), (section, charted)
        others = {k for lab, (_, ks) in SECTIONS.items() if lab != section for k in ks}
        assert not any(_drawn(charted, k) for k in others), (section, charted)


def test_a_link_that_names_a_comparison_or_a_cohort_opens_its_section():
    from tests.support import no_exceptions, open_page

    for param, value, heading in (("compare", "sector", "Compared across areas"), ("cohort", "x", "Cohorts")):
        at = open_page(None, "cornwall")
        at.query_params[param] = value
        at.switch_page("app_pages/tiers.py").run()
        no_exceptions(at)
        assert [h.value for h in at.subheader] == [heading]


def test_barnet_shows_its_eight_sessions_and_says_it_trains_no_patients():
    from tests.support import open_page, open_section

    at = open_section(open_page("tiers", "barnet"), "tiers_tab", "Cohorts")
    attended = _trace(at, "bar", "Attended")
    assert attended["x"] == [str(n) for n in range(1, 9)]
    with db.make_engine(db.demo_url("barnet")).connect() as conn:
        sessions = measures.attendance_by_session(conn, EVERYONE, measures.default_as_of(conn), "BQIP-2017")
    assert values(attended["y"]) == [s["attended"] for s in sessions]
    open_section(at, "tiers_tab", "Patients trained")
    assert any("No patient partner" in i.value for i in at.info)


def test_somerset_shows_patients_as_their_own_funnel():
    from tests.support import open_page, open_section

    at = open_section(open_page("tiers", "somerset"), "tiers_tab", "Patients trained")
    with db.make_engine(db.demo_url("somerset")).connect() as conn:
        patients = measures.patients_by_tier(conn, EVERYONE, measures.default_as_of(conn))
    assert patients["dose_awareness"] > 0
    funnel = _trace(at, "funnel", "Patients")
    assert values(funnel["x"]) == list(patients.values())
    open_section(at, "tiers_tab", "Cohorts")
    roles = _trace(at, "bar", "Participants")
    assert "Patient partner" in roles["y"]


def test_page_follows_the_filters_and_the_comparison_control(app_database):
    from tests.support import no_exceptions, open_page, open_section

    engine = app_database("nw_surrey")
    at = open_page("tiers", "nw_surrey", locality="WOKING", as_of="2022-12-31")
    no_exceptions(at)
    scope, day = Scope(locality="WOKING"), D(2022, 12, 31)
    with engine.connect() as conn:
        by_tier = measures.people_by_tier(conn, scope, day)
        whole = measures.people_by_tier(conn, EVERYONE, day)
        sectors = measures.people_by_tier_by(conn, scope, day, "sector")
    assert values(_trace(at, "funnel", "People")["x"]) == list(by_tier.values())
    assert by_tier["learn"] < whole["learn"]
    open_section(at, "tiers_tab", "Compared across areas")
    at.segmented_control(key="compare").set_value("sector").run()
    no_exceptions(at)
    learn = _trace(at, "bar", "Learn")
    expected = {r["group"]: r["people"] for r in sectors if r["tier"] == "learn"}
    assert dict(zip(learn["y"], values(learn["x"]), strict=True)) == {
        label(g): n for g, n in expected.items()
    }


def test_the_cohort_table_lists_the_newest_and_the_download_holds_them_all(monkeypatch):
    from qidash.views import tiers as tiers_view
    from tests.support import no_exceptions, open_page, open_section

    monkeypatch.setattr(tiers_view, "COHORT_ROWS", 10)
    at = open_section(open_page("tiers", "cornwall"), "tiers_tab", "Cohorts")
    no_exceptions(at)
    with db.make_engine(db.demo_url("cornwall")).connect() as conn:
        cohorts = tiers_view.cohort_table(conn, EVERYONE, measures.default_as_of(conn))
    assert len(cohorts) > 10
    (table,) = [d.value for d in at.dataframe if "Cohort" in d.value.columns]
    assert table["Cohort"].tolist() == cohorts["code"].head(10).tolist()  # the newest, as shown
    assert "name" not in table.columns and "course" not in table.columns  # only the columns shown are sent
    assert f"Listing the newest 10 of {len(cohorts)} cohorts; the download holds them all." in [
        c.value for c in at.caption
    ]
    (download,) = [b for b in at.get("download_button") if b.proto.label.startswith("Download all")]
    assert download.proto.label == f"Download all {len(cohorts)} cohorts (CSV)"
    # The attendance chart offers the cohorts listed and the one it opens on, not every cohort.
    offered = at.selectbox(key="cohort").options
    assert len(offered) <= 11 and tiers_view.default_cohort(cohorts) in [o.split(" ")[0] for o in offered]
