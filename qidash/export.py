"""Writing the section-3 format: the database (or a scope of it) as a workbook, and the import templates.

The workbook has one sheet per entity with exactly the columns :mod:`qidash.ingest` reads, so exporting
and importing into an empty database reproduces the same measures. Text that a spreadsheet would run as
a formula (``=``, ``+``, ``-``, ``@`` first) is neutralised with a leading ``'`` by the one writer,
:mod:`qidash.tabular`; the import removes it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Connection, Engine, Select, null, select, union
from sqlalchemy.orm import aliased

from qidash import models as m
from qidash.ingest.formats import FORMATS
from qidash.scope import Scope
from qidash.tabular import csv_bytes, neutralise, xlsx_bytes


def _cell_value(value):
    """A stored value as the import format writes it: yes/no for booleans, text neutralised."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.date()
    return neutralise(value)


# --- what a scope exports ---------------------------------------------------------------------------------


class _Selection:
    """Which organisations, people and projects to export: everything, or a scope and what its rows need.

    A scope's projects (led by or partnered with an organisation in it) bring their leads, members and
    partner organisations along, so the workbook loads on its own into an empty database.
    """

    def __init__(self, scope: Scope | None):
        self.everything = scope is None or scope.is_system
        if self.everything:
            return
        projects = select(m.Project.id).where(scope.project_condition())
        self.projects = projects
        self.people = union(
            scope.person_ids(),
            select(m.Project.lead_person_id).where(
                m.Project.id.in_(projects), m.Project.lead_person_id.is_not(None)
            ),
            select(m.ProjectMember.person_id).where(m.ProjectMember.project_id.in_(projects)),
        )
        self.orgs = union(
            scope.org_ids(),
            select(m.Person.organisation_id).where(m.Person.id.in_(self.people)),
            select(m.Project.lead_organisation_id).where(m.Project.id.in_(projects)),
            select(m.ProjectPartner.organisation_id).where(m.ProjectPartner.project_id.in_(projects)),
        )

    def only(self, query: Select, column, which: str) -> Select:
        """``query`` limited to rows whose ``column`` is among the selected ``which``."""
        if self.everything:
            return query
        return query.where(column.in_(getattr(self, which)))


