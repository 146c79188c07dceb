"""The section-3 import format (DESIGN.md section 3): each entity's columns, natural key and the words
the template and notes sheet show, and the names a file may go by.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qidash import models as m
from qidash import store
from qidash.measures import REPORT_KEYS

# --- the format -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an entity's file: how to read it and how to explain it on the notes sheet."""

    name: str
    kind: str  # text | code | int | number | date | bool | list | choice | scope
    required: bool = False
    about: str = ""
    example: object = None
    choices: tuple[str, ...] = ()
    refers_to: str | None = None  # the entity whose code this column names
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    default: object = None  # what a blank cell means, when not "nothing"
    max_len: int | None = None

    @property
    def is_code(self) -> bool:
        return self.kind in ("code", "list") or self.refers_to is not None

    def describe_type(self) -> str:
        """The column's kind of value in words, for the notes sheet."""
        words = {
            "text": "text",
            "code": "code",
            "int": "whole number",
            "number": "number",
            "date": "date: 2019-12-31 or 31/12/2019, from 1900 to 2100",
            "bool": "yes or no (also y/n, true/false, 1/0)",
            "list": "codes separated by ;",
            "choice": "one of: " + ", ".join(self.choices),
            "scope": "system, locality:CODE or pcn:CODE",
        }[self.kind]
        if self.minimum is not None and self.maximum is not None:
            words += f", {num_text(self.minimum)} to {num_text(self.maximum)}"
        elif self.minimum is not None:
            words += f", {num_text(self.minimum)} or more"
        return words


@dataclass(frozen=True)
class EntityFormat:
    """One file or sheet of the import format."""

    name: str
    about: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the natural key: a load upserts on it

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _req(name, kind, about, example, **kw) -> Column:
    return Column(name, kind, True, about, example, **kw)


def _opt(name, kind, about, example=None, **kw) -> Column:
    return Column(name, kind, False, about, example, **kw)


def _target_measures() -> tuple[str, ...]:
    return tuple(REPORT_KEYS)


def _with_schema_lengths(fmt: EntityFormat) -> EntityFormat:
    """``fmt`` with each text column's length limit taken from the schema, so a long value is a
    message rather than a database error."""
    table = store.SPECS[fmt.name].model.__table__
    elsewhere = {"framework": m.Framework.code, "framework_name": m.Framework.name}  # tiers' framework
    columns = []
    for c in fmt.columns:
        stored = table.c[c.name] if c.name in table.c else elsewhere.get(c.name)
        length = getattr(stored.type, "length", None) if stored is not None else None
        if c.kind in ("text", "code") and length and c.refers_to is None:
            c = replace(c, max_len=length)
        columns.append(c)
    return replace(fmt, columns=tuple(columns))


