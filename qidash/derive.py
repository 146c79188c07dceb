"""Derived tables, rebuilt after every load: tier attainment, the tiers reached, organisation spans and
each measure's chart analysis.

Tier attainment (DESIGN.md section 2) is computed in SQL so it scales with the database, not with
Python memory. A person attains a tier on the earliest date they
- ``course``: complete a course of that tier (completion date, else the cohort's end, else its start);
- ``faculty``: serve as trainer, coach or mentor of a cohort of that tier's framework (cohort start);
- ``project``: are on a project's team (its lead person, or a member with role lead/member) while already
  holding at least the tier below: the later of the project's start and the date they reached the tier
  below, provided the project had not ended before then.
"""

from __future__ import annotations

from sqlalchemy import and_, case, delete, func, insert, literal, null, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from qidash import models as m
from qidash.analysis import rebuild_measure_analysis, refresh_past_status
from qidash.geo import rebuild_pcn_areas
from qidash.rules import TEAM_ROLES


def rebuild_tier_attainment(session: Session) -> int:
    """Recompute the ``tier_attainment`` table from enrolments, faculty roles and projects, and then
    the organisation spans and the tiers reached, which follow from it (:func:`rebuild_organisation_spans`,
    :func:`rebuild_tier_reached`)."""
    session.execute(delete(m.TierAttainment))
    target = m.TierAttainment.__table__

    completed_on = func.coalesce(m.Enrolment.completed_on, m.Cohort.end_date, m.Cohort.start_date)
    by_course = (
        select(m.Enrolment.person_id, m.Course.tier_id, func.min(completed_on))
        .join(m.Cohort, m.Cohort.id == m.Enrolment.cohort_id)
        .join(m.Course, m.Course.id == m.Cohort.course_id)
        .join(m.Tier, m.Tier.id == m.Course.tier_id)
        .where(m.Enrolment.status == "completed", m.Tier.attained_by == "course")
        .group_by(m.Enrolment.person_id, m.Course.tier_id)
    )
    session.execute(insert(target).from_select(["person_id", "tier_id", "attained_on"], by_course))

    course_tier = aliased(m.Tier)
    faculty_tier = aliased(m.Tier)
    by_faculty = (
        select(m.FacultyRole.person_id, faculty_tier.id, func.min(m.Cohort.start_date))
        .join(m.Cohort, m.Cohort.id == m.FacultyRole.cohort_id)
        .join(m.Course, m.Course.id == m.Cohort.course_id)
        .join(course_tier, course_tier.id == m.Course.tier_id)
        .join(
            faculty_tier,
            and_(
                faculty_tier.framework_id == course_tier.framework_id,
                faculty_tier.attained_by == "faculty",
            ),
        )
        .group_by(m.FacultyRole.person_id, faculty_tier.id)
    )
    session.execute(insert(target).from_select(["person_id", "tier_id", "attained_on"], by_faculty))

    project_tiers = session.execute(
        select(m.Tier.id, m.Tier.framework_id, m.Tier.rank)
        .where(m.Tier.attained_by == "project")
        .order_by(m.Tier.rank)
    ).all()
    team = union_all(
        select(m.Project.id.label("project_id"), m.Project.lead_person_id.label("person_id")).where(
            m.Project.lead_person_id.is_not(None)
        ),
        select(m.ProjectMember.project_id, m.ProjectMember.person_id).where(
            m.ProjectMember.role.in_(TEAM_ROLES)
        ),
    ).subquery("team")
    for tier_id, framework_id, rank in project_tiers:
        if rank <= 1:
            by_project = (
                select(team.c.person_id, literal(tier_id), func.min(m.Project.start_date))
                .join(m.Project, m.Project.id == team.c.project_id)
                .where(m.Project.start_date.is_not(None))
                .group_by(team.c.person_id)
            )
        else:
            held = (
                select(
                    m.TierAttainment.person_id.label("person_id"),
                    func.min(m.TierAttainment.attained_on).label("held_on"),
                )
                .join(m.Tier, m.Tier.id == m.TierAttainment.tier_id)
                .where(m.Tier.framework_id == framework_id, m.Tier.rank >= rank - 1, m.Tier.id != tier_id)
                .group_by(m.TierAttainment.person_id)
                .subquery("held")
            )
            attained = case(
                (m.Project.start_date > held.c.held_on, m.Project.start_date), else_=held.c.held_on
            )
            by_project = (
                select(team.c.person_id, literal(tier_id), func.min(attained))
                .join(m.Project, m.Project.id == team.c.project_id)
                .join(held, held.c.person_id == team.c.person_id)
                .where(
                    m.Project.start_date.is_not(None),
                    or_(m.Project.end_date.is_(None), m.Project.end_date >= held.c.held_on),
                )
                .group_by(team.c.person_id)
            )
        session.execute(insert(target).from_select(["person_id", "tier_id", "attained_on"], by_project))
    rebuild_trained_people(session)
    rebuild_organisation_spans(session)
    rebuild_tier_reached(session)
    return session.execute(select(func.count()).select_from(target)).scalar_one()