def _queries(sel: _Selection) -> dict[str, Select]:
    """One SELECT per entity, its columns named and ordered as the import format's."""
    pcn, locality, parent = aliased(m.Pcn), aliased(m.Locality), aliased(m.Priority)
    person, org, cohort = aliased(m.Person), aliased(m.Organisation), aliased(m.Cohort)
    project, measure = aliased(m.Project), aliased(m.Measure)

    def on_person(model):
        return (
            select(person.person_ref, cohort.code.label("cohort_code"))
            .join(person, person.id == model.person_id)
            .join(cohort, cohort.id == model.cohort_id)
        )

    def on_project(model, *cols):
        return select(project.code.label("project_code"), *cols).join(project, project.id == model.project_id)

    q = {
        "localities": select(m.Locality.code, m.Locality.name).order_by(m.Locality.code),
        "pcns": select(m.Pcn.code, m.Pcn.name, locality.code.label("locality_code"))
        .join(locality, locality.id == m.Pcn.locality_id)
        .order_by(m.Pcn.code),
        "organisations": sel.only(
            select(
                m.Organisation.ods_code,
                m.Organisation.name,
                m.Organisation.kind,
                m.Organisation.sector,
                pcn.code.label("pcn_code"),
                m.Organisation.postcode,
                m.Organisation.latitude,
                m.Organisation.longitude,
                m.Organisation.beds,
                m.Organisation.staff_headcount,
                m.Organisation.offered_on,
                m.Organisation.cqc_location_id,
                m.Organisation.closed_on,
            )
            .outerjoin(pcn, pcn.id == m.Organisation.pcn_id)
            .order_by(m.Organisation.ods_code),
            m.Organisation.id,
            "orgs",
        ),
        "people": sel.only(
            select(
                m.Person.person_ref,
                org.ods_code,
                m.Person.role,
                m.Person.is_patient_partner,
                m.Person.display_name,
                m.Person.consents_to_be_named,
                m.Person.left_on,
            )
            .join(org, org.id == m.Person.organisation_id)
            .order_by(m.Person.person_ref),
            m.Person.id,
            "people",
        ),
        "tiers": select(
            m.Framework.code.label("framework"),
            m.Tier.code,
            m.Tier.name,
            m.Tier.rank,
            m.Tier.attained_by,
            m.Framework.name.label("framework_name"),
        )
        .join(m.Framework, m.Framework.id == m.Tier.framework_id)
        .order_by(m.Framework.code, m.Tier.rank),
        "courses": select(
            m.Course.code, m.Course.name, m.Tier.code.label("tier_code"), m.Course.provider, m.Course.hours
        )
        .join(m.Tier, m.Tier.id == m.Course.tier_id)
        .order_by(m.Course.code),
        "cohorts": select(
            m.Cohort.code,
            m.Course.code.label("course_code"),
            m.Cohort.start_date,
            m.Cohort.name,
            m.Cohort.end_date,
            locality.code.label("locality_code"),
            m.Cohort.sessions,
            m.Cohort.delivered_by,
        )
        .join(m.Course, m.Course.id == m.Cohort.course_id)
        .outerjoin(locality, locality.id == m.Cohort.locality_id)
        .order_by(m.Cohort.code),
        "enrolments": sel.only(
            on_person(m.Enrolment)
            .add_columns(m.Enrolment.status, m.Enrolment.completed_on, m.Enrolment.sessions_attended)
            .order_by(cohort.code, person.person_ref),
            m.Enrolment.person_id,
            "people",
        ),
        "attendance": sel.only(
            on_person(m.SessionAttendance)
            .add_columns(
                m.SessionAttendance.session_no.label("session"),
                m.SessionAttendance.held_on,
                m.SessionAttendance.attended,
            )
            .order_by(cohort.code, person.person_ref, m.SessionAttendance.session_no),
            m.SessionAttendance.person_id,
            "people",
        ),
        "faculty": sel.only(
            on_person(m.FacultyRole)
            .add_columns(m.FacultyRole.role)
            .order_by(cohort.code, person.person_ref, m.FacultyRole.role),
            m.FacultyRole.person_id,
            "people",
        ),
        "priorities": select(m.Priority.code, m.Priority.name, parent.code.label("parent_code"))
        .outerjoin(parent, parent.id == m.Priority.parent_id)
        .order_by(m.Priority.code),
        "projects": sel.only(
            select(
                m.Project.code,
                m.Project.title,
                m.Priority.code.label("priority_code"),
                org.ods_code.label("lead_ods_code"),
                m.Project.aim,
                person.person_ref.label("lead_person_ref"),
                null().label("partner_ods_codes"),  # filled in from project_partner below
                pcn.code.label("pcn_code"),
                cohort.code.label("cohort_code"),
                m.Project.start_date,
                m.Project.end_date,
                m.Project.status,
                m.Project.patient_involvement,
                m.Project.story,
                m.Project.lessons,
            )
            .join(m.Priority, m.Priority.id == m.Project.priority_id)
            .join(org, org.id == m.Project.lead_organisation_id)
            .outerjoin(person, person.id == m.Project.lead_person_id)
            .outerjoin(pcn, pcn.id == m.Project.pcn_id)
            .outerjoin(cohort, cohort.id == m.Project.cohort_id)
            .order_by(m.Project.code),
            m.Project.id,
            "projects",
        ),
        "project_members": sel.only(
            on_project(m.ProjectMember, person.person_ref, m.ProjectMember.role)
            .join(person, person.id == m.ProjectMember.person_id)
            .order_by(project.code, person.person_ref),
            m.ProjectMember.project_id,
            "projects",
        ),
        "progress": sel.only(
            on_project(m.ProgressScore, m.ProgressScore.scored_on, m.ProgressScore.score).order_by(
                project.code, m.ProgressScore.scored_on
            ),
            m.ProgressScore.project_id,
            "projects",
        ),
        "measures": sel.only(
            on_project(
                m.Measure,
                m.Measure.code,
                m.Measure.name,
                m.Measure.chart,
                m.Measure.kind,
                m.Measure.unit,
                m.Measure.improvement,
                m.Measure.target,
            ).order_by(project.code, m.Measure.code),
            m.Measure.project_id,
            "projects",
        ),
        "observations": sel.only(
            select(
                project.code.label("project_code"),
                measure.code.label("measure_code"),
                m.Observation.period,
                m.Observation.value,
                m.Observation.denominator,
            )
            .join(measure, measure.id == m.Observation.measure_id)
            .join(project, project.id == measure.project_id)
            .order_by(project.code, measure.code, m.Observation.period),
            measure.project_id,
            "projects",
        ),
        "changes": sel.only(
            on_project(
                m.Change,
                m.Change.changed_on,
                m.Change.title,
                m.Change.kind,
                measure.code.label("measure_code"),
            )
            .outerjoin(measure, measure.id == m.Change.measure_id)
            .order_by(project.code, m.Change.changed_on, m.Change.title),
            m.Change.project_id,
            "projects",
        ),
        "targets": select(
            m.Target.measure, m.Target.value, m.Target.due_on, m.Target.scope_type, m.Target.scope_code
        ).order_by(m.Target.measure, m.Target.scope_type, m.Target.scope_code, m.Target.due_on),
    }
    return q


