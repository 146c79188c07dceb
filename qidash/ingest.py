"""Loading files in the section-3 format (DESIGN.md section 3): read, check, preview, then commit.

The Data page and ``python -m qidash import`` share one API::

    batch = read_upload([(file_name, data), ...])   # raises UnusableInput if a file cannot be used
    report = preview(engine, batch)                  # per-entity counts, rejected rows, notes; writes nothing
    result = commit(engine, batch, user="...")       # all or nothing, unless allow_partial=True

Reading checks what a file can tell on its own: headings, types, ranges, one row's columns against each
other. Preview and commit then check each reference against the database and the rest of the load, and
plan the upsert through :mod:`qidash.store`. Every problem names the file, the row as the spreadsheet
shows it (the heading row is row 1), the column and the reason in plain words.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import hashlib
import io
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath

import pandas as pd
from sqlalchemy import Connection, Engine, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from qidash import db, store
from qidash import models as m

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_LABEL = "50 MB"

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
            words += f", {_num_text(self.minimum)} to {_num_text(self.maximum)}"
        elif self.minimum is not None:
            words += f", {_num_text(self.minimum)} or more"
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
    from qidash.measures import REPORT_KEYS

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


# --- problems and batches ---------------------------------------------------------------------------------


class UnusableInput(Exception):
    """Files that cannot be loaded at all (empty, unreadable, of no known entity); ``messages`` says why."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(" ".join(messages))


@dataclass(frozen=True)
class Problem:
    """A rejected row (``rejects``) or a note about one that still loads."""

    entity: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str
    rejects: bool = True

    def message(self) -> str:
        """``Row 7, column "beds": "-3" is negative; ...`` (the file is shown separately)."""
        where = []
        if self.row is not None:
            where.append(f"Row {self.row}")
        if self.column:
            where.append(f'column "{self.column}"')
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


@dataclass
class Table:
    """One file or sheet's rows, typed. ``rows`` passed every check a file alone allows."""

    entity: str
    file: str
    columns: list[str]
    rows: list[tuple[int, dict]] = field(default_factory=list)
    rejected: list[tuple[int, dict]] = field(default_factory=list)  # what could be read of bad rows


@dataclass(frozen=True)
class UploadedFile:
    name: str
    size: int
    sha256: str


@dataclass
class Batch:
    """What :func:`read_upload` made of the files: tables per entity and the problems found so far."""

    files: list[UploadedFile]
    tables: list[Table]
    problems: list[Problem]

    @property
    def entities(self) -> list[str]:
        present = {t.entity for t in self.tables}
        return [e for e in store.ENTITY_ORDER if e in present]

    @property
    def file_label(self) -> str:
        return ", ".join(f.name for f in self.files)

    @property
    def sha256(self) -> str:
        """One file's hash, or for several the hash of their hashes in name order."""
        if len(self.files) == 1:
            return self.files[0].sha256
        joined = "".join(f.sha256 for f in sorted(self.files, key=lambda f: f.name))
        return hashlib.sha256(joined.encode()).hexdigest()


# --- reading files --------------------------------------------------------------------------------------


@dataclass
class _RawTable:
    file: str
    entity: str
    header: list
    rows: list[tuple[int, list]]


def read_upload(files: list[tuple[str, bytes]], max_bytes: int | None = MAX_UPLOAD_BYTES) -> Batch:
    """Read uploaded files (CSV or XLSX) into a :class:`Batch`; raises UnusableInput, naming every bad file."""
    if not files:
        raise UnusableInput(["No file was given."])
    # A name is shown on pages and kept in the audit: control characters in it are written out.
    files = [(_visible(name), data) for name, data in files]
    total = sum(len(data) for _, data in files)
    if max_bytes is not None and total > max_bytes:
        raise UnusableInput(
            [
                (
                    f"The upload is {total / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_LABEL}. Split it "
                    "into smaller files, or load it on the server with `python -m qidash import`."
                )
            ]
        )
    errors: list[str] = []
    raw_tables: list[_RawTable] = []
    notes: list[Problem] = []
    for name, data in files:
        try:
            raw_tables.extend(_read_file(name, data, notes))
        except UnusableInput as exc:
            errors.extend(exc.messages)
    tables, problems = [], list(notes)
    for raw in raw_tables:
        try:
            table, found = _typed_table(raw)
        except UnusableInput as exc:
            errors.extend(exc.messages)
            continue
        tables.append(table)
        problems.extend(found)
    if errors:
        raise UnusableInput(errors)
    if not any(t.rows or t.rejected for t in tables):
        raise UnusableInput([f"{t.file} has headings but no rows." for t in tables])
    uploaded = [UploadedFile(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in files]
    return Batch(uploaded, tables, problems)


def read_paths(paths: Iterable[str]) -> Batch:
    """Read files from disk (a folder means every CSV and XLSX in it); no size limit. Raises UnusableInput."""
    files, errors = [], []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                # Excel leaves "~$name.xlsx" lock files beside open workbooks; they are not data.
                if p.suffix.lower() in (".csv", ".xlsx", ".xlsm") and not p.name.startswith(("~$", "."))
            )
            if not found:
                errors.append(f"{given}: the folder holds no .csv or .xlsx files.")
            files.extend((p.name, p.read_bytes()) for p in found)
        elif path.is_file():
            files.append((path.name, path.read_bytes()))
        else:
            errors.append(f"{given}: no such file.")
    if not files:
        raise UnusableInput(errors or ["No file was given."])
    try:
        batch = read_upload(files, max_bytes=None)
    except UnusableInput as exc:
        raise UnusableInput(errors + exc.messages) from exc
    if errors:
        raise UnusableInput(errors)
    return batch


def entity_for_name(name: str) -> str | None:
    """The entity a file or sheet name means (``enrolments_2019.csv`` -> ``enrolments``), or None."""
    stem = _normalise(PurePath(name).stem if "." in name else name)
    names = {**{e: e for e in FORMATS}, **ALIASES}
    matches = [n for n in names if stem == n or stem.startswith(n)]
    return names[max(matches, key=len)] if matches else None


def _unknown_name(what: str) -> str:
    return (
        f"{what} does not say which data it holds. Name it after one of: {', '.join(FORMATS)} "
        "(e.g. enrolments.csv or enrolments_2019.csv; in a workbook, a sheet called enrolments)."
    )


def _read_file(name: str, data: bytes, notes: list[Problem]) -> list[_RawTable]:
    suffix = PurePath(name).suffix.lower()
    if not data.strip():
        raise UnusableInput([f"{name} is empty."])
    if suffix in (".xlsx", ".xlsm") or data[:2] == b"PK":
        return _read_workbook(name, data, notes)
    if suffix == ".xls":
        raise UnusableInput(
            [f"{name} is an old-style Excel file (.xls). Save it as .xlsx or as CSV and try again."]
        )
    if suffix not in (".csv", ".txt", ""):
        raise UnusableInput([f"{name} is not a CSV or XLSX file."])
    named = entity_for_name(name)
    read_notes: list[Problem] = []  # about the file, for whichever entity it turns out to hold
    header, rows = _read_csv(name, data, named, read_notes)
    entity = named or _entity_from_header(name, header, notes)
    notes += [dataclasses.replace(n, entity=entity) for n in read_notes]
    return [_RawTable(name, entity, header, rows)]


