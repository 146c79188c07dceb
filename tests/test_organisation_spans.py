"""The organisation spans and trained people loads derive agree with the definitions they stand for.

The measures count organisations engaged, with someone trained in post, or with an active project on a
date by reading ``organisation_span``. Here the same conditions are written out directly over the
typed-in tables (as the measures computed them before the spans existed) and both are compared for
every organisation of every demo programme on dates spread over its life.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import and_, exists, or_, select, union_all

from qidash import derive, measures, scenarios
from qidash import models as m


def engaged_by_definition(as_of: dt.date):
    return exists(
        select(m.Enrolment.id)
        .join(m.Person, m.Person.id == m.Enrolment.person_id)
        .join(m.Cohort, m.Cohort.id == m.Enrolment.cohort_id)
        .where(
            m.Person.organisation_id == m.Organisation.id,
            m.Enrolment.status != "withdrawn",
            m.Cohort.start_date <= as_of,
        )
    )


def trained_by_definition(as_of: dt.date):
    return exists(
        select(m.TierAttainment.person_id)
        .join(m.Person, m.Person.id == m.TierAttainment.person_id)
        .where(
            m.Person.organisation_id == m.Organisation.id,
            m.TierAttainment.attained_on <= as_of,
            or_(m.Person.left_on.is_(None), m.Person.left_on > as_of),
        )
    )


def with_project_by_definition(as_of: dt.date):
    links = union_all(
        select(m.Project.id.label("project_id"), m.Project.lead_organisation_id.label("organisation_id")),
        select(m.ProjectPartner.project_id, m.ProjectPartner.organisation_id),
    ).subquery()
    active = and_(
        m.Project.start_date <= as_of,
        or_(m.Project.end_date > as_of, and_(m.Project.end_date.is_(None), m.Project.status == "active")),
    )
    return exists(
        select(links.c.project_id)
        .join(m.Project, m.Project.id == links.c.project_id)
        .where(links.c.organisation_id == m.Organisation.id, active)
    )


STATES = (
    ("engaged", measures.engaged_condition, engaged_by_definition),
    ("trained", measures.trained_in_post_condition, trained_by_definition),
    ("with_project", measures.with_project_condition, with_project_by_definition),
)


def organisations_where(conn, condition) -> set[int]:
    return set(conn.scalars(select(m.Organisation.id).where(condition)))


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_spans_give_the_organisations_the_definitions_give(any_demo, scenario):
    engine = any_demo(scenario)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        first = conn.execute(select(m.Cohort.start_date).order_by(m.Cohort.start_date).limit(1)).scalar_one()
        # Every quarter from before the first cohort to a year after the data's date.
        days = [first - dt.timedelta(days=1)]
        while days[-1] < as_of + dt.timedelta(days=365):
            days.append(days[-1] + dt.timedelta(days=91))
        days += [as_of, measures.year_before(as_of)]
        for state, from_spans, by_definition in STATES:
            seen = set()
            for day in days:
                expected = organisations_where(conn, by_definition(day))
                assert organisations_where(conn, from_spans(day)) == expected, (state, day)
                seen |= expected
            assert seen, f"{scenario}: no organisation is ever {state}; the comparison proves nothing"


def test_spans_that_overlap_or_touch_are_merged():
    d = dt.date.fromisoformat
    rows = derive.merged_spans("trained", [
        (1, d("2024-03-01"), d("2024-06-01")),
        (1, d("2024-01-01"), d("2024-03-01")),  # touches the next: one span
        (1, d("2024-09-01"), None),
        (1, d("2024-10-01"), d("2024-11-01")),  # inside an open span
        (2, d("2024-01-01"), d("2024-02-01")),
        (2, d("2024-03-01"), d("2024-04-01")),  # a gap: two spans
    ])
    assert [(r["organisation_id"], r["starts_on"], r["ends_on"]) for r in rows] == [
        (1, d("2024-01-01"), d("2024-06-01")),
        (1, d("2024-09-01"), None),
        (2, d("2024-01-01"), d("2024-02-01")),
        (2, d("2024-03-01"), d("2024-04-01")),
    ]
    assert {r["state"] for r in rows} == {"trained"}


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_trained_people_are_those_with_a_tier_attained_on_their_first(any_demo, scenario):
    from sqlalchemy import func

    engine = any_demo(scenario)
    with engine.connect() as conn:
        by_definition = conn.execute(
            select(m.Person.id, m.Person.organisation_id, func.min(m.TierAttainment.attained_on),
                   m.Person.left_on, m.Person.is_patient_partner)
            .join(m.TierAttainment, m.TierAttainment.person_id == m.Person.id)
            .group_by(m.Person.id, m.Person.organisation_id, m.Person.left_on, m.Person.is_patient_partner)
        ).all()
        tp = m.TrainedPerson
        stored = conn.execute(
            select(tp.person_id, tp.organisation_id, tp.trained_on, tp.left_on, tp.is_patient_partner)
        ).all()
    assert by_definition, "no one trained: the comparison proves nothing"
    assert sorted(map(tuple, stored)) == sorted(map(tuple, by_definition))