def _partners(conn: Connection, sel: _Selection) -> dict[str, str]:
    """Project code -> its partner ODS codes, ``;``-separated."""
    query = sel.only(
        select(m.Project.code, m.Organisation.ods_code)
        .join(m.ProjectPartner, m.ProjectPartner.project_id == m.Project.id)
        .join(m.Organisation, m.Organisation.id == m.ProjectPartner.organisation_id)
        .order_by(m.Project.code, m.Organisation.ods_code),
        m.Project.id,
        "projects",
    )
    codes: dict[str, list[str]] = defaultdict(list)
    for project_code, ods_code in conn.execute(query):
        codes[project_code].append(ods_code)
    return {k: ";".join(v) for k, v in codes.items()}


def export_rows(engine: Engine, scope: Scope | None = None) -> dict[str, list[tuple]]:
    """Per entity, its rows as tuples in the columns of ``ingest.FORMATS`` (the scope's, or all)."""
    sel = _Selection(scope)
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        partners = _partners(conn, sel)
        for entity, query in _queries(sel).items():
            rows = conn.execute(query).all()
            if entity == "projects":
                at = [c.name for c in FORMATS["projects"].columns].index("partner_ods_codes")
                rows = [(*r[:at], partners.get(r[0]), *r[at + 1 :]) for r in rows]
            if entity == "targets":
                rows = [(r[0], r[1], r[2], "system" if r[3] == "system" else f"{r[3]}:{r[4]}") for r in rows]
            out[entity] = [tuple(r) for r in rows]
    return out


# --- workbooks -------------------------------------------------------------------------------------------


def _notes_rows() -> list[tuple]:
    """One row per column of every entity: what it holds, whether it is required, an example."""
    rows = [("sheet", "column", "required", "kind of value", "what it holds", "example")]
    for fmt in FORMATS.values():
        for c in fmt.columns:
            example = "" if c.example is None else c.example
            rows.append(
                (fmt.name, c.name, "yes" if c.required else "no", c.describe_type(), c.about, example)
            )
    return rows


def _write_book(sheets: dict[str, list[tuple]], notes: list[tuple]) -> bytes:
    """An XLSX with a ``notes`` sheet first, then one sheet per entity (heading row, then the rows)."""
    return xlsx_bytes(
        {
            entity: (
                [c.name for c in FORMATS[entity].columns],
                ([_cell_value(v) for v in row] for row in rows),
            )
            for entity, rows in sheets.items()
        },
        notes,
    )


def export_workbook(engine: Engine, scope: Scope | None = None) -> bytes:
    """The database (or ``scope`` of it) as an XLSX workbook in the import format."""
    rows = export_rows(engine, scope)
    label = scope.label() if scope is not None else "whole system"
    notes = [
        (f"Exported from qidash on {dt.date.today():%d %B %Y} ({label}).",),
        (
            (
                "Load it back with the Data page or `python -m qidash import`. This sheet is ignored when "
                "loading."
            ),
        ),
        (),
        *_notes_rows(),
    ]
    return _write_book(rows, notes)


def _example_row(entity: str) -> tuple:
    return tuple(c.example for c in FORMATS[entity].columns)


def template_xlsx() -> bytes:
    """The import template: a ``notes`` sheet explaining every column, then one sheet per entity with an
    example row (the examples refer to each other, so the whole workbook loads as it is)."""
    notes = [
        ("Fill in the sheets you need and delete the example rows. Required columns must not be blank.",),
        (
            (
                "Dates: 2019-12-31 or 31/12/2019. Yes/no: y/n, yes/no, true/false, 1/0. Lists: codes "
                "separated "
                "by ;"
            ),
        ),
        ("Leave out a column to keep what is stored; a blank cell clears it.",),
        (),
        *_notes_rows(),
    ]
    return _write_book({e: [_example_row(e)] for e in FORMATS}, notes)


def template_csv(entity: str) -> bytes:
    """The CSV template of one entity: its heading row and one example row, UTF-8 with a BOM (for Excel)."""
    return csv_bytes([c.name for c in FORMATS[entity].columns], [_example_row(entity)])
