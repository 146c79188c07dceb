"""Scale benchmark: how the cost of every page grows with the data, on SQLite and PostgreSQL.

For each database kind and scale, :func:`run` builds the cornwall demo at that scale, then times every
page of ``qidash.ui.pages.PAGES`` that exists, plus an ``empty`` page (the frame and nothing else), with
Streamlit's AppTest against that database (``QIDASH_DB_URL``, not demo mode):

- ``cold_s``: the first run in a fresh Python process (no imports, engine or caches yet). Each page is
  measured in its own subprocess so caches are really cold, and in a few such processes (``cold_runs``,
  default 5): ``cold_s`` is their median and ``cold_samples`` lists them all.
- ``warm_s``: the median of a few further runs in each of those processes, each a new session (as
  another user opening the page), so process-wide caches are warm.
- ``peak_mb``: the largest of the subprocesses' peak resident memory (``VmHWM``; see
  :func:`peak_memory_mb`).

The ``empty`` page makes results readable as ratios on a noisy machine: a page's cold time is compared
with the empty page's cold time measured in the same run. The cold runs go in rounds, every page once
per round, so a busy spell on the machine falls on the empty page and the pages alike; one cold run
varies by about a fifth from one process to the next, which the median of five mostly irons out.
Results are written as JSON in the shape of DESIGN.md section 7 (``{"runs": [{"db", "scale", "page",
"cold_s", "warm_s", "peak_mb", ...}]}``).

Run as ``python -m qidash bench``; ``python -m qidash.bench PAGE`` is the internal per-page measurement.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from qidash import db

APP = db.REPO_ROOT / "app.py"
EMPTY = "empty"
SCENARIO = "cornwall"
WARM_RUNS = 3
COLD_RUNS = 5
PAGE_TIMEOUT_S = 900
# The targets the issue sets for a national-size system (scale 50), on both databases.
TARGET_WARM_S = 1.0
TARGET_COLD_RATIO = 3.0
TARGET_PEAK_MB = 1024


class BenchError(Exception):
    """A problem running the benchmark that the user can fix (no PostgreSQL, a database in use)."""


# --- pages ----------------------------------------------------------------------------------------------


def app_page_entries() -> list:
    """The entries of ``qidash.ui.pages.PAGES`` (path, title, icon, default, roles) whose script exists, in
    menu order."""
    # Imported here, not above: importing qidash.ui freezes the objects alive at that moment (see
    # qidash/ui/__init__.py), which must happen in a measured process as it does in the app's.
    from qidash.ui.pages import PAGES

    return [page for page in PAGES if (APP.parent / page.path).exists()]


def app_pages() -> list[str]:
    """Page scripts listed in ``qidash.ui.pages.PAGES`` that exist, in menu order."""
    return [page.path for page in app_page_entries()]


def page_name(path: str) -> str:
    return EMPTY if path == EMPTY else Path(path).stem


# --- a throwaway PostgreSQL server ------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_postgres(max_connections: int = 100) -> Iterator[str]:
    """Start a private PostgreSQL server on loopback in a temp folder; yield its URL; stop and delete it.

    Durability is off (``fsync=off``): this server exists for tests and benchmarks only. As root, the
    server runs as the ``postgres`` user (PostgreSQL refuses to run as root).
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise BenchError("PostgreSQL server binaries (initdb, pg_ctl) were not found; pass --db URL instead.")
    tmp = Path(tempfile.mkdtemp(prefix="qidash-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = tmp / "db"
    try:
        subprocess.run(
            [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "app", "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )
        for _attempt in range(3):  # another process may take the free port before the server binds it
            port = free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {tmp} -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections={max_connections}"
            )
            started = subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "server.log"), "-w",
                 "-t", "30", "-o", options, "start"],
                capture_output=True, check=False,
            )
            if started.returncode == 0:
                break
        else:
            log = (tmp / "server.log").read_text(errors="replace")[-2000:]
            raise BenchError(f"The throwaway PostgreSQL server did not start:\n{log}")
        try:
            yield f"postgresql+psycopg://app@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True, check=False,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- building a database ----------------------------------------------------------------------------------


