"""The measures of DESIGN.md section 4, pinned on a small hand-made programme on SQLite and PostgreSQL,
and the ``measures`` command.

Every expected number below is worked out by hand in the comments, from the data, not read back from
the code. The main date is D = 30/06/2024.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from qidash import cli, db, derive, measures, store
from qidash import models as m
from qidash.measures import REPORT_KEYS
from qidash.scope import Scope

day = dt.date.fromisoformat
D = day("2024-06-30")
EVERYONE = Scope()

# --- the programme, by hand ---------------------------------------------------------------------------
#
# Localities N (PCN PN1) and S (PCN PS1). Organisations (beds / staff headcount / offered on):
#   CH1 care_home_residential, independent, PN1   20 / 30   / 10/01/2023
#   CH2 care_home_nursing,     independent, PS1   -- / 10   / 01/02/2023   (no beds recorded)
#   CH3 care_home_residential, independent, PS1   10 / 15   / 01/02/2023
#   CH4 care_home_nursing, local_authority, PN1   30 / --   / 01/09/2024   (offered after D)
#   GP1 gp_practice,           nhs,         PN1   -- / 45   / 10/01/2023
#   TR1 acute_trust,           nhs,         none  -- / 100  / 10/01/2023   (no PCN)
#   V1  voluntary,             vcse,        PS1   -- / --   / --
#
# Tiers (framework QI): learn (rank 1, course), live (2, project), lead (3, faculty). Course C1 is learn.
# Cohorts of C1 (start, end, locality, sessions, delivered by):
#   K1 01/03/2023-30/04/2023 N 4 external    K2 01/09/2023-31/10/2023 S 5 local
#   K3 15/01/2024-15/03/2024 S 0 local       K4 01/08/2024-30/09/2024 N 4 local (starts after D)
#
# People, and the tiers they attain (derived):
#   P1  CH1  completes K1 (no date: cohort end 30/04/2023, 4 sessions) AND K2 (31/10/2023, 5): trained
#            twice, learn 30/04/2023
#   P2  CH1  completes K1 (30/04/2023, 3 sessions); left CH1 on 31/12/2023: learn 30/04/2023
#   P3  CH2  completes K2 (31/10/2023, 5); member of PR2 (starts 30/11/2023): learn 31/10/2023,
#            live 30/11/2023 (the project started after the tier below)
#   P4  GP1  withdrew from K1 (1 session): nothing, ever
#   P5  GP1  trainer of K2 (starts 01/09/2023): lead 01/09/2023 by faculty role only
#   P6  TR1  completes K1 (30/04/2023, 2); leads PR1 (starts 01/06/2023); coach of K3 (15/01/2024):
#            learn 30/04/2023, live 01/06/2023, lead 15/01/2024
#   P7  V1   patient partner; completes K2 late, on 15/02/2024 (4 sessions); member of PR3 (starts
#            01/02/2024): learn 15/02/2024, live 15/02/2024 (the tier below came after the start)
#   P8  CH3  attended K3, not completed (0 sessions): nothing
#   P9  GP1  member of PR1 without the tier below: nothing
#   P10 CH2  completes K3 on 15/03/2024 (0 sessions): learn 15/03/2024
#
# Priorities FALLS, DELIR, MEDS, STAFF. Projects (lead org, partners, start-end, status):
#   PR1 FALLS TR1 +CH1 01/06/2023-    active     lead P6, member P9   (acute NHS + independent home)
#   PR2 FALLS CH2      30/11/2023-    active     member P3; P5 coach, P7 sponsor: not the team, so P5
#                                                 attains nothing by it and P7 (a patient) does not count
#   PR3 DELIR V1  +GP1 01/02/2024-    active     member P7 (patient)  (VCSE + NHS practice)
#   PR4 DELIR GP1      01/06/2022-31/03/2023 completed, patient involvement flagged
#   PR5 FALLS CH1      01/09/2024-    active, patient involvement flagged (starts after D)
#   PR6 MEDS  CH3 +CH1 01/02/2023-31/08/2023 stopped  (two residential independent homes: same kind
#                                                      and sector, so not cross-boundary)
# Progress scores: PR1 2.0 (01/09/2023), 3.5 (01/03/2024), 4.5 (01/08/2024); PR2 4.0 (01/12/2023),
#   2.5 (01/05/2024); PR4 4.5 (01/03/2023); PR6 3.0 (01/06/2023).
# Measures, each with one observation, and the stored chart analysis (improving):
#   PR1 M1 01/04/2024 yes    PR3 M3 02/04/2024 no    PR4 M4 01/03/2023 yes
# Targets for people_trained: system 4 by 31/12/2023 and 9 by 31/12/2024; locality N 3 by 31/12/2024;
#   and a system target for another measure (orgs_trained 6 by 31/12/2024), which reach ignores.

ORGS = [
    ("CH1", "care_home_residential", "independent", "PN1", 20, 30, day("2023-01-10")),
    ("CH2", "care_home_nursing", "independent", "PS1", None, 10, day("2023-02-01")),
    ("CH3", "care_home_residential", "independent", "PS1", 10, 15, day("2023-02-01")),
    ("CH4", "care_home_nursing", "local_authority", "PN1", 30, None, day("2024-09-01")),
    ("GP1", "gp_practice", "nhs", "PN1", None, 45, day("2023-01-10")),
    ("TR1", "acute_trust", "nhs", None, None, 100, day("2023-01-10")),
    ("V1", "voluntary", "vcse", "PS1", None, None, None),
]
PEOPLE = [  # ref, organisation, patient partner, left on
    ("P1", "CH1", False, None),
    ("P2", "CH1", False, day("2023-12-31")),
    ("P3", "CH2", False, None),
    ("P4", "GP1", False, None),
    ("P5", "GP1", False, None),
    ("P6", "TR1", False, None),
    ("P7", "V1", True, None),
    ("P8", "CH3", False, None),
    ("P9", "GP1", False, None),
    ("P10", "CH2", False, None),
]
COHORTS = [  # code, start, end, locality, sessions, delivered by
    ("K1", day("2023-03-01"), day("2023-04-30"), "N", 4, "external"),
    ("K2", day("2023-09-01"), day("2023-10-31"), "S", 5, "local"),
    ("K3", day("2024-01-15"), day("2024-03-15"), "S", 0, "local"),
    ("K4", day("2024-08-01"), day("2024-09-30"), "N", 4, "local"),
]
ENROLMENTS = [  # person, cohort, status, completed on, sessions attended
    ("P1", "K1", "completed", None, 4),
    ("P1", "K2", "completed", day("2023-10-31"), 5),
    ("P2", "K1", "completed", day("2023-04-30"), 3),
    ("P4", "K1", "withdrawn", None, 1),
    ("P6", "K1", "completed", day("2023-04-30"), 2),
    ("P3", "K2", "completed", day("2023-10-31"), 5),
    ("P7", "K2", "completed", day("2024-02-15"), 4),
    ("P8", "K3", "attended", None, 0),
    ("P10", "K3", "completed", day("2024-03-15"), 0),
]
PROJECTS = [  # code, priority, lead org, partners, lead person, start, end, status, patient involvement
    ("PR1", "FALLS", "TR1", ["CH1"], "P6", day("2023-06-01"), None, "active", False),
    ("PR2", "FALLS", "CH2", [], None, day("2023-11-30"), None, "active", False),
    ("PR3", "DELIR", "V1", ["GP1"], None, day("2024-02-01"), None, "active", False),
    ("PR4", "DELIR", "GP1", [], None, day("2022-06-01"), day("2023-03-31"), "completed", True),
    ("PR5", "FALLS", "CH1", [], None, day("2024-09-01"), None, "active", True),
    ("PR6", "MEDS", "CH3", ["CH1"], None, day("2023-02-01"), day("2023-08-31"), "stopped", False),
]
SCORES = [
    ("PR1", "2023-09-01", 2.0), ("PR1", "2024-03-01", 3.5), ("PR1", "2024-08-01", 4.5),
    ("PR2", "2023-12-01", 4.0), ("PR2", "2024-05-01", 2.5),
    ("PR4", "2023-03-01", 4.5),
    ("PR6", "2023-06-01", 3.0),
]
OBSERVED = [  # project, measure, period, stored analysis says improving
    ("PR1", "M1", day("2024-04-01"), True),
    ("PR3", "M3", day("2024-04-02"), False),
    ("PR4", "M4", day("2023-03-01"), True),
]


def frames() -> dict[str, list[dict]]:
    return {
        "localities": [{"code": "N", "name": "North"}, {"code": "S", "name": "South"}],
        "pcns": [
            {"code": "PN1", "name": "North PCN", "locality_code": "N"},
            {"code": "PS1", "name": "South PCN", "locality_code": "S"},
        ],
        "organisations": [
            {"ods_code": ods, "name": f"Org {ods}", "kind": kind, "sector": sector, "pcn_code": pcn,
             "beds": beds, "staff_headcount": staff, "offered_on": offered}
            for ods, kind, sector, pcn, beds, staff, offered in ORGS
        ],
        "people": [
            {"person_ref": ref, "ods_code": org, "is_patient_partner": patient, "left_on": left}
            for ref, org, patient, left in PEOPLE
        ],
        "tiers": [
            {"framework": "QI", "code": "learn", "name": "Learn", "rank": 1, "attained_by": "course"},
            {"framework": "QI", "code": "live", "name": "Live", "rank": 2, "attained_by": "project"},
            {"framework": "QI", "code": "lead", "name": "Lead", "rank": 3, "attained_by": "faculty"},
        ],
        "courses": [{"code": "C1", "name": "QI foundations", "tier_code": "learn"}],
        "cohorts": [
            {"code": code, "course_code": "C1", "start_date": start, "end_date": end, "locality_code": loc,
             "sessions": sessions, "delivered_by": by}
            for code, start, end, loc, sessions, by in COHORTS
        ],
        "enrolments": [
            {"person_ref": p, "cohort_code": c, "status": s, "completed_on": on, "sessions_attended": n}
            for p, c, s, on, n in ENROLMENTS
        ],
        "faculty": [
            {"person_ref": "P5", "cohort_code": "K2", "role": "trainer"},
            {"person_ref": "P6", "cohort_code": "K3", "role": "coach"},
        ],
        "priorities": [{"code": c, "name": c.title()} for c in ("FALLS", "DELIR", "MEDS", "STAFF")],
        "projects": [
            {"code": code, "title": f"Project {code}", "priority_code": pri, "lead_ods_code": org,
             "partner_ods_codes": partners, "lead_person_ref": lead, "start_date": start, "end_date": end,
             "status": status, "patient_involvement": patients}
            for code, pri, org, partners, lead, start, end, status, patients in PROJECTS
        ],
        "project_members": [
            {"project_code": "PR1", "person_ref": "P9", "role": "member"},
            {"project_code": "PR2", "person_ref": "P3", "role": "member"},
            {"project_code": "PR2", "person_ref": "P5", "role": "coach"},
            {"project_code": "PR2", "person_ref": "P7", "role": "sponsor"},
            {"project_code": "PR3", "person_ref": "P7", "role": "member"},
        ],
        "progress": [{"project_code": p, "scored_on": day(on), "score": s} for p, on, s in SCORES],
        "measures": [
            {"project_code": p, "code": code, "name": f"Measure {code}", "chart": "run"}
            for p, code, _, _ in OBSERVED
        ],
        "observations": [
            {"project_code": p, "measure_code": code, "period": period, "value": 1.0}
            for p, code, period, _ in OBSERVED
        ],
        "targets": [
            {"measure": "people_trained", "value": 4, "due_on": day("2023-12-31"), "scope": "system"},
            {"measure": "people_trained", "value": 9, "due_on": day("2024-12-31"), "scope": "system"},
            {"measure": "people_trained", "value": 3, "due_on": day("2024-12-31"), "scope": "locality:N"},
            {"measure": "orgs_trained", "value": 6, "due_on": day("2024-12-31"), "scope": "system"},
        ],
    }


def store_analysis(session: Session, project: str, measure: str, last_period: dt.date, improving: bool):
    """A measure_analysis row as the SPC engine would leave it, so these tests need no engine."""
    measure_id = session.execute(
        select(m.Measure.id).join(m.Project, m.Project.id == m.Measure.project_id)
        .where(m.Project.code == project, m.Measure.code == measure)
    ).scalar_one()
    session.execute(
        insert(m.MeasureAnalysis),
        [{"measure_id": measure_id, "last_period": last_period, "n_points": 1, "ruleset": "anhoej",
          "signal": improving, "improving": improving, "concern": False}],
    )


@pytest.fixture
def programme(any_engine):
    """The programme above, on SQLite or PostgreSQL."""
    with Session(any_engine) as session, session.begin():
        store.write_frames(session, frames())
        derive.rebuild_tier_attainment(session)
        for project, measure, period, improving in OBSERVED:
            store_analysis(session, project, measure, period, improving)
    return any_engine


def report(engine, scope: Scope = EVERYONE, as_of: dt.date = D) -> dict:
    with engine.connect() as conn:
        return measures.report(conn, scope, as_of)


def measure(engine, fn, scope: Scope = EVERYONE, as_of: dt.date = D):
    with engine.connect() as conn:
        return fn(conn, scope, as_of)


def assert_same(actual, expected, path="report"):
    """Equal, with floats compared to 1e-9 and ints required to stay ints (not 7.0, not Decimal)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not a dict"
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for k in expected:
            assert_same(actual[k], expected[k], f"{path}[{k!r}]")
    elif isinstance(expected, bool) or expected is None or isinstance(expected, str):
        assert actual == expected and type(actual) is type(expected), f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, int):
        assert type(actual) is int and actual == expected, f"{path}: {actual!r} != {expected!r}"
    else:
        assert type(actual) is float, f"{path}: {actual!r} is a {type(actual).__name__}, not a float"
        assert math.isclose(actual, expected, rel_tol=1e-9), f"{path}: {actual!r} != {expected!r}"


