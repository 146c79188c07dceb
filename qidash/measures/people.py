"""People and tiers: who is trained, the tiers reached and the conversion between them, reach against
target, and the breakdowns of the Tiers page by group and over time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics

from sqlalchemy import (
    Connection,
    and_,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from qidash import db
from qidash import models as m
from qidash.measures.common import RATE_WINDOW_DAYS, grouping, ratio_or_none
from qidash.scope import Scope

# --- people and tiers --------------------------------------------------------------------------------


def _trained_people(scope: Scope, as_of: dt.date):
    """SELECT of the ``trained_person`` rows of people in scope who attained a tier by ``as_of``."""
    tp = m.TrainedPerson
    return select(tp).where(tp.trained_on <= as_of, *scope.person_conditions(tp.person_id))


def in_post_per_org(as_of: dt.date):
    """Subquery: (organisation_id, n) people trained by ``as_of`` and not left by then, per organisation."""
    tp = m.TrainedPerson
    return (
        select(tp.organisation_id, func.count().label("n"))
        .where(tp.trained_on <= as_of, or_(tp.left_on.is_(None), tp.left_on > as_of))
        .group_by(tp.organisation_id)
        .subquery()
    )


def people_trained(conn: Connection, scope: Scope, as_of: dt.date) -> int:
    """Distinct people (patients included, leavers included) who attained a tier by ``as_of``."""
    sub = _trained_people(scope, as_of).subquery()
    return conn.execute(select(func.count()).select_from(sub)).scalar_one()


def people_trained_split(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, int]:
    """``people_trained`` split into ``staff`` and ``patients`` (patient partners)."""
    sub = _trained_people(scope, as_of).subquery()
    rows = conn.execute(
        select(sub.c.is_patient_partner, func.count()).group_by(sub.c.is_patient_partner)
    ).all()
    out = {"staff": 0, "patients": 0}
    for is_patient, n in rows:
        out["patients" if is_patient else "staff"] += n
    return out


def _highest_rank(scope: Scope, as_of: dt.date, extra_person_filter=None):
    """Subquery: person_id, framework_id, top rank attained by ``as_of`` (one row per person × framework)."""
    q = (
        select(
            m.TierAttainment.person_id.label("person_id"),
            m.Tier.framework_id.label("framework_id"),
            func.max(m.Tier.rank).label("top_rank"),
        )
        .join(m.Tier, m.Tier.id == m.TierAttainment.tier_id)
        .where(m.TierAttainment.attained_on <= as_of)
        .where(*scope.person_conditions(m.TierAttainment.person_id))
        .group_by(m.TierAttainment.person_id, m.Tier.framework_id)
    )
    if extra_person_filter is not None:
        q = q.where(m.TierAttainment.person_id.in_(extra_person_filter))
    return q.subquery("highest")


def tiers(conn: Connection) -> list[dict]:
    """Every tier with its framework, in framework then rank order."""
    rows = conn.execute(
        select(m.Tier.code, m.Tier.name, m.Tier.rank, m.Tier.attained_by, m.Tier.framework_id)
        .order_by(m.Tier.framework_id, m.Tier.rank)
    ).mappings()
    return [dict(r) for r in rows]


def people_by_tier(conn: Connection, scope: Scope, as_of: dt.date, person_filter=None) -> dict[str, int]:
    """Per tier code: people who reached at least that tier by ``as_of`` (0 where none): those whose
    highest tier by then (``_highest_rank``) is that tier or above, as ``tier_reached`` keeps them."""
    tr = m.TierReached
    reached = (
        select(tr.tier_id, func.count().label("people"))
        .where(tr.reached_on <= as_of, *scope.person_conditions(tr.person_id))
        .group_by(tr.tier_id)
    )
    if person_filter is not None:
        reached = reached.where(tr.person_id.in_(person_filter))
    reached = reached.subquery("reached")
    rows = conn.execute(
        select(m.Tier.code, reached.c.people)
        .outerjoin(reached, reached.c.tier_id == m.Tier.id)
        .order_by(m.Tier.framework_id, m.Tier.rank)
    ).all()
    return {code: n or 0 for code, n in rows}


def people_by_highest_tier(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, int]:
    """Per tier code: people whose highest tier (in its framework) is exactly that tier."""
    hr = _highest_rank(scope, as_of)
    rows = conn.execute(
        select(m.Tier.code, func.count(hr.c.person_id))
        .select_from(m.Tier)
        .outerjoin(hr, and_(hr.c.framework_id == m.Tier.framework_id, hr.c.top_rank == m.Tier.rank))
        .group_by(m.Tier.code, m.Tier.framework_id, m.Tier.rank)
        .order_by(m.Tier.framework_id, m.Tier.rank)
    ).all()
    return dict(rows)


def _adjacent_tier_pairs(conn: Connection) -> list[tuple[dict, dict]]:
    all_tiers = tiers(conn)
    pairs = []
    for a, b in itertools.pairwise(all_tiers):
        if a["framework_id"] == b["framework_id"]:
            pairs.append((a, b))
    return pairs


def tier_conversion(
    conn: Connection, scope: Scope, as_of: dt.date, reached: dict[str, int] | None = None
) -> dict[str, dict]:
    """Per adjacent tier pair "a->b": reached b ÷ reached a, and median days from a to b.
    ``reached``: :func:`people_by_tier` for the same scope and date when the caller has it already."""
    if reached is None:
        reached = people_by_tier(conn, scope, as_of)
    out = {}
    ta, tb = aliased(m.TierAttainment), aliased(m.TierAttainment)
    tier_a, tier_b = aliased(m.Tier), aliased(m.Tier)
    for a, b in _adjacent_tier_pairs(conn):
        pairs = conn.execute(
            select(ta.attained_on, tb.attained_on)
            .join(tier_a, tier_a.id == ta.tier_id)
            .join(tb, tb.person_id == ta.person_id)
            .join(tier_b, tier_b.id == tb.tier_id)
            .where(tier_a.code == a["code"], tier_b.code == b["code"])
            .where(ta.attained_on <= tb.attained_on, tb.attained_on <= as_of)
            .where(*scope.person_conditions(ta.person_id))
        )
        # Days taken straight from each row as it is read: holding ten thousand rows at once only fed
        # the garbage collector.
        days = [(db.as_date(y) - db.as_date(x)).days for x, y in pairs]
        out[f"{a['code']}->{b['code']}"] = {
            "ratio": ratio_or_none(reached.get(b["code"], 0), reached.get(a["code"], 0)),
            "median_days": statistics.median(days) if days else None,
        }
    return out


def highest_from_reached(all_tiers: list[dict], reached: dict[str, int]) -> dict[str, int]:
    """:func:`people_by_highest_tier` from :func:`people_by_tier` of the same scope and date, without a
    query: a person whose highest tier is T reached T and not the next tier up in T's framework, and
    everyone who reached that next tier reached T too. ``all_tiers``: :func:`tiers`."""
    out = {}
    for tier, up in zip(all_tiers, [*all_tiers[1:], None], strict=True):
        above = reached.get(up["code"], 0) if up and up["framework_id"] == tier["framework_id"] else 0
        out[tier["code"]] = reached.get(tier["code"], 0) - above
    return out


def lead_per_live(
    conn: Connection, scope: Scope, as_of: dt.date, reached: dict[str, int] | None = None
) -> float | None:
    """People whose highest tier is the top tier ÷ those whose highest is the tier below (first framework).
    ``reached``: :func:`people_by_tier` for the same scope and date when the caller has it already."""
    all_tiers = tiers(conn)
    if len(all_tiers) < 2:
        return None
    framework = all_tiers[0]["framework_id"]
    ladder = [t for t in all_tiers if t["framework_id"] == framework]
    if len(ladder) < 2:
        return None
    if reached is None:
        reached = people_by_tier(conn, scope, as_of)
    # As people_by_highest_tier counts them, from the reached counts tier_reached gives quickly.
    highest = highest_from_reached(all_tiers, reached)
    return ratio_or_none(highest.get(ladder[-1]["code"], 0), highest.get(ladder[-2]["code"], 0))


# --- reach against target ----------------------------------------------------------------------------


def target_for(conn: Connection, scope: Scope, measure: str, as_of: dt.date) -> dict | None:
    """The target that applies to ``scope``: the next one due on/after ``as_of``, else the latest."""
    if scope.pcn:
        where = [m.Target.scope_type == "pcn", m.Target.scope_code == scope.pcn]
    elif scope.locality:
        where = [m.Target.scope_type == "locality", m.Target.scope_code == scope.locality]
    elif scope.is_system:
        where = [m.Target.scope_type == "system"]
    else:
        return None  # kind / sector scopes have no targets of their own
    rows = conn.execute(
        select(m.Target.value, m.Target.due_on)
        .where(m.Target.measure == measure, *where)
        .order_by(m.Target.due_on)
    ).all()
    if not rows:
        return None
    upcoming = [r for r in rows if r.due_on >= as_of]
    value, due = (upcoming[0] if upcoming else rows[-1])
    return {"value": value, "due_on": due}


def reach_vs_target(conn: Connection, scope: Scope, as_of: dt.date, trained: int | None = None) -> dict:
    """People trained against the people_trained target in scope, with a projection at the due date.
    ``trained``: ``people_trained`` on ``as_of`` when the caller has it already."""
    if trained is None:
        trained = people_trained(conn, scope, as_of)
    target = target_for(conn, scope, "people_trained", as_of)
    out = {
        "people_trained": trained,
        "target_value": None,
        "due_on": None,
        "projected_at_due": None,
        "on_track": None,
    }
    if target is None:
        return out
    due = db.as_date(target["due_on"])
    value = target["value"]
    out["target_value"] = int(value) if float(value).is_integer() else value
    out["due_on"] = due.isoformat()
    if due <= as_of:
        projected = people_trained(conn, scope, due)
    else:
        rate = recent_rate(conn, scope, as_of, trained)
        projected = round(trained + rate * (due - as_of).days)
    out["projected_at_due"] = projected
    out["on_track"] = projected >= value
    return out


def recent_rate(conn: Connection, scope: Scope, as_of: dt.date, trained: int | None = None) -> float:
    """People newly trained per day over the last RATE_WINDOW_DAYS days ending on ``as_of``
    (``trained``: ``people_trained`` on ``as_of`` when the caller has it already)."""
    before = people_trained(conn, scope, as_of - dt.timedelta(days=RATE_WINDOW_DAYS))
    if trained is None:
        trained = people_trained(conn, scope, as_of)
    return (trained - before) / RATE_WINDOW_DAYS


def first_trained_by_day(conn: Connection, scope: Scope, until: dt.date) -> list[tuple[dt.date, int, int]]:
    """(day, people first trained that day, of whom patients), for the reach-over-time chart."""
    first = _trained_people(scope, until).subquery()
    patient = case((first.c.is_patient_partner.is_(True), 1), else_=0)
    rows = conn.execute(
        select(first.c.trained_on, func.count(), func.sum(patient))
        .group_by(first.c.trained_on)
        .order_by(first.c.trained_on)
    ).all()
    return [(db.as_date(d), n, int(p or 0)) for d, n, p in rows]


def people_by_tier_by(
    conn: Connection, scope: Scope, as_of: dt.date, by: str, outside: bool = False
) -> list[dict]:
    """``people_by_tier`` per locality, PCN, sector or organisation kind, in one grouped query.

    One row per group and tier, in group then framework and rank order: ``group`` (code), ``name``,
    ``tier`` (code) and ``people``, those in the group who reached at least that tier by ``as_of``.
    A person belongs to their organisation's group. Every group holding an organisation in scope is
    listed with every tier (0 where none). Organisations with no PCN are left out of the locality and
    PCN groupings (as in :func:`org_counts_by`); over sectors or kinds the groups add up to
    :func:`people_by_tier`, whose definition (``tier_reached``) this shares. With ``outside``, the
    people in scope whose organisation has no PCN form one more group, ``group`` and ``name`` None,
    so that the groups always add up to :func:`people_by_tier`.
    """
    key, name, joins = grouping(by)

    def grouped(q):
        for target, on in joins:
            q = q.outerjoin(target, on) if outside else q.join(target, on)
        return q

    # People per organisation and tier from tier_reached (reached at least the tier by as_of), then per
    # group and tier id: counting per organisation first groups on two integers and joins the groups to
    # thousands of counts rather than to every person (grouping on the tiers' codes cost PostgreSQL a
    # sixth more). And the groups listed over the organisations in scope: joining every organisation
    # to every tier and then to the counts cost twice as much.
    tr = m.TierReached
    per_org = (
        select(m.Person.organisation_id.label("organisation_id"), tr.tier_id, func.count().label("people"))
        .join(m.Person, m.Person.id == tr.person_id)
        .where(tr.reached_on <= as_of, *scope.person_conditions(tr.person_id))
        .group_by(m.Person.organisation_id, tr.tier_id)
        .subquery("per_org")
    )
    per_group = conn.execute(
        grouped(
            select(key, per_org.c.tier_id, func.sum(per_org.c.people))
            .select_from(per_org)
            .join(m.Organisation, m.Organisation.id == per_org.c.organisation_id)
        ).group_by(key, per_org.c.tier_id)
    ).all()
    all_tiers = tiers(conn)
    code_of = dict(conn.execute(select(m.Tier.id, m.Tier.code)).all())
    people = {(group, code_of[tier]): int(n) for group, tier, n in per_group}
    groups = conn.execute(
        grouped(select(key, name).select_from(m.Organisation))
        .where(*scope.org_conditions())
        .group_by(key, name)
        .order_by(key)
    ).all()
    return [
        {"group": g, "name": n, "tier": t["code"], "people": people.get((g, t["code"]), 0)}
        for g, n in groups
        for t in all_tiers
    ]


def people_reaching_tier_by_day(
    conn: Connection, scope: Scope, until: dt.date
) -> list[tuple[str, dt.date, int]]:
    """(tier code, day, people who first reached at least that tier that day), up to ``until``.

    A person reaches "at least tier T" on the earliest day they attained T or any higher tier of its
    framework, so the running total of a tier's rows up to D equals ``people_by_tier(..., D)[T]``
    (someone who only teaches counts in every tier below theirs, as in the funnel).
    """
    # tier_reached holds each person's first day at or above each tier; counting them per tier id and day
    # reads its (tier_id, reached_on) index in order (grouping on the tiers' codes, joined in, took twice
    # as long on PostgreSQL). The few tiers are put in framework and rank order here.
    tr = m.TierReached
    tier_of = {
        tier_id: (framework, rank, code)
        for tier_id, framework, rank, code in conn.execute(
            select(m.Tier.id, m.Tier.framework_id, m.Tier.rank, m.Tier.code)
        )
    }
    counts = conn.execute(
        select(tr.tier_id, tr.reached_on, func.count())
        .where(tr.reached_on <= until, *scope.person_conditions(tr.person_id))
        .group_by(tr.tier_id, tr.reached_on)
    )
    rows = sorted((tier_of[tier_id], db.as_date(day), n) for tier_id, day, n in counts)
    return [(tier[2], day, n) for tier, day, n in rows]


def people_by_tier_on(
    reaching: list[tuple[str, dt.date, int]], all_tiers: list[dict], on: dt.date
) -> dict[str, int]:
    """:func:`people_by_tier` on ``on``, from :func:`people_reaching_tier_by_day` rows of the same scope
    up to ``on`` or later (each tier's running total to ``on``), so that one query gives the funnel on
    several dates. ``all_tiers``: :func:`tiers`, for the tiers nobody reached (0) and their order."""
    out = {t["code"]: 0 for t in all_tiers}
    for code, day, n in reaching:
        if day <= on:
            out[code] += n
    return out


def patients_by_tier(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, int]:
    """``people_by_tier`` counting patient partners only (0 where none)."""
    patients = select(m.Person.id).where(m.Person.is_patient_partner.is_(True))
    return people_by_tier(conn, scope, as_of, patients)
