"""Two imports and a reader at once against one PostgreSQL database, as when replicas share it.

Three OS processes, like three app replicas:
- a reader takes snapshots (REPEATABLE READ) in a loop: the new observations of every measure the
  imports touch, counted in the same snapshot as ``measures.report``; an import is one transaction, so
  every snapshot must hold all of it or none of it;
- an importer loads file A through ``qidash.ingest.commit`` (validate, upsert, derive, audit, commit);
- a second importer loads file B at the same time: the same natural keys with other values.

Afterwards: both loads succeeded (a file refused only because another import ran at the same time
would be lost data), no natural key is duplicated, the new rows are all of A or all of B with no row
mixing the two, the data that was there before is untouched, and the derived chart analysis matches
the stored observations.

Run as a script (``python tests/test_concurrency.py reader|import ...``) it is one of those processes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEASURES = 6  # measures each file adds observations to
NEW_PERIODS = 40  # observations per measure per file
FIRST_NEW_PERIOD = dt.date(2001, 1, 1)  # before any demo data, so every (measure, period) key is new
HOLD_S = 1.5  # each import keeps its transaction open this long before committing
LIMIT_S = 120  # no process may run longer than this
VERSIONS = {"A": (1.0, 100.0), "B": (2.0, 200.0)}  # value offset and denominator of each file


def _periods() -> list[dt.date]:
    return [dt.date(FIRST_NEW_PERIOD.year + i // 12, i % 12 + 1, 1) for i in range(NEW_PERIODS)]


def _row_version(value: float, denominator: float | None, index: int) -> str | None:
    """Which file a stored (value, denominator) came from, in full; None for a mixed or foreign row."""
    for name, (offset, den) in VERSIONS.items():
        if value == offset + index and denominator == den:
            return name
    return None


def _write_file(path: Path, measures: list[tuple[str, str]], version: str) -> None:
    offset, den = VERSIONS[version]
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["project_code", "measure_code", "period", "value", "denominator"])
        for project_code, measure_code in measures:
            for i, period in enumerate(_periods()):
                out.writerow([project_code, measure_code, period.isoformat(), offset + i, den])


# --- the three processes --------------------------------------------------------------------------------


def _new_rows(conn, measure_ids: list[int]) -> dict[int, list[tuple]]:
    """(index, value, denominator) of the observations in the imports' periods, per measure."""
    from sqlalchemy import select

    from qidash import models as m

    periods = {p: i for i, p in enumerate(_periods())}
    rows = conn.execute(
        select(m.Observation.measure_id, m.Observation.period, m.Observation.value, m.Observation.denominator)
        .where(
            m.Observation.measure_id.in_(measure_ids), m.Observation.period < _periods()[-1] + dt.timedelta(1)
        )
        .order_by(m.Observation.measure_id, m.Observation.period)
    ).all()
    out: dict[int, list[tuple]] = {mid: [] for mid in measure_ids}
    for mid, period, value, den in rows:
        out[mid].append((periods[period], value, den))
    return out


def reader(url: str, measure_ids: list[int], stop_file: str, out_file: str) -> None:
    """Take snapshots until ``stop_file`` appears; write what each one held (``out_file.ready`` after
    the first)."""
    from sqlalchemy import func, select

    from qidash import db, measures
    from qidash import models as m
    from qidash.scope import Scope

    engine = db.make_engine(url)
    snapshots, started = [], time.monotonic()
    while not os.path.exists(stop_file) and time.monotonic() - started < LIMIT_S:
        snapshot = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with snapshot as conn, conn.begin():
            rows = _new_rows(conn, measure_ids)
            report = measures.report(conn, Scope(), measures.default_as_of(conn))
            loads = conn.execute(
                select(func.count()).select_from(m.ImportBatch).where(m.ImportBatch.outcome == "loaded")
            ).scalar_one()
        versions = sorted({_row_version(v, d, i) or "mixed" for r in rows.values() for i, v, d in r})
        snapshots.append({
            "counts": sorted({len(r) for r in rows.values()}),
            "versions": versions,
            "loads": loads,
            "people_trained": report["people_trained"],
        })
        Path(out_file + ".ready").touch()
    Path(out_file).write_text(json.dumps(snapshots))