# --- the whole report on D ---------------------------------------------------------------------------------

# The unfiltered report on D = 30/06/2024, key by key.
SYSTEM_ON_D = {
    # P1 P2 P3 P5 P6 P7 P10. P1 trained twice counts once; P2 left but was trained; P4 withdrew; P5
    # reached lead by teaching only; P8 has not completed; P9 joined a project without the tier below.
    "people_trained": 7,
    # at least learn: all 7; at least live: P3 P6 P7 and P5 (lead, by teaching); at least lead: P5 P6.
    "people_by_tier": {"learn": 7, "live": 4, "lead": 2},
    "tier_conversion": {
        # 4 / 7. Days learn -> live: P3 31/10 -> 30/11/2023 = 30, P6 30/04 -> 01/06/2023 = 32,
        # P7 15/02 -> 15/02/2024 = 0 (P5 has no learn): median of 0, 30, 32 = 30.
        "learn->live": {"ratio": 4 / 7, "median_days": 30},
        # 2 / 4. Days live -> lead: P6 01/06/2023 -> 15/01/2024 = 29 (rest of June) + 31 + 31 + 30 + 31
        # + 30 + 31 (July-December) + 15 = 228; P5 has no live attainment.
        "live->lead": {"ratio": 2 / 4, "median_days": 228},
    },
    "orgs_in_scope": 7,
    "orgs_offered": 5,  # all but CH4 (offered 01/09/2024, after D) and V1 (never)
    # CH1 (P1, P2), CH2 (P3), CH3 (P8 in K3, started 15/01/2024), TR1 (P6), V1 (P7); GP1's only
    # enrolment is P4's withdrawn one (P5 teaches, P9 only joined a project); CH4 has nobody.
    "orgs_engaged": 5,
    # in post and trained: CH1 (P1; P2 left), CH2 (P3, P10), GP1 (P5), TR1 (P6), V1 (P7).
    "orgs_trained": 5,
    # active on D: PR1 (TR1 + CH1), PR2 (CH2), PR3 (V1 + GP1).
    "orgs_with_project": 5,
    "coverage_pct": 5 / 7 * 100,
    # beds recorded: CH1 20 (1 in post: P1), CH3 10 (0), CH4 30 (0) = 60 beds; CH2 (2 trained, no beds)
    # is out of both numerator and denominator: 1 / 60 * 10.
    "trained_per_10_beds": 1 / 60 * 10,
    # headcount recorded: CH1 30 (1), CH2 10 (2), CH3 15 (0), GP1 45 (1), TR1 100 (1) = 5 of 200; V1
    # (P7, no headcount) is out: 5 / 200 * 100.
    "trained_per_100_staff": 2.5,
    "reach_vs_target": {
        # The system target due next on or after D: 9 by 31/12/2024. Trained by 31/12/2023 (D - 182
        # days: 2024 is a leap year, so January-June is 182 days): P1 P2 P3 P5 P6 = 5; by D 7. Rate 2 / 182
        # a day; 184 days from D to 31/12/2024 (July-December): 7 + 2 * 184 / 182 = 9.02 -> 9 >= 9.
        "people_trained": 7,
        "target_value": 9,
        "due_on": "2024-12-31",
        "projected_at_due": 9,
        "on_track": True,
    },
    "projects_active": 3,  # PR1 PR2 PR3
    "projects_completed": 1,  # PR4
    # started by D, any status: FALLS PR1 PR2 (PR5 starts later); DELIR PR3 PR4; MEDS PR6; STAFF none.
    "projects_by_priority": {"DELIR": 2, "FALLS": 2, "MEDS": 1, "STAFF": 0},
    "projects_cross_boundary": 2,  # PR1 (kinds and sectors differ), PR3; not PR6 (same kind and sector)
    # PR3 (P7 in the team), PR4 (flagged); PR5 not started; PR2's sponsor P7 is not in the team.
    "projects_with_patient_partner": 2,
    # latest score by D: PR1 3.5 (4.5 is later), PR2 2.5 (its 4.0 is older), PR4 4.5, PR6 3.0.
    "projects_progress_ge_3": 3,
    "projects_progress_ge_4": 1,
    "projects_improving": 2,  # PR1 and PR4 (completed, still counts); PR3's measure is not improving
    # active PR1 PR2 PR3; the 90 days ending on D run from 02/04/2024. PR1: score 01/03, observation
    # 01/04/2024, both outside -> stale. PR2: score 01/05. PR3: observation 02/04/2024.
    "projects_stale": 1,
    "local_faculty_share": 2 / 3,  # K1 external, K2 and K3 local; K4 starts after D
    # highest tier lead: P5 P6; highest tier live: P3 P7.
    "lead_per_live": 1.0,
    "attendance_rate": {
        "K1": 9 / 12,  # P1 4 + P2 3 + P6 2 of 4 sessions x 3 places; P4 withdrew (1 session ignored)
        "K2": 14 / 15,  # P1 5 + P3 5 + P7 4 of 5 sessions x 3 places
        "K3": None,  # 0 sessions offered
    },
}


