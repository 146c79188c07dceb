"""Load test: many concurrent browser sessions against one qidash server on this machine.

Starts ``streamlit run app.py`` on a free loopback port (or targets ``--url``, which must be a loopback
address), opens ``--sessions`` browser sessions at once in one headless Chromium (Debian's, through
Playwright) and has each load the ``--pages`` in turn, ``--rounds`` times. A page load is timed from
navigation until the app reports its script finished (``data-test-script-state="notRunning"``), no
skeleton placeholder is left and the page shows content. Reports p50 and p95 page times and errors,
and writes them as JSON with ``--out``.

``--client ws`` speaks Streamlit's WebSocket protocol instead of driving a browser: each load opens a
session, asks for the page and is timed until the server reports the script finished. That measures
the server alone; on a small machine the browsers' drawing otherwise takes most of the CPU.

``--replicas N`` starts N servers, as a deployment runs one replica per core behind a sticky proxy,
and spreads the sessions over them in turn (each session stays on its replica, as the proxy keeps
it); the CPU time reported is all replicas' together, and per page view.

Bounded on purpose: at most 50 sessions, 4 replicas, 10 loads per session and 120 seconds in all;
loopback only.

    python scripts/load_test.py --sessions 5 --pages "/,tiers" --rounds 2
    python scripts/load_test.py --db postgresql+psycopg://app@127.0.0.1:5432/qidash --sessions 10
    python scripts/load_test.py --client ws --sessions 20 --pages "/,tiers,portfolio" --rounds 3
    python scripts/load_test.py --client ws --replicas 2 --sessions 50 --pages "/,tiers,showcase"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
MAX_SESSIONS = 50
MAX_REPLICAS = 4
MAX_LOADS_PER_SESSION = 10
MAX_SECONDS = 120
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RENDERED = """() => document.querySelectorAll('[data-testid="stSkeleton"]').length === 0
    && document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]').length > 0"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str | None, log_path: Path, demo_dir: str | None = None) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` on a free loopback port; demo mode unless ``db_url`` is given (replicas
    in demo mode share ``demo_dir``, as replicas share one database)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "QIDASH_DB_URL"}
    if db_url:
        env["QIDASH_DB_URL"] = db_url
        env["QIDASH_AUTH"] = "off"  # a configured database needs sign-in; the load test turns it off on purpose
    env.setdefault("QIDASH_DEMO_DIR", demo_dir or tempfile.mkdtemp(prefix="qidash-load-"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited early; see {log_path}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"streamlit did not become healthy in 60 s; see {log_path}")


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def load(page, url: str, deadline: float) -> dict:
    """Open ``url`` in ``page`` and time it until the app is idle and drawn."""
    started = time.perf_counter()
    row = {"url": url, "seconds": None, "error": None}
    try:
        remaining_ms = max(1000, (deadline - time.monotonic()) * 1000)
        await page.goto(url, wait_until="domcontentloaded", timeout=remaining_ms)
        # A fresh page starts in the "initial" state, so "notRunning" means the first run finished.
        await page.wait_for_selector(IDLE, timeout=remaining_ms)
        await page.wait_for_function(RENDERED, timeout=remaining_ms)
        row["seconds"] = round(time.perf_counter() - started, 3)
        exceptions = await page.locator('[data-testid="stException"]').count()
        if exceptions:
            row["error"] = f"{exceptions} exception(s) shown on the page"
    except Exception as exc:  # noqa: BLE001 - a timeout or a crash is a result to report
        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return row


async def ws_load(base: str, url: str, deadline: float) -> dict:
    """Open ``url`` as the browser's WebSocket does, without a browser: time until the script finishes.

    Measures the server alone (a headless browser drawing charts needs more CPU than the server).
    """
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    parts = urlparse(url)
    row = {"url": url, "seconds": None, "error": None}
    started = time.perf_counter()
    stream = "ws://" + urlparse(base).netloc + urlparse(base).path + "/_stcore/stream"
    try:
        async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None) as ws:
            rerun = BackMsg()
            rerun.rerun_script.query_string = parts.query
            rerun.rerun_script.page_name = parts.path.rsplit("/", 1)[-1]
            await ws.send(rerun.SerializeToString())
            while True:
                message = ForwardMsg()
                message.ParseFromString(await asyncio.wait_for(ws.recv(), max(1.0, deadline - time.monotonic())))
                kind = message.WhichOneof("type")
                if kind == "delta" and message.delta.new_element.WhichOneof("type") == "exception":
                    row["error"] = "exception: " + message.delta.new_element.exception.message[:200]
                elif kind == "page_not_found":
                    row["error"] = "page not found"
                elif kind == "script_finished":
                    if message.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                        row["error"] = row["error"] or f"script finished with status {message.script_finished}"
                    break
        row["seconds"] = round(time.perf_counter() - started, 3)
    except Exception as exc:  # noqa: BLE001 - a timeout or a refused connection is a result to report
        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return row


