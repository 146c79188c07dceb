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

Bounded on purpose: at most 20 sessions, 10 loads per session and 120 seconds in all; loopback only.

    python scripts/load_test.py --sessions 5 --pages "/,tiers" --rounds 2
    python scripts/load_test.py --db postgresql+psycopg://app@127.0.0.1:5432/qidash --sessions 10
    python scripts/load_test.py --client ws --sessions 20 --pages "/,tiers,portfolio" --rounds 3
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
MAX_SESSIONS = 20
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


def start_server(db_url: str | None, log_path: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` on a free loopback port; demo mode unless ``db_url`` is given."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "QIDASH_DB_URL"}
    if db_url:
        env["QIDASH_DB_URL"] = db_url
        env["QIDASH_AUTH"] = "off"  # a configured database needs sign-in; the load test turns it off on purpose
    env.setdefault("QIDASH_DEMO_DIR", tempfile.mkdtemp(prefix="qidash-load-"))
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


async def ws_session(base: str, index: int, urls: list[str], deadline: float) -> list[dict]:
    rows = []
    for url in urls:
        if time.monotonic() > deadline:
            rows.append({"url": url, "seconds": None, "error": "not started: time limit reached"})
            continue
        rows.append({"session": index, **await ws_load(base, url, deadline)})
    return rows


async def session(browser, index: int, urls: list[str], deadline: float) -> list[dict]:
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    rows = []
    try:
        for url in urls:
            if time.monotonic() > deadline:
                rows.append({"url": url, "seconds": None, "error": "not started: time limit reached"})
                continue
            rows.append({"session": index, **await load(page, url, deadline)})
    finally:
        await context.close()
    return rows


async def run(
    base: str, pages: list[str], sessions: int, rounds: int, seconds: float, warm_up: bool,
    server_pid: int | None, client: str = "browser",
) -> dict:
    urls = [f"{base}/{p}" for _ in range(rounds) for p in pages]
    deadline = time.monotonic() + seconds
    if client == "ws":
        warm = await ws_session(base, -1, [f"{base}/{page}" for page in pages], deadline) if warm_up else []
        began, cpu_before = time.perf_counter(), cpu_seconds(server_pid)
        results = await asyncio.gather(*(ws_session(base, i, urls, deadline) for i in range(sessions)))
        wall, cpu_after = time.perf_counter() - began, cpu_seconds(server_pid)
        return summarise(client, base, pages, sessions, rounds, warm, results, wall, cpu_before, cpu_after)

    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            warm = []
            if warm_up:  # one session first, so imports and caches are warm, as on a running system
                warm = await session(browser, -1, [f"{base}/{page}" for page in pages], deadline)
            began, cpu_before = time.perf_counter(), cpu_seconds(server_pid)
            results = await asyncio.gather(*(session(browser, i, urls, deadline) for i in range(sessions)))
            wall, cpu_after = time.perf_counter() - began, cpu_seconds(server_pid)
        finally:
            await browser.close()
    return summarise(client, base, pages, sessions, rounds, warm, results, wall, cpu_before, cpu_after)


def summarise(client, base, pages, sessions, rounds, warm, results, wall, cpu_before, cpu_after) -> dict:
    """p50 / p95 page times overall and per page, and the errors."""
    rows = [row for rows in results for row in rows]
    times = [r["seconds"] for r in rows if r["seconds"] is not None and not r["error"]]
    per_page = {}
    for page in pages:
        page_times = [r["seconds"] for r in rows if r["url"] == f"{base}/{page}" and r["seconds"] and not r["error"]]
        per_page[page] = {"n": len(page_times), "p50_s": _round(percentile(page_times, 50)),
                          "p95_s": _round(percentile(page_times, 95))}
    return {
        "client": client, "base": base, "sessions": sessions, "rounds": rounds, "pages": pages,
        "loads": len(rows), "ok": len(times), "errors": [r for r in rows if r["error"]],
        "p50_s": _round(percentile(times, 50)), "p95_s": _round(percentile(times, 95)),
        "max_s": _round(max(times) if times else None), "wall_s": round(wall, 2),
        # The server's CPU time over the concurrent loads: near wall_s means one core was saturated.
        "server_cpu_s": None if cpu_before is None or cpu_after is None else round(cpu_after - cpu_before, 2),
        "per_page": per_page, "warm_up": warm, "rows": rows,
    }


def _round(value):
    return None if value is None else round(value, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="target a running server (loopback only), instead of starting one")
    parser.add_argument("--db", metavar="URL", help="database for the server this script starts (default: demo mode)")
    parser.add_argument("--sessions", type=int, default=5, help=f"concurrent sessions (1-{MAX_SESSIONS})")
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

    proc = None
    log = Path(tempfile.mkstemp(prefix="qidash-load-", suffix=".log")[1])
    try:
        if args.url:
            base = args.url.rstrip("/")
        else:
            proc, base = start_server(args.db, log)
        result = asyncio.run(run(base, pages, args.sessions, args.rounds, args.seconds, not args.no_warm_up,
                                 proc.pid if proc else None, args.client))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"{result['client']}: {result['sessions']} sessions x {len(pages)} page(s) x {args.rounds} round(s) "
          f"against {base}: {result['ok']}/{result['loads']} loads ok in {result['wall_s']} s"
          + (f" (server CPU {result['server_cpu_s']} s)" if result["server_cpu_s"] is not None else ""))
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