def test_report_on_d_pins_every_key(programme):
    assert_same(report(programme), SYSTEM_ON_D)


def test_report_of_some_keys_gives_those_in_report_order_with_the_same_numbers(programme):
    keys = ("projects_active", "coverage_pct", "people_trained", "reach_vs_target")
    with programme.connect() as conn:
        part = measures.report(conn, EVERYONE, D, keys)
        with pytest.raises(ValueError, match="Unknown measure people_helped"):
            measures.report(conn, EVERYONE, D, ("people_trained", "people_helped"))
    # reach_vs_target reuses people_trained; coverage_pct comes with the organisation counts but only
    # the keys asked for are returned.
    assert_same(part, {k: SYSTEM_ON_D[k] for k in REPORT_KEYS if k in keys})


def test_report_has_exactly_the_section_4_keys_with_integer_counts_and_bounded_ratios(programme):
    assert len(REPORT_KEYS) == len(set(REPORT_KEYS)) == 24
    counts = [k for k in REPORT_KEYS if k.startswith(("people_trained", "orgs_", "projects_"))
              and k != "projects_by_priority"]
    scopes = [EVERYONE, Scope(locality="N"), Scope(pcn="PS1"), Scope(kind="care_home"), Scope(sector="nhs"),
              Scope(kind="hospice")]
    for scope in scopes:
        for as_of in (day("2020-01-01"), D, day("2025-01-31")):
            r = report(programme, scope, as_of)
            assert tuple(r) == REPORT_KEYS
            json.dumps(r)  # plain JSON types only
            for k in counts:
                assert type(r[k]) is int and r[k] >= 0, (scope, as_of, k, r[k])
            for tier in r["people_by_tier"].values():
                assert type(tier) is int
            for n in r["projects_by_priority"].values():
                assert type(n) is int
            assert r["coverage_pct"] is None or 0 <= r["coverage_pct"] <= 100
            fractions = [r["local_faculty_share"], *r["attendance_rate"].values()]
            fractions += [pair["ratio"] for pair in r["tier_conversion"].values()]
            for value in fractions:
                assert value is None or (type(value) is float and 0 <= value <= 1), (scope, as_of, value)
            # Rates per bed / staff and lead per live are not bounded by 1 by definition (a home can
            # train 15 people per 10 beds), but are never negative and always floats.
            for value in (r["trained_per_10_beds"], r["trained_per_100_staff"], r["lead_per_live"]):
                assert value is None or (type(value) is float and value >= 0), (scope, as_of, value)