def database_size_mb(engine: Engine) -> float:
    """The database's size on disk: the SQLite file (with its WAL), or ``pg_database_size``."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        files = [path, Path(f"{path}-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) / 2**20
    with engine.connect() as conn:
        return conn.execute(select(func.pg_database_size(func.current_database()))).scalar_one() / 2**20


def guard_scratch(engine: Engine) -> None:
    """Refuse to overwrite a database that holds anything but demo data: the bench replaces it all."""
    if db.is_empty(engine):
        return
    with engine.connect() as conn:
        if db.get_setting(conn, "demo") == "yes":
            return
    raise BenchError(
        f"{db.redact(str(engine.url))} holds real data and the benchmark replaces everything in the "
        "database. Point --db at a scratch database."
    )


def build(engine: Engine, scale: int) -> dict:
    """Load the cornwall demo at ``scale`` (replacing what is there); return build facts."""
    from qidash import scenarios

    started = time.perf_counter()
    counts = scenarios.load_demo(engine, SCENARIO, scale, replace=True)
    gen_s = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        # Autovacuum would gather statistics shortly after a bulk load; do it now so plans are
        # the ones a running system gets.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    with engine.connect() as conn:
        from qidash import models

        homes = conn.execute(
            select(func.count()).select_from(models.Organisation)
            .where(models.Organisation.kind.in_(models.CARE_HOME_KINDS))
        ).scalar_one()
    return {"gen_s": round(gen_s, 2), "rows": counts.total(), "homes": homes,
            "db_size_mb": round(database_size_mb(engine), 1)}


# --- measuring one page (in a fresh subprocess) ---------------------------------------------------------


def _empty_page() -> None:
    import streamlit as st

    st.write("")


def _only_empty_page() -> None:
    """Make the frame's ``st.navigation`` run a trivial page instead of the app's pages."""
    import streamlit as st

    real = st.navigation

    def navigation(pages, **kwargs):
        return real([st.Page(_empty_page, title="Empty", url_path="empty", default=True)], **kwargs)

    st.navigation = navigation


def _one_run(page: str) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=PAGE_TIMEOUT_S)
    if page != EMPTY:
        at.switch_page(page)
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    problems = [e.value for e in at.exception] + [e.value for e in at.error]
    if problems:
        raise RuntimeError(f"{page}: {problems[0]}")
    return elapsed


def measure_here(page: str, warm_runs: int = WARM_RUNS) -> dict:
    """Cold and warm times and peak memory of ``page`` in this process (call it in a fresh one)."""
    if page == EMPTY:
        _only_empty_page()
    cold = _one_run(page)
    warm = [_one_run(page) for _ in range(warm_runs)]
    return {"cold_s": round(cold, 3), "warm_s": round(statistics.median(warm), 3),
            "warm_samples": [round(w, 3) for w in warm], "peak_mb": round(peak_memory_mb(), 1)}


def peak_memory_mb() -> float:
    """This process's peak resident memory.

    Linux's ``VmHWM`` where available: ``ru_maxrss`` survives ``exec``, so in a subprocess it reports
    at least the parent's size when it was started (the bench process holding a generated scale-50
    demo would make every page look like 360 MB).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux, bytes on macOS
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def measure_page(url: str, page: str, warm_runs: int = WARM_RUNS) -> dict:
    """Run :func:`measure_here` for ``page`` in a fresh Python process against ``url``."""
    # Sign-in off on purpose: the bench times pages, as the role switcher's admin.
    env = {**os.environ, "QIDASH_DB_URL": url, "QIDASH_AUTH": "off"}
    env.pop("QIDASH_DEMO_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "qidash.bench", page, str(warm_runs)],
        cwd=db.REPO_ROOT, env=env, capture_output=True, text=True, check=False,
        timeout=PAGE_TIMEOUT_S * (1 + warm_runs),
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"cold_s": None, "warm_s": None, "peak_mb": None, "error": tail[0][:300]}
    return json.loads(lines[-1])


def combine(samples: list[dict]) -> dict:
    """One page's figures from its measurements in several fresh processes (:func:`measure_page`):
    the median cold time with every sample, the median of every warm run, the largest peak. An error
    in any process is the page's error."""
    errors = [s["error"] for s in samples if s.get("error")]
    if errors:
        return {"cold_s": None, "warm_s": None, "peak_mb": None, "error": errors[0]}
    warm = [w for s in samples for w in s.get("warm_samples", [s["warm_s"]])]
    return {
        "cold_s": round(statistics.median(s["cold_s"] for s in samples), 3),
        "cold_samples": [s["cold_s"] for s in samples],
        "warm_s": round(statistics.median(warm), 3),
        "peak_mb": max(s["peak_mb"] for s in samples),
    }


