"""The Tiers page in a real browser: a shared link opens Barnet's funnel, the comparison control
switches from localities to sectors and the link keeps it, nothing errors and nothing leaves the machine."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_clean, wait_idle

pytestmark = pytest.mark.e2e

# Opened on a page's own path (/tiers), Streamlit's client first looks for its server under that path
# and gets a 404 for these two, then finds it at the root. Those 404s are expected; no other is.
BASE_PATH_PROBES = ("/_stcore/health", "/_stcore/host-config")


def chart_text(page, index: int) -> str:
    return page.locator('[data-testid="stPlotlyChart"]').nth(index).inner_text()


def comparison_chart(page):
    """The chart under "Compared across areas" (its axis title names what it counts)."""
    return page.locator('[data-testid="stPlotlyChart"]', has_text="People who reached at least this tier")


def open_section(page, name: str) -> None:
    """Click the tab ``name``: the page reruns and draws that section."""
    page.get_by_role("tab", name=name, exact=True).click()
    wait_idle(page)


def test_tiers_deep_link_funnel_and_comparison(server, page):
    probes = []
    page.on(
        "response",
        lambda r: probes.append(r.url) if r.status == 404 and r.url.endswith(BASE_PATH_PROBES) else None,
    )
    page.goto(f"{server}/tiers?scenario=barnet")
    wait_idle(page)

    assert page.get_by_role("heading", name="Tiers", exact=True).is_visible()
    learn = page.locator('[data-testid="stMetric"]', has_text="Learn").first
    learned = learn.locator('[data-testid="stMetricValue"]').inner_text()
    funnel = chart_text(page, 0)
    assert "Learn" in funnel and "Live" in funnel and "Lead" in funnel
    assert learned in funnel  # the funnel's first stage is the tile's number
    assert comparison_chart(page).count() == 0  # only the open section is drawn

    open_section(page, "Compared across areas")
    assert "North Barnet" in comparison_chart(page).inner_text()

    page.get_by_role("radio", name="Sector", exact=True).click()  # the "Compare by" segmented control
    # The rerun writes the choice into the URL; waiting for it first means wait_idle cannot see the
    # page idle before the rerun has begun.
    page.wait_for_url("**compare=sector**")
    wait_idle(page)
    expect(comparison_chart(page)).to_contain_text("NHS")
    assert "North Barnet" not in comparison_chart(page).inner_text()
    assert "scenario=" in page.url

    # The link opens the same comparison, in its section.
    link = page.url
    page.goto("about:blank")
    page.goto(link)
    wait_idle(page)
    expect(comparison_chart(page)).to_contain_text("NHS")
    assert "North Barnet" not in comparison_chart(page).inner_text()

    open_section(page, "Cohorts")
    sessions = page.locator('[data-testid="stPlotlyChart"]', has_text="On the register")
    assert sessions.count() == 1 and "Session" in sessions.inner_text()

    errors = [e for e in page.watch.console_errors if "favicon" not in e]
    expected = [e for e in errors if "status of 404" in e]
    assert len(expected) <= len(probes), (errors, probes)
    page.watch.console_errors[:] = [e for e in page.watch.console_errors if e not in expected]
    assert_clean(page)
