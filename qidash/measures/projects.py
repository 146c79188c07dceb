"""Projects: started, active and completed, by priority, across boundaries, with a patient partner,
their progress scores, the improving and stale ones, and the Portfolio and Project pages' lists.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Connection,
    and_,
    case,
    distinct,
    exists,
    func,
    or_,
    select,
    union_all,
)

from qidash import analysis, db
from qidash import models as m
from qidash.measures.common import STALE_DAYS, ratio_or_none
from qidash.measures.organisations import active_project_condition, project_orgs
from qidash.rules import TEAM_ROLES
from qidash.scope import Scope

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
            func.sum(case((active_project_condition(as_of), 1), else_=0)),
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
    return dict(rows)


def projects_cross_boundary(conn: Connection, scope: Scope, as_of: dt.date) -> int:
    """Projects started by ``as_of`` whose organisations span two or more sectors or kinds."""
    po = project_orgs()
    spans = (
        select(po.c.project_id)
        .join(m.Organisation, m.Organisation.id == po.c.organisation_id)
        .group_by(po.c.project_id)
        .having(
            or_(
                func.count(distinct(m.Organisation.sector)) > 1, func.count(distinct(m.Organisation.kind)) > 1
            )
        )
    )
    return conn.execute(
        select(func.count()).where(m.Project.id.in_(projects_started(scope, as_of)), m.Project.id.in_(spans))
    ).scalar_one()


def _team():
    return union_all(
        select(m.Project.id.label("project_id"), m.Project.lead_person_id.label("person_id")).where(
            m.Project.lead_person_id.is_not(None)
        ),
        select(m.ProjectMember.project_id, m.ProjectMember.person_id).where(
            m.ProjectMember.role.in_(TEAM_ROLES)
        ),
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
        and_(
            latest_day.c.project_id == m.ProgressScore.project_id,
            latest_day.c.day == m.ProgressScore.scored_on,
        ),
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
    redo = [
        mid
        for pid, mid in conn.execute(measures_started.where(~covers_date, ~analysis.past_holds(as_of)))
        if pid not in improving
    ]
    if redo:
        improving |= analysis.improving_as_of(conn, redo, as_of)
    return improving


def projects_stale(conn: Connection, scope: Scope, as_of: dt.date) -> int:
    """Active projects with no observation and no progress score in the 90 days ending on ``as_of``."""
    return conn.execute(
        select(func.count()).where(scope.project_condition(), stale_condition(as_of))
    ).scalar_one()


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
        counts.update(dict(rows))
    return counts


def coaches_per_active_project(conn: Connection, scope: Scope, as_of: dt.date) -> dict:
    """Coaching capacity on projects active on ``as_of`` in scope.

    ``coaches``: distinct people who are a project member with role ``coach`` on at least one of those
    projects (wherever the coach works); ``active_projects``: those projects (``projects_active``);
    ``projects_with_coach``: those with at least one coach; ``ratio``: coaches ÷ active projects
    (None when there is no active project).
    """
    active = select(m.Project.id).where(scope.project_condition(), active_project_condition(as_of))
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
        "ratio": ratio_or_none(coaches, n_active),
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
        "ratio": ratio_or_none(led, started),
    }


# --- the Portfolio and Project pages ----------------------------------------------------------------------


def stale_condition(as_of: dt.date):
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
    return and_(active_project_condition(as_of), ~recent_obs, ~recent_score)


def stale_project_ids(conn: Connection, scope: Scope, as_of: dt.date) -> set[int]:
    """Ids of the projects :func:`projects_stale` counts: active on ``as_of`` in scope, with no
    observation and no progress score in the 90 days ending on ``as_of``."""
    return set(conn.scalars(select(m.Project.id).where(scope.project_condition(), stale_condition(as_of))))


def is_stale(conn: Connection, project_id: int, as_of: dt.date) -> bool:
    """Whether one project is among :func:`stale_project_ids` (whatever the scope), checking it alone."""
    stale = select(m.Project.id).where(m.Project.id == project_id, stale_condition(as_of))
    return conn.execute(stale).first() is not None


def project_status_on(as_of: dt.date):
    """SQL expression: a project's status on ``as_of``, as the project counts use it.

    ``active`` when active on the date (see the module docstring), else its recorded ``completed`` or
    ``stopped``; ``ended`` for a project still recorded active whose end date has passed.
    """
    return case(
        (active_project_condition(as_of), "active"),
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
        out.update(dict(rows.all()))
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
            case((stale_condition(as_of), True), else_=False).label("stale"),
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
