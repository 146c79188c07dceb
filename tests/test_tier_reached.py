"""The tiers reached that loads derive agree with the definition they stand for.

``tier_reached`` keeps each person's first day at or above each tier, and the funnel, the reach over
time and the comparison across areas count it. Here the same things are worked out directly from tier
attainment (each person's highest tier by a date, as the measures computed them before the table
existed) and compared for every demo programme, on dates spread over its life and in several scopes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from qidash import measures, scenarios
from qidash import models as m
from qidash.scope import Scope
from tests.support import migrate_again_from


def reached_by_definition(conn) -> dict[tuple[int, int], dt.date]:
    """(person, tier) -> the earliest day the person attained that tier or a higher one of its framework."""
    all_tiers = conn.execute(select(m.Tier.id, m.Tier.framework_id, m.Tier.rank)).all()
    attained = conn.execute(
        select(m.TierAttainment.person_id, m.Tier.framework_id, m.Tier.rank, m.TierAttainment.attained_on)
        .join(m.Tier, m.Tier.id == m.TierAttainment.tier_id)
    ).all()
    out: dict[tuple[int, int], dt.date] = {}
    for person, framework, rank, day in attained:
        for tier, tier_framework, tier_rank in all_tiers:
            if tier_framework == framework and tier_rank <= rank:
                out[person, tier] = min(day, out.get((person, tier), day))
    return out


def highest_by_definition(conn, scope: Scope, as_of: dt.date):
    """(person, organisation, framework, highest rank attained by ``as_of``) for the people in scope."""
    ta = m.TierAttainment
    return conn.execute(
        select(ta.person_id, m.Person.organisation_id, m.Tier.framework_id, func.max(m.Tier.rank))
        .join(m.Tier, m.Tier.id == ta.tier_id)
        .join(m.Person, m.Person.id == ta.person_id)
        .where(ta.attained_on <= as_of, *scope.person_conditions(ta.person_id))
        .group_by(ta.person_id, m.Person.organisation_id, m.Tier.framework_id)
    ).all()


def funnel_by_definition(conn, scope: Scope, as_of: dt.date) -> dict[str, int]:
    """People who reached at least each tier: those whose highest tier of its framework is it or above."""
    highest = highest_by_definition(conn, scope, as_of)
    return {
        t["code"]: sum(1 for _, _, fw, top in highest if fw == t["framework_id"] and top >= t["rank"])
        for t in measures.tiers(conn)
    }


def days_over_the_life_of(conn) -> list[dt.date]:
    as_of = measures.default_as_of(conn)
    first = conn.execute(select(func.min(m.TierAttainment.attained_on))).scalar_one()
    days = [first - dt.timedelta(days=1), first]
    while days[-1] < as_of + dt.timedelta(days=365):
        days.append(days[-1] + dt.timedelta(days=122))
    return [*days, as_of, measures.year_before(as_of)]


def scopes_of(conn) -> list[Scope]:
    locality = conn.execute(select(m.Locality.code).order_by(m.Locality.code).limit(1)).scalar_one()
    return [Scope(), Scope(locality=locality), Scope(sector="nhs"), Scope(kind="care_home")]


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_tier_reached_is_each_persons_first_day_at_or_above_each_tier(any_demo, scenario):
    with any_demo(scenario).connect() as conn:
        expected = reached_by_definition(conn)
        tr = m.TierReached
        stored = {(p, t): day for p, t, day in conn.execute(select(tr.person_id, tr.tier_id, tr.reached_on))}
    assert expected, f"{scenario}: nobody attained a tier; the comparison proves nothing"
    assert stored == expected


def test_some_reach_a_tier_before_attaining_it_or_without_attaining_it(any_demo):
    """What "at or above" is for (faculty who never took the course, for one): so the comparison above
    is not tier attainment compared with itself."""
    ta = m.TierAttainment
    differ = []
    for scenario in scenarios.NAMES:
        with any_demo(scenario).connect() as conn:
            rows = conn.execute(select(ta.person_id, ta.tier_id, ta.attained_on))
            attained = {(p, t): d for p, t, d in rows}
            reached = reached_by_definition(conn)
        if any(key not in attained or day < attained[key] for key, day in reached.items()):
            differ.append(scenario)
    assert differ


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_the_funnel_and_the_reach_count_who_reached_each_tier_as_their_highest_tiers_say(any_demo, scenario):
    with any_demo(scenario).connect() as conn:
        all_tiers = measures.tiers(conn)
        for scope in scopes_of(conn):
            reaching = measures.people_reaching_tier_by_day(conn, scope, measures.default_as_of(conn))
            for day in days_over_the_life_of(conn):
                expected = funnel_by_definition(conn, scope, day)
                assert measures.people_by_tier(conn, scope, day) == expected, (scope, day)
                if day <= measures.default_as_of(conn):
                    assert measures.people_by_tier_on(reaching, all_tiers, day) == expected, (scope, day)
        whole = funnel_by_definition(conn, Scope(), measures.default_as_of(conn))
    assert any(whole.values()), f"{scenario}: nobody reached a tier; the comparison proves nothing"


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_the_comparison_across_pcns_counts_each_pcns_people_as_their_highest_tiers_say(any_demo, scenario):
    with any_demo(scenario).connect() as conn:
        pcn_of = dict(
            conn.execute(
                select(m.Organisation.id, m.Pcn.code).outerjoin(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
            ).all()
        )
        all_tiers = measures.tiers(conn)
        day = measures.default_as_of(conn)
        seen = 0
        for scope in scopes_of(conn):
            expected = Counter()
            for _, org, framework, top in highest_by_definition(conn, scope, day):
                if org is None:
                    continue  # a person with no organisation belongs to no group
                for t in all_tiers:
                    if t["framework_id"] == framework and t["rank"] <= top:
                        expected[pcn_of[org], t["code"]] += 1
            rows = measures.people_by_tier_by(conn, scope, day, "pcn", outside=True)
            assert {(r["group"], r["tier"]): r["people"] for r in rows if r["people"]} == expected, scope
            seen += sum(n for (pcn, _), n in expected.items() if pcn is not None)
    assert seen, f"{scenario}: nobody in any PCN reached a tier; the comparison proves nothing"


def test_0008_fills_in_the_tiers_reached_of_existing_databases(backend, databases):
    engine = databases.copy(databases.demo_snapshot(backend, "somerset"))
    try:
        tr = m.TierReached
        columns = (tr.person_id, tr.tier_id, tr.reached_on)
        with engine.connect() as conn:
            as_loaded = sorted(conn.execute(select(*columns)).all())
        migrate_again_from(engine, "0007")  # as a database loaded before 0008 was
        with engine.connect() as conn:
            migrated = sorted(conn.execute(select(*columns)).all())
        assert as_loaded and migrated == as_loaded
    finally:
        databases.drop(engine)