# --- the whole benchmark --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    kind: str  # "sqlite" or "postgresql"
    url: str | None  # None: a temp SQLite file or a throwaway PostgreSQL server


def targets_for(db_url: str | None, kinds: tuple[str, ...]) -> list[Target]:
    """One target per database kind; ``--db`` supplies the database of its own kind."""
    out = []
    for kind in kinds:
        url = db_url if db_url and db_url.startswith("sqlite" if kind == "sqlite" else "postgresql") else None
        out.append(Target(kind, url))
    return out


@contextmanager
def _database(target: Target, workdir: Path) -> Iterator[str]:
    if target.url:
        yield target.url
    elif target.kind == "sqlite":
        yield db.sqlite_url(workdir / "bench.db")
    else:
        with throwaway_postgres() as url:
            yield url


def meets_targets(row: dict, empty_cold: float | None) -> bool | None:
    """The issue's targets for one page row: warm < 1 s, cold < 3 × empty cold, peak < 1 GB."""
    if row.get("error") or row["cold_s"] is None:
        return False
    if row["page"] == EMPTY:
        return None
    return bool(
        row["warm_s"] < TARGET_WARM_S
        and (empty_cold is None or row["cold_s"] < TARGET_COLD_RATIO * empty_cold)
        and row["peak_mb"] < TARGET_PEAK_MB
    )


def run(
    scales: list[int],
    db_url: str | None = None,
    kinds: tuple[str, ...] = ("sqlite", "postgresql"),
    pages: list[str] | None = None,
    warm_runs: int = WARM_RUNS,
    say: Callable[[str], None] = lambda _msg: None,
    cold_runs: int = COLD_RUNS,
) -> dict:
    """Build and measure every (database, scale); return ``{"runs": [...], "builds": [...]}``. Each
    page is measured in ``cold_runs`` fresh processes, in rounds of every page (see the module's
    docstring)."""
    if cold_runs < 1 or warm_runs < 1:
        raise BenchError("cold and warm runs must each be at least 1")
    pages = [EMPTY, *(pages if pages is not None else app_pages())]
    result: dict = {"scenario": SCENARIO, "pages": [page_name(p) for p in pages], "runs": [], "builds": []}
    with tempfile.TemporaryDirectory(prefix="qidash-bench-") as tmp:
        for target in targets_for(db_url, kinds):
            with _database(target, Path(tmp)) as url:
                engine = db.make_engine(url)
                db.check_connection(engine)
                db.migrate(engine)
                guard_scratch(engine)
                try:
                    for scale in scales:
                        say(f"{target.kind} scale {scale}: building the {SCENARIO} demo")
                        facts = build(engine, scale)
                        result["builds"].append({"db": target.kind, "scale": scale, **facts})
                        say(f"  {facts['rows']:,} rows, {facts['homes']:,} homes, {facts['db_size_mb']} MB "
                            f"in {facts['gen_s']} s")
                        samples: dict[str, list[dict]] = {page: [] for page in pages}
                        for round_ in range(cold_runs):
                            if cold_runs > 1:
                                say(f"  round {round_ + 1} of {cold_runs}")
                            for page in pages:
                                samples[page].append(measure_page(url, page, warm_runs))
                        empty_cold = None
                        for page in pages:
                            row = {"db": target.kind, "scale": scale, "page": page_name(page),
                                   **combine(samples[page]), "db_size_mb": facts["db_size_mb"]}
                            if page == EMPTY:
                                empty_cold = row["cold_s"]
                            row["cold_ratio"] = (
                                round(row["cold_s"] / empty_cold, 2) if row["cold_s"] and empty_cold else None
                            )
                            row["meets_targets"] = meets_targets(row, empty_cold)
                            result["runs"].append(row)
                            say("  " + format_row(row))
                finally:
                    engine.dispose()
    return result


# --- in a real browser ---------------------------------------------------------------------------------
# What a person waits for is not the script but the page drawn: charts laid out, the map painted. This
# part opens each page in headless Chromium (Debian's, through Playwright) and times it against a bare
# two-page Streamlit app served in the same run, so the results are ratios to the floor any page of any
# Streamlit app stands on, and a busy spell on the machine falls on both.

CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
)
VIEWPORT = {"width": 1440, "height": 900}
# Drawn: the script run is over, no skeleton placeholder is left, every plotly chart has drawn its SVG
# and every deck.gl map its canvas.
DRAWN_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  const maps = [...document.querySelectorAll('[data-testid="stDeckGlJsonChart"]')];
  return charts.every(c => c.querySelector('.main-svg')) && maps.every(m => m.querySelector('canvas'));
}"""
# A first run may be followed by a rerun (a widget settling its value): the page counts as drawn when
# it has stayed drawn this long, and the time kept is when it was last found drawn.
STEADY_MS = 400
# Drawn is not done while the browser is still busy: a deck.gl map shows its canvas long before it has
# laid out its layers, and until then the tab answers no click (at scale 50, a menu move away from the
# map waited 7 s for it). Every task of 50 ms or more that holds the browser's main thread is noted
# (the Long Tasks API); the page counts as drawn once none has run for STEADY_MS, and the time kept is
# the later of when it was last found drawn and when the last long task ended. A long task's entry
# reaches the observer's callback only in a later task, so the state read also takes the entries still
# waiting for it (takeRecords): read straight after a long task, the callback had not yet run and the
# page looked idle (a bench test caught it on a busy machine).
BUSY_JS = """(() => {
  window.__qidashBusyUntil = 0;
  const note = entries => {
    for (const e of entries)
      window.__qidashBusyUntil = Math.max(window.__qidashBusyUntil, e.startTime + e.duration);
  };
  const observer = new PerformanceObserver(list => note(list.getEntries()));
  observer.observe({type: 'longtask', buffered: true});
  window.__qidashBusy = () => { note(observer.takeRecords()); return window.__qidashBusyUntil; };
})();"""
STATE_JS = (
    f"() => [({DRAWN_JS})(), performance.now(), window.__qidashBusy ? window.__qidashBusy() : 0]"
)
BROWSER_TIMEOUT_MS = 120_000
# The bare app: two pages with a title each (the floor the ratios are taken to), and three more that
# show what Streamlit itself costs a page that draws one tiny plotly chart, that chart and a three-row
# table (st.dataframe), or one one-point deck.gl map (the front-end code of each is fetched and
# started only when a page first shows one).
BARE_SCRIPTS = {
    "app.py": 'import streamlit as st\nst.set_page_config(layout="wide")\n'
              'st.navigation([st.Page("alpha.py", title="Alpha", default=True), st.Page("beta.py", '
              'title="Beta"), st.Page("chart.py", title="One chart"), '
              'st.Page("chart_table.py", title="Chart and table"), '
              'st.Page("map.py", title="One map")]).run()\n',
    "alpha.py": 'import streamlit as st\nst.title("Alpha")\n',
    "beta.py": 'import streamlit as st\nst.title("Beta")\n',
    "chart.py": 'import plotly.graph_objects as go\nimport streamlit as st\nst.title("One chart")\n'
                'st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2])))\n',
    "chart_table.py": 'import plotly.graph_objects as go\nimport streamlit as st\n'
                      'st.title("Chart and table")\n'
                      'st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2])))\n'
                      'st.dataframe({"name": ["a", "b", "c"], "value": [1, 3, 2]})\n',
    "map.py": 'import pydeck as pdk\nimport streamlit as st\nst.title("One map")\n'
              'st.pydeck_chart(pdk.Deck(layers=[pdk.Layer("ScatterplotLayer", data=[{"p": [-5.0, 50.3]}], '
              'id="points", get_position="p", get_radius=500)], map_style=None,'
              ' initial_view_state=pdk.ViewState(latitude=50.3, longitude=-5.0, zoom=8)))\n',
}


@dataclass(frozen=True)
class BrowserPage:
    name: str  # the script's file name without .py, as in --pages and the JSON
    url_path: str  # "" for the default page, served at the root
    title: str  # its label in the menu


BARE_PAGES = (BrowserPage("alpha", "", "Alpha"), BrowserPage("beta", "beta", "Beta"))
FLOOR_PAGES = (
    BrowserPage("one_chart", "chart", "One chart"),
    BrowserPage("chart_table", "chart_table", "Chart and table"),
    BrowserPage("one_map", "map", "One map"),
)


def browser_pages(names: list[str] | None = None) -> list[BrowserPage]:
    """The app's pages from ``qidash.ui.pages.PAGES`` (those whose script exists), or only ``names``, in
    menu order."""
    pages = [
        BrowserPage(page.name, "" if page.default else page.name, page.title) for page in app_page_entries()
    ]
    if names is None:
        return pages
    known = {p.name: p for p in pages}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BenchError(f"Unknown page {', '.join(unknown)}. Pages present: {', '.join(known)}.")
    return [known[n] for n in names]


@contextmanager
def streamlit_server(script: Path, env: dict, log: Path) -> Iterator[str]:
    """``streamlit run script`` on a free loopback port; yield its base URL; stop it afterwards."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=script.parent, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise BenchError(f"The Streamlit server for {script.name} stopped at start; see {log}.")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"The Streamlit server for {script.name} did not answer; see {log}.")
            time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _until_drawn(page) -> float:
    """Wait until the page is drawn and stays drawn, with the browser's main thread free of long tasks
    for STEADY_MS; return the clock reading when it was last found drawn or, if later, when its last
    long task ended (a rerun that starts while waiting moves it later)."""
    page.wait_for_timeout(150)  # a click's rerun may not have started yet
    deadline = time.perf_counter() + BROWSER_TIMEOUT_MS / 1000
    while True:
        if time.perf_counter() > deadline:
            raise BenchError(f"{page.url} was still busy after {BROWSER_TIMEOUT_MS / 1000:.0f} s.")
        page.wait_for_function(DRAWN_JS, timeout=BROWSER_TIMEOUT_MS, polling=50)
        drawn_at = time.perf_counter()
        page.wait_for_timeout(STEADY_MS)
        drawn, page_now, busy_until = page.evaluate(STATE_JS)
        now = time.perf_counter()
        idle_s = (page_now - busy_until) / 1000  # since the last long task ended, by the page's clock
        if drawn and idle_s >= STEADY_MS / 1000:
            return max(drawn_at, now - idle_s)