_SAVE_AS_CSV = 'Save it from Excel as "CSV UTF-8 (comma delimited)" and try again.'


def _not_text(name: str, data: bytes) -> str | None:
    """Why ``data`` is not a CSV file in words (UTF-16, a PDF, binary), or None when it may be one."""
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f'{name} is saved as UTF-16 (Excel\'s "Unicode text"), not UTF-8. {_SAVE_AS_CSV}'
    if head.startswith(b"%PDF"):
        return f"{name} is a PDF document, not a CSV file. Load the spreadsheet the data came from instead."
    # UTF-16 without its byte-order mark: every other byte of plain text is NUL.
    even, odd = head[0::2].count(0) / max(1, len(head) // 2), head[1::2].count(0) / max(1, len(head) // 2)
    if max(even, odd) > 0.3 and min(even, odd) < 0.05:
        return f'{name} is saved as UTF-16 (Excel\'s "Unicode text"), not UTF-8. {_SAVE_AS_CSV}'
    # A control character or two is a bad cell, rejected with its row; many mean binary data.
    controls = sum(head.count(bytes([c])) for c in (*range(9), 11, 12, *range(14, 32), 127))
    if controls > max(8, len(head) // 100):
        return (
            f"{name} is not a text file (it holds binary data), so it cannot be read as CSV. {_SAVE_AS_CSV}"
        )
    return None


def _decode(name: str, data: bytes, entity: str | None, notes: list[Problem]) -> str:
    why_not = _not_text(name, data)
    if why_not:
        raise UnusableInput([why_not])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" on Windows saves Windows-1252, not UTF-8; read it and say so.
        notes.append(
            Problem(
                entity, name, None, None, None, "The file is not UTF-8; it was read as Windows-1252.", False
            )
        )
        return data.decode("cp1252", errors="replace")


def _read_csv(name: str, data: bytes, entity: str | None, notes: list[Problem]) -> tuple[list, list]:
    text = _decode(name, data, entity, notes)
    if not text.strip():
        raise UnusableInput([f"{name} is empty."])
    first = text.lstrip().split("\n", 1)[0]
    delimiter = ","
    if "," not in first and "\t" in first:
        delimiter = "\t"
    elif "," not in first and ";" in first:
        raise UnusableInput(
            [
                f"{name}: the columns are separated by semicolons. Save it as CSV with commas (CSV UTF-8 in Excel)."
            ]
        )
    records = _csv_records(name, text, delimiter)
    if not records or not any(c.strip() for c in records[0]):
        raise UnusableInput([f"{name} has no heading row: the first row must name the columns."])
    if text.count("\n") > len(records):  # some cell spans lines
        _check_quotes(name, records, delimiter)
    return records[0], list(enumerate(records[1:], start=2))


def _csv_records(name: str, text: str, delimiter: str) -> list[list[str]]:
    """The records of a CSV text. A quote never closed is an error naming its row: read leniently, the
    rest of the file would silently become one cell of that row."""
    records: list[list[str]] = []
    try:
        # Strict first, record by record, so the row where reading stopped is known.
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            records.append(record)  # noqa: PERF402 - one by one, so a failure knows its row
        return records
    except csv.Error as exc:
        if "end of data" in str(exc):  # the file ended inside a quoted cell
            unclosed = (
                f'{name}: row {len(records) + 1} opens a quote (") that is never closed, so every row after '
                "it would be read as part of one cell. Close the quote or remove it, and load the file again."
            )
            raise UnusableInput([unclosed]) from exc
    # Other slips strict reading refuses (text after a closing quote) read as spreadsheets read them.
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnusableInput([f"{name} could not be read as CSV ({exc}).".replace("\x00", "")]) from exc


def _check_quotes(name: str, records: list[list[str]], delimiter: str) -> None:
    """A stray quote closed by another many lines down makes the rows between one cell: refuse a cell
    whose lines look like rows of the file (as many separators as the heading has)."""
    width = len(records[0])
    if width < 3:
        return
    for index, record in enumerate(records[1:], start=2):
        for cell in record:
            if "\n" in cell:
                lines = cell.split("\n")
                if any(line.count(delimiter) >= width - 1 for line in lines):
                    runs_on = (
                        f'{name}: row {index} has a quote (") that runs on over {len(lines) - 1} line'
                        f"{'s' if len(lines) > 2 else ''}, which look like rows of their own: they would be "
                        "read as one cell. Remove the stray quote, and load the file again."
                    )
                    raise UnusableInput([runs_on])


# What a workbook may unpack to. Parsing is the slow part (about 10 s of CPU per million cells, 50 MB
# of sheet XML), and a small zip can inflate a thousandfold: both are checked on the zip itself, before
# any XML is parsed. Larger data goes in as CSV files, which are read without that cost.
MAX_WORKBOOK_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_WORKBOOK_CELLS = 1_000_000
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")  # a cell element, with or without a prefix


def _check_workbook_size(name: str, data: bytes) -> None:
    """Raise UnusableInput when the workbook would unpack past MAX_WORKBOOK_UNPACKED_BYTES or hold more
    than MAX_WORKBOOK_CELLS cells. Reads the zip's directory, then streams the sheets counting cells
    (sizes in the directory can lie, so the bytes inflated are counted too). No XML is parsed."""
    import zipfile

    split = "Save each sheet as a CSV file and load those instead (several CSV files can be loaded at once)."
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: openpyxl says it is unreadable
    declared = sum(member.file_size for member in members)
    limit_mb = MAX_WORKBOOK_UNPACKED_BYTES // 1024 // 1024
    too_big = (
        f"{name} unpacks to more than {limit_mb} MB, too large to read safely; a workbook is compressed, "
        f"and this one would take minutes to open. {split}"
    )
    if declared > MAX_WORKBOOK_UNPACKED_BYTES:
        raise UnusableInput([too_big])
    too_many = f"{name} holds more than {MAX_WORKBOOK_CELLS:,} cells, too many to read from a workbook safely. {split}"
    inflated = cells = 0
    for member in members:
        if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
            inflated += member.file_size
            continue
        try:
            with archive.open(member) as stream:
                carry = b""
                while chunk := stream.read(1024 * 1024):
                    inflated += len(chunk)
                    if inflated > MAX_WORKBOOK_UNPACKED_BYTES:
                        raise UnusableInput([too_big])
                    # A cell's tag starts at a "<": count up to the last one, carry the rest over.
                    buffer = carry + chunk
                    cut = buffer.rfind(b"<")
                    cut = len(buffer) if cut < 0 else cut
                    cells += len(_CELL.findall(buffer, 0, cut))
                    carry = buffer[cut:]
                    if cells > MAX_WORKBOOK_CELLS:
                        raise UnusableInput([too_many])
                cells += len(_CELL.findall(carry))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return  # damaged: openpyxl says so
    if cells > MAX_WORKBOOK_CELLS:
        raise UnusableInput([too_many])


def _read_workbook(name: str, data: bytes, notes: list[Problem]) -> list[_RawTable]:
    import openpyxl

    unreadable = (
        f"{name} could not be opened as an Excel workbook; it may be damaged or only partly saved. "
        "Save it again from Excel, or upload CSV files instead."
    )
    _check_workbook_size(name, data)
    tables = []
    # A damaged workbook can fail in many ways inside the zip and XML readers; each means "unreadable".
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise UnusableInput([unreadable]) from exc
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # some writers store wrong dimensions; read every row there is
            records = [list(r) for r in sheet.iter_rows(values_only=True)]
            while records and all(_blank(v) for v in records[-1]):
                records.pop()
            label = f"{name} (sheet {sheet.title})"
            if not records or _normalise(sheet.title) in IGNORED_SHEETS:
                continue
            entity = entity_for_name(sheet.title) or _entity_from_header(
                f'{name}: the sheet "{sheet.title}"', records[0], notes
            )
            tables.append(_RawTable(label, entity, records[0], list(enumerate(records[1:], start=2))))
    except UnusableInput:
        raise
    except Exception as exc:  # as above
        raise UnusableInput([unreadable]) from exc
    finally:
        book.close()
    if not tables:
        raise UnusableInput([f"{name} has no sheet with data named after an entity ({', '.join(FORMATS)})."])
    return tables


# --- headings ---------------------------------------------------------------------------------------------


def _normalise(heading) -> str:
    """``" Ods Code"`` -> ``ods_code``: headings are case- and space-insensitive."""
    text = _visible(str(heading or "").replace("\ufeff", "")).strip().lower()
    return re.sub(r"[\s\-]+", "_", text).strip("_")


def _columns_for(raw: _RawTable) -> tuple[dict[str, int], list[Problem]]:
    """Column name -> position for the entity's columns; raises UnusableInput for a file of another kind."""
    fmt = FORMATS[raw.entity]
    names = [_normalise(h) for h in raw.header]
    seen = Counter(n for n in names if n)
    twice = [n for n, k in seen.items() if k > 1]
    if twice:
        raise UnusableInput([f'{raw.file}: the column "{twice[0]}" appears more than once.'])
    present = set(names)
    missing = [c for c in fmt.required if c not in present]
    if missing:
        raise UnusableInput([_missing_columns(raw, missing, present)])
    known = {c.name for c in fmt.columns}
    notes = []
    for name in names:
        if name and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            notes.append(
                Problem(
                    raw.entity,
                    raw.file,
                    None,
                    _clip(name),
                    None,
                    f"This column is not part of the {raw.entity} format and was ignored.{hint}",
                    False,
                )
            )
    return {n: i for i, n in enumerate(names) if n in known}, notes


def _entities_like(present: set[str], other_than: str | None = None) -> list[str]:
    """The entities whose required columns are all in ``present`` and that share most columns with it."""
    looks_like = [e for e, f in FORMATS.items() if e != other_than and all(c in present for c in f.required)]
    if not looks_like:
        return []
    overlap = {e: len(present & {c.name for c in FORMATS[e].columns}) for e in looks_like}
    best = max(overlap.values())
    return [e for e in looks_like if overlap[e] == best]


def _entity_from_header(name: str, header: list, notes: list[Problem]) -> str:
    """The entity a file whose name says nothing holds, told by its headings when only one fits."""
    likely = _entities_like({_normalise(h) for h in header})
    if len(likely) != 1:
        raise UnusableInput([_unknown_name(name)])
    notes.append(
        Problem(
            likely[0],
            name,
            None,
            None,
            None,
            f"The file name does not say which data it holds; its headings are those of {likely[0]}, "
            "so it was read as that.",
            False,
        )
    )
    return likely[0]


def _missing_columns(raw: _RawTable, missing: list[str], present: set[str]) -> str:
    looks_like = _entities_like(present, other_than=raw.entity)
    if looks_like:
        guess = " or ".join(looks_like)
        return (
            f"{raw.file}: this looks like a {guess} file, not {raw.entity}: its columns are those of {guess}. "
            f"Check you chose the right file, or rename it after what it holds."
        )
    quoted = ", ".join(f'"{c}"' for c in missing)
    return (
        f"{raw.file}: the {raw.entity} format needs the column{'s' if len(missing) > 1 else ''} {quoted}, "
        f"which {'are' if len(missing) > 1 else 'is'} missing. The template shows every heading."
    )


# --- values -----------------------------------------------------------------------------------------------


class BadValue(ValueError):
    """A cell that cannot be read as its column's kind; the reason is in plain words."""


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value) -> str | None:
    """A cell as the admin typed it, for the rejected-rows table."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


SHOWN_CHARACTERS = 80
# Characters no cell of text may hold: NUL (PostgreSQL cannot store it), the other control characters
# but tab and line breaks, and lone surrogates (half a character, which UTF-8 cannot encode).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_IN_CODES = re.compile("[\t\n\r]")
# Every whole-number column is a 32-bit integer (PostgreSQL's integer; SQLite would take more).
LARGEST_WHOLE_NUMBER = 2**31 - 1


def _visible(text: str) -> str:
    """``text`` with control characters written out (``\\x00``), safe to show and to store in the audit."""
    return _NOT_TEXT.sub(
        lambda found: (
            f"\\x{ord(found.group()):02x}" if ord(found.group()) < 256 else f"\\u{ord(found.group()):04x}"
        ),
        text,
    )


def _clip(text: str | None) -> str | None:
    """A cell's text short enough to quote in a message (a 1 MB cell is not repeated whole), with
    control characters written out."""
    if text is None:
        return None
    text = _visible(text[: SHOWN_CHARACTERS * 2])
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def _check_characters(text: str, col: Column) -> None:
    """BadValue when ``text`` holds a character the column cannot store, named in words."""
    found = _NOT_TEXT.search(text)
    if found:
        char = found.group()
        what = {"\x00": "a NUL character (U+0000)"}.get(char)
        if what is None:
            kind = (
                "half of a character (an unpaired surrogate)"
                if "\ud800" <= char <= "\udfff"
                else "a control character"
            )
            what = f"{kind} (U+{ord(char):04X})"
        raise BadValue(
            f"The cell holds {what}, which is not text; {col.name} cannot store it. It usually comes from "
            "copying out of another system: retype the cell or save the file again as CSV UTF-8."
        )
    if col.kind != "text" and _NOT_IN_CODES.search(text.strip()):
        raise BadValue(f'"{_clip(text)}" holds a tab or a line break; a {col.name} is one line of text.')


def _num_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _text(value) -> str | None:
    """A cell as trimmed text (None when blank), undoing the export's formula neutralising."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().replace("\xa0", " ").strip()
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = _shown(value) or ""
    if len(text) >= 2 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text or None


_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def _number(value, col: Column) -> float | None:
    if isinstance(value, bool):
        raise BadValue(f'"{value}" is not a number.')
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a whole number of hundreds of digits, from a workbook
            raise BadValue(
                f"The number is too large; {col.name} must be {_a_number(col)} of sensible size."
            ) from None
    else:
        text = _text(value)
        if text is None:
            return None
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        try:
            number = float(text)
        except ValueError:
            raise BadValue(f'"{_clip(text)}" is not a number; {col.name} must be {_a_number(col)}.') from None
    if not math.isfinite(number):
        raise BadValue(f'"{_clip(_shown(value))}" is not a number; {col.name} must be {_a_number(col)}.')
    return number


def _a_number(col: Column) -> str:
    return "a whole number" if col.kind == "int" else "a number"


def _int(value, col: Column) -> int | None:
    number = _number(value, col)
    if number is None:
        return None
    if not number.is_integer():
        raise BadValue(f'"{_clip(_shown(value))}" is not a whole number; {col.name} must be a whole number.')
    if abs(number) > LARGEST_WHOLE_NUMBER:
        shown = _clip(_shown(value) if not isinstance(value, str) else value.strip())
        raise BadValue(
            f'"{shown}" is too large; {col.name} can be at most {LARGEST_WHOLE_NUMBER:,} (check for a typing slip).'
        )
    return int(number)


def _in_range(number: float, value, col: Column) -> None:
    shown = _shown(value) if not isinstance(value, str) else value.strip()
    low, high = col.minimum, col.maximum
    if low is not None and high is not None and not low <= number <= high:
        scale = "the IHI progress scale" if col.name == "score" else "the allowed range"
        # A stepped scale is written as its steps are (0.5 to 5.0), others as plainly as possible.
        low_text, high_text = (f"{low:.1f}", f"{high:.1f}") if col.step else (_num_text(low), _num_text(high))
        raise BadValue(
            f'"{_clip(shown)}" is outside {scale}; {col.name} must be between {low_text} and {high_text}.'
        )
    if low is not None and number < low:
        if low == 0:
            raise BadValue(f'"{_clip(shown)}" is negative; {col.name} must be 0 or more.')
        raise BadValue(f'"{_clip(shown)}" is too small; {col.name} must be {_num_text(low)} or more.')
    if col.step and not math.isclose(number / col.step, round(number / col.step)):
        raise BadValue(f'"{_clip(shown)}" is not a step of {col.step} on the scale; use e.g. 2.0 or 2.5.')


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: 00:00(?::00)?)?$")
_UK_SHORT_YEAR = re.compile(r"^\d{1,2}/\d{1,2}/\d{2}$")
DATE_HINT = "write dates as 31/12/2019 (day/month/year) or 2019-12-31"