async def ws_session(base: str, index: int, pages: list[str], deadline: float) -> list[dict]:
    rows = []
    for page in pages:
        url = f"{base}/{page}"
        if time.monotonic() > deadline:
            rows.append({"page": page, "url": url, "seconds": None, "error": "not started: time limit reached"})
            continue
        rows.append({"session": index, "page": page, **await ws_load(base, url, deadline)})
    return rows


async def session(browser, base: str, index: int, pages: list[str], deadline: float) -> list[dict]:
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    tab = await context.new_page()
    rows = []
    try:
        for page in pages:
            url = f"{base}/{page}"
            if time.monotonic() > deadline:
                rows.append({"page": page, "url": url, "seconds": None, "error": "not started: time limit reached"})
                continue
            rows.append({"session": index, "page": page, **await load(tab, url, deadline)})
    finally:
        await context.close()
    return rows


def total_cpu(pids: list[int]) -> float | None:
    """The CPU seconds of all the servers together, or None when any cannot be read."""
    used = [cpu_seconds(pid) for pid in pids]
    return None if not pids or None in used else sum(used)


async def run(
    bases: list[str], pages: list[str], sessions: int, rounds: int, seconds: float, warm_up: bool,
    server_pids: list[int], client: str = "browser",
) -> dict:
    """Session i loads ``pages`` ``rounds`` times on replica i mod len(bases)."""
    visits = [p for _ in range(rounds) for p in pages]
    deadline = time.monotonic() + seconds
    if client == "ws":
        warm = []
        if warm_up:  # one session per replica first, so imports and caches are warm, as on a running system
            for base in bases:
                warm += await ws_session(base, -1, pages, deadline)
        began, cpu_before = time.perf_counter(), total_cpu(server_pids)
        results = await asyncio.gather(
            *(ws_session(bases[i % len(bases)], i, visits, deadline) for i in range(sessions)))
        wall, cpu_after = time.perf_counter() - began, total_cpu(server_pids)
        return summarise(client, bases, pages, sessions, rounds, warm, results, wall, cpu_before, cpu_after)

    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            warm = []
            if warm_up:  # one session per replica first, so imports and caches are warm, as on a running system
                for base in bases:
                    warm += await session(browser, base, -1, pages, deadline)
            began, cpu_before = time.perf_counter(), total_cpu(server_pids)
            results = await asyncio.gather(
                *(session(browser, bases[i % len(bases)], i, visits, deadline) for i in range(sessions)))
            wall, cpu_after = time.perf_counter() - began, total_cpu(server_pids)
        finally:
            await browser.close()
    return summarise(client, bases, pages, sessions, rounds, warm, results, wall, cpu_before, cpu_after)


def summarise(client, bases, pages, sessions, rounds, warm, results, wall, cpu_before, cpu_after) -> dict:
    """p50 / p95 page times overall and per page, the errors, and the servers' CPU time."""
    rows = [row for rows in results for row in rows]
    times = [r["seconds"] for r in rows if r["seconds"] is not None and not r["error"]]
    per_page = {}
    for page in pages:
        page_times = [r["seconds"] for r in rows if r["page"] == page and r["seconds"] and not r["error"]]
        per_page[page] = {"n": len(page_times), "p50_s": _round(percentile(page_times, 50)),
                          "p95_s": _round(percentile(page_times, 95))}
    cpu = None if cpu_before is None or cpu_after is None else round(cpu_after - cpu_before, 2)
    return {
        "client": client, "bases": bases, "replicas": len(bases), "sessions": sessions, "rounds": rounds,
        "pages": pages, "loads": len(rows), "ok": len(times), "errors": [r for r in rows if r["error"]],
        "p50_s": _round(percentile(times, 50)), "p95_s": _round(percentile(times, 95)),
        "max_s": _round(max(times) if times else None), "wall_s": round(wall, 2),
        # The servers' CPU time over the concurrent loads: near wall_s x replicas means every core was busy.
        "server_cpu_s": cpu,
        "cpu_s_per_view": round(cpu / len(times), 3) if cpu is not None and times else None,
        "per_page": per_page, "warm_up": warm, "rows": rows,
    }