def _received_bytes(page) -> list[int]:
    """A list that grows by the size of every WebSocket message the page receives from the server."""
    sizes: list[int] = []

    def on_socket(ws):
        ws.on("framereceived", lambda payload: sizes.append(len(payload)))

    page.on("websocket", on_socket)
    return sizes


def time_page(browser, base: str, page: BrowserPage, other: BrowserPage) -> dict:
    """One fresh-tab opening of ``page`` (a new browser context: no cache, no session) and one menu move
    to it from ``other``: seconds each, and the bytes the server sent for the fresh tab."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(BUSY_JS)
    try:
        tab = context.new_page()
        sizes = _received_bytes(tab)
        started = time.perf_counter()
        tab.goto(f"{base}/{page.url_path}")
        fresh_s = _until_drawn(tab) - started
        received = sum(sizes)
        menu = tab.locator('[data-testid="stSidebarNav"] a')
        menu.filter(has_text=other.title).first.click(timeout=BROWSER_TIMEOUT_MS)
        _until_drawn(tab)
        started = time.perf_counter()
        menu.filter(has_text=page.title).first.click(timeout=BROWSER_TIMEOUT_MS)
        move_s = _until_drawn(tab) - started
    finally:
        context.close()
    return {"fresh_s": fresh_s, "move_s": move_s, "received_kb": received / 1024}


def _summary(samples: list[dict]) -> dict:
    """Medians with every sample, rounded for reading."""
    out: dict = {}
    for key in ("fresh_s", "move_s", "received_kb"):
        values = [s[key] for s in samples]
        out[key] = round(statistics.median(values), 3 if key != "received_kb" else 1)
        if key != "received_kb":
            out[key.replace("_s", "_samples")] = [round(v, 3) for v in values]
    return out


def time_app(browser, base: str, pages, every_page, runs: int, say: Callable[[str], None]) -> dict[str, dict]:
    """Each of ``pages`` ``runs`` times, after one untimed first view (a restarted server builds its
    caches once; the users after the first find them warm). The menu move to a page starts from the
    first of ``every_page`` that is not it."""
    throwaway = browser.new_context(viewport=VIEWPORT)
    try:
        tab = throwaway.new_page()
        tab.goto(f"{base}/{every_page[0].url_path}")
        _until_drawn(tab)
    finally:
        throwaway.close()
    out = {}
    for page in pages:
        other = next(p for p in every_page if p != page)
        out[page.name] = _summary([time_page(browser, base, page, other) for _ in range(runs)])
        say(f"  {page.name}: fresh {out[page.name]['fresh_s']:.2f} s, move {out[page.name]['move_s']:.2f} s")
    return out


def run_browser(db_url: str, runs: int = 3, pages: list[BrowserPage] | None = None,
                say: Callable[[str], None] = lambda _msg: None) -> dict:
    """Time the bare app, then the app on ``db_url`` (read, never changed), in one run; return
    ``{"db", "runs", "bare": {...}, "floors": {...}, "pages": {name: {...}}}``: each page's medians,
    samples and ratios to the bare app (fresh tab to the bare fresh tab, menu move to the bare menu
    move); ``floors`` are the bare app's pages with one chart, a chart and a table, and one map, on
    the same terms."""
    if runs < 1:
        raise BenchError("runs must be at least 1")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise BenchError("Chromium was not found (on Debian: apt-get install chromium).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BenchError("Playwright is not installed (pip install -r requirements-dev.txt).") from exc
    every_page = browser_pages()
    pages = pages if pages is not None else every_page
    base_env = {
        k: v for k, v in os.environ.items() if k not in ("QIDASH_DB_URL", "QIDASH_AUTH", "QIDASH_DEMO_DIR")
    }
    # Sign-in off on purpose: the bench times pages as the role switcher's admin.
    app_env = {**base_env, "QIDASH_DB_URL": db_url, "QIDASH_AUTH": "off"}
    result: dict = {"db": db.redact(db_url), "runs": runs}
    with tempfile.TemporaryDirectory(prefix="qidash-browser-") as tmp, sync_playwright() as pw:
        tmp_path = Path(tmp)
        for name, source in BARE_SCRIPTS.items():
            (tmp_path / name).write_text(source)
        browser = pw.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        try:
            say("bare two-page Streamlit app")
            with streamlit_server(tmp_path / "app.py", base_env, tmp_path / "bare.log") as base:
                bare = time_app(browser, base, BARE_PAGES, BARE_PAGES, runs, say)
                floors = time_app(browser, base, FLOOR_PAGES, BARE_PAGES, runs, say)
            say(f"the app on {result['db']}")
            with streamlit_server(APP, app_env, tmp_path / "app.log") as base:
                timed = time_app(browser, base, pages, every_page, runs, say)
        finally:
            browser.close()
    floor = {key: round(statistics.median(v[key] for v in bare.values()), 3) for key in ("fresh_s", "move_s")}
    result["bare"] = {"fresh_s": floor["fresh_s"], "move_s": floor["move_s"],
                      "fresh_samples": sorted(s for v in bare.values() for s in v["fresh_samples"]),
                      "move_samples": sorted(s for v in bare.values() for s in v["move_samples"])}
    def with_ratios(rows):
        return {name: {**row, "fresh_ratio": round(row["fresh_s"] / floor["fresh_s"], 2),
                       "move_ratio": round(row["move_s"] / floor["move_s"], 2)} for name, row in rows.items()}

    result["floors"] = with_ratios(floors)
    result["pages"] = with_ratios(timed)
    return result


def run_browser_built(scales: list[int], kinds: tuple[str, ...] = ("sqlite", "postgresql"), runs: int = 3,
                      pages: list[BrowserPage] | None = None,
                      say: Callable[[str], None] = lambda _msg: None) -> dict:
    """:func:`run_browser` on the cornwall demo built at each of ``scales`` in a scratch database of each
    of ``kinds`` (a temp SQLite file, a throwaway PostgreSQL server), one after the other; return
    ``{"scenario", "results": [{"kind", "scale", "build": {...}, **run_browser's result}]}``."""
    out: dict = {"scenario": SCENARIO, "results": []}
    with tempfile.TemporaryDirectory(prefix="qidash-bench-") as tmp:
        for target in targets_for(None, kinds):
            with _database(target, Path(tmp)) as url:
                engine = db.make_engine(url)
                try:
                    db.check_connection(engine)
                    db.migrate(engine)
                    for scale in scales:
                        say(f"{target.kind} scale {scale}: building the {SCENARIO} demo")
                        facts = build(engine, scale)
                        say(f"  {facts['rows']:,} rows in {facts['gen_s']} s")
                        result = run_browser(url, runs, pages, say)
                        out["results"].append({"kind": target.kind, "scale": scale, "build": facts, **result})
                        say(browser_table(result))
                finally:
                    engine.dispose()
    return out


def browser_table(result: dict) -> str:
    """The browser timings as a text table: medians, min-max of the samples, ratios to the bare app."""
    def spread(samples):
        return f"{min(samples):.2f}-{max(samples):.2f}"

    head = (f"{'page':<16}{'fresh s':>8}{'(min-max)':>12}{'x bare':>8}{'move s':>8}{'(min-max)':>12}"
            f"{'x bare':>8}{'sent KB':>9}")
    bare = result["bare"]
    bare_line = (f"{'bare app':<16}{bare['fresh_s']:>8.2f}{spread(bare['fresh_samples']):>12}{1:>8.1f}"
                 f"{bare['move_s']:>8.2f}{spread(bare['move_samples']):>12}{1:>8.1f}")
    lines = [head, "-" * len(head), bare_line]
    floors = list(result.get("floors", {}).items())
    for name, row in [*floors, *([("", None)] if floors else []), *result["pages"].items()]:
        if row is None:
            lines.append("")
            continue
        lines.append(
            f"{name:<16}{row['fresh_s']:>8.2f}{spread(row['fresh_samples']):>12}{row['fresh_ratio']:>8.1f}"
            f"{row['move_s']:>8.2f}{spread(row['move_samples']):>12}{row['move_ratio']:>8.1f}"
            f"{row['received_kb']:>9,.0f}")
    worst = max(result["pages"].values(), key=lambda r: r["fresh_ratio"])
    worst_move = max(result["pages"].values(), key=lambda r: r["move_ratio"])
    lines.append(f"worst: fresh tab {worst['fresh_ratio']:.1f}x, menu move {worst_move['move_ratio']:.1f}x "
                 f"the bare app ({result['runs']} run(s) per page, medians)")
    return "\n".join(lines)


# --- the Capability map's hot paths ---------------------------------------------------------------------
# Each hand-tuned path of qidash/map_fast_paths.py, timed in this process on the data it serves at
# scale: the median of a few runs in milliseconds of CPU (each path runs on one thread, so on a quiet
# machine that is its wall time, and on a busy one it is far steadier), and the size of what the map
# sends. The module's docstrings name the figure that guards each path.

PATH_RUNS = 7
PATH_FIGURES = ("stored_areas_ms", "boundaries_ms", "deck_grouped_ms", "deck_grouped_mb",
                "deck_every_point_ms", "deck_every_point_mb", "nearest_ms", "orgs", "coaches")


def _median_ms(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    """The median CPU milliseconds of ``runs`` calls of ``fn``, and its last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.process_time()
        result = fn()
        times.append(time.process_time() - started)
    return round(statistics.median(times) * 1000, 1), result


def measure_paths(engine: Engine, runs: int = PATH_RUNS) -> dict:
    """The map's hot paths on ``engine``'s data (read, never changed), for the whole system:
    ``stored_areas_ms`` (the stored PCN areas read with their bounds), ``deck_grouped_ms`` and
    ``deck_grouped_mb`` (the map's deck written as JSON, overlapping points grouped, as the page
    opens at national scale, the PCN boundaries already drawn once), ``deck_every_point_*`` (every
    organisation its own point), ``boundaries_ms`` (the PCN boundaries, each edge once, worked out
    anew) and ``nearest_ms`` (every located organisation's nearest coach)."""
    from qidash import catalog, geo, maps, measures
    from qidash.map_fast_paths import boundary_paths, forget_boundaries, nearest
    from qidash.scope import Scope
    from qidash.views import capability_map as view

    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        data = view.capability_map_data(conn, Scope(), as_of, with_gaps=False)
        coaches = measures.coaches(conn, Scope(), as_of)
        geography = geo.registers_geography(conn)
        pcns = catalog.pcn_localities(conn)
        out: dict = {}
        out["stored_areas_ms"], _ = _median_ms(lambda: geo.stored_areas(conn, pcns), runs)
        areas = geo.pcn_areas(conn)
    scale = view.colour_scale(data, "coverage_pct")
    tips = view.pcn_tips(data)
    rings = [a.rings_json() for a in areas.pcns]
    outlines = [ring for a in areas.localities for ring in a.rings_json()]

    def boundaries():
        forget_boundaries()
        return boundary_paths(rings, outlines)

    out["boundaries_ms"], _ = _median_ms(boundaries, runs)
    for name, grouped in (("deck_grouped", True), ("deck_every_point", False)):
        out[f"{name}_ms"], text = _median_ms(lambda grouped=grouped: maps.capability_deck(
            areas, scale.values, scale.edges, tips, data.orgs, view.default_size_by(data),
            geography=geography, group_overlapping=grouped,
        ).to_json(), runs)
        out[f"{name}_mb"] = round(len(text.encode()) / 1e6, 3)
    located = data.orgs.dropna(subset=["latitude", "longitude"])
    if coaches:
        out["nearest_ms"], _ = _median_ms(lambda: nearest(
            located["latitude"].to_numpy(), located["longitude"].to_numpy(),
            [c["latitude"] for c in coaches], [c["longitude"] for c in coaches],
        ), runs)
    out["orgs"], out["coaches"] = len(located), len(coaches)
    return out


def run_paths(scales: list[int], db_url: str | None = None, runs: int = PATH_RUNS,
              say: Callable[[str], None] = lambda _msg: None) -> dict:
    """The map's hot paths (:func:`measure_paths`) on ``db_url`` as it is, or else on the cornwall
    demo built at each of ``scales`` in a temp SQLite file; ``{"paths": [{"scale", ...figures}]}``
    (scale None for a given database)."""
    if runs < 1:
        raise BenchError("runs must be at least 1")
    result: dict = {"scenario": SCENARIO, "runs": runs, "paths": []}
    if db_url:
        engine = db.make_engine(db_url)
        try:
            db.check_connection(engine)
            result["db"] = db.redact(db_url)
            result["paths"].append({"scale": None, **measure_paths(engine, runs)})
        finally:
            engine.dispose()
        return result
    with tempfile.TemporaryDirectory(prefix="qidash-bench-") as tmp:
        engine = db.make_engine(db.sqlite_url(Path(tmp) / "bench.db"))
        try:
            db.migrate(engine)
            for scale in scales:
                say(f"scale {scale}: building the {SCENARIO} demo")
                build(engine, scale)
                result["paths"].append({"scale": scale, **measure_paths(engine, runs)})
        finally:
            engine.dispose()
    return result


def paths_table(result: dict) -> str:
    """The hot paths' figures as a text table, one line per scale (or the database given)."""
    widths = {name: len(name) + 2 for name in PATH_FIGURES}
    head = f"{'scale':>6}" + "".join(f"{name:>{widths[name]}}" for name in PATH_FIGURES)
    lines = [head, "-" * len(head)]
    for row in result["paths"]:
        lines.append(f"{_cell(row['scale']) if row['scale'] else 'db':>6}"
                     + "".join(f"{_cell(row.get(name)):>{widths[name]}}" for name in PATH_FIGURES))
    return "\n".join(lines)


# --- output -------------------------------------------------------------------------------------------

COLUMNS = (("db", 10), ("scale", 5), ("page", 16), ("cold_s", 7), ("warm_s", 7), ("cold_ratio", 10),
           ("peak_mb", 7), ("db_size_mb", 10), ("meets_targets", 13))


def _cell(value) -> str:
    if value is None:
        return "-"
    if value is True:
        return "yes"
    if value is False:
        return "NO"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def format_row(row: dict) -> str:
    cells = [_cell(row.get(name)).rjust(width) if name not in ("db", "page") else
             _cell(row.get(name)).ljust(width) for name, width in COLUMNS]
    line = "  ".join(cells)
    return f"{line}  {row['error']}" if row.get("error") else line


def table(result: dict) -> str:
    """The runs as a fixed-width text table, one line per (database, scale, page)."""
    head = "  ".join(name.rjust(w) if name not in ("db", "page") else name.ljust(w) for name, w in COLUMNS)
    lines = [head, "-" * len(head), *(format_row(r) for r in result["runs"])]
    if result.get("builds"):
        lines += ["", "builds: " + "; ".join(
            f"{b['db']} x{b['scale']}: {b['rows']:,} rows, {b['homes']:,} homes, {b['gen_s']} s, "
            f"{b['db_size_mb']} MB" for b in result["builds"])]
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    page = argv[0]
    warm_runs = int(argv[1]) if len(argv) > 1 else WARM_RUNS
    print(json.dumps(measure_here(page, warm_runs)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