# --- people and tiers ------------------------------------------------------------------------------------


def test_tier_attainment_is_derived_as_section_2_says(programme):
    with programme.connect() as conn:
        rows = conn.execute(
            select(m.Person.person_ref, m.Tier.code, m.TierAttainment.attained_on)
            .join(m.Person, m.Person.id == m.TierAttainment.person_id)
            .join(m.Tier, m.Tier.id == m.TierAttainment.tier_id)
        ).all()
    got = {(ref, tier): db.as_date(on) for ref, tier, on in rows}
    assert got == {
        ("P1", "learn"): day("2023-04-30"),  # the earlier of two completions; no date: the cohort's end
        ("P2", "learn"): day("2023-04-30"),
        ("P3", "learn"): day("2023-10-31"),
        ("P3", "live"): day("2023-11-30"),  # the project's start, later than the tier below
        ("P5", "lead"): day("2023-09-01"),  # faculty role: the cohort's start; no lower tier needed
        ("P6", "learn"): day("2023-04-30"),
        ("P6", "live"): day("2023-06-01"),
        ("P6", "lead"): day("2024-01-15"),
        ("P7", "learn"): day("2024-02-15"),
        ("P7", "live"): day("2024-02-15"),  # the tier below, reached after the project started
        ("P10", "learn"): day("2024-03-15"),
        # P4 withdrew, P8 did not complete, P9 joined PR1 without the tier below: nothing.
    }


def test_people_trained_counts_leavers_once_and_splits_patients(programme):
    assert measure(programme, measures.people_trained) == 7
    assert measure(programme, measures.people_trained_split) == {"staff": 6, "patients": 1}  # P7
    # by 31/12/2023: P1 P2 P6 (30/04), P5 (01/09), P3 (31/10/2023); P2 left that day and still counts.
    assert measure(programme, measures.people_trained, as_of=day("2023-12-31")) == 5
    # the day before the first completions: nobody.
    assert measure(programme, measures.people_trained, as_of=day("2023-04-29")) == 0


def test_people_by_tier_counts_reached_at_least(programme):
    # by 01/09/2023: P1 P2 P6 learn; P6 live (01/06); P5 lead (01/09, teaching only) also counts for
    # learn and live.
    assert measure(programme, measures.people_by_tier, as_of=day("2023-09-01")) == {
        "learn": 4, "live": 2, "lead": 1,
    }
    # the day before: P5 not yet.
    assert measure(programme, measures.people_by_tier, as_of=day("2023-08-31")) == {
        "learn": 3, "live": 1, "lead": 0,
    }


def test_tier_conversion_and_lead_per_live_in_a_locality(programme):
    north = Scope(locality="N")  # P1 P2 (learn), P5 (lead only); TR1's P6 has no PCN
    r = report(programme, north)
    assert_same(r["people_by_tier"], {"learn": 3, "live": 1, "lead": 1})
    assert_same(r["tier_conversion"], {
        # 1 / 3; nobody in N attained both learn and live (P5 skipped both), so no median.
        "learn->live": {"ratio": 1 / 3, "median_days": None},
        "live->lead": {"ratio": 1.0, "median_days": None},
    })
    # highest tier lead: P5; highest tier live: nobody -> a zero denominator, None.
    assert r["lead_per_live"] is None


# --- organisations -------------------------------------------------------------------------------------


