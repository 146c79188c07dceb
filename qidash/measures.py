"""The measures of DESIGN.md section 4, as SQL aggregates over a scope and an "as of" date.

Every function takes a connection, a :class:`~qidash.scope.Scope` and ``as_of`` and returns plain
Python values. :func:`report` returns them all under exactly the keys of section 4. The counting
rules of section 4 are implemented here and nowhere else; pages call these functions.

Conventions fixed here where section 4 leaves a choice (each pinned by a test):
- A project is *active on D* when it started on or before D and either ends after D, or has no end
  date and the status ``active``. It is *completed by D* when its status is ``completed`` and its end
  date (or start date, when no end is recorded) is on or before D.
- A cohort is in a filtered scope when someone in scope holds a non-withdrawn enrolment in it;
  ``attendance_rate`` then counts only those people's enrolments.
- ``tier_conversion`` medians count people who attained the lower tier on or before the higher one.
- ``reach_vs_target`` projects forward at the rate of the last 182 days (people newly trained per
  day), from ``people_trained`` on the as-of date to the due date.
"""

from __future__ import annotations

import datetime as dt
import statistics

from sqlalchemy import (
    Connection, and_, case, distinct, exists, extract, func, literal, or_, select, union_all,
)
from sqlalchemy.orm import aliased

from qidash import db
from qidash import models as m
from qidash.derive import TEAM_ROLES
from qidash.scope import Scope

REPORT_KEYS = (
    "people_trained",
    "people_by_tier",
    "tier_conversion",
    "orgs_in_scope",
    "orgs_offered",
    "orgs_engaged",
    "orgs_trained",
    "orgs_with_project",
    "coverage_pct",
    "trained_per_10_beds",
    "trained_per_100_staff",
    "reach_vs_target",
    "projects_active",
    "projects_completed",
    "projects_by_priority",
    "projects_cross_boundary",
    "projects_with_patient_partner",
    "projects_progress_ge_3",
    "projects_progress_ge_4",
    "projects_improving",
    "projects_stale",
    "local_faculty_share",
    "lead_per_live",
    "attendance_rate",
)
ORG_COUNT_KEYS = ("orgs_in_scope", "orgs_offered", "orgs_engaged", "orgs_trained", "orgs_with_project")
RATE_WINDOW_DAYS = 182
STALE_DAYS = 90


def _ratio(num: float, den: float) -> float | None:
    """num / den, or None when the denominator is zero (never 0)."""
    return None if not den else num / den


# --- people and tiers --------------------------------------------------------------------------------


def _trained_people(scope: Scope, as_of: dt.date):
    """SELECT of the ``trained_person`` rows of people in scope who attained a tier by ``as_of``."""
    tp = m.TrainedPerson
    return select(tp).where(tp.trained_on <= as_of, *scope.person_conditions(tp.person_id))


def _in_post_per_org(as_of: dt.date):
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
    rows = conn.execute(select(sub.c.is_patient_partner, func.count()).group_by(sub.c.is_patient_partner)).all()
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
    return {code: n for code, n in rows}


def _adjacent_tier_pairs(conn: Connection) -> list[tuple[dict, dict]]:
    all_tiers = tiers(conn)
    pairs = []
    for a, b in zip(all_tiers, all_tiers[1:], strict=False):
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
            "ratio": _ratio(reached.get(b["code"], 0), reached.get(a["code"], 0)),
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
    return _ratio(highest.get(ladder[-1]["code"], 0), highest.get(ladder[-2]["code"], 0))



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


def _engaged_condition(as_of: dt.date):
    """Someone of the organisation enrolled (not withdrawn) on a cohort started by ``as_of``."""
    return _org_state_condition("engaged", as_of)


def _trained_in_post_condition(as_of: dt.date):
    """Someone of the organisation, not left by ``as_of``, attained a tier by then."""
    return _org_state_condition("trained", as_of)


def _active_project_condition(as_of: dt.date):
    """A condition on ``Project``: active on ``as_of`` (see the module docstring)."""
    return and_(
        m.Project.start_date <= as_of,
        or_(
            m.Project.end_date > as_of,
            and_(m.Project.end_date.is_(None), m.Project.status == "active"),
        ),
    )


def _project_orgs():
    """Subquery: (project_id, organisation_id) for lead and partner organisations."""
    return union_all(
        select(m.Project.id.label("project_id"), m.Project.lead_organisation_id.label("organisation_id")),
        select(m.ProjectPartner.project_id, m.ProjectPartner.organisation_id),
    ).subquery("project_orgs")


def _with_project_condition(as_of: dt.date):
    """The organisation leads or partners a project active on ``as_of``."""
    return _org_state_condition("with_project", as_of)


