"""The Capability map's per-PCN numbers in a real browser: written only when their expander is opened,
they then show as a table, and stay while it is open."""

import pytest

from tests.e2e.conftest import assert_clean, wait_idle

pytestmark = pytest.mark.e2e

NUMBERS = "The numbers behind the map"


def test_the_numbers_behind_the_map_open_as_a_table(server, page):
    page.goto(f"{server}/capability_map?scenario=cornwall")
    wait_idle(page)
    expander = page.locator('[data-testid="stExpander"]').filter(has_text=NUMBERS)
    expander.wait_for(timeout=60_000)
    assert expander.locator('[data-testid="stDataFrame"]').count() == 0  # closed: not written
    expander.get_by_text(NUMBERS).click()
    wait_idle(page)
    table = expander.locator('[data-testid="stDataFrame"]')
    table.wait_for(timeout=30_000)
    assert table.is_visible()
    # The grid draws on a canvas; its accessible table holds the text.
    header = table.locator("table").first.evaluate(
        "t => [...t.querySelectorAll('tr')[0].querySelectorAll('th, td')].map(c => c.textContent)"
    )
    assert "PCN" in header and "Coverage %" in header
    page.get_by_role("heading", name="Gaps: nobody trained").wait_for()  # the rest of the page is there
    assert_clean(page)