def test_org_counts_follow_the_dates(programme):
    # 01/09/2024: CH4 now offered; K4 has no enrolments, so nothing else changes. PR5 (CH1) has started
    # but CH1 is already with a project; the active ones are still PR1 PR2 PR3.
    later = report(programme, as_of=day("2024-09-01"))
    assert [later[k] for k in ("orgs_in_scope", "orgs_offered", "orgs_engaged", "orgs_trained",
                               "orgs_with_project")] == [7, 6, 5, 5, 5]
    # 14/01/2024, the day before K3 starts: CH3 (P8) not yet engaged; V1 engaged through P7's K2
    # place (the cohort started 01/09/2023, though P7 completed later); trained in post: CH1 (P1),
    # CH2 (P3), GP1 (P5), TR1 (P6): V1 not yet (P7 completes 15/02). PR3 not started: PR1 (TR1, CH1)
    # and PR2 (CH2).
    before = report(programme, as_of=day("2024-01-14"))
    assert [before[k] for k in ("orgs_in_scope", "orgs_offered", "orgs_engaged", "orgs_trained",
                                "orgs_with_project")] == [7, 5, 4, 4, 3]
    assert before["coverage_pct"] == pytest.approx(4 / 7 * 100)


def test_leaver_counts_for_people_trained_not_for_coverage_or_density(programme):
    # Care homes on 01/12/2023 (P2 still in post at CH1) and on D (P2 left 31/12/2023).
    homes = Scope(kind="care_home")  # CH1 CH2 CH3 CH4, both kinds
    before = report(programme, homes, day("2023-12-01"))
    after = report(programme, homes, D)
    # people_trained: P1 P2 P3 both times (plus P10 by D): the leaver still counts.
    assert before["people_trained"] == 3 and after["people_trained"] == 4
    # CH1 is trained either way (P1); CH2 (P3) too.
    assert before["orgs_trained"] == after["orgs_trained"] == 2
    assert after["coverage_pct"] == pytest.approx(2 / 4 * 100)
    # beds: CH1 20 + CH3 10 + CH4 30 = 60. Before: P1 and P2 in post at CH1: 2 / 60 * 10. After: P1.
    assert before["trained_per_10_beds"] == pytest.approx(2 / 60 * 10)
    assert after["trained_per_10_beds"] == pytest.approx(1 / 60 * 10)
    # headcount: CH1 30 + CH2 10 + CH3 15 = 55. Before: P1 P2 + P3 = 3; after: P1 + P3 P10 = 3.
    assert before["trained_per_100_staff"] == pytest.approx(3 / 55 * 100)
    assert after["trained_per_100_staff"] == pytest.approx(3 / 55 * 100)


def test_density_leaves_out_organisations_without_beds_or_headcount(programme):
    with programme.connect() as conn:
        # NHS: GP1 and TR1, neither with beds recorded -> None, never 0. Headcount 45 + 100, trained in
        # post P5 + P6.
        assert measures.training_density(conn, Scope(sector="nhs"), D) == {
            "trained_per_10_beds": None, "trained_per_100_staff": pytest.approx(2 / 145 * 100),
        }
        # Nursing homes: CH2 (no beds, 2 trained) and CH4 (30 beds, no headcount, nobody trained).
        assert measures.training_density(conn, Scope(kind="care_home_nursing"), D) == {
            "trained_per_10_beds": 0.0, "trained_per_100_staff": pytest.approx(2 / 10 * 100),
        }


# --- scope -------------------------------------------------------------------------------------------------


def test_locality_filter(programme):
    r = report(programme, Scope(locality="N"))  # CH1 CH4 GP1; not TR1 (no PCN)
    expected = {
        "people_trained": 3,  # P1 P2 P5
        "orgs_in_scope": 3,
        "orgs_offered": 2,  # CH1 GP1 (CH4 after D)
        "orgs_engaged": 1,  # CH1; GP1's only enrolment was withdrawn
        "orgs_trained": 2,  # CH1 (P1) GP1 (P5)
        "orgs_with_project": 2,  # CH1 partners PR1, GP1 partners PR3
        "coverage_pct": 2 / 3 * 100,
        "trained_per_10_beds": 1 / 50 * 10,  # CH1 20 + CH4 30 beds, P1
        "trained_per_100_staff": 2 / 75 * 100,  # CH1 30 + GP1 45, P1 P5
    }
    assert_same({k: r[k] for k in expected}, expected)
    # Projects led by or partnered with CH1 CH4 GP1: PR1 (partner CH1, though led from TR1, outside N),
    # PR3 (partner GP1), PR4 (GP1), PR5 (CH1, not started), PR6 (partner CH1).
    assert [r[k] for k in ("projects_active", "projects_completed", "projects_cross_boundary",
                           "projects_with_patient_partner", "projects_progress_ge_3",
                           "projects_progress_ge_4", "projects_improving", "projects_stale")] == [
        2, 1, 2, 2, 3, 1, 2, 1,
    ]
    assert r["projects_by_priority"] == {"DELIR": 2, "FALLS": 1, "MEDS": 1, "STAFF": 0}
    # Cohorts where someone in N holds a place not withdrawn: K1 (P1 P2), K2 (P1); P4's withdrawn K1
    # place does not count. 1 local of 2. Attendance over those people's places only.
    assert r["local_faculty_share"] == pytest.approx(1 / 2)
    assert_same(r["attendance_rate"], {"K1": 7 / 8, "K2": 1.0})  # (P1 4 + P2 3) / (4 x 2); P1 5 / 5


def test_pcn_kind_and_sector_filters(programme):
    south = report(programme, Scope(pcn="PS1"))  # CH2 CH3 V1: P3 P10, P8, P7
    keys = ("people_trained", "orgs_in_scope", "orgs_engaged", "orgs_trained")
    assert [south[k] for k in keys] == [3, 3, 3, 2]
    assert south["people_by_tier"] == {"learn": 3, "live": 2, "lead": 0}  # P3 P7 P10; P3 P7 live
    assert south["projects_active"] == 2  # PR2 (CH2), PR3 (V1)
    # "care_home" means both kinds; a single kind narrows it.
    assert report(programme, Scope(kind="care_home"))["orgs_in_scope"] == 4
    assert report(programme, Scope(kind="care_home_nursing"))["orgs_in_scope"] == 2  # CH2 CH4
    # Care homes' projects: PR1 (partner CH1), PR2 (CH2), PR5, PR6; active on D: PR1 PR2.
    assert report(programme, Scope(kind="care_home"))["projects_active"] == 2
    nhs = report(programme, Scope(sector="nhs"))  # GP1 TR1: P4 P5 P9, P6
    assert [nhs[k] for k in ("people_trained", "orgs_in_scope", "orgs_offered", "orgs_engaged",
                             "orgs_trained", "coverage_pct")] == [2, 2, 2, 1, 2, 100.0]
    # PR1 (TR1), PR3 (partner GP1) active; PR4 (GP1) completed.
    assert (nhs["projects_active"], nhs["projects_completed"]) == (2, 1)
    # filters combine: NHS in N is GP1 only.
    both = report(programme, Scope(locality="N", sector="nhs"))
    assert (both["orgs_in_scope"], both["people_trained"]) == (1, 1)  # GP1, P5


