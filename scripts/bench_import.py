"""Time loading 100,000 observations into a demo database (the issue's budget: under 30 s on SQLite).

    python scripts/bench_import.py [--scenario cornwall] [--db FILE.db] [--observations 100000]

Works on a copy of the database (made from ``--db``, else the scenario generated afresh), adds new
measures to its projects in one CSV and their observations in another, then times reading, preview and
commit (validation, writing, tier attainment and the SPC analysis of every measure touched).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from qidash import db, ingest, scenarios
from qidash import models as m

CHARTS = ("xmr", "p", "run", "u", "c")
PERIODS = 100  # points per new measure: observations / PERIODS measures are added


def _database(args: argparse.Namespace, workdir: Path):
    """An engine on a copy of ``--db`` (or on the scenario, generated), so the original is never touched."""
    path = workdir / "bench.db"
    if args.db:
        shutil.copy(args.db, path)
        engine = db.make_engine(db.sqlite_url(path))
        db.migrate(engine)
    else:
        engine = db.make_engine(db.sqlite_url(path))
        scenarios.load_demo(engine, args.scenario)
    return engine


def _csv(header: list[str], rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _files(engine, observations: int) -> list[tuple[str, bytes]]:
    """measures.csv and observations.csv: new measures on the database's projects, monthly data for each."""
    with engine.connect() as conn:
        projects = list(conn.scalars(select(m.Project.code).order_by(m.Project.code)))
    rng = random.Random(7)
    n_measures = max(1, observations // PERIODS)
    measures, points = [], []
    for i in range(n_measures):
        project, code, chart = projects[i % len(projects)], f"BENCH{i:05d}", CHARTS[i % len(CHARTS)]
        measures.append((project, code, f"Benchmark measure {i}", chart, "increase"))
        for k in range(PERIODS):
            period = dt.date(2010 + k // 12, k % 12 + 1, 1)
            den = rng.randint(20, 60) if chart in ("p", "u") else ""
            value = rng.randint(0, den) if chart == "p" else rng.randint(0, 40)
            points.append((project, code, period.isoformat(), value, den))
    return [
        ("measures_bench.csv", _csv(["project_code", "code", "name", "chart", "improvement"], measures)),
        (
            "observations_bench.csv",
            _csv(["project_code", "measure_code", "period", "value", "denominator"], points[:observations]),
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario", default="cornwall", help="demo scenario to generate when --db is not given"
    )
    parser.add_argument("--db", help="an existing SQLite demo database file (copied, never changed)")
    parser.add_argument("--observations", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = _database(args, Path(tmp))
        files = _files(engine, args.observations)
        size = sum(len(d) for _, d in files) / 1024 / 1024
        timings = {}
        started = time.perf_counter()
        batch = ingest.read_upload(files)
        timings["read"] = time.perf_counter() - started
        started = time.perf_counter()
        report = ingest.preview(engine, batch)
        timings["preview"] = time.perf_counter() - started
        started = time.perf_counter()
        result = ingest.commit(engine, batch, user="bench")
        timings["commit"] = time.perf_counter() - started
        engine.dispose()
    print(f"{args.observations:,} observations ({size:.1f} MB of CSV) into {args.db or args.scenario}:")
    print(
        f"  read {timings['read']:.1f} s, preview {timings['preview']:.1f} s, "
        f"commit {timings['commit']:.1f} s (validate, write, derive, {result.measures_analysed:,} charts "
        "analysed)"
    )
    load = timings["read"] + timings["commit"]
    print(
        f"  load (read + commit): {load:.1f} s; outcome {result.outcome}, {report.rows_rejected} rows "
        "rejected"
    )
    return 0 if result.outcome == "loaded" and load < 30 else 1


if __name__ == "__main__":
    sys.exit(main())
