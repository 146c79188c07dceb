"""Benchmark of the section 4 measures report on SQLite at several data scales, not a timed test.

    python scripts/bench_measures.py                         # cornwall at scales 1, 10 and 50
    python scripts/bench_measures.py --scale 50 --keep /tmp/qidash-bench   # reuse the built files

Builds the cornwall demo at each scale into a SQLite file (a temp folder, or --keep DIR, where a file
built before at the same scale is reused), then times ``measures.report`` for the whole system and
for one locality on the data's own date: cold (a fresh engine: empty SQLAlchemy statement cache and a
new SQLite connection) and warm (best of --runs), plus each measure alone (warm, best), so a slow one
shows. Prints a table, then the results as JSON. The goal: the whole report under 2 s at scale 50.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qidash import db, derive, measures, scenarios, store
from qidash import models as m
from qidash.scope import Scope

GOAL_S = 2.0
SCENARIO = "cornwall"


def _parts():
    """(name, fn(conn, scope, as_of)) for every query ``measures.report`` runs, in its order."""
    return [
        ("people_trained", measures.people_trained),
        ("people_by_tier", measures.people_by_tier),
        ("tier_conversion", measures.tier_conversion),
        ("org_counts", measures.org_counts),
        ("training_density", measures.training_density),
        ("reach_vs_target", measures.reach_vs_target),
        ("project_status_counts", measures.project_status_counts),
        ("projects_by_priority", measures.projects_by_priority),
        ("projects_cross_boundary", measures.projects_cross_boundary),
        ("projects_with_patient_partner", measures.projects_with_patient_partner),
        ("progress_counts", measures.progress_counts),
        ("projects_improving", measures.improving_project_ids),
        ("projects_stale", measures.projects_stale),
        ("local_faculty_share", measures.local_faculty_share),
        ("lead_per_live", measures.lead_per_live),
        ("attendance_rate", measures.attendance_rate),
    ]


def build(path: Path, scale: int) -> float | None:
    """Build the demo at ``scale`` into ``path``; seconds taken, or None when reused."""
    url = db.sqlite_url(path)
    if path.exists():
        engine = db.make_engine(url)
        with engine.connect() as conn:
            same = (db.get_setting(conn, "scenario") == SCENARIO
                    and db.get_setting(conn, "scenario_scale") == str(scale))
        engine.dispose()
        if same:
            return None
        path.unlink()
    engine = db.make_engine(url)
    started = time.perf_counter()
    try:
        import qidash.spc  # noqa: F401 - the chart analysis needs the SPC engine
    except ImportError:
        # Without the SPC engine: the data and tier attainment only (projects_improving reads nothing).
        db.migrate(engine)
        frames = scenarios.generate(SCENARIO, scale)
        with Session(engine) as session, session.begin():
            store.write_frames(session, frames)
            derive.rebuild_tier_attainment(session)
            db.set_setting(session, "scenario", SCENARIO)
            db.set_setting(session, "scenario_scale", str(scale))
            db.set_setting(session, "data_as_of", scenarios.definition(SCENARIO)["as_of"].isoformat())
    else:
        scenarios.load_demo(engine, SCENARIO, scale)
    engine.dispose()
    return time.perf_counter() - started


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(path: Path, scale: int, runs: int) -> list[dict]:
    url = db.sqlite_url(path)
    engine = db.make_engine(url)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        sizes = {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (m.Organisation, m.Person, m.Enrolment, m.TierAttainment, m.Project, m.Observation)}
        locality = conn.execute(select(m.Locality.code).order_by(m.Locality.code)).scalars().first()
    engine.dispose()
    out = []
    for label, scope in (("system", Scope()), (f"locality {locality}", Scope(locality=locality))):
        fresh = db.make_engine(url)  # cold: a new engine, so nothing is compiled or connected yet
        with fresh.connect() as conn:
            cold = _timed(lambda: measures.report(conn, scope, as_of))  # noqa: B023
            warm = [_timed(lambda: measures.report(conn, scope, as_of)) for _ in range(runs)]  # noqa: B023
            parts = {
                name: min(_timed(lambda: fn(conn, scope, as_of)) for _ in range(runs))  # noqa: B023
                for name, fn in _parts()
            }
        fresh.dispose()
        out.append({
            "db": "sqlite", "scale": scale, "scope": label, "as_of": as_of.isoformat(), "rows": sizes,
            "cold_s": round(cold, 4), "warm_s": round(min(warm), 4),
            "meets_goal": max(cold, min(warm)) < GOAL_S,
            "parts_warm_s": {k: round(v, 4) for k, v in sorted(parts.items(), key=lambda kv: -kv[1])},
        })
    return out


def table(rows: list[dict]) -> str:
    header = (f"{'scale':>5}  {'scope':<14} {'people':>8} {'orgs':>6} {'projects':>8} {'cold s':>7} "
              f"{'warm s':>7}  {'goal':<4}  slowest parts (warm s)")
    lines = [header]
    for r in rows:
        slow = ", ".join(f"{k} {v:.3f}" for k, v in list(r["parts_warm_s"].items())[:3])
        lines.append(
            f"{r['scale']:>5}  {r['scope']:<14} {r['rows']['person']:>8,} {r['rows']['organisation']:>6,} "
            f"{r['rows']['project']:>8,} {r['cold_s']:>7.3f} {r['warm_s']:>7.3f}  "
            f"{'ok' if r['meets_goal'] else 'MISS':<4}  {slow}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1,10,50", help="comma-separated scales (default 1,10,50)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs; the best is kept (default 3)")
    parser.add_argument("--keep", metavar="DIR", help="build into DIR and keep the files (reused next time)")
    parser.add_argument("--out", metavar="FILE.json", help="also write the JSON here")
    args = parser.parse_args()
    scales = [int(s) for s in args.scale.split(",") if s.strip()]

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="qidash-bench-measures-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for scale in scales:
            path = workdir / f"{SCENARIO}-{scale}.db"
            took = build(path, scale)
            print(f"scale {scale}: " + ("reused " + str(path) if took is None else f"built in {took:.1f} s"),
                  file=sys.stderr, flush=True)
            for row in measure(path, scale, args.runs):
                row["build_s"] = None if took is None else round(took, 1)
                rows.append(row)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows))
    result = {"goal_s": GOAL_S, "runs": rows}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if all(r["meets_goal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