FORMATS: dict[str, EntityFormat] = {
    f.name: _with_schema_lengths(f)
    for f in (
        EntityFormat(
            "localities",
            "Localities: the areas PCNs belong to.",
            (
                _req("code", "code", "Short code of the locality", "NORTH"),
                _req("name", "text", "Name of the locality", "North locality"),
            ),
            ("code",),
        ),
        EntityFormat(
            "pcns",
            "Primary Care Networks.",
            (
                _req("code", "code", "Short code of the PCN", "PCN-N1"),
                _req("name", "text", "Name of the PCN", "North Central PCN"),
                _req("locality_code", "code", "Code of its locality", "NORTH", refers_to="localities"),
            ),
            ("code",),
        ),
        EntityFormat(
            "organisations",
            "Organisations: practices, care homes, trusts, the council, voluntary groups.",
            (
                _req("ods_code", "code", "ODS code (or another unique code)", "A81001"),
                _req("name", "text", "Name of the organisation", "Riverside Surgery"),
                _req("kind", "choice", "What sort of organisation", "gp_practice", choices=m.ORG_KINDS),
                _req("sector", "choice", "Sector", "nhs", choices=m.SECTORS),
                _opt(
                    "pcn_code",
                    "code",
                    "Code of its PCN (blank: outside every PCN)",
                    "PCN-N1",
                    refers_to="pcns",
                ),
                _opt("postcode", "text", "Postcode", "TR1 2AB"),
                _opt("latitude", "number", "Latitude for the map", 50.2632, minimum=-90, maximum=90),
                _opt("longitude", "number", "Longitude for the map", -5.051, minimum=-180, maximum=180),
                _opt("beds", "int", "Beds (care homes)", None, minimum=0),
                _opt("staff_headcount", "int", "Staff headcount", 25, minimum=0),
                _opt("offered_on", "date", "Date QI training was offered to it", "2024-01-15"),
                _opt("cqc_location_id", "code", "CQC location ID (care homes)", "1-118554697"),
                _opt("closed_on", "date", "Date it closed (it stays, but leaves the counts)", None),
            ),
            ("ods_code",),
        ),
        EntityFormat(
            "people",
            "People: staff and patient partners, by a pseudonymous reference.",
            (
                _req("person_ref", "code", "Pseudonymous reference, the same in every file", "P0001"),
                _req(
                    "ods_code", "code", "ODS code of their organisation", "A81001", refers_to="organisations"
                ),
                _opt("role", "text", "Professional role", "practice manager"),
                _opt("is_patient_partner", "bool", "A patient or carer partner (blank: no)", "no"),
                _opt("display_name", "text", "Name, shown only with consent", None),
                _opt("consents_to_be_named", "bool", "Agreed to be named on screen (blank: no)", "no"),
                _opt("left_on", "date", "Date they left the organisation", None),
            ),
            ("person_ref",),
        ),
        EntityFormat(
            "tiers",
            "Capability tiers of a framework (e.g. Learn, Live, Lead).",
            (
                _req("framework", "code", "Code of the framework the tier belongs to", "qi_tiers"),
                _req("code", "code", "Code of the tier (unique across frameworks)", "learn"),
                _req("name", "text", "Name of the tier", "Learn"),
                _req("rank", "int", "1 for the first tier, 2 for the next...", 1, minimum=1),
                _opt(
                    "attained_by",
                    "choice",
                    "How it is attained (blank: course)",
                    "course",
                    choices=m.ATTAINED_BY,
                ),
                _opt("framework_name", "text", "Name of the framework (used when it is new)", "QI tiers"),
            ),
            ("code",),
        ),
        EntityFormat(
            "courses",
            "Courses; completing one attains its tier.",
            (
                _req("code", "code", "Short code of the course", "QSIR-P"),
                _req("name", "text", "Name of the course", "QSIR Practitioner"),
                _req("tier_code", "code", "Code of the tier it gives", "learn", refers_to="tiers"),
                _opt("provider", "text", "Who runs it", "Trust QI team"),
                _opt("hours", "number", "Teaching hours", 35, minimum=0),
            ),
            ("code",),
        ),
        EntityFormat(
            "cohorts",
            "Cohorts: one run of a course.",
            (
                _req("code", "code", "Short code of the cohort", "QSIR-2024-01"),
                _req("course_code", "code", "Code of the course", "QSIR-P", refers_to="courses"),
                _req("start_date", "date", "First session", "2024-02-01"),
                _opt("name", "text", "Name of the cohort", "QSIR February 2024"),
                _opt("end_date", "date", "Last session", "2024-06-27"),
                _opt("locality_code", "code", "Locality it ran in", "NORTH", refers_to="localities"),
                _opt("sessions", "int", "Number of sessions", 6, minimum=1),
                _opt(
                    "delivered_by",
                    "choice",
                    "Local faculty or external trainers (blank: external)",
                    "local",
                    choices=m.DELIVERED_BY,
                ),
            ),
            ("code",),
        ),
        EntityFormat(
            "enrolments",
            "Enrolments: a person on a cohort.",
            (
                _req("person_ref", "code", "Reference of the person", "P0001", refers_to="people"),
                _req("cohort_code", "code", "Code of the cohort", "QSIR-2024-01", refers_to="cohorts"),
                _req("status", "choice", "Where they are", "completed", choices=m.ENROLMENT_STATUSES),
                _opt("completed_on", "date", "Date completed (completed enrolments only)", "2024-06-27"),
                _opt("sessions_attended", "int", "Sessions attended", 6, minimum=0),
            ),
            ("person_ref", "cohort_code"),
        ),
        EntityFormat(
            "attendance",
            "The register: one row per person per session of a cohort.",
            (
                _req("person_ref", "code", "Reference of the person", "P0001", refers_to="people"),
                _req("cohort_code", "code", "Code of the cohort", "QSIR-2024-01", refers_to="cohorts"),
                _req("session", "int", "Session number, 1 for the first", 1, minimum=1),
                _opt("held_on", "date", "Date of the session", "2024-02-01"),
                _opt("attended", "bool", "Whether they attended (blank: yes)", "yes", default=True),
            ),
            ("person_ref", "cohort_code", "session"),
        ),
        EntityFormat(
            "faculty",
            "Faculty: trainers, coaches and mentors of a cohort.",
            (
                _req("person_ref", "code", "Reference of the person", "P0001", refers_to="people"),
                _req("cohort_code", "code", "Code of the cohort", "QSIR-2024-01", refers_to="cohorts"),
                _req("role", "choice", "Their role", "coach", choices=m.FACULTY_ROLES),
            ),
            ("person_ref", "cohort_code", "role"),
        ),
        EntityFormat(
            "priorities",
            "Priorities: the levels of a driver diagram.",
            (
                _req("code", "code", "Short code of the priority", "FALLS"),
                _req("name", "text", "Name of the priority", "Reduce falls"),
                _opt("parent_code", "code", "Code of the priority above it", None, refers_to="priorities"),
            ),
            ("code",),
        ),
        EntityFormat(
            "projects",
            "Improvement projects.",
            (
                _req("code", "code", "Short code of the project", "QI-001"),
                _req("title", "text", "Title", "Fewer falls at night"),
                _req("priority_code", "code", "Code of its priority", "FALLS", refers_to="priorities"),
                _req(
                    "lead_ods_code",
                    "code",
                    "ODS code of the lead organisation",
                    "A81001",
                    refers_to="organisations",
                ),
                _opt("aim", "text", "Aim statement", "Reduce falls at night by 30% by March 2025"),
                _opt("lead_person_ref", "code", "Reference of the project lead", "P0001", refers_to="people"),
                _opt(
                    "partner_ods_codes",
                    "list",
                    "ODS codes of partner organisations",
                    None,
                    refers_to="organisations",
                ),
                _opt("pcn_code", "code", "Code of its PCN", "PCN-N1", refers_to="pcns"),
                _opt("cohort_code", "code", "Cohort it came from", "QSIR-2024-01", refers_to="cohorts"),
                _opt("start_date", "date", "Start date", "2024-03-01"),
                _opt("end_date", "date", "End date", None),
                _opt("status", "choice", "Status (blank: active)", "active", choices=m.PROJECT_STATUSES),
                _opt("patient_involvement", "bool", "Patients involved (blank: no)", "yes"),
                _opt("story", "text", "A short story of what happened", None),
                _opt("lessons", "text", "Lessons learned", None),
            ),
            ("code",),
        ),
        EntityFormat(
            "project_members",
            "The team of each project.",
            (
                _req("project_code", "code", "Code of the project", "QI-001", refers_to="projects"),
                _req("person_ref", "code", "Reference of the person", "P0001", refers_to="people"),
                _opt("role", "choice", "Their role (blank: member)", "lead", choices=m.MEMBER_ROLES),
            ),
            ("project_code", "person_ref"),
        ),
        EntityFormat(
            "progress",
            "IHI progress scores of each project.",
            (
                _req("project_code", "code", "Code of the project", "QI-001", refers_to="projects"),
                _req("scored_on", "date", "Date of the score", "2024-06-30"),
                _req("score", "number", "IHI progress score", 2.5, minimum=0.5, maximum=5.0, step=0.5),
            ),
            ("project_code", "scored_on"),
        ),
        EntityFormat(
            "measures",
            "The measures each project charts.",
            (
                _req("project_code", "code", "Code of the project", "QI-001", refers_to="projects"),
                _req("code", "code", "Code of the measure (unique within the project)", "FALLS_NIGHT"),
                _req("name", "text", "Name of the measure", "Residents who fell at night"),
                _req(
                    "chart",
                    "choice",
                    "Chart: run, xmr, p (proportion), u (rate), c (count)",
                    "p",
                    choices=m.CHART_KINDS,
                ),
                _opt(
                    "kind",
                    "choice",
                    "Outcome, process or balancing (blank: outcome)",
                    "outcome",
                    choices=m.MEASURE_KINDS,
                ),
                _opt("unit", "text", "Unit", "residents"),
                _opt(
                    "improvement",
                    "choice",
                    "Which way is better (blank: increase)",
                    "decrease",
                    choices=m.IMPROVEMENT_DIRECTIONS,
                ),
                _opt("target", "number", "Target value", None),
            ),
            ("project_code", "code"),
        ),
        EntityFormat(
            "observations",
            "The data points of each measure.",
            (
                _req("project_code", "code", "Code of the project", "QI-001", refers_to="projects"),
                _req("measure_code", "code", "Code of the measure", "FALLS_NIGHT", refers_to="measures"),
                _req("period", "date", "Start of the period (day, week or month)", "2024-03-01"),
                _req("value", "number", "The value (for p and u charts, the numerator)", 4),
                _opt("denominator", "number", "Denominator (p and u charts only)", 40, minimum=0),
            ),
            ("project_code", "measure_code", "period"),
        ),
        EntityFormat(
            "changes",
            "PDSA cycles and changes, shown on charts; rebase starts a new phase.",
            (
                _req("project_code", "code", "Code of the project", "QI-001", refers_to="projects"),
                _req("changed_on", "date", "Date of the change", "2024-04-02"),
                _req("title", "text", "What was tried", "PDSA 1: hourly night checks"),
                _opt(
                    "kind", "choice", "pdsa, change or rebase (blank: pdsa)", "pdsa", choices=m.CHANGE_KINDS
                ),
                _opt(
                    "measure_code",
                    "code",
                    "The measure it applies to (blank: all)",
                    "FALLS_NIGHT",
                    refers_to="measures",
                ),
            ),
            ("project_code", "changed_on", "title"),
        ),
        EntityFormat(
            "targets",
            "Targets of the programme.",
            (
                _req(
                    "measure",
                    "choice",
                    "Which measure the target is for",
                    "people_trained",
                    choices=_target_measures(),
                ),
                _req("value", "number", "Target value", 500, minimum=0),
                _req("due_on", "date", "Date it is due", "2025-03-31"),
                _opt("scope", "scope", "Where it applies (blank: system)", "system"),
            ),
            ("measure", "scope", "due_on"),
        ),
    )
}
assert tuple(FORMATS) == store.ENTITY_ORDER

NOUNS = {
    "localities": "locality",
    "pcns": "PCN",
    "organisations": "organisation",
    "people": "person",
    "tiers": "tier",
    "courses": "course",
    "cohorts": "cohort",
    "priorities": "priority",
    "projects": "project",
    "measures": "measure",
}
# store.Lookups names of the entities other rows refer to.
LOOKUP_NAMES = {
    "localities": "locality",
    "pcns": "pcn",
    "organisations": "organisation",
    "people": "person",
    "tiers": "tier",
    "courses": "course",
    "cohorts": "cohort",
    "priorities": "priority",
    "projects": "project",
}
# File names people use for an entity besides its own name.
ALIASES = {"organizations": "organisations", "enrollments": "enrolments", "register": "attendance"}
# Workbook sheets that explain rather than hold data (the template's, the export's).
IGNORED_SHEETS = ("notes", "readme", "read_me", "about", "instructions")


def num_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