def _round(value):
    return None if value is None else round(value, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="target a running server (loopback only), instead of starting one")
    parser.add_argument("--db", metavar="URL", help="database for the server this script starts (default: demo mode)")
    parser.add_argument("--sessions", type=int, default=5, help=f"concurrent sessions (1-{MAX_SESSIONS})")
    parser.add_argument("--replicas", type=int, default=1,
                        help=f"servers to start, sessions spread over them in turn (1-{MAX_REPLICAS}; not with --url)")
    parser.add_argument("--pages", default="/", help="comma-separated page paths with any query, "
                        "e.g. '/,tiers?locality=NORTH'; / is the default page, the Overview (default /)")
    parser.add_argument("--rounds", type=int, default=2, help="times each session loads every page")
    parser.add_argument("--seconds", type=float, default=MAX_SECONDS, help=f"time limit (at most {MAX_SECONDS})")
    parser.add_argument("--client", choices=("browser", "ws"), default="browser",
                        help="browser: headless Chromium pages (what users see, browser drawing included); "
                        "ws: Streamlit's WebSocket protocol without a browser (the server alone)")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the single warm-up session")
    parser.add_argument("--out", metavar="FILE.json", help="write the results as JSON")
    args = parser.parse_args(argv)

    pages = [p.strip().lstrip("/") for p in args.pages.split(",") if p.strip()]  # "/" becomes "", the root
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be between 1 and {MAX_SESSIONS}")
    if not pages or args.rounds < 1 or args.rounds * len(pages) > MAX_LOADS_PER_SESSION:
        parser.error(f"each session loads pages × rounds pages, at most {MAX_LOADS_PER_SESSION}")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be more than 0 and at most {MAX_SECONDS}")
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        parser.error("--url must be a server on this machine (127.0.0.1, localhost or ::1)")
    if not 1 <= args.replicas <= MAX_REPLICAS or (args.url and args.replicas != 1):
        parser.error(f"--replicas must be between 1 and {MAX_REPLICAS}, and 1 with --url")

    procs: list[subprocess.Popen] = []
    demo_dir = tempfile.mkdtemp(prefix="qidash-load-")
    try:
        if args.url:
            bases = [args.url.rstrip("/")]
        else:
            bases = []
            for _ in range(args.replicas):
                log = Path(tempfile.mkstemp(prefix="qidash-load-", suffix=".log")[1])
                proc, base = start_server(args.db, log, demo_dir)
                procs.append(proc)
                bases.append(base)
        result = asyncio.run(run(bases, pages, args.sessions, args.rounds, args.seconds, not args.no_warm_up,
                                 [p.pid for p in procs], args.client))
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"{result['client']}: {result['sessions']} sessions x {len(pages)} page(s) x {args.rounds} round(s) "
          f"against {', '.join(bases)}: {result['ok']}/{result['loads']} loads ok in {result['wall_s']} s"
          + (f" (servers' CPU {result['server_cpu_s']} s, {result['cpu_s_per_view']} s per page view)"
             if result["server_cpu_s"] is not None else ""))
    print(f"page time p50 {result['p50_s']} s, p95 {result['p95_s']} s, max {result['max_s']} s")
    for page, figures in result["per_page"].items():
        print(f"  {page or '/':<30} n={figures['n']:<3} p50 {figures['p50_s']} s  p95 {figures['p95_s']} s")
    for row in result["errors"][:10]:
        print(f"  error: {row['url']}: {row['error']}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"Wrote {args.out}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