def _date(value, col: Column, memo: dict) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return _plausible(value.date(), value, col)
    if isinstance(value, dt.date):
        return _plausible(value, value, col)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise BadValue(
            f'"{_clip(_shown(value))}" is a number, not a date; format the cell as a date or {DATE_HINT}.'
        )
    text = _text(value)
    if text is None:
        return None
    if text not in memo:
        try:
            memo[text] = _parse_date_text(text)
        except BadValue as exc:
            memo[text] = exc
    found = memo[text]
    if isinstance(found, BadValue):
        raise found
    return _plausible(found, text, col)


def _plausible(day: dt.date, value, col: Column) -> dt.date:
    """``day``, or BadValue when its year is outside what the programme can hold (a mistyped year)."""
    if not db.is_plausible_date(day):
        bound = (
            f"before {db.EARLIEST_DATE.year}" if day < db.EARLIEST_DATE else f"after {db.LATEST_DATE.year}"
        )
        raise BadValue(
            f'"{_clip(_shown(value))}" is not a plausible date (the year {day.year} is {bound}); check the year.'
        )
    return day


def _parse_date_text(text: str) -> dt.date:
    iso, uk = _ISO.match(text), _UK.match(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif uk:
        day, month, year = (int(g) for g in uk.groups())
        if month > 12 and day <= 12:
            raise BadValue(
                f'"{_clip(text)}" looks like a month-first (US) date; there is no month {month}. Put the day first: '
                f"{month:02d}/{day:02d}/{year}, or {DATE_HINT}."
            )
    elif _UK_SHORT_YEAR.match(text):
        raise BadValue(
            f'"{_clip(text)}" has a two-digit year, which is ambiguous; give the year in full: {DATE_HINT}.'
        )
    else:
        raise BadValue(f'"{_clip(text)}" is not a date; {DATE_HINT}.')
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise BadValue(f'"{_clip(text)}" is not a real date (there is no such day); {DATE_HINT}.') from None


_TRUE = {"y", "yes", "true", "1", "t"}
_FALSE = {"n", "no", "false", "0", "f"}


def _bool(value, col: Column) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = _text(value)
    if text is None:
        return col.default
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadValue(f'"{_clip(text)}" is not yes or no; {col.name} takes y/n, yes/no, true/false or 1/0.')


def _choice(value, col: Column, memo: dict) -> str | None:
    text = _text(value)
    if text is None:
        return col.default
    if text not in memo:
        memo[text] = re.sub(r"[\s\-]+", "_", text.lower())
    choice = memo[text]
    if choice not in col.choices:
        noun = "status" if col.name == "status" else col.name
        raise BadValue(f'"{_clip(text)}" is not a recognised {noun}; use one of: {", ".join(col.choices)}.')
    return choice


def _code_list(value) -> list[str]:
    text = _text(value)
    if text is None:
        return []
    return list(dict.fromkeys(c.strip() for c in text.split(";") if c.strip()))


def _scope(value) -> str:
    text = _text(value)
    if text is None:
        return "system"
    kind, sep, code = text.partition(":")
    kind = kind.strip().lower()
    if kind == "system" and not code.strip():
        return "system"
    if kind in ("locality", "pcn") and sep and code.strip():
        return f"{kind}:{code.strip()}"
    raise BadValue(
        f'"{_clip(text)}" is not a scope; use system, locality:CODE or pcn:CODE (e.g. pcn:PCN-N1).'
    )


def _reader(col: Column) -> Callable:
    """A function reading one cell of ``col``: returns the typed value or raises BadValue."""
    memo: dict = {}
    base: Callable = {
        "text": lambda v: _text(v),
        "code": lambda v: _text(v),
        "int": lambda v: _int(v, col),
        "number": lambda v: _number(v, col),
        "date": lambda v: _date(v, col, memo),
        "bool": lambda v: _bool(v, col),
        "list": _code_list,
        "choice": lambda v: _choice(v, col, memo),
        "scope": _scope,
    }[col.kind]
    checks_range = col.minimum is not None or col.maximum is not None or col.step is not None

    def read(value):
        if isinstance(value, str):
            _check_characters(value, col)
        typed = base(value)
        if typed is None:
            return col.default
        if checks_range and col.kind in ("int", "number"):
            _in_range(typed, value, col)
        if col.max_len and len(typed) > col.max_len:
            raise BadValue(
                f"This is {len(typed)} characters long; {col.name} can hold at most {col.max_len}."
            )
        return typed

    return read


# --- one row's columns against each other -------------------------------------------------------------------

RowCheck = Callable[[dict], Iterable[tuple[str, object, str, bool]]]  # column, value, reason, rejects


def _check_coordinates(r: dict):
    lat, lon = r.get("latitude"), r.get("longitude")
    if (lat is None) != (lon is None):
        given, blank = ("latitude", "longitude") if lon is None else ("longitude", "latitude")
        yield blank, None, f"{given} is filled in but {blank} is blank; give both or neither.", True
    elif lat is not None and not (49.5 <= lat <= 61 and -8.7 <= lon <= 2.1):
        yield (
            "latitude",
            lat,
            f"{lat}, {lon} is outside the UK; check latitude and longitude are not swapped.",
            False,
        )


def _check_dates(start: str, end: str) -> RowCheck:
    def check(r: dict):
        if r.get(start) and r.get(end) and r[end] < r[start]:
            yield (
                end,
                r[end].isoformat(),
                f"{end} {r[end]:%d/%m/%Y} is before {start} {r[start]:%d/%m/%Y}.",
                True,
            )

    return check


def _check_completion(r: dict):
    if r.get("completed_on") and r.get("status") != "completed":
        yield (
            "completed_on",
            r["completed_on"].isoformat(),
            (
                f'completed_on is filled in but status is "{r.get("status")}"; only a completed enrolment '
                "has a completion date. Set status to completed or clear the date."
            ),
            True,
        )


def _check_parent(r: dict):
    if r.get("parent_code") and r["parent_code"] == r.get("code"):
        yield "parent_code", r["parent_code"], "A priority cannot be its own parent.", True


ROW_CHECKS: dict[str, list[RowCheck]] = {
    "organisations": [_check_coordinates],
    "cohorts": [_check_dates("start_date", "end_date")],
    "projects": [_check_dates("start_date", "end_date")],
    "enrolments": [_check_completion],
    "priorities": [_check_parent],
}


def _typed_table(raw: _RawTable) -> tuple[Table, list[Problem]]:
    """Read every row of ``raw`` into typed values; returns the table and the problems found."""
    positions, problems = _columns_for(raw)
    fmt = FORMATS[raw.entity]
    cols = [(c, positions[c.name], _reader(c)) for c in fmt.columns if c.name in positions]
    table = Table(raw.entity, raw.file, [c.name for c, _, _ in cols])
    trimmed: dict[str, list[int]] = defaultdict(list)
    row_checks = ROW_CHECKS.get(raw.entity, [])
    entity, file = raw.entity, raw.file
    # An optional column of the natural key left out of the file means what its blank cell means
    # (a target without a scope column is for the whole system): every row needs its whole key.
    key_defaults = {
        c.name: _reader(c)(None) for c in fmt.columns if c.name in fmt.key and c.name not in positions
    }
    for rowno, cells in raw.rows:
        if all(_blank(v) for v in cells):
            continue  # blank rows separate blocks in spreadsheets; skip them silently
        values, bad = dict(key_defaults), []
        for col, pos, read in cols:
            cell = cells[pos] if pos < len(cells) else None
            try:
                value = read(cell)
            except BadValue as exc:
                bad.append(Problem(entity, file, rowno, col.name, _clip(_shown(cell)), str(exc)))
                continue
            if col.required and value is None:
                bad.append(
                    Problem(entity, file, rowno, col.name, None, "This is required, but the cell is blank.")
                )
            values[col.name] = value
            if col.is_code and isinstance(cell, str) and cell != cell.strip() and cell.strip():
                trimmed[col.name].append(rowno)
        if not bad:
            for column, value, reason, rejects in (p for check in row_checks for p in check(values)):
                shown = None if value is None else str(value)
                (bad if rejects else problems).append(
                    Problem(entity, file, rowno, column, shown, reason, rejects)
                )
        if any(p.rejects for p in bad):
            problems.extend(bad)
            table.rejected.append((rowno, values))
        else:
            table.rows.append((rowno, values))
    for column, rows in trimmed.items():
        problems.append(
            Problem(
                entity,
                file,
                rows[0],
                column,
                None,
                f"Spaces around {len(rows)} code{'s' if len(rows) > 1 else ''} in this column were removed "
                f"(first in row {rows[0]}).",
                False,
            )
        )
    if not table.rows and not table.rejected:
        problems.append(Problem(entity, file, None, None, None, "The file has headings but no rows.", False))
    return table, problems


# --- checks against the database and the rest of the load ------------------------------------------------


@dataclass
class Checked:
    """The rows ready for :func:`store.write_frames` and every problem found."""

    frames: dict[str, list[dict]]
    problems: list[Problem]
    files: dict[str, list[str]]  # entity -> files it came from

    @property
    def rejected_rows(self) -> dict[str, int]:
        rows = {(p.entity, p.file, p.row) for p in self.problems if p.rejects}
        return dict(Counter(e for e, _, _ in rows))


class _Known:
    """Codes the database holds (one query per table, on first use) and those this load adds or rejects."""

    def __init__(self, session: Session):
        self.session = session
        self.lookups = store.Lookups(session)
        self.loaded: dict[str, set] = defaultdict(set)
        self.rejected: dict[str, set] = defaultdict(set)
        self.charts: dict[tuple[str, str], str] = {}  # (project, measure) -> chart, this load's
        self._stored_charts: dict | None = None
        self._lowered: dict[str, dict] = {}

    def stored(self, entity: str):
        if entity == "measures":
            if self._stored_charts is None:
                query = select(m.Project.code, m.Measure.code, m.Measure.chart).join(
                    m.Project, m.Project.id == m.Measure.project_id
                )
                self._stored_charts = {(p, c): chart for p, c, chart in self.session.execute(query)}
            return self._stored_charts
        return self.lookups.get(LOOKUP_NAMES[entity])

    def has(self, entity: str, code) -> bool:
        return code in self.loaded[entity] or code in self.stored(entity)

    def chart(self, project: str, measure: str) -> str | None:
        return self.charts.get((project, measure)) or self.stored("measures").get((project, measure))

    def unknown(self, entity: str, code) -> str:
        """Why ``code`` cannot be used: not known, or its own row was rejected."""
        noun = NOUNS[entity]
        if code in self.rejected[entity]:
            return f'The {noun} "{_clip(str(code))}" is in this load, but its own row was rejected (see {entity}).'
        reason = f'There is no {noun} with the code "{_clip(str(code))}", in the database or in this load.'
        if isinstance(code, str):
            if entity not in self._lowered:
                codes = [*self.stored(entity), *self.loaded[entity]]
                self._lowered[entity] = {k.lower(): k for k in codes if isinstance(k, str)}
            lowered = self._lowered[entity]
            if code.lower() in lowered:
                reason += f' Codes are case-sensitive: did you mean "{lowered[code.lower()]}"?'
            elif "," in code:
                reason += " Separate several codes with ; not a comma."
        return reason


@dataclass
class _Item:
    file: str
    row: int
    values: dict


def validate(session: Session, batch: Batch) -> Checked:
    """Check ``batch`` against the database and itself; returns the rows that can be written and all problems."""
    problems = list(batch.problems)
    known = _Known(session)
    frames: dict[str, list[dict]] = {}
    files: dict[str, list[str]] = defaultdict(list)
    for table in batch.tables:
        files[table.entity].append(table.file)
        key = FORMATS[table.entity].key
        for _, values in table.rejected:
            if all(values.get(k) is not None for k in key):
                known.rejected[table.entity].add(_ref_key(table.entity, values))
    for entity in store.ENTITY_ORDER:
        items = [_Item(t.file, rowno, v) for t in batch.tables if t.entity == entity for rowno, v in t.rows]
        # Rows already rejected for a value that cannot be read: their codes are checked too, so the
        # admin learns every problem of a row from one upload, not one per attempt.
        for t in batch.tables:
            if t.entity == entity:
                for rowno, values in t.rejected:
                    problems.extend(_reference_problems(entity, _Item(t.file, rowno, values), known))
        if not items:
            continue
        items = _without_duplicates(entity, items, problems, known)
        if entity == "priorities":
            known.loaded[entity] = {i.values["code"] for i in items}
        bad: set[int] = set()
        for i, item in enumerate(items):
            found = list(_reference_problems(entity, item, known))
            found += _row_problems(entity, item, known)
            problems.extend(found)
            if any(p.rejects for p in found):
                bad.add(i)
        bad |= _set_problems(session, entity, items, bad, problems)
        good = [item for i, item in enumerate(items) if i not in bad]
        frames[entity] = [item.values for item in good]
        known.loaded[entity] = {_ref_key(entity, i.values) for i in good}
        known.rejected[entity] |= {_ref_key(entity, items[i].values) for i in bad}
        if entity == "measures":
            known.charts = {(v["project_code"], v["code"]): v["chart"] for v in frames[entity]}
    return Checked(frames, problems, dict(files))


def _ref_key(entity: str, values: dict):
    """What other rows use to refer to this one (a code, or project and code for a measure)."""
    key = FORMATS[entity].key
    return tuple(values[k] for k in key) if len(key) > 1 else values[key[0]]


def _without_duplicates(
    entity: str, items: list[_Item], problems: list[Problem], known: _Known
) -> list[_Item]:
    """The rows to keep: exact repeats are dropped (with a note); when rows give one natural key different
    values, all of them are rejected, since there is no telling which is right."""
    key_cols = FORMATS[entity].key
    groups: dict[tuple, list[_Item]] = defaultdict(list)
    for item in items:
        groups[tuple(item.values[k] for k in key_cols)].append(item)
    keep: list[_Item] = []
    for key, group in groups.items():
        first = group[0]
        if len(group) == 1:
            keep.append(first)
            continue
        differs = [(item, _first_difference(first.values, item.values)) for item in group[1:]]
        if all(d is None for _, d in differs):
            keep.append(first)
            for item, _ in differs:
                problems.append(
                    Problem(
                        entity,
                        item.file,
                        item.row,
                        None,
                        None,
                        f"This row repeats {_where(item, first)} exactly; it is loaded once.",
                        False,
                    )
                )
            continue
        known.rejected[entity].add(_ref_key(entity, first.values))
        shown_key = ", ".join(f'{k} "{_plain(v)}"' for k, v in zip(key_cols, key, strict=True))
        for item in group:
            others = [o for o in group if o is not item]
            column = next((d for o in others if (d := _first_difference(item.values, o.values))), key_cols[0])
            problems.append(
                Problem(
                    entity,
                    item.file,
                    item.row,
                    column,
                    _plain(item.values.get(column)),
                    f"{shown_key} also appears in {', '.join(_where(item, o) for o in others)} with a different "
                    f"{column}; keep the right row and delete the other.",
                )
            )
    return keep


def _where(item: _Item, other: _Item) -> str:
    return f"row {other.row}" if other.file == item.file else f"row {other.row} of {other.file}"


def _first_difference(a: dict, b: dict) -> str | None:
    return next((k for k in a if k in b and a[k] != b[k]), None)


def _plain(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, float):
        return _num_text(value)
    return str(value)


def _reference_problems(entity: str, item: _Item, known: _Known):
    """Problems with the codes a row refers to."""
    fmt, values = FORMATS[entity], item.values
    for col in fmt.columns:
        code = values.get(col.name)
        if col.refers_to is None or code is None or col.refers_to == "measures":
            continue
        codes = code if isinstance(code, list) else [code]
        for one in codes:
            if not known.has(col.refers_to, one):
                shown = _clip(one if not isinstance(code, list) else ";".join(code))
                yield Problem(entity, item.file, item.row, col.name, shown, known.unknown(col.refers_to, one))
    measure = values.get("measure_code")
    project = values.get("project_code")
    if (
        measure
        and project
        and known.has("projects", project)
        and not known.has("measures", (project, measure))
    ):
        if (project, measure) in known.rejected["measures"]:
            reason = f'The measure "{measure}" of project "{project}" is in this load, but its own row was rejected.'
        else:
            reason = f'Project "{project}" has no measure "{measure}", in the database or in this load.'
        yield Problem(entity, item.file, item.row, "measure_code", measure, reason)
    scope = values.get("scope")
    if entity == "targets" and scope and scope != "system":
        kind, _, code = scope.partition(":")
        target = "localities" if kind == "locality" else "pcns"
        if not known.has(target, code):
            yield Problem(entity, item.file, item.row, "scope", scope, known.unknown(target, code))


def _row_problems(entity: str, item: _Item, known: _Known) -> list[Problem]:
    """Checks of one row that need the rest of the load or the database."""
    if entity != "observations":
        return []
    v = item.values
    chart = known.chart(v["project_code"], v["measure_code"])
    value, den = v["value"], v.get("denominator")

    def fail(column, shown, reason):
        return [Problem(entity, item.file, item.row, column, shown, reason)]

    if chart in ("p", "u", "c") and value < 0:
        return fail(
            "value",
            _num_text(value),
            f"{_num_text(value)} is negative; a {chart} chart counts, so values are 0 or more.",
        )
    if chart in ("p", "u") and den is None:
        return fail(
            "denominator",
            None,
            f"A {chart} chart needs a denominator (the number of cases, or the exposure) in every row; "
            "this one is blank.",
        )
    if chart == "p" and value > den:
        return fail(
            "value",
            _num_text(value),
            f"{_num_text(value)} is more than its denominator {_num_text(den)}; on a p chart the value counts "
            "cases out of the denominator, so it cannot be larger.",
        )
    if chart == "u" and den == 0 and value > 0:
        return fail(
            "denominator",
            "0",
            "A rate over a denominator of 0 is undefined; the denominator must be more than 0.",
        )
    if chart == "c" and den is not None:
        return fail(
            "denominator",
            _num_text(den),
            "A c chart counts events and takes no denominator; leave it blank or make the measure a u chart.",
        )
    return []


def _set_problems(session, entity: str, items: list[_Item], bad: set[int], problems) -> set[int]:
    """Checks across rows: tier ranks within a framework, loops of priorities. Returns more bad indexes."""
    if entity == "tiers":
        return _tier_rank_clashes(session, items, bad, problems)
    if entity == "priorities":
        return _priority_loops(session, items, bad, problems)
    if entity == "people":
        _people_moving(session, items, bad, problems)
    return set()


def _tier_rank_clashes(session, items, bad, problems) -> set[int]:
    framework = aliased(m.Framework)
    state = {
        code: (fw, rank)
        for code, fw, rank in session.execute(
            select(m.Tier.code, framework.code, m.Tier.rank).join(
                framework, framework.id == m.Tier.framework_id
            )
        )
    }
    for i, item in enumerate(items):
        if i not in bad:
            state[item.values["code"]] = (item.values["framework"], item.values["rank"])
    holders: dict[tuple, list[str]] = defaultdict(list)
    for code, place in state.items():
        holders[place].append(code)
    more = set()
    for i, item in enumerate(items):
        v = item.values
        others = [c for c in holders[(v["framework"], v["rank"])] if c != v["code"]]
        if i not in bad and others:
            more.add(i)
            problems.append(
                Problem(
                    "tiers",
                    item.file,
                    item.row,
                    "rank",
                    str(v["rank"]),
                    f'Framework "{v["framework"]}" already has the tier "{others[0]}" at rank {v["rank"]}; each '
                    "tier of a framework needs its own rank.",
                )
            )
    return more


def _priority_loops(session, items, bad, problems) -> set[int]:
    parent = aliased(m.Priority)
    parents = dict(
        session.execute(
            select(m.Priority.code, parent.code).join(parent, parent.id == m.Priority.parent_id)
        ).all()
    )
    for i, item in enumerate(items):
        if i not in bad and "parent_code" in item.values:
            parents[item.values["code"]] = item.values["parent_code"]
    more = set()
    for i, item in enumerate(items):
        code, path = item.values["code"], [item.values["code"]]
        while (nxt := parents.get(path[-1])) and nxt not in path:
            path.append(nxt)
        if i not in bad and parents.get(path[-1]) == code and len(path) > 1:
            more.add(i)
            loop = " -> ".join([*path, code])
            problems.append(
                Problem(
                    "priorities",
                    item.file,
                    item.row,
                    "parent_code",
                    item.values.get("parent_code"),
                    f"These parents make a loop ({loop}); a priority cannot sit under itself.",
                )
            )
    return more


def _people_moving(session, items, bad, problems) -> None:
    """A note when a person_ref already stored at one organisation arrives at another (a clash of refs?)."""
    stored = dict(
        session.execute(
            select(m.Person.person_ref, m.Organisation.ods_code).join(
                m.Organisation, m.Organisation.id == m.Person.organisation_id
            )
        ).all()
    )
    for i, item in enumerate(items):
        ref, org = item.values["person_ref"], item.values["ods_code"]
        if i not in bad and stored.get(ref) not in (None, org):
            problems.append(
                Problem(
                    "people",
                    item.file,
                    item.row,
                    "ods_code",
                    org,
                    f'person_ref "{ref}" is stored at organisation "{stored[ref]}"; this row moves them to "{org}". '
                    "If they are two different people, give one of them another reference.",
                    False,
                )
            )


# --- preview and commit -----------------------------------------------------------------------------------

REJECTED_COLUMNS = ["entity", "file", "row", "column", "value", "reason"]
COUNT_COLUMNS = ["entity", "files", "new", "updated", "unchanged", "rejected"]


@dataclass(frozen=True)
class Report:
    """What a load does or would do: ``counts`` per entity, ``rejected`` rows and ``notes``."""

    counts: pd.DataFrame  # entity, files, new, updated, unchanged, rejected
    rejected: pd.DataFrame  # entity, file, row, column, value, reason
    notes: pd.DataFrame  # the same columns; these rows still load

    @property
    def rows_rejected(self) -> int:
        return int(self.counts["rejected"].sum()) if len(self.counts) else 0

    @property
    def rows_accepted(self) -> int:
        if not len(self.counts):
            return 0
        return int(self.counts[["new", "updated", "unchanged"]].to_numpy().sum())

    @property
    def has_rejections(self) -> bool:
        return self.rows_rejected > 0

    def messages(self, frame: pd.DataFrame | None = None) -> list[str]:
        """``file: Row 7, column "beds": ...`` lines for the rejected rows (or another problem frame)."""
        frame = self.rejected if frame is None else frame
        return [f"{p.file}: {_problem_from(p).message()}" for p in frame.itertuples(index=False)]


Preview = Report


@dataclass(frozen=True)
class LoadResult(Report):
    """A committed load: ``outcome`` is loaded, loaded_partly, unchanged or rejected (nothing written)."""

    outcome: str = "rejected"
    import_batch_id: int | None = None
    measures_analysed: int = 0

    @property
    def written(self) -> bool:
        return self.outcome in ("loaded", "loaded_partly")


def _problem_from(row) -> Problem:
    """A Problem back from a row of a report's frame (pandas shows a missing value as NaN)."""

    def given(x):
        return None if pd.isna(x) else x

    return Problem(row.entity, row.file, given(row.row), given(row.column), given(row.value), row.reason)


def _problem_frame(problems: list[Problem]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(p.entity, p.file, p.row, p.column, p.value, p.reason) for p in problems], columns=REJECTED_COLUMNS
    )
    frame["row"] = frame["row"].astype("Int64")
    order = {e: i for i, e in enumerate(store.ENTITY_ORDER)}
    return frame.sort_values(
        ["entity", "file", "row"], key=lambda s: s.map(order) if s.name == "entity" else s, kind="stable"
    ).reset_index(drop=True)