def test_organisation_without_pcn_is_outside_every_locality_and_pcn_filter(programme):
    # TR1 and its P6 (learn, live, lead) appear in no locality or PCN, only in the whole system.
    north, south = report(programme, Scope(locality="N")), report(programme, Scope(locality="S"))
    assert north["orgs_in_scope"] + south["orgs_in_scope"] == 6  # of 7
    assert north["people_trained"] + south["people_trained"] == 6  # of 7: P6 is missing
    assert report(programme, Scope(pcn="PN1"))["people_trained"] == 3
    # ...but a project TR1 leads is in N through its partner CH1.
    assert report(programme, Scope(locality="N"))["projects_stale"] == 1  # PR1


# --- reach against target -------------------------------------------------------------------------------


def test_reach_vs_target_per_scope_and_date(programme):
    # Locality N's own target (3 by 31/12/2024) applies only when N is filtered. N trained P1 P2 P5,
    # all before 31/12/2023 (D - 182 days): rate 0, projection 3 >= 3.
    assert report(programme, Scope(locality="N"))["reach_vs_target"] == {
        "people_trained": 3, "target_value": 3, "due_on": "2024-12-31",
        "projected_at_due": 3, "on_track": True,
    }
    # S has no target; nor has a kind or sector scope (the system target does not apply to them).
    for scope in (Scope(locality="S"), Scope(kind="care_home"), Scope(sector="nhs")):
        assert report(programme, scope)["reach_vs_target"] == {
            "people_trained": report(programme, scope)["people_trained"], "target_value": None,
            "due_on": None, "projected_at_due": None, "on_track": None,
        }
    # 30/06/2023: the next system target is 4 by 31/12/2023. Trained by then: P1 P2 P6 (30/04) = 3; by
    # 30/12/2022 (182 days before) nobody: rate 3 / 182; 184 days to 31/12/2023: 3 + 3 * 184 / 182 =
    # 6.03 -> 6 >= 4.
    assert report(programme, as_of=day("2023-06-30"))["reach_vs_target"] == {
        "people_trained": 3, "target_value": 4, "due_on": "2023-12-31",
        "projected_at_due": 6, "on_track": True,
    }
    # 31/01/2025, after every due date: the latest target (9 by 31/12/2024), and the projection is what
    # was reached by then: 7 < 9.
    assert report(programme, as_of=day("2025-01-31"))["reach_vs_target"] == {
        "people_trained": 7, "target_value": 9, "due_on": "2024-12-31",
        "projected_at_due": 7, "on_track": False,
    }


def test_recent_rate_is_over_the_182_days_ending_on_the_date(programme):
    with programme.connect() as conn:
        # (7 by D - 5 by 31/12/2023) / 182.
        assert measures.recent_rate(conn, EVERYONE, D) == pytest.approx(2 / 182)
        # 15/09/2024: 7 trained by then and 7 by 17/03/2024, 182 days before (P10 on 15/03): 0.
        assert measures.recent_rate(conn, EVERYONE, day("2024-09-15")) == 0


# --- projects --------------------------------------------------------------------------------------------


def test_project_status_counts_on_a_date(programme):
    # 15/07/2023: PR1 active; PR6 (stopped, but its end 31/08/2023 is after the date) active then; PR4
    # ended 31/03/2023 and is completed; PR2 not started.
    r = report(programme, as_of=day("2023-07-15"))
    assert (r["projects_active"], r["projects_completed"]) == (2, 1)
    # 15/03/2023: PR4 still running (ends 31/03), PR6 running: 2 active, none completed.
    r = report(programme, as_of=day("2023-03-15"))
    assert (r["projects_active"], r["projects_completed"]) == (2, 0)
    # 01/09/2024: PR5 has started too.
    assert report(programme, as_of=day("2024-09-01"))["projects_active"] == 4


def test_projects_by_priority_lists_every_priority(programme):
    assert report(programme, as_of=day("2024-09-01"))["projects_by_priority"] == {
        "DELIR": 2, "FALLS": 3, "MEDS": 1, "STAFF": 0,
    }
    assert report(programme, as_of=day("2020-01-01"))["projects_by_priority"] == {
        "DELIR": 0, "FALLS": 0, "MEDS": 0, "STAFF": 0,
    }


def test_cross_boundary_and_patient_partner_projects_by_date(programme):
    # 01/09/2024: PR5 (flagged) has started: 3 with patients. 31/01/2024: PR3 not started: PR1 only
    # crosses; PR4 only involves patients.
    later = report(programme, as_of=day("2024-09-01"))
    assert (later["projects_cross_boundary"], later["projects_with_patient_partner"]) == (2, 3)
    earlier = report(programme, as_of=day("2024-01-31"))
    assert (earlier["projects_cross_boundary"], earlier["projects_with_patient_partner"]) == (1, 1)


def test_progress_counts_use_the_latest_score_by_the_date(programme):
    # 15/08/2024: PR1's 4.5 (01/08) is now its latest: >= 3 PR1 PR4 PR6, >= 4 PR1 PR4.
    r = report(programme, as_of=day("2024-08-15"))
    assert (r["projects_progress_ge_3"], r["projects_progress_ge_4"]) == (3, 2)
    # 15/12/2023: PR1 2.0, PR2 4.0, PR4 4.5, PR6 3.0: >= 3 PR2 PR4 PR6, >= 4 PR2 PR4.
    r = report(programme, as_of=day("2023-12-15"))
    assert (r["projects_progress_ge_3"], r["projects_progress_ge_4"]) == (3, 2)


