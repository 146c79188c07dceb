"""Carrying out a plan through the import path: the plan's rows become a section-3 batch that
qidash.ingest checks, previews and commits (rejected-row report, ImportBatch audit record, derived
tables, data version), exactly as an uploaded import would be."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from qidash import db, ingest
from qidash.geo import REGISTERS_ICB as ICB_SETTING  # the ICB loaded for: the map draws its outline
from qidash.geo import TOWNS as TOWNS_SETTING  # its main towns, from the registers' own addresses
from qidash.registers.plan import Plan
from qidash.registers.tables import Source


def _file(source: Source) -> ingest.UploadedFile:
    digest = hashlib.sha256()
    size = 0
    with source.open() as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return ingest.UploadedFile(source.name, size, digest.hexdigest())


def batch(plan: Plan) -> ingest.Batch:
    """The plan's rows as an import batch, one table per entity and register file."""
    tables: dict[tuple[str, str], ingest.Table] = {}
    for entity in ("localities", "pcns", "organisations"):
        for file, row, values in plan.frames.get(entity, []):
            table = tables.get((entity, file))
            if table is None:
                table = tables[(entity, file)] = ingest.Table(entity, file, [])
            for column in values:
                if column not in table.columns:
                    table.columns.append(column)
            table.rows.append((row, values))
    return ingest.Batch([_file(s) for s in plan.files], list(tables.values()), [])


def preview(engine: Engine, plan: Plan) -> ingest.Report:
    """What the import checks make of the plan (rejected rows, counts); nothing is written."""
    return ingest.preview(engine, batch(plan))


def load(engine: Engine, plan: Plan, *, user: str, note: str | None = None) -> ingest.LoadResult:
    """Load the plan in one transaction and record it as an import by ``user`` (with ``note``).
    Raises what ingest.commit raises (ImportFailed, db.WriterBusy).

    The ICB and its main towns are remembered first, so the PCN areas the load derives are clipped
    to the ICB's outline; when they changed but no row did, the areas are derived again and the data
    version bumped here (the import rebuilds nothing when nothing changed)."""
    from qidash.geo import rebuild_pcn_areas

    with Session(engine) as session:
        settings = ((ICB_SETTING, plan.icb.code), (TOWNS_SETTING, json.dumps(plan.towns)))
        before = {k: db.get_setting(session, k) for k, _ in settings}
        changed = [(k, v) for k, v in settings if before[k] != v]
        for key, value in changed:
            db.set_setting(session, key, value)
        session.commit()
    try:
        result = ingest.commit(engine, batch(plan), user=user, note=note)
    except BaseException:
        _restore(engine, changed, before)
        raise
    if result.outcome == "rejected":  # nothing was loaded: nor is the ICB
        _restore(engine, changed, before)
        return result
    if changed and result.outcome == "unchanged":
        with Session(engine) as session:
            db.lock_for_writing(session)
            rebuild_pcn_areas(session)
            db.bump_data_version(session)
            session.commit()
    return result


def _restore(engine: Engine, changed: list, before: dict) -> None:
    if not changed:
        return
    with Session(engine) as session:
        for key, _ in changed:
            db.set_setting(session, key, before[key] or "")
        session.commit()
