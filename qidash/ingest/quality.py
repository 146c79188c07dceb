"""Data quality: lists of stored rows an admin should look at (missing coordinates, orphans, stale
projects, clashing person refs, implausible dates), aggregated in SQL.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, Engine, exists, func, literal, select
from sqlalchemy.orm import aliased

from qidash import db
from qidash import models as m
from qidash.measures import STALE_DAYS, active_project_condition
from qidash.rules import default_as_of

# --- data quality -------------------------------------------------------------------------------------------

DATA_QUALITY_TITLES = {
    "organisations_without_coordinates": "Organisations without coordinates (not on the map)",
    "people_without_organisation": "People whose organisation is missing",
    "projects_without_measures": "Projects without measures (no chart)",
    "stale_projects": "Active projects with no data or score in the last 90 days",
    "person_ref_at_two_organisations": "The same person_ref at two organisations",
    "dates_out_of_range": "Dates before 1900 or after 2100 (mistyped years: correct them and load again)",
}

# Every date column of the programme tables, with what names its row: (file, key column, table, date column).
DATE_COLUMNS = (
    ("organisations", m.Organisation.ods_code, m.Organisation, m.Organisation.offered_on),
    ("people", m.Person.person_ref, m.Person, m.Person.left_on),
    ("cohorts", m.Cohort.code, m.Cohort, m.Cohort.start_date),
    ("cohorts", m.Cohort.code, m.Cohort, m.Cohort.end_date),
    ("projects", m.Project.code, m.Project, m.Project.start_date),
    ("projects", m.Project.code, m.Project, m.Project.end_date),
    ("targets", m.Target.measure, m.Target, m.Target.due_on),
)
# Rows named through their cohort or project: (file, name column, table, date column, join).
DATE_COLUMNS_OF_CHILDREN = (
    (
        "enrolments",
        m.Cohort.code,
        m.Enrolment,
        m.Enrolment.completed_on,
        m.Cohort.id == m.Enrolment.cohort_id,
    ),
    (
        "attendance",
        m.Cohort.code,
        m.SessionAttendance,
        m.SessionAttendance.held_on,
        m.Cohort.id == m.SessionAttendance.cohort_id,
    ),
    (
        "progress",
        m.Project.code,
        m.ProgressScore,
        m.ProgressScore.scored_on,
        m.Project.id == m.ProgressScore.project_id,
    ),
    ("observations", m.Project.code, m.Observation, m.Observation.period, None),
    ("changes", m.Project.code, m.Change, m.Change.changed_on, m.Project.id == m.Change.project_id),
)


def data_quality(engine: Engine, as_of: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """Lists of rows an admin should look at, keyed as in DATA_QUALITY_TITLES (aggregated in SQL)."""
    with engine.connect() as conn:
        return quality_lists(conn, as_of)


def quality_lists(conn: Connection, as_of: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """:func:`data_quality` on an open connection (for the page's cached loaders)."""
    as_of = as_of or default_as_of(conn)
    since = as_of - dt.timedelta(days=STALE_DAYS)
    pcn = aliased(m.Pcn)
    no_coordinates = (
        select(m.Organisation.ods_code, m.Organisation.name, m.Organisation.kind, pcn.code.label("pcn_code"))
        .outerjoin(pcn, pcn.id == m.Organisation.pcn_id)
        .where((m.Organisation.latitude.is_(None)) | (m.Organisation.longitude.is_(None)))
        .order_by(m.Organisation.ods_code)
    )
    orphans = (
        select(m.Person.person_ref, m.Person.organisation_id)
        .outerjoin(m.Organisation, m.Organisation.id == m.Person.organisation_id)
        .where(m.Organisation.id.is_(None))
        .order_by(m.Person.person_ref)
    )
    no_measures = (
        select(m.Project.code, m.Project.title, m.Project.status)
        .where(~exists(select(m.Measure.id).where(m.Measure.project_id == m.Project.id)))
        .order_by(m.Project.code)
    )
    last_obs = (
        select(m.Measure.project_id, func.max(m.Observation.period).label("last_observation"))
        .join(m.Observation, m.Observation.measure_id == m.Measure.id)
        .where(m.Observation.period <= as_of)
        .group_by(m.Measure.project_id)
        .subquery()
    )
    last_score = (
        select(m.ProgressScore.project_id, func.max(m.ProgressScore.scored_on).label("last_score"))
        .where(m.ProgressScore.scored_on <= as_of)
        .group_by(m.ProgressScore.project_id)
        .subquery()
    )
    stale = (
        select(m.Project.code, m.Project.title, last_obs.c.last_observation, last_score.c.last_score)
        .outerjoin(last_obs, last_obs.c.project_id == m.Project.id)
        .outerjoin(last_score, last_score.c.project_id == m.Project.id)
        .where(
            active_project_condition(as_of),
            (last_obs.c.last_observation.is_(None)) | (last_obs.c.last_observation <= since),
            (last_score.c.last_score.is_(None)) | (last_score.c.last_score <= since),
        )
        .order_by(m.Project.code)
    )
    # Refs that differ only in case or spaces are most likely one person entered at two places.
    same_ref = func.lower(func.trim(m.Person.person_ref))
    clashing = (
        select(same_ref).group_by(same_ref).having(func.count(func.distinct(m.Person.organisation_id)) > 1)
    )
    two_orgs = (
        select(m.Person.person_ref, m.Organisation.ods_code, m.Organisation.name)
        .join(m.Organisation, m.Organisation.id == m.Person.organisation_id)
        .where(same_ref.in_(clashing))
        .order_by(same_ref, m.Organisation.ods_code)
    )
    out_of_range = [
        select(
            literal(entity).label("data"),
            key.label("code"),
            literal(col.name).label("column"),
            func.min(col).label("earliest"),
            func.max(col).label("latest"),
            func.count().label("rows"),
        )
        .select_from(table)
        .where(_implausible(col))
        .group_by(key)
        for entity, key, table, col in DATE_COLUMNS
    ]
    for entity, key, table, col, on in DATE_COLUMNS_OF_CHILDREN:
        query = select(
            literal(entity).label("data"),
            key.label("code"),
            literal(col.name).label("column"),
            func.min(col).label("earliest"),
            func.max(col).label("latest"),
            func.count().label("rows"),
        )
        if on is None:  # observations: through their measure to the project
            query = (
                query.select_from(table)
                .join(m.Measure, m.Measure.id == m.Observation.measure_id)
                .join(m.Project, m.Project.id == m.Measure.project_id)
            )
        else:
            query = query.select_from(table).join(key.class_, on)
        out_of_range.append(query.where(_implausible(col)).group_by(key))
    queries = {
        "organisations_without_coordinates": no_coordinates,
        "people_without_organisation": orphans,
        "projects_without_measures": no_measures,
        "stale_projects": stale,
        "person_ref_at_two_organisations": two_orgs,
    }
    lists = {key: pd.read_sql(query, conn) for key, query in queries.items()}
    found = [pd.read_sql(q, conn) for q in out_of_range]
    dates = pd.concat([f for f in found if len(f)] or found[:1], ignore_index=True)
    for column in ("earliest", "latest"):  # SQLite hands min/max of a date back as text
        dates[column] = [None if v is None else str(v)[:10] for v in dates[column]]
    lists["dates_out_of_range"] = dates
    return lists


def _implausible(col):
    return (col < db.EARLIEST_DATE) | (col > db.LATEST_DATE)
