"""Pages that read right at 1440 pixels, in a real browser: the capability map's gaps table fits beside
the sidebar without scrolling sideways, and no page cuts a tile's label short."""

import pytest

from tests.e2e.conftest import assert_clean, wait_idle

pytestmark = pytest.mark.e2e

WIDE = {"width": 1440, "height": 1600}

# Streamlit cuts a metric's label short with an ellipsis on an element narrower than its text.
CUT_LABELS = """() => [...document.querySelectorAll('[data-testid="stMetricLabel"] *')]
    .filter(e => getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText)"""


@pytest.fixture
def wide_page(browser):
    from tests.e2e.conftest import PageWatch

    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.watch = PageWatch(page)
    yield page
    context.close()


def test_gaps_table_fits_1440_pixels_and_says_where_the_coach_is(server, wide_page):
    page = wide_page
    page.goto(f"{server}/capability_map?scenario=cornwall")
    wait_idle(page)
    gaps = page.locator(
        '[data-testid="stDataFrame"]', has=page.locator("th", has_text="Nearest coach or Lead")
    )
    gaps.wait_for()
    headers = gaps.locator("th").all_inner_texts()
    assert {"Organisation", "Nearest coach or Lead", "Distance (km)", "PCN"} <= set(headers), headers
    scroller = gaps.locator(".dvn-scroller").first
    wide, shown = scroller.evaluate("s => [s.scrollWidth, s.clientWidth]")
    assert wide <= shown, (
        f"the gaps table is {wide} pixels wide in a {shown}-pixel frame: it scrolls sideways"
    )
    # Where the coach is and how far, in words, whether or not they are named.
    cells = gaps.locator("td").all_inner_texts()
    coach = [c for c in cells if " at " in c and c.endswith(" km")]
    assert coach, cells[:20]
    assert any(c.startswith("A coach at ") for c in coach)
    assert_clean(page)


@pytest.mark.parametrize("scenario", ["somerset", "fylde", "cornwall"])
def test_no_tile_label_is_cut_short_at_1440_pixels(server, wide_page, scenario):
    page = wide_page
    cut = {}
    for name in ("", "capability_map", "tiers", "portfolio", "project", "showcase", "data"):
        page.goto(f"{server}/{name}?scenario={scenario}")
        wait_idle(page)
        if name == "data":  # the data-quality tiles sit on their own tab
            page.get_by_role("tab", name="Data quality").click()
            wait_idle(page)
            page.locator('[data-testid="stMetricLabel"]', has_text="People at two organisations").wait_for()
        if page.evaluate(CUT_LABELS):
            cut[name or "overview"] = page.evaluate(CUT_LABELS)
    assert not cut, cut
