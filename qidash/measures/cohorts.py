"""Cohorts (tiers and attendance): the cohorts in a scope, attendance, local faculty share and who
takes part in which role.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Connection,
    and_,
    case,
    distinct,
    extract,
    func,
    literal,
    or_,
    select,
)

from qidash import db
from qidash import models as m
from qidash.measures.common import PATIENT_GROUP, ratio_or_none
from qidash.scope import Scope

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
    return ratio_or_none(row[1] or 0, row[0])


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
    return {
        code: ratio_or_none(attended, (sessions or 0) * n) for code, sessions, n, attended in conn.execute(q)
    }


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
            func.sum(case((and_(m.Enrolment.status == "completed", done_on <= as_of), 1), else_=0)).label(
                "done"
            ),
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
                "completion_rate": ratio_or_none(done, enrolled + withdrawn) if ended else None,
                "attendance_rate": ratio_or_none(attended or 0, (sessions or 0) * enrolled),
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
            out.append({"period_start": day, "cohorts": n, "local": local, "share": ratio_or_none(local, n)})
            total = day.month - 1 + months
            day = dt.date(day.year + total // 12, total % 12 + 1, 1)
    return out
