"""Browser tests: a real Streamlit server on a free port and Debian's headless Chromium (Playwright).

Skipped when Chromium or Playwright is missing, unless QIDASH_REQUIRE_E2E=1 (CI), which makes a
missing browser a failure. The server runs in demo mode with its own demo folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]
REQUIRED = os.environ.get("QIDASH_REQUIRE_E2E") == "1"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def missing(reason: str):
    """Skip for want of ``reason``, or fail where CI requires the browser tests (QIDASH_REQUIRE_E2E=1)."""
    if REQUIRED:
        pytest.fail(f"browser tests are required (QIDASH_REQUIRE_E2E=1) but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_server(proc) -> None:
    """Stop a server started by :func:`start_server`, killing it if it does not stop within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_server(env_extra: dict | None = None, extra_args: list[str] | None = None, port: int | None = None,
                 script: Path | None = None):
    """Start ``streamlit run app.py`` (or ``script``) on a free port; return (process, base URL). The
    caller stops it."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("QIDASH_DB_URL", "QIDASH_AUTH")}
    env["QIDASH_DEMO_DIR"] = env.get("QIDASH_DEMO_DIR") or tempfile.mkdtemp(prefix="qidash-e2e-")
    env.update(env_extra or {})
    # Open for as long as the server runs; the caller stops both.
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script or ROOT / "app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            *(extra_args or []),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log.name}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"streamlit did not become healthy; see {log.name}")


@pytest.fixture(scope="session")
def server():
    """Base URL of a Streamlit server running the app in demo mode (shared by the session)."""
    proc, base = start_server()
    try:
        yield base
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageWatch:
    """Console errors, failed responses and requests to hosts other than this machine, seen by one page."""

    def __init__(self, page):
        self.page = page
        self.console_errors: list[str] = []
        self.outside_requests: list[str] = []
        self.bad_responses: list[str] = []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("request", self._request)
        page.on(
            "response",
            lambda r: self.bad_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

    def _request(self, request):
        host = urlparse(request.url).hostname
        if request.url.startswith(("http://", "https://", "ws://", "wss://")) and host not in (
            "127.0.0.1",
            "localhost",
        ):
            self.outside_requests.append(request.url)


# Opening a page's own address (/tiers) makes Streamlit's client probe for its server under that path
# first (/tiers/_stcore/health...), which answers 404 before it finds the root. Those are expected.
def _expected_probe(line: str) -> bool:
    return line.startswith("404 ") and "/_stcore/" in line


@pytest.fixture
def page(browser):
    """A fresh browser page (1280×1600, tall because Streamlit scrolls inside its own container)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    pg = context.new_page()
    pg.watch = PageWatch(pg)
    yield pg
    context.close()


def wait_idle(page, timeout_ms: int = 90_000) -> None:
    """Wait until the script has finished and no skeleton placeholder is left.

    After a click the rerun may not have started yet, so first give it a moment to begin.
    """
    # A fast rerun may have finished already, so not seeing it run is fine.
    with contextlib.suppress(Exception):
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=700)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=timeout_ms
    )
    page.wait_for_timeout(300)


def assert_clean(page) -> None:
    """No console errors, no failed responses (but Streamlit's expected probes), no request left this
    machine."""
    bad = [r for r in page.watch.bad_responses if not _expected_probe(r)]
    assert not bad, bad
    errors = [
        e for e in page.watch.console_errors
        if not (e.startswith("Failed to load resource") and not bad)  # those are the probes above
    ]
    assert not errors, errors
    assert not page.watch.outside_requests, page.watch.outside_requests


# --- signing in through a real OpenID Connect provider on this machine ----------------------------------

# Subjects the provider knows, with their claims. "mallory" claims the admin's email, unverified.
PROVIDER_USERS = {
    "ada-subject": {"email": "admin@example.nhs.uk", "email_verified": True},
    "lee-subject": {"email": "Lead@Example.NHS.uk ", "email_verified": True},
    "stranger-subject": {"email": "stranger@example.com", "email_verified": True},
    "mallory": {"email": "admin@example.nhs.uk", "email_verified": False},
}


@pytest.fixture(scope="session")
def signed_app(tmp_path_factory, browser):
    """A server with [auth] configured against oidc-provider-mock, over a barnet database with two users
    (an admin, and a locality lead for NORTH); shared by the sign-in and accessibility tests."""
    try:
        import oidc_provider_mock as mock
    except ImportError:
        missing("oidc-provider-mock is not installed (pip install -r requirements-dev.txt)")
    from qidash import auth, db, scenarios

    tmp = tmp_path_factory.mktemp("oidc")
    url = db.sqlite_url(tmp / "app.db")
    engine = db.make_engine(url)
    scenarios.load_demo(engine, "barnet")
    auth.save_user(engine, "test", "admin@example.nhs.uk", "admin", "Ada Admin")
    auth.save_user(engine, "test", "lead@example.nhs.uk", "locality_lead", "Lee Lead", localities=("NORTH",))
    users = [mock.User(sub=sub, claims=claims) for sub, claims in PROVIDER_USERS.items()]
    with mock.run_server_in_thread(port=0, user_claims=users) as provider:
        port = free_port()
        secrets_file = tmp / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(16)}"\n'
            'client_id = "qidash-test"\n'
            'client_secret = "not-a-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
        )
        proc, base = start_server({"QIDASH_DB_URL": url}, ["--secrets.files", str(secrets_file)], port=port)
        try:
            yield base, engine
        finally:
            stop_server(proc)
            engine.dispose()


def block_outside(page) -> None:
    """Abort every request to a host other than this machine (the mock provider's stylesheet CDN)."""

    def route(r):
        host = urlparse(r.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)


def sign_in(browser, base: str, subject: str, viewport: dict | None = None):
    """A new browser context signed in as ``subject`` through the provider's form; (context, page) on the
    first page after sign-in. The caller closes the context."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 1400})
    page = context.new_page()
    block_outside(page)
    page.goto(base)
    wait_idle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.fill("input[name=sub]", subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{base}/**", timeout=30_000)
    wait_idle(page)
    return context, page