def test_projects_stale_window_edges(programme):
    # D - 1 = 29/06/2024: the 90 days run from 01/04/2024, so PR1's observation that day is recent.
    assert report(programme, as_of=day("2024-06-29"))["projects_stale"] == 0
    assert report(programme, as_of=D)["projects_stale"] == 1  # from 02/04: PR1 stale
    # D + 1: from 03/04/2024: PR3's observation of 02/04 falls out; PR2's score of 01/05 holds.
    assert report(programme, as_of=day("2024-07-01"))["projects_stale"] == 2
    # 31/07/2024: from 02/05/2024: PR2's score of 01/05 falls out too; PR1's next score (01/08) is
    # after the date: all three are stale. On 01/08/2024 that score counts: PR2 and PR3.
    assert report(programme, as_of=day("2024-07-31"))["projects_stale"] == 3
    assert report(programme, as_of=day("2024-08-01"))["projects_stale"] == 2


def test_projects_improving_reads_the_stored_analysis(programme):
    assert report(programme)["projects_improving"] == 2  # PR1, PR4 (last periods on or before D)
    # 15/04/2024: still PR1 and PR4; PR3 (started 01/02) is stored as not improving.
    assert report(programme, as_of=day("2024-04-15"))["projects_improving"] == 2
    # On a later date the stored rows still apply (every last period is before it).
    assert report(programme, as_of=day("2025-01-31"))["projects_improving"] == 2


def test_projects_improving_as_of_an_earlier_date_reanalyses(programme):
    # PR2 gets an XmR measure (higher is better): 12 months around 10 (Jan-Dec 2023), then 8 months at
    # 20 (Jan-Aug 2024). Stored analysis: improving, last period 01/08/2024.
    base = [10, 11, 9] * 4
    series = [(day(f"2023-{mo:02d}-01"), v) for mo, v in zip(range(1, 13), base, strict=True)]
    series += [(day(f"2024-{mo:02d}-01"), 20) for mo in range(1, 9)]
    with Session(programme) as session, session.begin():
        store.write_frames(session, {
            "measures": [{"project_code": "PR2", "code": "MX", "name": "Shift", "chart": "xmr"}],
            "observations": [{"project_code": "PR2", "measure_code": "MX", "period": p, "value": float(v)}
                             for p, v in series],
        })
        store_analysis(session, "PR2", "MX", day("2024-08-01"), True)
    with programme.connect() as conn:

        def ids(as_of: dt.date) -> set[str]:
            found = measures.improving_project_ids(conn, EVERYONE, as_of)
            return set(conn.scalars(select(m.Project.code).where(m.Project.id.in_(found))))

        # 01/09/2024: the stored analysis covers the data: PR1 PR2 PR4.
        assert ids(day("2024-09-01")) == {"PR1", "PR2", "PR4"}
        # 31/12/2023: MX holds only the 12 months of common-cause variation; PR1's M1 (01/04/2024) has
        # no data yet: only PR4.
        assert ids(day("2023-12-31")) == {"PR4"}
        # 15/07/2024: seven months at 20, all above the centre line (NHS rule: a shift of 7): PR2 counts
        # though its stored analysis describes a later date.
        assert ids(day("2024-07-15")) == {"PR1", "PR2", "PR4"}


def test_past_status_holds_from_the_last_period_up_to_the_next(programme):
    from types import SimpleNamespace

    from qidash import analysis

    # The XmR series above: 12 months around 10 (2023), then 8 months at 20 (Jan-Aug 2024).
    base = [10, 11, 9] * 4
    points = [(day(f"2023-{mo:02d}-01"), float(v), None) for mo, v in zip(range(1, 13), base, strict=True)]
    points += [(day(f"2024-{mo:02d}-01"), 20.0, None) for mo in range(1, 9)]
    mx = SimpleNamespace(chart="xmr", improvement="increase", target=None)

    def status(on: str, now: bool = True) -> dict:
        return analysis.past_status(mx, points, (), day(on), now)

    # 15/07/2024: seven months at 20 (a shift); the same points until the August one arrives.
    assert status("2024-07-15") == {"past_as_of": day("2024-07-15"), "past_improving": True,
                                    "past_from": day("2024-07-01"), "past_until": day("2024-08-01")}
    # 31/12/2023: common cause only.
    assert status("2023-12-31") == {"past_as_of": day("2023-12-31"), "past_improving": False,
                                    "past_from": day("2023-12-01"), "past_until": day("2024-01-01")}
    # Before the first point: nothing to improve, until the first point.
    assert status("2022-06-30") == {"past_as_of": day("2022-06-30"), "past_improving": False,
                                    "past_from": None, "past_until": day("2023-01-01")}
    # After the last point: the status on the whole series, passed in.
    assert status("2025-01-01", now=False)["past_improving"] is False
    assert status("2025-01-01")["past_until"] is None


@pytest.mark.parametrize("scenario", ["cornwall", "somerset"])
def test_stored_past_status_agrees_with_reanalysis(any_demo, databases, scenario):
    """The status kept for a year before the data's date gives what re-analysing gives, on that date
    and on the dates around it it claims to answer for."""
    from qidash import analysis

    engine = any_demo(scenario)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        year_ago = measures.year_before(as_of)
        ma = m.MeasureAnalysis
        stored = conn.execute(select(ma.past_as_of, ma.past_from, ma.past_until)).all()
        assert stored and {r.past_as_of for r in stored} == {year_ago}
        days = {year_ago, year_ago - dt.timedelta(days=20), year_ago + dt.timedelta(days=20), as_of}
        ids = list(conn.scalars(select(m.Measure.id)))
        for on in sorted(days):
            found = measures.improving_project_ids(conn, Scope(), on)
            by_hand = analysis.improving_as_of(conn, ids, on)
            started = set(conn.scalars(select(m.Project.id).where(m.Project.start_date <= on)))
            assert found == by_hand & started, on


# --- cohorts ----------------------------------------------------------------------------------------------


def test_local_faculty_share_over_cohorts_started_by_the_date(programme):
    assert measure(programme, measures.local_faculty_share, as_of=day("2023-12-31")) == pytest.approx(1 / 2)
    assert measure(programme, measures.local_faculty_share, as_of=day("2024-08-01")) == pytest.approx(3 / 4)
    assert measure(programme, measures.local_faculty_share, as_of=day("2023-02-28")) is None  # no cohort yet


