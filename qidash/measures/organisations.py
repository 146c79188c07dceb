"""Organisations: the states an organisation passes through (offered, engaged, trained, with a
project) as conditions on the derived spans, their counts and breakdowns, training density, and the
Capability map's stages, PCN totals and coaches.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Connection,
    and_,
    case,
    distinct,
    func,
    or_,
    select,
    union_all,
)

from qidash import models as m
from qidash.measures.common import GROUPINGS, ORG_COUNT_KEYS, ratio_or_none
from qidash.measures.people import in_post_per_org
from qidash.scope import Scope

# --- organisations -----------------------------------------------------------------------------------


def open_on(as_of: dt.date):
    """A condition on ``Organisation``: not closed by ``as_of`` (a closed home or practice leaves
    the organisations in scope, and every count over them, from the day it closed)."""
    return or_(m.Organisation.closed_on.is_(None), m.Organisation.closed_on > as_of)


def _org_state_condition(state: str, as_of: dt.date):
    """A condition on ``Organisation``: in ``state`` on ``as_of``, read from the spans loads derive
    (qidash.derive.rebuild_organisation_spans holds each state's definition)."""
    span = m.OrganisationSpan
    # An uncorrelated IN list, made once per query: PostgreSQL runs a correlated EXISTS inside CASE as
    # one index probe per organisation (35 ms for 19,000 at scale 50, against 10 ms this way).
    return m.Organisation.id.in_(
        select(span.organisation_id).where(
            span.state == state,
            span.starts_on <= as_of,
            or_(span.ends_on.is_(None), span.ends_on > as_of),
        )
    )


def engaged_condition(as_of: dt.date):
    """Someone of the organisation enrolled (not withdrawn) on a cohort started by ``as_of``."""
    return _org_state_condition("engaged", as_of)


def trained_in_post_condition(as_of: dt.date):
    """Someone of the organisation, not left by ``as_of``, attained a tier by then."""
    return _org_state_condition("trained", as_of)


def active_project_condition(as_of: dt.date):
    """A condition on ``Project``: active on ``as_of`` (see the module docstring)."""
    return and_(
        m.Project.start_date <= as_of,
        or_(
            m.Project.end_date > as_of,
            and_(m.Project.end_date.is_(None), m.Project.status == "active"),
        ),
    )


def project_orgs():
    """Subquery: (project_id, organisation_id) for lead and partner organisations."""
    return union_all(
        select(m.Project.id.label("project_id"), m.Project.lead_organisation_id.label("organisation_id")),
        select(m.ProjectPartner.project_id, m.ProjectPartner.organisation_id),
    ).subquery("project_orgs")


def with_project_condition(as_of: dt.date):
    """The organisation leads or partners a project active on ``as_of``."""
    return _org_state_condition("with_project", as_of)


def org_counts(conn: Connection, scope: Scope, as_of: dt.date, keys=ORG_COUNT_KEYS) -> dict[str, int]:
    """orgs_in_scope, orgs_offered, orgs_engaged, orgs_trained, orgs_with_project (or only ``keys``
    of them) in one query."""
    counted = {
        "orgs_in_scope": lambda: func.count(),
        "orgs_offered": lambda: func.sum(case((m.Organisation.offered_on <= as_of, 1), else_=0)),
        "orgs_engaged": lambda: func.sum(case((engaged_condition(as_of), 1), else_=0)),
        "orgs_trained": lambda: func.sum(case((trained_in_post_condition(as_of), 1), else_=0)),
        "orgs_with_project": lambda: func.sum(case((with_project_condition(as_of), 1), else_=0)),
    }
    wanted = [k for k in ORG_COUNT_KEYS if k in keys]
    row = conn.execute(
        select(*(counted[k]() for k in wanted))
        .select_from(m.Organisation)
        .where(*scope.org_conditions(), open_on(as_of))
    ).one()
    return {k: int(v or 0) for k, v in zip(wanted, row, strict=True)}


def coverage_pct(counts: dict[str, int]) -> float | None:
    """orgs_trained ÷ orgs_in_scope × 100."""
    ratio = ratio_or_none(counts["orgs_trained"], counts["orgs_in_scope"])
    return None if ratio is None else ratio * 100


def training_density(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, float | None]:
    """trained_per_10_beds and trained_per_100_staff, over organisations with beds / headcount recorded."""
    trained_in_post = in_post_per_org(as_of)
    n = func.coalesce(trained_in_post.c.n, 0)
    row = conn.execute(
        select(
            func.sum(case((m.Organisation.beds.is_not(None), n), else_=0)),
            func.sum(m.Organisation.beds),
            func.sum(case((m.Organisation.staff_headcount.is_not(None), n), else_=0)),
            func.sum(m.Organisation.staff_headcount),
        )
        .select_from(m.Organisation)
        .outerjoin(trained_in_post, trained_in_post.c.organisation_id == m.Organisation.id)
        .where(*scope.org_conditions(), open_on(as_of))
    ).one()
    # PostgreSQL sums integers to NUMERIC (Decimal): plain floats, as on SQLite and in the JSON.
    bed_people, beds, staff_people, staff = (float(v or 0) for v in row)
    per_bed = ratio_or_none(bed_people, beds)
    per_staff = ratio_or_none(staff_people, staff)
    return {
        "trained_per_10_beds": None if per_bed is None else per_bed * 10,
        "trained_per_100_staff": None if per_staff is None else per_staff * 100,
    }


def org_counts_by(conn: Connection, scope: Scope, as_of: dt.date, by: str) -> list[dict]:
    """The organisation measures per locality, PCN, sector or kind, one row per group.

    Each row: ``group``, ``name`` and orgs_in_scope, orgs_offered, orgs_engaged, orgs_trained,
    orgs_with_project, coverage_pct, trained_in_post, beds, trained_per_10_beds. Organisations with
    no PCN are left out of the locality and PCN groupings.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}")
    if by == "locality":
        key, name = m.Locality.code, m.Locality.name
    elif by == "pcn":
        key, name = m.Pcn.code, m.Pcn.name
    elif by == "sector":
        key, name = m.Organisation.sector, m.Organisation.sector
    else:
        key, name = m.Organisation.kind, m.Organisation.kind
    trained_in_post = in_post_per_org(as_of)
    n = func.coalesce(trained_in_post.c.n, 0)
    q = (
        select(
            key.label("group"),
            name.label("name"),
            func.count(),
            func.sum(case((m.Organisation.offered_on <= as_of, 1), else_=0)),
            func.sum(case((engaged_condition(as_of), 1), else_=0)),
            func.sum(case((trained_in_post_condition(as_of), 1), else_=0)),
            func.sum(case((with_project_condition(as_of), 1), else_=0)),
            func.sum(n),
            func.sum(case((m.Organisation.beds.is_not(None), n), else_=0)),
            func.sum(m.Organisation.beds),
        )
        .select_from(m.Organisation)
        .outerjoin(trained_in_post, trained_in_post.c.organisation_id == m.Organisation.id)
        .where(*scope.org_conditions(), open_on(as_of))
        .group_by(key, name)
        .order_by(key)
    )
    if by in ("locality", "pcn"):
        q = q.join(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
        if by == "locality":
            q = q.join(m.Locality, m.Locality.id == m.Pcn.locality_id)
    out = []
    for (
        group,
        label,
        total,
        offered,
        engaged,
        trained,
        with_project,
        people,
        bed_people,
        beds,
    ) in conn.execute(q):
        counts = {
            "orgs_in_scope": total,
            "orgs_offered": int(offered or 0),
            "orgs_engaged": int(engaged or 0),
            "orgs_trained": int(trained or 0),
            "orgs_with_project": int(with_project or 0),
        }
        per_bed = ratio_or_none(float(bed_people or 0), beds or 0)  # a Decimal on PostgreSQL otherwise
        out.append(
            {
                "group": group,
                "name": label,
                **counts,
                "coverage_pct": coverage_pct(counts),
                "trained_in_post": int(people or 0),
                "beds": int(beds or 0),
                "trained_per_10_beds": None if per_bed is None else per_bed * 10,
            }
        )
    return out


# --- the Capability map: each organisation's stage, PCN totals, coaches ---------------------------------

# An organisation's furthest stage, lowest first: the points of the Capability map.
ORG_STAGES = ("not_offered", "offered", "engaged", "trained", "with_project")


def _trained_per_org(as_of: dt.date):
    """Subquery: organisation_id; ``people``, who work there (or did: leavers included) and attained
    a tier by ``as_of``; ``in_post``, those of them in post on ``as_of``. Organisations with nobody
    trained have no row."""
    tp = m.TrainedPerson
    return (
        select(
            tp.organisation_id.label("organisation_id"),
            func.count().label("people"),
            func.sum(case((or_(tp.left_on.is_(None), tp.left_on > as_of), 1), else_=0)).label("in_post"),
        )
        .where(tp.trained_on <= as_of)
        .group_by(tp.organisation_id)
        .subquery("trained_per_org")
    )


def org_stage(offered: bool, engaged: bool, trained: bool, with_project: bool) -> str:
    """The furthest of ORG_STAGES an organisation has reached (a project outranks training, training
    outranks engagement, and so on), whatever the earlier steps."""
    if with_project:
        return "with_project"
    if trained:
        return "trained"
    if engaged:
        return "engaged"
    return "offered" if offered else "not_offered"


def org_stages(conn: Connection, scope: Scope, as_of: dt.date) -> list[dict]:
    """One row per organisation in scope, by ODS code, in one grouped query.

    Each row: ``ods_code``, ``name``, ``kind``, ``sector``, ``pcn`` (code or None), ``latitude``,
    ``longitude``, ``beds``, ``staff_headcount``; the flags ``offered``, ``engaged``, ``trained`` and
    ``with_project``, by the same conditions as :func:`org_counts` (so their sums are its counts);
    ``trained_in_post`` (people in post who attained a tier by ``as_of``), ``people_trained`` (who
    attained a tier by ``as_of``, leavers included) and ``stage`` (:func:`org_stage`).
    """
    columns = org_stage_columns(conn, scope, as_of)
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def pcn_people_and_projects(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, dict[str, int]]:
    """Per PCN code (PCNs holding an organisation in scope): ``people_trained`` and
    ``projects_active``, each equal to the measure of the same name for the scope narrowed to that
    PCN. People count through their organisation, leavers included; a project counts in every PCN
    where its lead or a partner organisation in scope sits. Two grouped queries."""
    in_scope = scope.org_conditions()
    trained = (
        select(m.Pcn.code, func.count(distinct(m.TierAttainment.person_id)))
        .select_from(m.TierAttainment)
        .join(m.Person, m.Person.id == m.TierAttainment.person_id)
        .join(m.Organisation, m.Organisation.id == m.Person.organisation_id)
        .join(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
        .where(m.TierAttainment.attained_on <= as_of, *in_scope)
        .group_by(m.Pcn.code)
    )
    pcns = (
        select(m.Pcn.code).join(m.Organisation, m.Organisation.pcn_id == m.Pcn.id).where(*in_scope).distinct()
    )
    out = {code: {"people_trained": 0, "projects_active": 0} for (code,) in conn.execute(pcns)}
    for code, n in conn.execute(trained):
        out[code]["people_trained"] = n
    for code, n in conn.execute(_projects_active_by_pcn(scope, as_of)):
        out[code]["projects_active"] = n
    return out


def _projects_active_by_pcn(scope: Scope, as_of: dt.date):
    """SELECT of (PCN code, projects active on ``as_of`` led by or partnered with an organisation in
    scope in that PCN), for PCNs with one."""
    po = project_orgs()
    return (
        select(m.Pcn.code, func.count(distinct(po.c.project_id)))
        .select_from(po)
        .join(m.Project, m.Project.id == po.c.project_id)
        .join(m.Organisation, m.Organisation.id == po.c.organisation_id)
        .join(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
        .where(active_project_condition(as_of), *scope.org_conditions())
        .group_by(m.Pcn.code)
    )


def coaches(conn: Connection, scope: Scope, as_of: dt.date) -> list[dict]:
    """People in post on ``as_of`` who can coach: their highest tier by then is the top tier of its
    framework, or they served as a coach of a cohort started by then. Only people in scope whose
    organisation has a location, by ``person_ref``.

    Each row: ``person_ref``, ``display_name`` (None unless they consent to be named), ``role``,
    ``organisation`` (name), ``ods_code``, ``latitude``, ``longitude``, ``is_top_tier``, ``is_coach``.
    """
    # Whose highest tier is a framework's top tier: who attained that tier (no tier ranks above it).
    # Asked directly, not through every person's highest rank, which read all of tier_attainment.
    top = (
        select(m.Tier.framework_id, func.max(m.Tier.rank).label("top_rank"))
        .group_by(m.Tier.framework_id)
        .subquery()
    )
    top_tiers = select(m.Tier.id).join(
        top, and_(top.c.framework_id == m.Tier.framework_id, top.c.top_rank == m.Tier.rank)
    )
    top_tier = select(m.TierAttainment.person_id).where(
        m.TierAttainment.tier_id.in_(top_tiers), m.TierAttainment.attained_on <= as_of
    )
    coached = (
        select(m.FacultyRole.person_id)
        .join(m.Cohort, m.Cohort.id == m.FacultyRole.cohort_id)
        .where(m.FacultyRole.role == "coach", m.Cohort.start_date <= as_of)
    )
    is_top, is_coach = m.Person.id.in_(top_tier), m.Person.id.in_(coached)
    rows = conn.execute(
        select(
            m.Person.person_ref,
            case((m.Person.consents_to_be_named.is_(True), m.Person.display_name), else_=None),
            m.Person.role,
            m.Organisation.name,
            m.Organisation.ods_code,
            m.Organisation.latitude,
            m.Organisation.longitude,
            case((is_top, 1), else_=0),
            case((is_coach, 1), else_=0),
        )
        .join(m.Organisation, m.Organisation.id == m.Person.organisation_id)
        .where(
            or_(is_top, is_coach),
            *scope.person_conditions(m.Person.id),
            or_(m.Person.left_on.is_(None), m.Person.left_on > as_of),
            m.Organisation.latitude.is_not(None),
            m.Organisation.longitude.is_not(None),
        )
        .order_by(m.Person.person_ref)
    ).all()
    keys = ("person_ref", "display_name", "role", "organisation", "ods_code", "latitude", "longitude",
            "is_top_tier", "is_coach")
    return [
        {**dict(zip(keys, r, strict=True)), "is_top_tier": bool(r[7]), "is_coach": bool(r[8])} for r in rows
    ]


def pcn_capability(
    conn: Connection, scope: Scope, as_of: dt.date, stages: dict[str, list] | None = None
) -> list[dict]:
    """Per PCN holding an organisation in scope, by code: the row of :func:`org_counts_by` by PCN
    (``group``, ``name``, the organisation counts, ``coverage_pct``, ``trained_in_post``, ``beds``,
    ``trained_per_10_beds``) with ``people_trained`` and ``projects_active`` of
    :func:`pcn_people_and_projects`. Added up from ``stages`` (:func:`org_stage_columns` of the same
    scope and date; read when None): a person counts through their one organisation, so people per
    PCN are the sum over its organisations. Only projects need a query (one counts once in a PCN
    however many of its organisations take part)."""
    import numpy as np  # here: the pages that import measures without drawing a map need none of it

    c = org_stage_columns(conn, scope, as_of) if stages is None else stages
    # Per PCN: the ORG_COUNT_KEYS in order, then trained in post, people trained, beds and the people
    # in post at organisations recording beds. Summed per column with bincount (19,000 organisations
    # at scale 50); organisations with no PCN are left out, as org_counts_by leaves them.
    slot: dict[str, int] = {}
    group = np.array([-1 if p is None else slot.setdefault(p, len(slot)) for p in c["pcn"]], dtype=np.intp)
    counted = group >= 0
    group = group[counted]
    in_post = np.array(c["trained_in_post"], dtype=np.int64)[counted]
    beds = np.array(c["beds"], dtype=float)[counted]
    with_beds = ~np.isnan(beds)
    columns = [
        np.ones(len(group), dtype=np.int64),
        *(np.array(c[k], dtype=np.int64)[counted] for k in ("offered", "engaged", "trained", "with_project")),
        in_post,
        np.array(c["people_trained"], dtype=np.int64)[counted],
        np.where(with_beds, beds, 0).astype(np.int64),
        np.where(with_beds, in_post, 0),
    ]
    # Sums of whole numbers: bincount adds them as floats, exact far beyond any count here.
    totals = [
        np.bincount(group, weights=col, minlength=len(slot)).astype(np.int64).tolist() for col in columns
    ]
    sums = {code: [t[i] for t in totals] for code, i in slot.items()}
    names = dict(conn.execute(select(m.Pcn.code, m.Pcn.name)).all()) if sums else {}
    active = dict(conn.execute(_projects_active_by_pcn(scope, as_of)).all()) if sums else {}
    out = []
    for code in sorted(sums):
        t = sums[code]
        counts = dict(zip(ORG_COUNT_KEYS, map(int, t[:5]), strict=True))
        per_bed = ratio_or_none(float(t[8]), t[7])
        out.append(
            {
                "group": code,
                "name": names[code],
                **counts,
                "coverage_pct": coverage_pct(counts),
                "trained_in_post": t[5],
                "beds": t[7],
                "trained_per_10_beds": None if per_bed is None else per_bed * 10,
                "people_trained": t[6],
                "projects_active": int(active.get(code, 0)),
            }
        )
    return out


def org_stage_columns(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, list]:
    """:func:`org_stages` as columns: each key of its rows, in the same order, to a list holding one
    item per organisation, by ODS code. Columns make a DataFrame, or add up, far faster than 19,000
    dicts (scale 50)."""
    trained = _trained_per_org(as_of)

    def flag(cond):
        return case((cond, 1), else_=0)

    result = conn.execute(
        select(
            m.Organisation.ods_code, m.Organisation.name, m.Organisation.kind, m.Organisation.sector,
            m.Pcn.code, m.Organisation.latitude, m.Organisation.longitude, m.Organisation.beds,
            m.Organisation.staff_headcount,
            flag(m.Organisation.offered_on <= as_of),
            flag(engaged_condition(as_of)),
            flag(with_project_condition(as_of)),
            func.coalesce(trained.c.in_post, 0),
            func.coalesce(trained.c.people, 0),
        )
        .select_from(m.Organisation)
        .outerjoin(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
        .outerjoin(trained, trained.c.organisation_id == m.Organisation.id)
        .where(*scope.org_conditions(), open_on(as_of))
    )
    # Sorted here: ORDER BY made SQLite walk the organisations in ODS code order, a third slower. As
    # plain tuples: result rows would live on, 19,000 of them at scale 50, for the garbage collector
    # to walk again and again, where tuples of plain values it soon stops looking at.
    rows = sorted((tuple(row) for row in result), key=lambda r: r[0])
    ods, name, kind, sector, pcn, lat, lon, beds, staff, offered, engaged, project, in_post, people = (
        [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(14)]
    )
    offered, engaged, project = list(map(bool, offered)), list(map(bool, engaged)), list(map(bool, project))
    trained_ = [n > 0 for n in in_post]  # someone in post attained a tier: _trained_in_post_condition
    return {
        "ods_code": ods,
        "name": name,
        "kind": kind,
        "sector": sector,
        "pcn": pcn,
        "latitude": lat,
        "longitude": lon,
        "beds": beds,
        "staff_headcount": staff,
        "offered": offered,
        "engaged": engaged,
        "trained": trained_,
        "with_project": project,
        "trained_in_post": list(map(int, in_post)),
        "people_trained": list(map(int, people)),
        "stage": list(map(org_stage, offered, engaged, trained_, project)),
    }