def importer(url: str, path: str, go_file: str, out_file: str) -> None:
    """Load ``path`` through the import pipeline once ``go_file`` appears; write the outcome."""
    from qidash import db, ingest

    # Hold the transaction open a while after writing, as a large file would, so the two imports
    # certainly overlap. bump_data_version runs inside ingest.commit's transaction, after the upsert.
    bump = db.bump_data_version

    def slow_bump(session):
        version = bump(session)
        time.sleep(HOLD_S)
        return version

    db.bump_data_version = slow_bump
    engine = db.make_engine(url)
    batch = ingest.read_paths([path])
    Path(out_file + ".ready").touch()
    deadline = time.monotonic() + LIMIT_S
    while not os.path.exists(go_file) and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        result = ingest.commit(engine, batch, user=f"importer {Path(path).stem}")
        outcome = {"outcome": result.outcome, "error": None}
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        outcome = {"outcome": None, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    outcome["finished"] = time.time()
    Path(out_file).write_text(json.dumps(outcome))


# --- the test -----------------------------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, *args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _finish(proc: subprocess.Popen) -> None:
    try:
        output, _ = proc.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    assert proc.returncode == 0, output[-3000:]


@pytest.mark.pg
def test_two_imports_and_a_reader_at_once(pg_engine, tmp_path):
    from sqlalchemy import func, select

    from qidash import models as m
    from qidash import scenarios

    scenarios.load_demo(pg_engine, "cornwall")
    with pg_engine.connect() as conn:
        chosen = conn.execute(
            select(m.Measure.id, m.Project.code, m.Measure.code)
            .join(m.Project, m.Project.id == m.Measure.project_id)
            .where(m.Measure.chart.in_(("p", "u", "run", "xmr")))
            .order_by(m.Project.code, m.Measure.code)
            .limit(MEASURES)
        ).all()
        before = set(conn.execute(select(m.Observation.measure_id, m.Observation.period, m.Observation.value,
                                         m.Observation.denominator)).all())
    assert len(chosen) == MEASURES
    measure_ids = [mid for mid, _p, _c in chosen]
    with pg_engine.connect() as conn:
        assert all(not r for r in _new_rows(conn, measure_ids).values()), (
            "the import periods must be new keys"
        )
    for version in VERSIONS:
        _write_file(tmp_path / f"observations_{version}.csv", [(p, c) for _m, p, c in chosen], version)

    url = pg_engine.url.render_as_string(hide_password=False)
    go, stop = tmp_path / "go", tmp_path / "stop"
    read = _spawn("reader", url, json.dumps(measure_ids), str(stop), str(tmp_path / "reader.json"))
    imports = [
        _spawn("import", url, str(tmp_path / f"observations_{v}.csv"), str(go), str(tmp_path / f"{v}.json"))
        for v in VERSIONS
    ]
    # Start both imports together once the importers have read their files and the reader has taken
    # a snapshot of the data before them.
    ready = [tmp_path / f"{name}.json.ready" for name in ("reader", *VERSIONS)]
    deadline = time.monotonic() + LIMIT_S
    try:
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            if read.poll() is not None or any(p.poll() is not None for p in imports):
                break  # a process stopped early: _finish shows its output
            time.sleep(0.05)
        go.touch()
        for proc in imports:
            _finish(proc)
        time.sleep(0.5)  # a few snapshots after both commits
    finally:
        go.touch()
        stop.touch()
        _finish(read)

    # Both files loaded: neither was refused because the other was being loaded at the same time.
    outcomes = {v: json.loads((tmp_path / f"{v}.json").read_text()) for v in VERSIONS}
    assert {v: o["error"] for v, o in outcomes.items()} == dict.fromkeys(VERSIONS)
    assert {o["outcome"] for o in outcomes.values()} == {"loaded"}

    # The reader never saw part of an import: each snapshot held every new row of a file or none,
    # and a snapshot holding new rows also held the import's audit record.
    snapshots = json.loads((tmp_path / "reader.json").read_text())
    assert len(snapshots) >= 3
    for snap in snapshots:
        assert snap["counts"] in ([0], [NEW_PERIODS]), snap
        assert snap["versions"] in ([], ["A"], ["B"]), snap
        assert (snap["loads"] > 0) == (snap["counts"] == [NEW_PERIODS]), snap
    assert snapshots[0]["counts"] == [0] and snapshots[-1]["counts"] == [NEW_PERIODS]

    with pg_engine.connect() as conn:
        rows = _new_rows(conn, measure_ids)
        duplicated = conn.execute(
            select(m.Observation.measure_id, m.Observation.period)
            .group_by(m.Observation.measure_id, m.Observation.period)
            .having(func.count() > 1)
        ).all()
        after = set(conn.execute(select(m.Observation.measure_id, m.Observation.period, m.Observation.value,
                                        m.Observation.denominator)).all())
        analysed = dict(conn.execute(
            select(m.MeasureAnalysis.measure_id, m.MeasureAnalysis.n_points)
            .where(m.MeasureAnalysis.measure_id.in_(measure_ids))
        ).all())
        stored = dict(conn.execute(
            select(m.Observation.measure_id, func.count())
            .where(m.Observation.measure_id.in_(measure_ids))
            .group_by(m.Observation.measure_id)
        ).all())
        loads = conn.execute(select(m.ImportBatch.outcome)).scalars().all()
    assert duplicated == []
    # Every new row is one file's row in full, all from the same file, none missing.
    assert {mid: len(r) for mid, r in rows.items()} == dict.fromkeys(measure_ids, NEW_PERIODS)
    versions = {_row_version(v, d, i) for r in rows.values() for i, v, d in r}
    assert versions in ({"A"}, {"B"}), versions
    # The file that committed last is the one stored.
    last = max(outcomes, key=lambda v: outcomes[v]["finished"])
    assert versions == {last}
    # Nothing that was there before changed or went missing.
    assert before <= after and len(after) == len(before) + MEASURES * NEW_PERIODS
    # The derived chart analysis describes the stored observations.
    assert analysed == stored
    assert sorted(loads) == ["loaded", "loaded"]


if __name__ == "__main__":
    role, *rest = sys.argv[1:]
    if role == "reader":
        reader(rest[0], json.loads(rest[1]), rest[2], rest[3])
    elif role == "import":
        importer(*rest)
    else:
        sys.exit(f"unknown role {role!r}")
