"""The Data page's tables and words: an import's preview and outcome, the import history and one audit
record, the data-quality lists, and the users. No Streamlit here; the page draws what these return."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, select

from qidash import auth, ingest
from qidash import models as m
from qidash.ingest.loading import Report
from qidash.ingest.quality import DATA_QUALITY_TITLES
from qidash.palette import label
from qidash.scope import Scope
from qidash.tabular import csv_bytes

OUTCOME_WORDS = {
    "loaded": "Loaded",
    "loaded_partly": "Valid rows loaded",
    "unchanged": "Nothing changed",
    "rejected": "Rejected, nothing written",
    "failed": "Failed, nothing written",
}


def plural(n: int, word: str) -> str:
    """``1 row``, ``2,500 rows``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# --- preview and outcome ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadPlan:
    """What a preview allows: ``changes`` rows would be written, ``valid`` rows passed, ``rejected``
    failed."""

    changes: int
    valid: int
    rejected: int

    @property
    def can_load(self) -> bool:
        """Nothing rejected and something to write: the plain Load button."""
        return not self.rejected and self.changes > 0

    @property
    def can_load_partly(self) -> bool:
        """Rows rejected, but valid rows would still change something: the confirmed partial load."""
        return self.rejected > 0 and self.changes > 0


def load_plan(report: Report) -> LoadPlan:
    """How many rows a load of this preview would write, keep and reject."""
    counts = report.counts
    changes = int(counts[["new", "updated"]].to_numpy().sum()) if len(counts) else 0
    return LoadPlan(changes=changes, valid=report.rows_accepted, rejected=report.rows_rejected)


def preview_summary(report: Report) -> str:
    """One sentence: how many rows, and what a load would do with them."""
    counts = report.counts
    total = report.rows_accepted + report.rows_rejected
    parts = [f"{int(counts[c].sum()):,} {c}" for c in ("new", "updated", "unchanged", "rejected")]
    entities = plural(len(counts), "kind") + " of data"
    return f"{plural(total, 'row')} ({entities}): {', '.join(parts)}."


def counts_table(counts: pd.DataFrame) -> pd.DataFrame:
    """A report's counts for the page: per kind of data, its files and how many rows are new, updated,
    unchanged and rejected."""
    frame = counts.copy()
    frame.insert(0, "data", [label(e) for e in frame["entity"]])
    return frame.drop(columns="entity")