def rebuild_tier_reached(session: Session) -> int:
    """Recompute the ``tier_reached`` table from tier attainment: each person's first day at or above
    each tier, the earliest day they attained it or a higher tier of its framework. Counting people
    who reached at least a tier by a date (the funnel, reach over time) then reads one index range
    instead of working out everyone's highest tier. Returns how many rows it holds."""
    session.execute(delete(m.TierReached))
    held, tier = aliased(m.Tier), aliased(m.Tier)
    ta = m.TierAttainment
    first = (
        select(ta.person_id, tier.id, func.min(ta.attained_on))
        .join(held, held.id == ta.tier_id)
        .join(tier, and_(tier.framework_id == held.framework_id, tier.rank <= held.rank))
        .group_by(ta.person_id, tier.id)
    )
    session.execute(insert(m.TierReached).from_select(["person_id", "tier_id", "reached_on"], first))
    return session.execute(select(func.count()).select_from(m.TierReached)).scalar_one()


def rebuild_trained_people(session: Session) -> int:
    """Recompute the ``trained_person`` table: everyone who has attained a tier, on the day of their
    first, with their organisation, leaving date and whether they are a patient partner."""
    session.execute(delete(m.TrainedPerson))
    first = (
        select(
            m.Person.id, m.Person.organisation_id, func.min(m.TierAttainment.attained_on), m.Person.left_on,
            m.Person.is_patient_partner,
        )
        .join(m.TierAttainment, m.TierAttainment.person_id == m.Person.id)
        .group_by(m.Person.id, m.Person.organisation_id, m.Person.left_on, m.Person.is_patient_partner)
    )
    columns = ["person_id", "organisation_id", "trained_on", "left_on", "is_patient_partner"]
    session.execute(insert(m.TrainedPerson).from_select(columns, first))
    return session.execute(select(func.count()).select_from(m.TrainedPerson)).scalar_one()


def rebuild_organisation_spans(session: Session) -> int:
    """Recompute the ``organisation_span`` table: when each organisation was engaged, had someone
    trained in post, and had an active project (the conditions of qidash.measures' organisation
    counts, as date ranges, so counting them on a date reads one small table)."""
    session.execute(delete(m.OrganisationSpan))
    person_org = m.Person.organisation_id
    engaged = (
        select(person_org, func.min(m.Cohort.start_date), null())
        .join(m.Enrolment, m.Enrolment.person_id == m.Person.id)
        .join(m.Cohort, m.Cohort.id == m.Enrolment.cohort_id)
        .where(m.Enrolment.status != "withdrawn", person_org.is_not(None))
        .group_by(person_org)
    )
    first = (
        select(m.TierAttainment.person_id, func.min(m.TierAttainment.attained_on).label("on"))
        .group_by(m.TierAttainment.person_id)
        .subquery()
    )
    trained = (  # in post from their first tier until they leave
        select(person_org, first.c.on, m.Person.left_on)
        .join(first, first.c.person_id == m.Person.id)
        .where(person_org.is_not(None), or_(m.Person.left_on.is_(None), m.Person.left_on > first.c.on))
    )
    links = union_all(
        select(m.Project.id.label("project_id"), m.Project.lead_organisation_id.label("organisation_id")),
        select(m.ProjectPartner.project_id, m.ProjectPartner.organisation_id),
    ).subquery()
    with_project = (  # active from its start to its end; with no end, while its status is active
        select(links.c.organisation_id, m.Project.start_date, m.Project.end_date)
        .join(m.Project, m.Project.id == links.c.project_id)
        .where(
            links.c.organisation_id.is_not(None),
            m.Project.start_date.is_not(None),  # undated: never active (measures.active_project_condition)
            or_(m.Project.end_date > m.Project.start_date,
                and_(m.Project.end_date.is_(None), m.Project.status == "active")),
        )
    )
    rows = []
    for state, query in (("engaged", engaged), ("trained", trained), ("with_project", with_project)):
        rows += merged_spans(state, session.execute(query).all())
    for i in range(0, len(rows), 5000):
        session.execute(insert(m.OrganisationSpan), rows[i : i + 5000])
    return len(rows)


def merged_spans(state: str, spans) -> list[dict]:
    """(organisation, start, end or None) ranges merged where they overlap or touch, as table rows."""
    out: list[dict] = []
    for org, start, end in sorted(spans, key=lambda r: (r[0], r[1])):
        last = out[-1] if out else None
        if last and last["organisation_id"] == org and (last["ends_on"] is None or start <= last["ends_on"]):
            if last["ends_on"] is not None:
                last["ends_on"] = None if end is None else max(last["ends_on"], end)
            continue
        out.append({"organisation_id": org, "state": state, "starts_on": start, "ends_on": end})
    return out


def refresh_derived(session: Session, measure_ids: list[int] | None = None) -> int:
    """Rebuild every derived table after a load: tier attainment and what follows from it, the chart
    analysis of ``measure_ids`` (all measures when None), and the PCN areas. Returns how many measures
    were analysed."""
    rebuild_tier_attainment(session)
    analysed = rebuild_measure_analysis(session, measure_ids)
    refresh_past_status(session)  # the measures not re-analysed, if the comparison date moved
    rebuild_pcn_areas(session)  # the PCN areas drawn around member sites
    return analysed


