"""``python -m qidash bench --browser`` end to end: a tiny demo, one run, the JSON it writes (its shape,
not its speed: timings on a shared machine say nothing a test could rely on)."""

import json
import os
import subprocess
import sys
import time

import pytest

from qidash import bench, db, scenarios
from tests.e2e.conftest import ROOT


def test_the_browser_bench_times_pages_against_the_bare_app(browser, tmp_path):
    url = db.sqlite_url(tmp_path / "demo.db")
    engine = db.make_engine(url)
    scenarios.load_demo(engine, "barnet")
    engine.dispose()
    out = tmp_path / "times.json"
    env = {k: v for k, v in os.environ.items() if k not in ("QIDASH_DB_URL", "QIDASH_AUTH")}
    done = subprocess.run(
        [sys.executable, "-m", "qidash", "bench", "--browser", "--db", url, "--runs", "1",
         "--pages", "overview,tiers", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["runs"] == 1 and result["db"] == db.redact(url)
    assert set(result["bare"]) == {"fresh_s", "move_s", "fresh_samples", "move_samples"}
    assert len(result["bare"]["fresh_samples"]) == len(bench.BARE_PAGES)
    assert list(result["pages"]) == ["overview", "tiers"]
    # The floors Streamlit itself sets: a bare page with one chart, and one with one map.
    assert list(result["floors"]) == [p.name for p in bench.FLOOR_PAGES]
    for row in [*result["pages"].values(), *result["floors"].values()]:
        assert set(row) == {"fresh_s", "fresh_samples", "move_s", "move_samples", "received_kb",
                            "fresh_ratio", "move_ratio"}
        assert len(row["fresh_samples"]) == 1 and row["fresh_s"] > 0 and row["move_s"] > 0
        assert row["fresh_ratio"] == pytest.approx(row["fresh_s"] / result["bare"]["fresh_s"], abs=0.006)
        assert row["move_ratio"] == pytest.approx(row["move_s"] / result["bare"]["move_s"], abs=0.006)
        assert row["received_kb"] > 0
    assert all(name in done.stdout for name in ("bare app", "one_chart", "overview", "tiers", "worst:"))


def test_a_page_is_drawn_only_once_the_browser_is_no_longer_busy(browser):
    # A page whose elements are all there (as a deck.gl map's canvas is) while a script still holds the
    # browser for 1.5 s: it is not drawn until that has finished.
    context = browser.new_context()
    context.add_init_script(bench.BUSY_JS)
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.set_content(
            '<div data-testid="stApp" data-test-script-state="notRunning"></div><script>'
            "setTimeout(() => { const end = performance.now() + 1500; while (performance.now() < end) {} },"
            " 200);"
            "</script>"
        )
        drawn_s = bench._until_drawn(page) - started
    finally:
        context.close()
    assert drawn_s >= 1.5
