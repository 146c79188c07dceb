"""Benchmark of the Portfolio page (and the Project page) on a large database, not a timed test.

    python scripts/bench_portfolio.py                      # cornwall at --scale 10 in /tmp/c10.db
    python scripts/bench_portfolio.py --db sqlite:////tmp/c10.db --runs 5

Creates the database with ``python -m qidash demo`` when it does not exist, then runs the app frame
and the page in Streamlit's AppTest against it (``QIDASH_DB_URL``, not demo mode) and prints the cold
run (empty caches) and the warm runs (same session, caches filled). The goal: warm under 1 second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 1.0


def ensure_database(url: str, scenario: str, scale: int) -> None:
    path = url.removeprefix("sqlite:///")
    if url.startswith("sqlite:///") and Path(path).exists():
        return
    print(f"Creating {url} ({scenario}, scale {scale})…", flush=True)
    subprocess.run(
        [sys.executable, "-m", "qidash", "demo", "--scenario", scenario, "--scale", str(scale), "--db", url],
        cwd=ROOT,
        check=True,
    )


def time_page(page: str, runs: int, **session) -> dict:
    """Cold and warm wall-clock seconds of ``at.run()`` on app_pages/<page>.py."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()  # the frame alone (default page), so the page's own cold cost is measured next
    at.switch_page(f"app_pages/{page}.py")
    start = time.perf_counter()
    at.run()
    cold = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"{page} failed: {[e.value for e in at.exception]}")
    warm = []
    for _ in range(runs):
        start = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - start)
    return {
        "page": page,
        "cold_s": cold,
        "warm_s": statistics.median(warm),
        "warm_max_s": max(warm),
        "charts": len(at.get("plotly_chart")),
        "tables": len(at.dataframe),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/c10.db")
    parser.add_argument("--scenario", default="cornwall")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5, help="warm runs (the median is reported)")
    args = parser.parse_args()

    ensure_database(args.db, args.scenario, args.scale)
    os.environ["QIDASH_DB_URL"] = args.db
    os.environ["QIDASH_AUTH"] = "off"  # a configured database needs sign-in; off on purpose for timing
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import func, select

    from qidash import db
    from qidash import models as m

    engine = db.make_engine(args.db)
    with engine.connect() as conn:
        counts = {
            t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (m.Project, m.Measure, m.Observation, m.MeasureAnalysis)
        }
        first_project = conn.execute(select(m.Project.code).order_by(m.Project.code)).scalars().first()
    print(f"{args.db}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))

    rows = [time_page("portfolio", args.runs), time_page("project", args.runs, project=first_project)]
    for r in rows:
        verdict = "OK" if r["warm_s"] < GOAL_S else f"SLOWER than {GOAL_S:.0f} s"
        print(
            f"{r['page']:<10} cold {r['cold_s']:.2f} s   "
            f"warm {r['warm_s']:.3f} s (max {r['warm_max_s']:.3f} s)   "
            f"{r['charts']} charts, {r['tables']} tables   {verdict}"
        )


if __name__ == "__main__":
    main()
