"""Carrying out a plan through the import path: the plan's rows become a section-3 batch that
qidash.ingest checks, previews and commits (rejected-row report, ImportBatch audit record, derived
tables, data version), exactly as an uploaded import would be."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from qidash import db, ingest
from qidash.registers.plan import Plan
from qidash.registers.tables import Source

ICB_SETTING = "registers_icb"  # the ICB the registers were loaded for: the map draws its outline
TOWNS_SETTING = "map_towns"  # the main towns, from the registers' own addresses, for map labels


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


def load(engine: Engine, plan: Plan, *, user: str) -> ingest.LoadResult:
    """Load the plan in one transaction and record it as an import by ``user``; then remember the ICB
    and its main towns for the map (bumping the data version when either changed)."""
    result = ingest.commit(engine, batch(plan), user=user)
    if result.outcome in ("loaded", "unchanged"):
        with Session(engine) as session:
            changed = False
            for key, value in ((ICB_SETTING, plan.icb.code), (TOWNS_SETTING, json.dumps(plan.towns))):
                if db.get_setting(session, key) != value:
                    db.set_setting(session, key, value)
                    changed = True
            if changed and result.outcome == "unchanged":
                db.bump_data_version(session)
            session.commit()
    return result
