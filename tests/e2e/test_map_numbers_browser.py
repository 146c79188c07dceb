"""The Capability map's per-PCN numbers in a real browser: written only when their expander is opened,
they then show as a table, and stay while it is open; every organisation and its stage, as a list reached
by keyboard."""

import pytest

from qidash import maps
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


LIST = "Every organisation and its stage"
SUMMARY_JS = """() => { const el = document.activeElement;
  return el && el.tagName === 'SUMMARY' ? el.innerText : null; }"""


def test_every_organisations_stage_is_reached_found_and_read_by_keyboard(server, page):
    """The map's points as a list, for someone without a mouse: Tab to it, open it with Enter, type part
    of a name, and read the organisation's stage in the table; no serious axe failure with it open."""
    from tests.e2e.test_accessibility_browser import serious
    from tests.e2e.test_keyboard_browser import focus_shown

    page.goto(f"{server}/capability_map?scenario=cornwall")
    wait_idle(page)
    page.locator("body").focus()
    for _ in range(150):
        page.keyboard.press("Tab")
        if LIST in (page.evaluate(SUMMARY_JS) or ""):
            break
    else:
        raise AssertionError("Tab never reached the list of organisations")
    assert focus_shown(page)
    expander = page.locator('[data-testid="stExpander"]').filter(has_text=LIST)
    assert expander.locator('[data-testid="stDataFrame"]').count() == 0  # closed: not built
    page.keyboard.press("Enter")
    wait_idle(page)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "Find an organisation by name or ODS code"
    )
    page.keyboard.type("surgery")
    page.keyboard.press("Enter")
    wait_idle(page)
    table = expander.locator('[data-testid="stDataFrame"]')
    table.wait_for(timeout=30_000)
    rows = table.locator("table").first.evaluate(
        "t => [...t.querySelectorAll('tr')].map(r => [...r.querySelectorAll('th, td')]"
        ".map(c => c.textContent))"
    )
    header, body = rows[0], [r for r in rows[1:] if any(r)]
    assert "Organisation" in header and "Stage" in header
    stage = header.index("Stage")
    assert body and all("Surgery" in r[header.index("Organisation")] for r in body)
    assert {r[stage] for r in body} <= set(maps.STAGE_LABELS.values())
    bad = serious(page)
    assert not bad, [v["id"] for v in bad]
    assert_clean(page)
