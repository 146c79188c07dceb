"""Accessibility: axe-core's WCAG 2.0/2.1/2.2 A and AA rules find no serious or critical violation on
any page.

Every page of every demo programme (7 pages x 5 demos) in demo mode, a configured database with sign-in
off (the banner and no role switcher), and the Showcase presenting a slide. One server per mode and one
browser tab reused, so the whole check stays within a CI run on two cores.
"""

from __future__ import annotations

import tempfile

import pytest

from qidash import scenarios
from qidash.ui.auth import SIGN_IN_OFF

from .conftest import start_server, stop_server, wait_idle

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

PAGES = ["", "capability_map", "tiers", "portfolio", "project", "showcase", "data"]
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
                f"{node.get('failureSummary', '').splitlines()[-1:]}"
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
    context = browser.new_context(viewport={"width": 1440, "height": 900})
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


@pytest.mark.parametrize("slug", ["", "project", "data"], ids=lambda s: s or "overview")
def test_configured_database_with_sign_in_off_has_no_serious_violation(configured_server, tab, slug):
    tab.goto(f"{configured_server}/{slug}")
    wait_idle(tab)
    assert tab.locator('[data-testid="stAlert"]').filter(has_text=SIGN_IN_OFF[:40]).count() == 1
    bad = serious(tab)
    assert not bad, _describe(bad)


def test_showcase_presenting_has_no_serious_violation(server, tab):
    tab.goto(f"{server}/showcase?scenario=barnet&slide=2&present=1")
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