def problems_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows (or notes) for the page: file, kind of data, row, column, value and reason."""
    table = frame[["file", "entity", "row", "column", "value", "reason"]].copy()
    table["entity"] = [label(e) for e in table["entity"]]
    table["column"] = table["column"].fillna("")
    table["value"] = table["value"].fillna("")
    return table.rename(columns={"entity": "data"})


def problems_csv(frame: pd.DataFrame) -> bytes:
    """The rejected rows as a CSV to fix the file by (UTF-8 with a BOM, for Excel). A value the admin
    typed that a spreadsheet would run as a formula is neutralised, as in every file the app writes."""
    rows = (
        (r.file, r.data, None if pd.isna(r.row) else int(r.row), r.column, r.value, r.reason)
        for r in problems_table(frame).itertuples(index=False)
    )
    return csv_bytes(["file", "data", "row", "column", "value", "reason"], rows)


def outcome_message(result: ingest.LoadResult) -> tuple[str, str]:
    """(kind, words) for a committed load; kind is success, warning, info or error."""
    counts = result.counts
    new, updated = int(counts["new"].sum()), int(counts["updated"].sum())
    unchanged, rejected = int(counts["unchanged"].sum()), result.rows_rejected
    charts = result.measures_analysed
    record = f"Import {result.import_batch_id}"
    if result.outcome == "loaded":
        text = (
            f"{record} loaded: {new:,} new, {updated:,} updated, {unchanged:,} unchanged. "
            f"{plural(charts, 'chart')} re-analysed; every page now shows the new data."
        )
        return "success", text
    if result.outcome == "loaded_partly":
        text = (
            f"{record}: the valid rows were loaded ({new:,} new, {updated:,} updated, {unchanged:,} "
            "unchanged); "
            f"{plural(rejected, 'rejected row')} left out. Fix them and load that file again."
        )
        return "warning", text
    if result.outcome == "unchanged":
        return "info", f"{record}: nothing changed, the database already holds every row."
    return "error", (
        f"{record}: nothing was written. {plural(rejected, 'row')} failed the checks when loading "
        "(the data may have changed since the preview): see the rejected rows below."
    )


# --- history and audit ----------------------------------------------------------------------------------


def import_history(engine: Engine, limit: int = 20) -> pd.DataFrame:
    """The latest loads for the page: id, when (UTC), who, files, short hash, rows accepted and rejected,
    outcome in words."""
    frame = ingest.recent_imports(engine, limit).copy()
    frame["imported_at"] = pd.to_datetime(frame["imported_at"])
    frame["file_sha256"] = frame["file_sha256"].str[:12]
    frame["outcome"] = frame["outcome"].map(lambda o: OUTCOME_WORDS.get(o, o))
    return frame


def last_import(engine: Engine) -> str | None:
    """``Last load: import 4, 30/06/2024 14:05 UTC by ana@…, organisations.csv: Loaded.``, or None."""
    latest = ingest.recent_imports(engine, 1)
    if latest.empty:
        return None
    r = latest.iloc[0]
    when = pd.Timestamp(r.imported_at)
    return (
        f"Last load: import {r.id}, {when:%d/%m/%Y %H:%M} UTC by {r.imported_by}, {r.file_name}: "
        f"{OUTCOME_WORDS.get(r.outcome, r.outcome)}."
    )


def import_record(conn: Connection, batch_id: int) -> dict | None:
    """One ImportBatch audit row with its detail (files, counts per entity, first rejected rows)."""
    row = conn.execute(select(m.ImportBatch.__table__).where(m.ImportBatch.id == batch_id)).first()
    if row is None:
        return None
    detail = row.detail or {}
    return {
        "id": row.id,
        "imported_at": row.imported_at,
        "imported_by": row.imported_by,
        "file_name": row.file_name,
        "file_sha256": row.file_sha256,
        "rows_accepted": row.rows_accepted,
        "rows_rejected": row.rows_rejected,
        "outcome": OUTCOME_WORDS.get(row.outcome, row.outcome),
        "files": pd.DataFrame(detail.get("files", []), columns=["name", "bytes", "sha256"]),
        "counts": pd.DataFrame(detail.get("counts", []), columns=ingest.COUNT_COLUMNS),
        "rejected": list(detail.get("rejected", [])),
    }


# --- export -----------------------------------------------------------------------------------------------


def export_file_name(scope: Scope, day: dt.date) -> str:
    """``qidash-whole-system-2024-06-30.xlsx`` or ``qidash-locality-EAST-kind-care_home-2024-06-30.xlsx``."""
    if scope.is_system:
        what = "whole-system"
    else:
        what = "-".join(f"{k}-{v}" for k, v in vars(scope).items() if v and not k.startswith("within_"))
        what = what or "your-area"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in what)
    return f"qidash-{safe}-{day.isoformat()}.xlsx"


# --- data quality ---------------------------------------------------------------------------------------


# Short enough for a tile's label to be read whole at 1440 pixels, three tiles to a row.
QUALITY_LABELS = {
    "organisations_without_coordinates": "Organisations not on the map",
    "people_without_organisation": "People with no organisation",
    "projects_without_measures": "Projects with no measures",
    "stale_projects": "Stale projects",
    "person_ref_at_two_organisations": "People at two organisations",
    "dates_out_of_range": "Dates out of range",
}
# What each list holds, in plain words (the tile's help and the list's heading).
QUALITY_TITLES = {
    "organisations_without_coordinates": "Organisations with no location recorded, so not on the map",
    "people_without_organisation": "People whose organisation is not in the database",
    "projects_without_measures": "Projects with no measures, so no chart",
    "stale_projects": "Active projects with no data or progress score in the last 90 days",
    "person_ref_at_two_organisations": (
        "People recorded at two organisations: the same person reference (ignoring capitals and spaces) "
        "at more than one organisation, most likely one person entered twice"
    ),
    "dates_out_of_range": "Dates before 1900 or after 2100 (mistyped years: correct them and load again)",
}
# The lists' columns in words, not the files' field names.
QUALITY_COLUMNS = {
    "ods_code": "ODS code",
    "name": "Name",
    "kind": "Kind",
    "pcn_code": "PCN code",
    "person_ref": "Person reference",
    "organisation_id": "Organisation (internal id)",
    "code": "Project code",
    "title": "Title",
    "status": "Status",
    "last_observation": "Last data",
    "last_score": "Last progress score",
}
# Where a list's column means something else: the out-of-range dates name a file, a row and its column.
QUALITY_COLUMNS_OF = {
    "dates_out_of_range": {
        "data": "File",
        "code": "Row (its code)",
        "column": "Column",
        "earliest": "Earliest",
        "latest": "Latest",
        "rows": "Rows",
    },
}


@dataclass(frozen=True)
class QualityList:
    key: str
    label: str  # short, for a tile
    title: str
    count: int  # the things to fix: organisations, people, projects, or people recorded twice
    rows: pd.DataFrame  # columns in words (QUALITY_COLUMNS)


def quality_lists(conn: Connection, as_of: dt.date) -> list[QualityList]:
    """The data-quality lists in DATA_QUALITY_TITLES order, each with the number of things to fix, in
    plain words (QUALITY_TITLES) with its columns named in words (QUALITY_COLUMNS)."""
    frames = ingest.quality_lists(conn, as_of)
    out = []
    for key, title in DATA_QUALITY_TITLES.items():
        rows = frames[key]
        if key == "person_ref_at_two_organisations":
            count = rows["person_ref"].str.strip().str.lower().nunique() if len(rows) else 0
        else:
            count = len(rows)
        for coded in ("kind", "status"):  # codes in words ("care_home_nursing": "Care home nursing")
            if coded in rows:
                rows = rows.assign(**{coded: [label(v) for v in rows[coded]]})
        words = {**QUALITY_COLUMNS, **QUALITY_COLUMNS_OF.get(key, {})}
        shown = rows.rename(columns={c: words.get(c, label(c)) for c in rows.columns})
        out.append(QualityList(key, QUALITY_LABELS[key], QUALITY_TITLES.get(key, title), int(count), shown))
    return out


# --- users --------------------------------------------------------------------------------------------------


def users_table(users: list[dict]) -> pd.DataFrame:
    """Every user (``auth.list_users``), active or not: email, name, role in words, localities, PCNs,
    active."""
    frame = pd.DataFrame(users, columns=["email", "name", "role", "localities", "pcns", "active"])
    frame["role"] = frame["role"].map(lambda r: auth.ROLE_LABELS.get(r, r))
    for codes in ("localities", "pcns"):
        frame[codes] = frame[codes].fillna("").str.replace(";", ", ")
    frame["active"] = frame["active"].astype(bool)
    return frame


def user_changes(conn: Connection, limit: int = 20) -> pd.DataFrame:
    """The latest user changes from the audit trail: when, by whom, which user, role, area, active."""
    rows = []
    for event in auth.audit_events(conn, limit=limit, action="user_change"):
        detail = event["detail"] or {}
        rows.append(
            {
                "at": event["at"],
                "by": event["actor"],
                "email": detail.get("email"),
                "role": auth.ROLE_LABELS.get(detail.get("role"), detail.get("role")),
                "area": ", ".join([*detail.get("localities", []), *detail.get("pcns", [])]),
                "active": detail.get("active"),
            }
        )
    return pd.DataFrame(rows, columns=["at", "by", "email", "role", "area", "active"])


def self_lockout(viewer_email: str, email: str, role: str, active: bool) -> str | None:
    """Why an admin may not make this change to their own account (it would lock them out), or None."""
    if email.strip().lower() != viewer_email.strip().lower():
        return None
    if not active:
        return "You cannot deactivate your own account: ask another admin to do it."
    if role != "admin":
        return "You cannot remove your own admin role: ask another admin to do it."
    return None


# --- templates ----------------------------------------------------------------------------------------------


def template_columns(entity: str) -> pd.DataFrame:
    """The columns of one entity's file: name, required, kind of value, meaning and the example."""
    fmt = ingest.FORMATS[entity]
    return pd.DataFrame(
        [
            {
                "column": c.name,
                "required": c.required,
                "value": c.describe_type(),
                "meaning": c.about,
                "example": "" if c.example is None else str(c.example),
            }
            for c in fmt.columns
        ]
    )
