"""The frame in a real browser: open the app, change a filter, reload the URL, see the same view."""

from urllib.parse import urlparse

from tests.e2e.conftest import assert_clean, wait_idle


def metric_value(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]', has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text()


def choose(page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]', has_text=label).first
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_filter_lives_in_the_url_and_survives_a_reload(server, page):
    page.goto(f"{server}/?scenario=cornwall")
    wait_idle(page)
    everyone = metric_value(page, "People trained")

    choose(page, "Locality", "East Cornwall")
    assert "locality=EAST" in page.url
    east = metric_value(page, "People trained")
    assert east != everyone

    link = page.url
    page.goto("about:blank")
    page.goto(link)
    wait_idle(page)
    assert metric_value(page, "People trained") == east
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    assert "locality East Cornwall" in caption
    assert_clean(page)


def test_the_overview_by_name_opens_the_overview_with_its_filters(server, page):
    """/overview (typed, or an old bookmark) is the Overview, which lives at the root URL."""
    page.goto(f"{server}/overview?scenario=barnet&locality=NORTH")
    wait_idle(page)
    assert urlparse(page.url).path == "/"
    assert "scenario=barnet" in page.url and "locality=NORTH" in page.url
    assert page.get_by_role("heading", name="Overview").first.is_visible()
    assert "not found" not in page.locator("body").inner_text().lower()
    assert_clean(page)


def test_links_may_name_codes(server, page):
    page.goto(f"{server}/?scenario=barnet&locality=NORTH")
    wait_idle(page)
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    assert "Barnet" in caption and "locality North Barnet" in caption
    assert "scenario=barnet" in page.url and "locality=NORTH" in page.url
    assert_clean(page)
