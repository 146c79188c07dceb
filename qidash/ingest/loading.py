"""Preview and commit: the per-entity report of what a load does or would do, one load at a time
under the writer lock, derived tables refreshed, and the audit record of every load (and failed one).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from qidash import analysis, auth, db, derive, store
from qidash import models as m
from qidash.ingest.batch import Batch, Problem
from qidash.ingest.checks import Checked, validate
from qidash.ingest.coerce import clip, visible

log = logging.getLogger(__name__)


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
        detail["note"] = clip(note)
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
    detail: dict = {
        "files": [clip(visible(n)) for n in names[:20]],
        "outcome": "unusable",
        "reasons": [visible(message)[:500] for message in messages[:20]],
    }
    if note:
        detail["note"] = clip(note)
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