def _report(checked: Checked, counts: store.WriteCounts) -> dict:
    rejected = checked.rejected_rows
    rows = []
    for entity in store.ENTITY_ORDER:
        if entity not in checked.files:
            continue
        rows.append(
            (
                entity,
                ", ".join(checked.files[entity]),
                counts.inserted.get(entity, 0),
                counts.updated.get(entity, 0),
                counts.unchanged.get(entity, 0),
                rejected.get(entity, 0),
            )
        )
    return {
        "counts": pd.DataFrame(rows, columns=COUNT_COLUMNS),
        "rejected": _problem_frame([p for p in checked.problems if p.rejects]),
        "notes": _problem_frame([p for p in checked.problems if not p.rejects]),
    }


def preview(engine: Engine, batch: Batch) -> Report:
    """What committing ``batch`` would do, per entity. Only reads: it writes nothing and locks no row,
    so a preview never waits for a load in progress nor holds one up (on PostgreSQL its transaction
    is read-only, so a write would be an error rather than a lock)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(postgresql_readonly=True)
        with Session(bind=conn) as session:
            try:
                checked = validate(session, batch)
                counts = store.write_frames(session, checked.frames, dry_run=True)
            finally:
                session.rollback()
    return Report(**_report(checked, counts))


class ImportFailed(Exception):
    """A load that failed for a reason other than its rows (a database error, a fault of ours): nothing
    was written, and the failure is in the audit trail as import ``import_batch_id``."""

    def __init__(self, import_batch_id: int | None, cause: BaseException):
        self.import_batch_id = import_batch_id
        self.cause = cause
        where = f" (import {import_batch_id} in the import history)" if import_batch_id else ""
        super().__init__(
            f"The load failed, so nothing was written{where}. Try again; if it fails again, your admin "
            f"will find the details in the application log ({type(cause).__name__})."
        )


def commit(
    engine: Engine, batch: Batch, *, user: str, allow_partial: bool = False, note: str | None = None
) -> LoadResult:
    """Load ``batch`` in one transaction and record it; returns what happened.

    ``user`` is who loads (a signed-in email, or ``auth.cli_actor()`` from the command line); ``note``
    is free text kept with the record (the command line's ``--user``), never taken as the identity.

    With rejected rows and no ``allow_partial`` nothing is written but the audit record (outcome
    ``rejected``). Otherwise the valid rows are upserted, tier attainment is rebuilt, the measures of
    the projects touched are re-analysed and the data version is bumped (so page caches refresh).

    Raises db.WriterBusy when another load holds the database for longer than db.WRITE_WAIT_SECONDS
    (nothing was started), and ImportFailed, recorded with outcome ``failed``, when anything else goes
    wrong (the cause is logged and kept as ``__cause__``).
    """
    try:
        return _commit(engine, batch, user, allow_partial, note)
    except db.WriterBusy:
        raise
    except Exception as exc:
        log.exception("Import of %s by %s failed", batch.file_label, user)
        raise ImportFailed(_record_failure(engine, batch, user, exc, note), exc) from exc


def _commit(engine: Engine, batch: Batch, user: str, allow_partial: bool, note: str | None) -> LoadResult:
    with Session(engine) as session:
        try:
            db.lock_for_writing(session)  # one load at a time, planned on what the previous one wrote
            checked = validate(session, batch)
            counts = store.write_frames(session, checked.frames)
            report = _report(checked, counts)
            rejected = bool(checked.rejected_rows)
            analysed = 0
            if rejected and not allow_partial:
                session.rollback()
                outcome = "rejected"
            elif counts.total() == 0:
                outcome = "unchanged"
            else:
                analysed = _refresh_derived(session, checked.frames, counts)
                db.bump_data_version(session)
                outcome = "loaded_partly" if rejected else "loaded"
            batch_id = _record(session, batch, user, outcome, report, note)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return LoadResult(**report, outcome=outcome, import_batch_id=batch_id, measures_analysed=analysed)


CHART_ENTITIES = ("measures", "observations", "changes")


def _refresh_derived(session: Session, frames: dict, counts: store.WriteCounts) -> int:
    """Rebuild the derived tables, analysing only the measures of projects whose chart data changed."""
    from qidash import analysis, derive

    changed = [e for e in CHART_ENTITIES if counts.inserted.get(e) or counts.updated.get(e)]
    projects = {r["project_code"] for e in changed for r in frames[e]}
    return derive.refresh_derived(session, analysis.measures_touched(session, projects))


def _record(
    session: Session,
    batch: Batch,
    user: str,
    outcome: str,
    report: dict | None,
    note: str | None,
    error: str | None = None,
) -> int:
    """Write the ImportBatch audit row (and an audit event); returns its id. ``report`` is None for a
    load that failed before it could count its rows (``error`` says what went wrong)."""
    from sqlalchemy import insert

    from qidash import auth

    detail: dict = {"files": [{"name": f.name, "bytes": f.size, "sha256": f.sha256} for f in batch.files]}
    accepted = rejected = 0
    if report is not None:
        frame = report["counts"]
        if outcome != "rejected":
            accepted = int(frame[["new", "updated", "unchanged"]].to_numpy().sum())
        rejected = int(frame["rejected"].sum())
        detail["counts"] = frame.to_dict(orient="records")
        detail["rejected"] = [
            f"{r.file}: {_problem_from(r).message()}" for r in report["rejected"].head(50).itertuples()
        ]
    if error:
        detail["error"] = error
    if note:
        detail["note"] = _clip(note)
    batch_id = session.execute(
        insert(m.ImportBatch)
        .values(
            imported_by=user,
            imported_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            file_name=batch.file_label[:300],
            file_sha256=batch.sha256,
            rows_accepted=accepted,
            rows_rejected=rejected,
            outcome=outcome,
            detail=detail,
        )
        .returning(m.ImportBatch.id)
    ).scalar_one()
    event = {"import_batch": batch_id, "files": batch.file_label, "outcome": outcome}
    if note:
        event["note"] = detail["note"]
    auth.record(session, user, "import", event)
    return batch_id


def _record_failure(engine: Engine, batch: Batch, user: str, exc: Exception, note: str | None) -> int | None:
    """Record a load that failed (outcome ``failed``) in a transaction of its own; returns its id, or
    None when even that cannot be written (the database is down): logged, never raised, so the
    original error is what the caller sees."""
    try:
        with Session(engine) as session:
            batch_id = _record(session, batch, user, "failed", None, note, error=type(exc).__name__)
            session.commit()
        return batch_id
    except Exception:
        log.exception("The failed import of %s could not be recorded", batch.file_label)
        return None


def record_unusable(
    engine: Engine, user: str, names: list[str], messages: list[str], note: str | None = None
) -> bool:
    """Record in the audit trail an attempt to load files that could not be read at all (nothing was
    checked or written). Returns whether it was recorded; a failure to record is logged, not raised."""
    from qidash import auth

    detail: dict = {
        "files": [_clip(_visible(n)) for n in names[:20]],
        "outcome": "unusable",
        "reasons": [_visible(message)[:500] for message in messages[:20]],
    }
    if note:
        detail["note"] = _clip(note)
    return auth.audit(engine, user, "import", detail)


def recent_imports(engine: Engine, limit: int = 20) -> pd.DataFrame:
    """The latest loads, newest first: when, who, files, hash, rows accepted and rejected, outcome."""
    query = (
        select(
            m.ImportBatch.id,
            m.ImportBatch.imported_at,
            m.ImportBatch.imported_by,
            m.ImportBatch.file_name,
            m.ImportBatch.file_sha256,
            m.ImportBatch.rows_accepted,
            m.ImportBatch.rows_rejected,
            m.ImportBatch.outcome,
        )
        .order_by(m.ImportBatch.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


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
    from qidash.measures import STALE_DAYS, _active_project_condition, default_as_of

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
            _active_project_condition(as_of),
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
