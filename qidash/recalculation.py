"""Suggested recalculations an admin accepts or dismisses (docs/spc-rules.md, "When qidash suggests a
recalculation").

The rule itself is the engine's (:func:`qidash.spc.suggest_recalculation`, worded by
:func:`qidash.analysis.suggested_recalculation`); nothing is recalculated silently. Accepting stores a
``rebase`` change through the store (as an import would) and analyses the measure again in the same
transaction; dismissing is remembered in ``dismissed_recalculation``. Both are in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.orm import Session

from qidash import analysis, auth, db, store
from qidash import models as m


class RecalculationError(ValueError):
    """A request that cannot be honoured (unknown measure), in plain words."""


def dismissed_starts(conn: Connection, measure_ids) -> dict[int, set[dt.date]]:
    """Measure id -> the start dates of its dismissed suggestions."""
    ids = list(measure_ids)
    out: dict[int, set[dt.date]] = defaultdict(set)
    for i in range(0, len(ids), 500):
        rows = conn.execute(
            select(m.DismissedRecalculation.measure_id, m.DismissedRecalculation.starts_on).where(
                m.DismissedRecalculation.measure_id.in_(ids[i : i + 500])
            )
        )
        for mid, day in rows:
            out[mid].add(db.as_date(day))
    return out


def _measure(session: Session, measure_id: int) -> tuple[int, str, str]:
    row = session.execute(
        select(m.Measure.id, m.Measure.code, m.Project.code)
        .join(m.Project, m.Project.id == m.Measure.project_id)
        .where(m.Measure.id == measure_id)
    ).first()
    if row is None:
        raise RecalculationError(f"There is no measure with id {measure_id}.")
    return row


def accept(engine: Engine, actor: str, measure_id: int, starts_on: dt.date, change: str) -> None:
    """Store a rebase of the measure at ``starts_on`` (after the change titled ``change``), analyse the
    measure again, record who did it, and bump the data version so pages show the new phases."""
    with Session(engine) as session, session.begin():
        db.lock_for_writing(session)
        mid, measure_code, project_code = _measure(session, measure_id)
        title = analysis.recalculation_title(change)
        store.write_frames(
            session,
            {
                "changes": [
                    {
                        "project_code": project_code,
                        "changed_on": starts_on,
                        "title": title,
                        "kind": "rebase",
                        "measure_code": measure_code,
                    }
                ]
            },
        )
        session.flush()
        analysis.rebuild_measure_analysis(session, [mid])
        auth.record(
            session,
            actor,
            "recalculation_accepted",
            {
                "project": project_code,
                "measure": measure_code,
                "starts_on": starts_on.isoformat(),
                "change": change,
            },
        )
        db.bump_data_version(session)


def dismiss(engine: Engine, actor: str, measure_id: int, starts_on: dt.date, change: str) -> None:
    """Remember that the suggestion to recalculate the measure at ``starts_on`` was dismissed, and who
    did it; dismissing it twice changes nothing."""
    with Session(engine) as session, session.begin():
        db.lock_for_writing(session)
        _mid, measure_code, project_code = _measure(session, measure_id)
        known = session.scalar(
            select(m.DismissedRecalculation.id).where(
                m.DismissedRecalculation.measure_id == measure_id,
                m.DismissedRecalculation.starts_on == starts_on,
            )
        )
        if known is not None:
            return
        session.execute(
            insert(m.DismissedRecalculation).values(
                measure_id=measure_id,
                starts_on=starts_on,
                change_title=change[:300],
                dismissed_by=actor,
                dismissed_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
        )
        auth.record(
            session,
            actor,
            "recalculation_dismissed",
            {
                "project": project_code,
                "measure": measure_code,
                "starts_on": starts_on.isoformat(),
                "change": change,
            },
        )
        db.bump_data_version(session)