def test_attendance_rate_per_cohort(programme):
    # 01/08/2024: K4 has started with no places: 0 sessions x 0 places, None.
    assert_same(measure(programme, measures.attendance_rate, as_of=day("2024-08-01")),
                {"K1": 9 / 12, "K2": 14 / 15, "K3": None, "K4": None})
    # South: K2 (P3 5 + P7 4 of 5 x 2), K3 (P8 P10, 0 sessions).
    assert_same(measure(programme, measures.attendance_rate, Scope(locality="S")),
                {"K2": 9 / 10, "K3": None})


# --- before anything happened, and empty scopes ---------------------------------------------------------


def test_before_anything_happened_counts_are_zero_and_ratios_none(programme):
    r = report(programme, as_of=day("2020-01-01"))
    assert_same(r, {
        "people_trained": 0,
        "people_by_tier": {"learn": 0, "live": 0, "lead": 0},
        "tier_conversion": {"learn->live": {"ratio": None, "median_days": None},
                            "live->lead": {"ratio": None, "median_days": None}},
        "orgs_in_scope": 7,  # organisations are not dated
        "orgs_offered": 0, "orgs_engaged": 0, "orgs_trained": 0, "orgs_with_project": 0,
        "coverage_pct": 0.0,  # 0 of 7: a real zero, the denominator is not
        "trained_per_10_beds": 0.0, "trained_per_100_staff": 0.0,
        # the next target: 4 by 31/12/2023; nobody trained and no rate: 0.
        "reach_vs_target": {"people_trained": 0, "target_value": 4, "due_on": "2023-12-31",
                            "projected_at_due": 0, "on_track": False},
        "projects_active": 0, "projects_completed": 0,
        "projects_by_priority": {"DELIR": 0, "FALLS": 0, "MEDS": 0, "STAFF": 0},
        "projects_cross_boundary": 0, "projects_with_patient_partner": 0,
        "projects_progress_ge_3": 0, "projects_progress_ge_4": 0, "projects_improving": 0,
        "projects_stale": 0,
        "local_faculty_share": None, "lead_per_live": None,
        "attendance_rate": {},
    })


def test_zero_denominators_are_none_never_zero(programme):
    r = report(programme, Scope(kind="hospice"))  # a real kind, with no organisations
    assert r["orgs_in_scope"] == 0 and r["people_trained"] == 0
    for key in ("coverage_pct", "trained_per_10_beds", "trained_per_100_staff", "local_faculty_share",
                "lead_per_live"):
        assert r[key] is None, key
    assert all(pair == {"ratio": None, "median_days": None} for pair in r["tier_conversion"].values())
    assert r["attendance_rate"] == {}


def test_an_empty_database_reports_without_error(any_engine):
    r = report(any_engine)
    assert tuple(r) == REPORT_KEYS
    assert r["people_by_tier"] == {} and r["tier_conversion"] == {} and r["lead_per_live"] is None
    assert r["orgs_in_scope"] == 0 and r["coverage_pct"] is None


# --- the measures command ----------------------------------------------------------------------------------


@pytest.fixture
def cli_db(engine):
    """The programme on SQLite, dated D, as a URL for ``--db``."""
    with Session(engine) as session, session.begin():
        store.write_frames(session, frames())
        derive.rebuild_tier_attainment(session)
        for project, code, period, improving in OBSERVED:
            store_analysis(session, project, code, period, improving)
        db.set_setting(session, "data_as_of", D.isoformat())
    return engine.url.render_as_string(hide_password=False)


def test_measures_command_prints_the_report_as_json(cli_db, capsys):
    assert cli.main(["measures", "--db", cli_db]) == 0  # the data's own date, D
    out = json.loads(capsys.readouterr().out)
    assert tuple(out) == REPORT_KEYS
    assert_same(out, json.loads(json.dumps(SYSTEM_ON_D)))
    assert cli.main(["measures", "--db", cli_db, "--locality", "N", "--as-of", "31/01/2025"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["people_trained"] == 3 and out["reach_vs_target"]["due_on"] == "2024-12-31"


def test_measures_command_refuses_unknown_codes_and_bad_dates(cli_db, capsys):
    assert cli.main(["measures", "--db", cli_db, "--locality", "NOWHERE"]) == 2
    err = capsys.readouterr().err
    assert "Unknown locality code 'NOWHERE'" in err and "N, S" in err and "Traceback" not in err
    assert cli.main(["measures", "--db", cli_db, "--kind", "castle"]) == 2
    assert "Unknown organisation kind 'castle'" in capsys.readouterr().err
    for bad in ("2024-02-30", "yesterday", "12/31/2024"):
        assert cli.main(["measures", "--db", cli_db, "--as-of", bad]) == 2
        err = capsys.readouterr().err
        assert "--as-of" in err and bad in err, err


def test_measures_command_refuses_a_missing_database(tmp_path, capsys):
    missing = tmp_path / "nothing.db"
    assert cli.main(["measures", "--db", db.sqlite_url(missing)]) == 2
    assert "nothing.db" in capsys.readouterr().err
    assert not missing.exists()  # not created by asking


def test_measures_command_prints_a_table(cli_db, capsys):
    assert cli.main(["measures", "--db", cli_db, "--format", "table", "--kind", "care_home"]) == 0
    out = capsys.readouterr().out
    assert "care_home" in out and "2024-06-30" in out
    lines = out.splitlines()
    for key in REPORT_KEYS:
        assert any(line.split() and line.split()[0] == key for line in lines), key
    # nested values are indented under their key, None is shown as a dash, not "None"
    assert any(line.startswith("  ") and "learn->live" in line for line in lines)
    assert any(line.split()[:2] == ["K3", "-"] for line in lines if line.strip())
    assert "None" not in out


def test_measures_help_defines_every_key(capsys):
    with pytest.raises(SystemExit):
        cli.main(["measures", "--help"])
    out = capsys.readouterr().out
    for key in REPORT_KEYS:
        assert f"\n  {key} " in out or f"\n  {key}\n" in out, key
    for flag in ("--locality", "--pcn", "--kind", "--sector", "--as-of", "--format"):
        assert flag in out


def test_report_numbers_are_plain_python_on_every_backend(programme):
    # The JSON of the command is json.dumps of the report: no Decimal, numpy or date objects inside.
    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        else:
            assert value is None or type(value) in (int, float, bool, str), repr(value)
            assert not isinstance(value, numbers.Number) or type(value) in (int, float, bool)

    walk(report(programme))
    walk(report(programme, Scope(locality="N"), day("2025-01-31")))
