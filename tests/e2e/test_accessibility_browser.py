"""Accessibility: axe-core's WCAG 2.0/2.1/2.2 A and AA rules find no serious or critical violation on
any page.

Every page of every demo programme (7 pages x 5 demos) in demo mode; every page again on a configured
database with sign-in off (the banner and the role switcher, as admin); every page a signed-in locality
lead may open and the Data page as a signed-in admin (sign-in through the mock provider, the sidebar
that names who is signed in); the Showcase presenting a slide; the accessibility statement. One browser,
one server per mode and one tab per mode reused, so the whole check stays within a CI run on two cores.
"""

from __future__ import annotations

import tempfile

import pytest

from qidash import scenarios
from qidash.ui.auth import SIGN_IN_OFF
from qidash.ui.pages import PAGES as ENTRIES

from .conftest import missing, sign_in, start_server, stop_server, wait_idle

try:
    from axe_playwright_python import sync_playwright as axe_playwright
except ImportError:
    missing("axe-playwright-python is not installed (pip install -r requirements-dev.txt)")

# The pages a programme is read through, by the address a browser opens (the default page at the root);
# the accessibility statement has its own test below, reached through the menu.
SHOWN = [entry for entry in ENTRIES if entry.name != "accessibility"]
PAGES = ["" if entry.default else entry.name for entry in SHOWN]
# Tall enough that the whole sidebar (the role switcher and every filter) is on screen: axe checks the
# size of targets it can see.
VIEWPORT = {"width": 1440, "height": 1600}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
DRAWN_JS = """() => {
  for (const p of document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    if (!p.querySelector('.main-svg')) return false;
  for (const d of document.querySelectorAll('[data-testid="stDeckGlJsonChart"]'))
    if (!d.querySelector('canvas')) return false;
  return true;
}"""


def _describe(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            lines.append(
                f"    {' '.join(map(str, node['target']))}: "
                f"{node.get('failureSummary', '').splitlines()[-1:]}\n      {node.get('html', '')[:300]}"
            )
    return "\n".join(lines)


def serious(page) -> list[dict]:
    """The page's serious and critical WCAG A/AA violations, once the script has run and charts are drawn."""
    wait_idle(page)
    page.wait_for_function(DRAWN_JS, timeout=60_000)
    result = axe_playwright.Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
    return [v for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def tab(browser):
    """One tab for the whole module: a page view is a fresh navigation, so nothing carries over."""
    context = browser.new_context(viewport=VIEWPORT)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("scenario", scenarios.available())
@pytest.mark.parametrize("slug", PAGES, ids=lambda s: s or "overview")
def test_demo_page_has_no_serious_violation(server, tab, scenario, slug):
    tab.goto(f"{server}/{slug}?scenario={scenario}")
    bad = serious(tab)
    assert not bad, _describe(bad)


@pytest.fixture(scope="module")
def configured_server(tmp_path_factory):
    """The app on a configured (file) database with sign-in off, as an operator runs it locally."""
    from qidash import cli

    folder = tmp_path_factory.mktemp("a11y-db")
    url = f"sqlite:///{folder / 'fylde.db'}"
    assert cli.main(["demo", "--scenario", "fylde", "--db", url]) == 0
    proc, base = start_server({"QIDASH_DB_URL": url, "QIDASH_AUTH": "off",
                               "QIDASH_DEMO_DIR": tempfile.mkdtemp(prefix="qidash-a11y-")})
    try:
        yield base
    finally:
        stop_server(proc)


@pytest.mark.parametrize("slug", PAGES, ids=lambda s: s or "overview")
def test_configured_database_with_sign_in_off_has_no_serious_violation(configured_server, tab, slug):
    tab.goto(f"{configured_server}/{slug}")
    wait_idle(tab)
    assert tab.locator('[data-testid="stAlert"]').filter(has_text=SIGN_IN_OFF[:40]).count() == 1
    bad = serious(tab)
    assert not bad, _describe(bad)


# Who signs in (a subject the mock provider knows, see conftest.py), as whom the sidebar names them, and
# their role: the lead opens every page a lead may, the admin the one page only an admin may.
SIGNED_IN = {"locality_lead": ("lee-subject", "Lee Lead"), "admin": ("ada-subject", "Ada Admin")}
SIGNED_IN_VIEWS = [
    (role, "" if entry.default else entry.name)
    for role in SIGNED_IN
    for entry in SHOWN
    if entry.open_to(role) and (role == "locality_lead" or not entry.open_to("locality_lead"))
]


@pytest.fixture(scope="module")
def signed_in_tabs(signed_app, browser):
    """One signed-in tab per role, signed in once when first asked for and reused for every page."""
    base, _engine = signed_app
    contexts: dict[str, tuple] = {}

    def tab_for(role: str):
        if role not in contexts:
            subject = SIGNED_IN[role][0]
            contexts[role] = sign_in(browser, base, subject, viewport=VIEWPORT)
        return contexts[role][1]

    yield base, tab_for
    for context, _tab in contexts.values():
        context.close()


def test_the_signed_in_views_cover_every_page_each_role_may_open():
    lead = {slug for role, slug in SIGNED_IN_VIEWS if role == "locality_lead"}
    assert lead == {slug for entry, slug in zip(SHOWN, PAGES, strict=True) if entry.open_to("locality_lead")}
    assert {slug for _role, slug in SIGNED_IN_VIEWS} == set(PAGES)


@pytest.mark.parametrize(("role", "slug"), SIGNED_IN_VIEWS, ids=lambda v: v or "overview")
def test_signed_in_page_has_no_serious_violation(signed_in_tabs, role, slug):
    base, tab_for = signed_in_tabs
    tab = tab_for(role)
    tab.goto(f"{base}/{slug}")
    wait_idle(tab)
    assert f"Signed in as {SIGNED_IN[role][1]}" in tab.locator('[data-testid="stSidebar"]').inner_text()
    assert tab.locator('[data-testid="stMain"] h1').count() >= 1  # the page itself, not a refusal
    bad = serious(tab)
    assert not bad, _describe(bad)


def test_showcase_presenting_has_no_serious_violation(server, tab):
    tab.goto(f"{server}/showcase?scenario=barnet&slide=2&present=1")
    bad = serious(tab)
    assert not bad, _describe(bad)


def test_showcase_presenting_signed_in_has_no_serious_violation(signed_in_tabs):
    base, tab_for = signed_in_tabs
    tab = tab_for("locality_lead")
    tab.goto(f"{base}/showcase?slide=2&present=1")
    bad = serious(tab)
    assert not bad, _describe(bad)


def test_accessibility_statement_is_in_the_menu_and_passes(server, tab):
    tab.goto(f"{server}/?scenario=somerset")
    wait_idle(tab)
    tab.locator('[data-testid="stSidebarNav"] a', has_text="Accessibility").click()
    tab.wait_for_url("**/accessibility**")
    bad = serious(tab)
    assert not bad, _describe(bad)
    for heading in ("Accessibility statement", "How accessible this dashboard is", "Does not meet AA yet:",
                    "What to do if you cannot use part of this dashboard", "Enforcement procedure"):
        assert tab.get_by_text(heading, exact=True).count() == 1, heading