def org_counts(conn: Connection, scope: Scope, as_of: dt.date, keys=ORG_COUNT_KEYS) -> dict[str, int]:
    """orgs_in_scope, orgs_offered, orgs_engaged, orgs_trained, orgs_with_project (or only ``keys``
    of them) in one query."""
    counted = {
        "orgs_in_scope": lambda: func.count(),
        "orgs_offered": lambda: func.sum(case((m.Organisation.offered_on <= as_of, 1), else_=0)),
        "orgs_engaged": lambda: func.sum(case((_engaged_condition(as_of), 1), else_=0)),
        "orgs_trained": lambda: func.sum(case((_trained_in_post_condition(as_of), 1), else_=0)),
        "orgs_with_project": lambda: func.sum(case((_with_project_condition(as_of), 1), else_=0)),
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
    ratio = _ratio(counts["orgs_trained"], counts["orgs_in_scope"])
    return None if ratio is None else ratio * 100


def training_density(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, float | None]:
    """trained_per_10_beds and trained_per_100_staff, over organisations with beds / headcount recorded."""
    trained_in_post = _in_post_per_org(as_of)
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
    per_bed = _ratio(bed_people, beds)
    per_staff = _ratio(staff_people, staff)
    return {
        "trained_per_10_beds": None if per_bed is None else per_bed * 10,
        "trained_per_100_staff": None if per_staff is None else per_staff * 100,
    }


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
        select(m.Target.value, m.Target.due_on).where(m.Target.measure == measure, *where).order_by(m.Target.due_on)
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
    out = {"people_trained": trained, "target_value": None, "due_on": None, "projected_at_due": None, "on_track": None}
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


# --- projects ----------------------------------------------------------------------------------------


def projects_started(scope: Scope, as_of: dt.date):
    """SELECT of the ids of projects in scope started by ``as_of``."""
    return select(m.Project.id).where(m.Project.start_date <= as_of, scope.project_condition())


def project_status_counts(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, int]:
    """projects_active and projects_completed on ``as_of``."""
    completed = and_(
        m.Project.status == "completed",
        func.coalesce(m.Project.end_date, m.Project.start_date) <= as_of,
    )
    row = conn.execute(
        select(
            func.sum(case((_active_project_condition(as_of), 1), else_=0)),
            func.sum(case((completed, 1), else_=0)),
        ).where(scope.project_condition())
    ).one()
    return {"projects_active": int(row[0] or 0), "projects_completed": int(row[1] or 0)}


def projects_by_priority(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, int]:
    """Per priority code: projects of any status started by ``as_of`` (every priority, 0 where none)."""
    started = projects_started(scope, as_of).subquery()
    rows = conn.execute(
        select(m.Priority.code, func.count(started.c.id))
        .select_from(m.Priority)
        .outerjoin(m.Project, m.Project.priority_id == m.Priority.id)
        .outerjoin(started, started.c.id == m.Project.id)
        .group_by(m.Priority.code)
        .order_by(m.Priority.code)
    ).all()
    return {code: n for code, n in rows}


def projects_cross_boundary(conn: Connection, scope: Scope, as_of: dt.date) -> int:
    """Projects started by ``as_of`` whose organisations span two or more sectors or kinds."""
    po = _project_orgs()
    spans = (
        select(po.c.project_id)
        .join(m.Organisation, m.Organisation.id == po.c.organisation_id)
        .group_by(po.c.project_id)
        .having(or_(func.count(distinct(m.Organisation.sector)) > 1, func.count(distinct(m.Organisation.kind)) > 1))
    )
    return conn.execute(
        select(func.count()).where(m.Project.id.in_(projects_started(scope, as_of)), m.Project.id.in_(spans))
    ).scalar_one()


def _team():
    return union_all(
        select(m.Project.id.label("project_id"), m.Project.lead_person_id.label("person_id")).where(
            m.Project.lead_person_id.is_not(None)
        ),
        select(m.ProjectMember.project_id, m.ProjectMember.person_id).where(m.ProjectMember.role.in_(TEAM_ROLES)),
    ).subquery("team")


def projects_with_patient_partner(conn: Connection, scope: Scope, as_of: dt.date) -> int:
    """Projects started by ``as_of`` with patient involvement flagged or a patient partner in the team."""
    team = _team()
    has_patient = exists(
        select(team.c.person_id)
        .join(m.Person, m.Person.id == team.c.person_id)
        .where(team.c.project_id == m.Project.id, m.Person.is_patient_partner.is_(True))
    )
    return conn.execute(
        select(func.count()).where(
            m.Project.id.in_(projects_started(scope, as_of)),
            or_(m.Project.patient_involvement.is_(True), has_patient),
        )
    ).scalar_one()


def latest_scores(as_of: dt.date, scope: Scope | None = None):
    """Subquery: project_id, scored_on, score: each project's latest IHI progress score dated on or
    before ``as_of`` (given a scope, only of projects started by then in it)."""
    latest_day = (
        select(m.ProgressScore.project_id, func.max(m.ProgressScore.scored_on).label("day"))
        .where(m.ProgressScore.scored_on <= as_of)
        .group_by(m.ProgressScore.project_id)
        .subquery()
    )
    q = select(
        m.ProgressScore.project_id.label("project_id"),
        m.ProgressScore.scored_on.label("scored_on"),
        m.ProgressScore.score.label("score"),
    ).join(
        latest_day,
        and_(latest_day.c.project_id == m.ProgressScore.project_id, latest_day.c.day == m.ProgressScore.scored_on),
    )
    if scope is not None:
        q = q.where(m.ProgressScore.project_id.in_(projects_started(scope, as_of)))
    return q.subquery("latest_scores")


def progress_counts(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, int]:
    """projects_progress_ge_3 and projects_progress_ge_4 from each project's latest score."""
    ls = latest_scores(as_of, scope)
    row = conn.execute(
        select(
            func.sum(case((ls.c.score >= 3.0, 1), else_=0)),
            func.sum(case((ls.c.score >= 4.0, 1), else_=0)),
        )
    ).one()
    return {"projects_progress_ge_3": int(row[0] or 0), "projects_progress_ge_4": int(row[1] or 0)}


def improving_project_ids(conn: Connection, scope: Scope, as_of: dt.date) -> set[int]:
    """Projects started by ``as_of`` with a measure that is improving (DESIGN.md section 4: special-cause
    improvement at its latest point, or improved since its baseline; :func:`qidash.spc.improvement`).

    Reads the analysis stored at load time (the status on each measure's last period, and on a year
    before the data's date); a measure with observations after ``as_of`` whose stored statuses do not
    answer for ``as_of`` is re-analysed on its observations up to ``as_of``.
    """
    from qidash import analysis

    ma = m.MeasureAnalysis
    measures_started = (
        select(m.Measure.project_id, m.Measure.id)
        .join(ma, ma.measure_id == m.Measure.id)
        .where(m.Measure.project_id.in_(projects_started(scope, as_of)))
    )
    covers_date = ma.last_period <= as_of  # the status on the last period answers for as_of
    # Analysis keeps each measure's status on its last period and on the Overview's comparison date.
    improving = set(conn.scalars(
        measures_started.with_only_columns(m.Measure.project_id).distinct().where(
            or_(and_(covers_date, ma.improving.is_(True)),
                and_(~covers_date, analysis.past_holds(as_of), ma.past_improving.is_(True)))
        )
    ))
    redo = [mid for pid, mid in conn.execute(measures_started.where(~covers_date, ~analysis.past_holds(as_of)))
            if pid not in improving]
    if redo:
        improving |= analysis.improving_as_of(conn, redo, as_of)
    return improving


def projects_stale(conn: Connection, scope: Scope, as_of: dt.date) -> int:
    """Active projects with no observation and no progress score in the 90 days ending on ``as_of``."""
    since = as_of - dt.timedelta(days=STALE_DAYS)
    recent_obs = exists(
        select(m.Observation.id)
        .join(m.Measure, m.Measure.id == m.Observation.measure_id)
        .where(m.Measure.project_id == m.Project.id, m.Observation.period > since, m.Observation.period <= as_of)
    )
    recent_score = exists(
        select(m.ProgressScore.id).where(
            m.ProgressScore.project_id == m.Project.id,
            m.ProgressScore.scored_on > since,
            m.ProgressScore.scored_on <= as_of,
        )
    )
    return conn.execute(
        select(func.count()).where(
            scope.project_condition(), _active_project_condition(as_of), ~recent_obs, ~recent_score
        )
    ).scalar_one()


# --- cohorts -----------------------------------------------------------------------------------------


def _scoped_enrolments(scope: Scope):
    q = select(m.Enrolment).where(m.Enrolment.status != "withdrawn")
    q = q.where(*scope.person_conditions(m.Enrolment.person_id))
    return q.subquery("enrolments")


def cohorts_in_scope(scope: Scope, as_of: dt.date):
    """SELECT of cohort ids started by ``as_of`` (and, when filtered, with someone in scope enrolled)."""
    q = select(m.Cohort.id).where(m.Cohort.start_date <= as_of)
    if not scope.is_system:
        e = _scoped_enrolments(scope)
        q = q.where(m.Cohort.id.in_(select(e.c.cohort_id)))
    return q


def local_faculty_share(conn: Connection, scope: Scope, as_of: dt.date) -> float | None:
    """Cohorts started by ``as_of`` delivered by local faculty ÷ all cohorts started by then."""
    row = conn.execute(
        select(func.count(), func.sum(case((m.Cohort.delivered_by == "local", 1), else_=0))).where(
            m.Cohort.id.in_(cohorts_in_scope(scope, as_of))
        )
    ).one()
    return _ratio(row[1] or 0, row[0])


def attendance_rate(conn: Connection, scope: Scope, as_of: dt.date) -> dict[str, float | None]:
    """Per cohort code: sessions attended ÷ (sessions × enrolments not withdrawn)."""
    # Enrolments are summed per cohort first, then joined: joining every enrolment to its cohort
    # under the scope's IN list made SQLite probe each cohort against each person in scope.
    per_cohort = (
        select(
            m.Enrolment.cohort_id.label("cohort_id"),
            func.count().label("n"),
            func.sum(m.Enrolment.sessions_attended).label("attended"),
        )
        .where(m.Enrolment.status != "withdrawn")
        .group_by(m.Enrolment.cohort_id)
    )
    per_cohort = per_cohort.where(*scope.person_conditions(m.Enrolment.person_id))
    per_cohort = per_cohort.subquery("per_cohort")
    q = (
        select(
            m.Cohort.code,
            m.Cohort.sessions,
            func.coalesce(per_cohort.c.n, 0),
            func.coalesce(per_cohort.c.attended, 0),
        )
        .where(m.Cohort.start_date <= as_of)
        .order_by(m.Cohort.start_date, m.Cohort.code)
    )
    # A filtered scope holds only cohorts with someone in scope enrolled (see cohorts_in_scope): the
    # inner join keeps exactly those; unfiltered, every cohort started counts, enrolled or not.
    if scope.is_system:
        q = q.outerjoin(per_cohort, per_cohort.c.cohort_id == m.Cohort.id)
    else:
        q = q.join(per_cohort, per_cohort.c.cohort_id == m.Cohort.id)
    return {code: _ratio(attended, (sessions or 0) * n) for code, sessions, n, attended in conn.execute(q)}


# --- the report --------------------------------------------------------------------------------------


def report(conn: Connection, scope: Scope, as_of: dt.date, keys=REPORT_KEYS) -> dict:
    """Every measure of DESIGN.md section 4, under exactly its keys; or only ``keys`` (in
    REPORT_KEYS order), running only the queries those need (a page that shows a few measures for
    several scopes or dates need not compute them all)."""
    wanted = set(keys)
    unknown = wanted - set(REPORT_KEYS)
    if unknown:
        raise ValueError(f"Unknown measure {', '.join(sorted(unknown))}. Measures: {', '.join(REPORT_KEYS)}.")
    out: dict = {}
    if wanted & {"people_trained", "reach_vs_target"}:
        out["people_trained"] = people_trained(conn, scope, as_of)
    if "people_by_tier" in wanted:
        out["people_by_tier"] = people_by_tier(conn, scope, as_of)
    if "tier_conversion" in wanted:
        out["tier_conversion"] = tier_conversion(conn, scope, as_of, out.get("people_by_tier"))
    if wanted & {*ORG_COUNT_KEYS, "coverage_pct"}:
        counted = wanted | ({"orgs_in_scope", "orgs_trained"} if "coverage_pct" in wanted else set())
        counts = org_counts(conn, scope, as_of, counted)
        out.update(counts)
        if "coverage_pct" in wanted:
            out["coverage_pct"] = coverage_pct(counts)
    if wanted & {"trained_per_10_beds", "trained_per_100_staff"}:
        out.update(training_density(conn, scope, as_of))
    if "reach_vs_target" in wanted:
        out["reach_vs_target"] = reach_vs_target(conn, scope, as_of, trained=out["people_trained"])
    if wanted & {"projects_active", "projects_completed"}:
        out.update(project_status_counts(conn, scope, as_of))
    if "projects_by_priority" in wanted:
        out["projects_by_priority"] = projects_by_priority(conn, scope, as_of)
    if "projects_cross_boundary" in wanted:
        out["projects_cross_boundary"] = projects_cross_boundary(conn, scope, as_of)
    if "projects_with_patient_partner" in wanted:
        out["projects_with_patient_partner"] = projects_with_patient_partner(conn, scope, as_of)
    if wanted & {"projects_progress_ge_3", "projects_progress_ge_4"}:
        out.update(progress_counts(conn, scope, as_of))
    if "projects_improving" in wanted:
        out["projects_improving"] = len(improving_project_ids(conn, scope, as_of))
    if "projects_stale" in wanted:
        out["projects_stale"] = projects_stale(conn, scope, as_of)
    if "local_faculty_share" in wanted:
        out["local_faculty_share"] = local_faculty_share(conn, scope, as_of)
    if "lead_per_live" in wanted:
        out["lead_per_live"] = lead_per_live(conn, scope, as_of)
    if "attendance_rate" in wanted:
        out["attendance_rate"] = attendance_rate(conn, scope, as_of)
    return {k: out[k] for k in REPORT_KEYS if k in wanted}


def year_before(as_of: dt.date) -> dt.date:
    """The date a page compares ``as_of`` with ("a year ago")."""
    return as_of - dt.timedelta(days=365)


def default_as_of(conn: Connection) -> dt.date:
    """The date the data describes: the demo's snapshot date, else today."""
    from qidash.db import get_setting

    value = get_setting(conn, "data_as_of")
    return dt.date.fromisoformat(value) if value else dt.date.today()



# --- breakdowns the pages draw (same definitions, grouped in one query) ---------------------------------

GROUPINGS = ("locality", "pcn", "sector", "kind")


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
    trained_in_post = _in_post_per_org(as_of)
    n = func.coalesce(trained_in_post.c.n, 0)
    q = (
        select(
            key.label("group"),
            name.label("name"),
            func.count(),
            func.sum(case((m.Organisation.offered_on <= as_of, 1), else_=0)),
            func.sum(case((_engaged_condition(as_of), 1), else_=0)),
            func.sum(case((_trained_in_post_condition(as_of), 1), else_=0)),
            func.sum(case((_with_project_condition(as_of), 1), else_=0)),
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
    for group, label, total, offered, engaged, trained, with_project, people, bed_people, beds in conn.execute(q):
        counts = {
            "orgs_in_scope": total,
            "orgs_offered": int(offered or 0),
            "orgs_engaged": int(engaged or 0),
            "orgs_trained": int(trained or 0),
            "orgs_with_project": int(with_project or 0),
        }
        per_bed = _ratio(float(bed_people or 0), beds or 0)  # a Decimal on PostgreSQL otherwise
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


def improving_by_priority(
    conn: Connection, scope: Scope, as_of: dt.date, ids: set[int] | None = None
) -> dict[str, int]:
    """Per priority code: projects counted by ``projects_improving`` (0 where none). ``ids``: those
    projects (:func:`improving_project_ids`) when the caller has them already."""
    if ids is None:
        ids = improving_project_ids(conn, scope, as_of)
    counts = {code: 0 for (code,) in conn.execute(select(m.Priority.code).order_by(m.Priority.code))}
    if ids:
        rows = conn.execute(
            select(m.Priority.code, func.count())
            .join(m.Project, m.Project.priority_id == m.Priority.id)
            .where(m.Project.id.in_(list(ids)))
            .group_by(m.Priority.code)
        ).all()
        counts.update({code: n for code, n in rows})
    return counts


# --- the Tiers page: progression, cohorts and self-sustainability ---------------------------------------

PATIENT_GROUP = "patients"


def _grouping(by: str):
    """(group key, group name, joins) for organisations grouped by locality, PCN, sector or kind."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}")
    if by == "locality":
        return m.Locality.code, m.Locality.name, (
            (m.Pcn, m.Pcn.id == m.Organisation.pcn_id),
            (m.Locality, m.Locality.id == m.Pcn.locality_id),
        )
    if by == "pcn":
        return m.Pcn.code, m.Pcn.name, ((m.Pcn, m.Pcn.id == m.Organisation.pcn_id),)
    column = m.Organisation.sector if by == "sector" else m.Organisation.kind
    return column, column, ()


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
    key, name, joins = _grouping(by)

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


def cohort_summary(conn: Connection, scope: Scope, as_of: dt.date) -> list[dict]:
    """One row per cohort started by ``as_of`` in scope (as :func:`cohorts_in_scope`), by start date.

    Each row: ``code``, ``name``, ``course``, ``course_name``, ``tier``, ``locality`` (name or None),
    ``start_date``, ``end_date``, ``sessions``, ``delivered_by``, and over the enrolments of people
    in scope (everyone when unfiltered):
    - ``enrolled``: enrolments not withdrawn;
    - ``withdrawn``: withdrawn enrolments (a status, undated, so counted whatever ``as_of``);
    - ``completed``: completed enrolments dated on or before ``as_of`` (completion date, else the
      cohort's end, else its start, as tier attainment dates them);
    - ``completion_rate``: completed ÷ (enrolled + withdrawn), everyone who took a place, once the
      cohort has ended by ``as_of`` (end date, else start date); None while it runs or when empty;
    - ``attendance_rate``: the cohort's :func:`attendance_rate`, from the same pass over the enrolments.
    """
    # Enrolments are counted per cohort first, then joined (as in attendance_rate): joining each
    # enrolment under the scope's IN list made SQLite probe every cohort against every person.
    done_on = func.coalesce(m.Enrolment.completed_on, m.Cohort.end_date, m.Cohort.start_date)
    withdrawn = case((m.Enrolment.status == "withdrawn", 1), else_=0)
    per_cohort = (
        select(
            m.Enrolment.cohort_id.label("cohort_id"),
            (func.count() - func.sum(withdrawn)).label("enrolled"),
            func.sum(withdrawn).label("withdrawn"),
            func.sum(case((and_(m.Enrolment.status == "completed", done_on <= as_of), 1), else_=0)).label("done"),
            func.sum(case((m.Enrolment.status == "withdrawn", 0), else_=m.Enrolment.sessions_attended)).label(
                "attended"
            ),
        )
        .join(m.Cohort, m.Cohort.id == m.Enrolment.cohort_id)
        .where(m.Cohort.start_date <= as_of)
        .group_by(m.Enrolment.cohort_id)
    )
    per_cohort = per_cohort.where(*scope.person_conditions(m.Enrolment.person_id))
    per_cohort = per_cohort.subquery("per_cohort")
    cols = (
        m.Cohort.code, m.Cohort.name, m.Course.code, m.Course.name, m.Tier.code, m.Locality.name,
        m.Cohort.start_date, m.Cohort.end_date, m.Cohort.sessions, m.Cohort.delivered_by,
    )
    q = (
        select(*cols, per_cohort.c.enrolled, per_cohort.c.withdrawn, per_cohort.c.done, per_cohort.c.attended)
        .select_from(m.Cohort)
        .join(m.Course, m.Course.id == m.Cohort.course_id)
        .join(m.Tier, m.Tier.id == m.Course.tier_id)
        .outerjoin(m.Locality, m.Locality.id == m.Cohort.locality_id)
        .outerjoin(per_cohort, per_cohort.c.cohort_id == m.Cohort.id)
        .where(m.Cohort.start_date <= as_of)
        .order_by(m.Cohort.start_date, m.Cohort.code)
    )
    if not scope.is_system:
        # cohorts_in_scope: someone in scope holds a place not withdrawn.
        q = q.where(per_cohort.c.enrolled > 0)
    out = []
    for *about, enrolled, withdrawn, done, attended in conn.execute(q):
        code, name, course, course_name, tier, locality, start, end, sessions, by = about
        enrolled, withdrawn, done = int(enrolled or 0), int(withdrawn or 0), int(done or 0)
        ended = db.as_date(end or start) <= as_of
        out.append(
            {
                "code": code, "name": name, "course": course, "course_name": course_name, "tier": tier,
                "locality": locality, "start_date": db.as_date(start), "end_date": end and db.as_date(end),
                "sessions": sessions, "delivered_by": by, "enrolled": enrolled, "withdrawn": withdrawn,
                "completed": done,
                "completion_rate": _ratio(done, enrolled + withdrawn) if ended else None,
                "attendance_rate": _ratio(attended or 0, (sessions or 0) * enrolled),
            }
        )
    return out


def attendance_by_session(conn: Connection, scope: Scope, as_of: dt.date, cohort_code: str) -> list[dict]:
    """The register of one cohort, session by session: ``session_no``, ``held_on`` (earliest date
    recorded), ``on_register`` (people with a register entry) and ``attended``.

    Only sessions held on or before ``as_of`` (or undated) and people in scope; empty when the cohort
    is not in scope by ``as_of`` (see :func:`cohorts_in_scope`).
    """
    sa = m.SessionAttendance
    q = (
        select(
            sa.session_no,
            func.min(sa.held_on),
            func.count(),
            func.sum(case((sa.attended.is_(True), 1), else_=0)),
        )
        .join(m.Cohort, m.Cohort.id == sa.cohort_id)
        .where(
            m.Cohort.code == cohort_code,
            m.Cohort.id.in_(cohorts_in_scope(scope, as_of)),
            or_(sa.held_on.is_(None), sa.held_on <= as_of),
        )
        .group_by(sa.session_no)
        .order_by(sa.session_no)
    )
    q = q.where(*scope.person_conditions(sa.person_id))
    return [
        {"session_no": no, "held_on": held and db.as_date(held), "on_register": n, "attended": int(went or 0)}
        for no, held, n, went in conn.execute(q)
    ]


def participants_by_role(
    conn: Connection, scope: Scope, as_of: dt.date, cohort_code: str | None = None
) -> list[dict]:
    """Distinct people in scope with an enrolment not withdrawn in a cohort started by ``as_of`` (or
    in ``cohort_code`` only), by role: rows ``role`` and ``people``, largest first.

    Patient partners form one group, ``role`` = ``PATIENT_GROUP``, whatever role they are recorded
    with; a missing role is ``None``.
    """
    group = case((m.Person.is_patient_partner.is_(True), literal(PATIENT_GROUP)), else_=m.Person.role)
    q = (
        select(group.label("role"), func.count(distinct(m.Person.id)).label("people"))
        .join(m.Enrolment, m.Enrolment.person_id == m.Person.id)
        .join(m.Cohort, m.Cohort.id == m.Enrolment.cohort_id)
        .where(
            m.Enrolment.status != "withdrawn",
            m.Cohort.start_date <= as_of,
            *scope.person_conditions(m.Person.id),
        )
        .group_by(group)
        .order_by(func.count(distinct(m.Person.id)).desc(), group)
    )
    if cohort_code is not None:
        q = q.where(m.Cohort.code == cohort_code)
    return [{"role": role, "people": n} for role, n in conn.execute(q)]


def local_faculty_share_by_period(
    conn: Connection, scope: Scope, as_of: dt.date, months: int = 6
) -> list[dict]:
    """``local_faculty_share`` of the cohorts started in each period of ``months`` (dividing 12).

    Rows ``period_start`` (first day of the period), ``cohorts``, ``local`` and ``share`` (None when
    no cohort started), from the first period with a cohort to the last, with empty periods kept.
    Over all periods the counts add up to :func:`local_faculty_share`'s (same cohorts).
    """
    if 12 % months:
        raise ValueError("months must divide 12")
    year, month = extract("year", m.Cohort.start_date), extract("month", m.Cohort.start_date)
    rows = conn.execute(
        select(year, month, func.count(), func.sum(case((m.Cohort.delivered_by == "local", 1), else_=0)))
        .where(m.Cohort.id.in_(cohorts_in_scope(scope, as_of)))
        .group_by(year, month)
    ).all()
    periods: dict[dt.date, list[int]] = {}
    for y, mo, n, local in rows:
        start = dt.date(int(y), (int(mo) - 1) // months * months + 1, 1)
        counts = periods.setdefault(start, [0, 0])
        counts[0] += n
        counts[1] += int(local or 0)
    out = []
    if periods:
        day, last = min(periods), max(periods)
        while day <= last:
            n, local = periods.get(day, (0, 0))
            out.append({"period_start": day, "cohorts": n, "local": local, "share": _ratio(local, n)})
            total = day.month - 1 + months
            day = dt.date(day.year + total // 12, total % 12 + 1, 1)
    return out


def coaches_per_active_project(conn: Connection, scope: Scope, as_of: dt.date) -> dict:
    """Coaching capacity on projects active on ``as_of`` in scope.

    ``coaches``: distinct people who are a project member with role ``coach`` on at least one of those
    projects (wherever the coach works); ``active_projects``: those projects (``projects_active``);
    ``projects_with_coach``: those with at least one coach; ``ratio``: coaches ÷ active projects
    (None when there is no active project).
    """
    active = select(m.Project.id).where(scope.project_condition(), _active_project_condition(as_of))
    n_active = conn.execute(select(func.count()).select_from(active.subquery())).scalar_one()
    coaches, with_coach = conn.execute(
        select(
            func.count(distinct(m.ProjectMember.person_id)), func.count(distinct(m.ProjectMember.project_id))
        )
        .where(m.ProjectMember.role == "coach", m.ProjectMember.project_id.in_(active))
    ).one()
    return {
        "coaches": coaches,
        "active_projects": n_active,
        "projects_with_coach": with_coach,
        "ratio": _ratio(coaches, n_active),
    }


def projects_led_by_trained(conn: Connection, scope: Scope, as_of: dt.date) -> dict:
    """Projects started by ``as_of`` in scope whose lead person was trained in the programme first.

    ``started``: projects started by ``as_of``; ``led_by_trained``: those whose lead person attained
    any tier on or before the project's start date; ``ratio``: led_by_trained ÷ started (None when
    none started). ``led_in_training``: the others whose lead was then in training (an enrolment not
    withdrawn in a cohort started on or before the project's start), as when a course's participants
    run projects during it. A project with no lead person recorded counts in neither.
    """
    # A look-up per project in tier_attainment's (person_id, attained_on) index, rather than everyone's
    # first attainment worked out for the few who lead projects.
    trained_first = exists(
        select(m.TierAttainment.person_id).where(
            m.TierAttainment.person_id == m.Project.lead_person_id,
            m.TierAttainment.attained_on <= m.Project.start_date,
        )
    )
    in_training = exists(
        select(m.Enrolment.id)
        .join(m.Cohort, m.Cohort.id == m.Enrolment.cohort_id)
        .where(
            m.Enrolment.person_id == m.Project.lead_person_id,
            m.Enrolment.status != "withdrawn",
            m.Cohort.start_date <= m.Project.start_date,
        )
    )
    started, led, learning = conn.execute(
        select(
            func.count(m.Project.id),
            func.sum(case((trained_first, 1), else_=0)),
            func.sum(case((trained_first, 0), (in_training, 1), else_=0)),
        )
        .select_from(m.Project)
        .where(m.Project.id.in_(projects_started(scope, as_of)))
    ).one()
    led = int(led or 0)
    return {
        "started": started,
        "led_by_trained": led,
        "led_in_training": int(learning or 0),
        "ratio": _ratio(led, started),
    }


# --- the Portfolio and Project pages ----------------------------------------------------------------------


def _stale_condition(as_of: dt.date):
    """A condition on ``Project``: active on ``as_of`` with no observation and no progress score in the
    STALE_DAYS days ending on ``as_of`` (the definition :func:`projects_stale` counts)."""
    since = as_of - dt.timedelta(days=STALE_DAYS)
    recent_obs = exists(
        select(m.Observation.id)
        .join(m.Measure, m.Measure.id == m.Observation.measure_id)
        .where(
            m.Measure.project_id == m.Project.id, m.Observation.period > since, m.Observation.period <= as_of
        )
    )
    recent_score = exists(
        select(m.ProgressScore.id).where(
            m.ProgressScore.project_id == m.Project.id,
            m.ProgressScore.scored_on > since,
            m.ProgressScore.scored_on <= as_of,
        )
    )
    return and_(_active_project_condition(as_of), ~recent_obs, ~recent_score)


def stale_project_ids(conn: Connection, scope: Scope, as_of: dt.date) -> set[int]:
    """Ids of the projects :func:`projects_stale` counts: active on ``as_of`` in scope, with no
    observation and no progress score in the 90 days ending on ``as_of``."""
    return set(conn.scalars(select(m.Project.id).where(scope.project_condition(), _stale_condition(as_of))))


def is_stale(conn: Connection, project_id: int, as_of: dt.date) -> bool:
    """Whether one project is among :func:`stale_project_ids` (whatever the scope), checking it alone."""
    stale = select(m.Project.id).where(m.Project.id == project_id, _stale_condition(as_of))
    return conn.execute(stale).first() is not None


def project_status_on(as_of: dt.date):
    """SQL expression: a project's status on ``as_of``, as the project counts use it.

    ``active`` when active on the date (see the module docstring), else its recorded ``completed`` or
    ``stopped``; ``ended`` for a project still recorded active whose end date has passed.
    """
    return case(
        (_active_project_condition(as_of), "active"),
        (m.Project.status.in_(("completed", "stopped")), m.Project.status),
        else_="ended",
    )


def portfolio_projects(conn: Connection, scope: Scope, as_of: dt.date) -> list[dict]:
    """One row per project started by ``as_of`` in scope, by code, in one query.

    Each row: ``id``, ``code``, ``title``, ``priority`` (code), ``status`` (:func:`project_status_on`),
    ``pcn`` and ``pcn_name`` (the project's own PCN, None when unset), ``lead_organisation`` (name),
    ``start_date``, ``end_date``, ``latest_score`` and ``scored_on`` (the latest progress score dated
    by ``as_of``, as :func:`latest_scores`; None when unscored), ``stale`` (:func:`stale_project_ids`),
    ``measures`` (how many measures it has) and ``last_observation`` (latest period by ``as_of``).
    """
    rows = conn.execute(portfolio_projects_query(scope, as_of)).mappings()
    out = []
    for r in rows:
        row = dict(r)
        for key in ("start_date", "end_date", "scored_on", "last_observation"):
            row[key] = row[key] and db.as_date(row[key])
        row["stale"] = bool(row["stale"])
        out.append(row)
    return out


def measure_analyses(conn: Connection, scope: Scope, as_of: dt.date, with_result: bool = True) -> list[dict]:
    """The stored chart analysis of every measure of the projects started by ``as_of`` in scope.

    One row per measure with an analysis, by project code and measure code: ``measure_id``,
    ``project_id``, ``project`` (code), ``code``, ``name``, ``kind``, ``chart``, ``unit``,
    ``improvement``, ``target`` and the ``measure_analysis`` columns ``last_period``, ``n_points``,
    ``ruleset``, ``signal``, ``improving``, ``concern``, ``variation_icon``, ``assurance_icon``,
    ``chart_variation_icon``, ``chart_assurance_icon``, ``improved_since_baseline``, ``baseline_change``,
    ``baseline_changed_on`` and, unless ``with_result`` is False, ``result`` (the engine's full result
    with ``periods``: most of the data read, 30 MB at scale 50; see :func:`analysis_results`). The
    analysis covers every observation; a row whose ``last_period`` is after ``as_of`` describes data
    the date has not reached (see :func:`improving_project_ids`, which re-analyses those).
    """
    rows = conn.execute(measure_analyses_query(scope, as_of, with_result)).mappings()
    out = []
    for r in rows:
        row = dict(r)
        row["last_period"] = row["last_period"] and db.as_date(row["last_period"])
        for key in ("signal", "improving", "concern", "improved_since_baseline"):
            row[key] = bool(row[key])
        row["baseline_changed_on"] = row["baseline_changed_on"] and db.as_date(row["baseline_changed_on"])
        out.append(row)
    return out


def analysis_results(conn: Connection, measure_ids) -> dict[int, dict]:
    """Measure id -> the stored engine result (with ``periods``), for those of ``measure_ids`` that
    have an analysis."""
    ids = list(measure_ids)
    out = {}
    for i in range(0, len(ids), 500):
        rows = conn.execute(
            select(m.MeasureAnalysis.measure_id, m.MeasureAnalysis.result).where(
                m.MeasureAnalysis.measure_id.in_(ids[i : i + 500])
            )
        )
        out.update({mid: result for mid, result in rows})
    return out


def portfolio_projects_query(scope: Scope, as_of: dt.date, with_last_observation: bool = True):
    """The SELECT behind :func:`portfolio_projects`, its columns in that order, for a caller that reads
    the rows in bulk; ``with_last_observation=False`` leaves out the last column and the grouping of
    every observation it takes."""
    last_score = latest_scores(as_of)
    measure_counts = (
        select(m.Measure.project_id, func.count().label("n"))
        .group_by(m.Measure.project_id)
        .subquery("measure_counts")
    )
    last_obs = (
        select(m.Measure.project_id, func.max(m.Observation.period).label("day"))
        .join(m.Observation, m.Observation.measure_id == m.Measure.id)
        .where(m.Observation.period <= as_of)
        .group_by(m.Measure.project_id)
        .subquery("last_observation")
    )
    query = (
        select(
            m.Project.id,
            m.Project.code,
            m.Project.title,
            m.Priority.code.label("priority"),
            project_status_on(as_of).label("status"),
            m.Pcn.code.label("pcn"),
            m.Pcn.name.label("pcn_name"),
            m.Organisation.name.label("lead_organisation"),
            m.Project.start_date,
            m.Project.end_date,
            last_score.c.score.label("latest_score"),
            last_score.c.scored_on,
            case((_stale_condition(as_of), True), else_=False).label("stale"),
            func.coalesce(measure_counts.c.n, 0).label("measures"),
            *((last_obs.c.day.label("last_observation"),) if with_last_observation else ()),
        )
        .join(m.Priority, m.Priority.id == m.Project.priority_id)
        .join(m.Organisation, m.Organisation.id == m.Project.lead_organisation_id)
        .outerjoin(m.Pcn, m.Pcn.id == m.Project.pcn_id)
        .outerjoin(last_score, last_score.c.project_id == m.Project.id)
        .outerjoin(measure_counts, measure_counts.c.project_id == m.Project.id)
        .where(m.Project.start_date <= as_of, scope.project_condition())
        .order_by(m.Project.code)
    )
    if with_last_observation:
        query = query.outerjoin(last_obs, last_obs.c.project_id == m.Project.id)
    return query


def measure_analyses_query(scope: Scope, as_of: dt.date, with_result: bool = True):
    """The SELECT behind :func:`measure_analyses`, its columns in that order, for a caller that reads the
    rows in bulk (a page's table) rather than one dict per measure."""
    ma = m.MeasureAnalysis
    return (
        select(
            m.Measure.id.label("measure_id"),
            m.Measure.project_id,
            m.Project.code.label("project"),
            m.Measure.code,
            m.Measure.name,
            m.Measure.kind,
            m.Measure.chart,
            m.Measure.unit,
            m.Measure.improvement,
            m.Measure.target,
            ma.last_period,
            ma.n_points,
            ma.ruleset,
            ma.signal,
            ma.improving,
            ma.concern,
            ma.variation_icon,
            ma.assurance_icon,
            ma.chart_variation_icon,
            ma.chart_assurance_icon,
            ma.improved_since_baseline,
            ma.baseline_change,
            ma.baseline_changed_on,
            *((ma.result,) if with_result else ()),
        )
        .join(ma, ma.measure_id == m.Measure.id)
        .join(m.Project, m.Project.id == m.Measure.project_id)
        .where(m.Measure.project_id.in_(projects_started(scope, as_of)))
        .order_by(m.Project.code, m.Measure.code)
    )


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
    pcns = select(m.Pcn.code).join(m.Organisation, m.Organisation.pcn_id == m.Pcn.id).where(*in_scope).distinct()
    out = {code: {"people_trained": 0, "projects_active": 0} for (code,) in conn.execute(pcns)}
    for code, n in conn.execute(trained):
        out[code]["people_trained"] = n
    for code, n in conn.execute(_projects_active_by_pcn(scope, as_of)):
        out[code]["projects_active"] = n
    return out


def _projects_active_by_pcn(scope: Scope, as_of: dt.date):
    """SELECT of (PCN code, projects active on ``as_of`` led by or partnered with an organisation in
    scope in that PCN), for PCNs with one."""
    po = _project_orgs()
    return (
        select(m.Pcn.code, func.count(distinct(po.c.project_id)))
        .select_from(po)
        .join(m.Project, m.Project.id == po.c.project_id)
        .join(m.Organisation, m.Organisation.id == po.c.organisation_id)
        .join(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
        .where(_active_project_condition(as_of), *scope.org_conditions())
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
    top = select(m.Tier.framework_id, func.max(m.Tier.rank).label("top_rank")).group_by(m.Tier.framework_id).subquery()
    top_tiers = select(m.Tier.id).join(top, and_(top.c.framework_id == m.Tier.framework_id, top.c.top_rank == m.Tier.rank))
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
            m.Person.role, m.Organisation.name, m.Organisation.ods_code,
            m.Organisation.latitude, m.Organisation.longitude, case((is_top, 1), else_=0), case((is_coach, 1), else_=0),
        )
        .join(m.Organisation, m.Organisation.id == m.Person.organisation_id)
        .where(
            or_(is_top, is_coach),
            *scope.person_conditions(m.Person.id),
            or_(m.Person.left_on.is_(None), m.Person.left_on > as_of),
            m.Organisation.latitude.is_not(None), m.Organisation.longitude.is_not(None),
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
    totals = [np.bincount(group, weights=col, minlength=len(slot)).astype(np.int64).tolist() for col in columns]
    sums = {code: [t[i] for t in totals] for code, i in slot.items()}
    names = dict(conn.execute(select(m.Pcn.code, m.Pcn.name)).all()) if sums else {}
    active = dict(conn.execute(_projects_active_by_pcn(scope, as_of)).all()) if sums else {}
    out = []
    for code in sorted(sums):
        t = sums[code]
        counts = dict(zip(ORG_COUNT_KEYS, map(int, t[:5]), strict=True))
        per_bed = _ratio(float(t[8]), t[7])
        out.append({
            "group": code, "name": names[code], **counts, "coverage_pct": coverage_pct(counts),
            "trained_in_post": t[5], "beds": t[7], "trained_per_10_beds": None if per_bed is None else per_bed * 10,
            "people_trained": t[6], "projects_active": int(active.get(code, 0)),
        })
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
            flag(_engaged_condition(as_of)),
            flag(_with_project_condition(as_of)),
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
        "ods_code": ods, "name": name, "kind": kind, "sector": sector, "pcn": pcn, "latitude": lat,
        "longitude": lon, "beds": beds, "staff_headcount": staff, "offered": offered, "engaged": engaged,
        "trained": trained_, "with_project": project, "trained_in_post": list(map(int, in_post)),
        "people_trained": list(map(int, people)), "stage": list(map(org_stage, offered, engaged, trained_, project)),
    }
