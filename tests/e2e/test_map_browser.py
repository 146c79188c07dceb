"""The Capability map in a real browser: the deck draws on its canvas with no basemap and no outside
request, hovering an area or a point shows its tooltip, and clicking a PCN puts it in the URL."""

import io

import pytest
from PIL import Image

from tests.e2e.conftest import assert_clean, wait_idle

pytestmark = pytest.mark.e2e

MAP = '[data-testid="stDeckGlJsonChart"]'


def open_map(page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.wait_for_selector(f"{MAP} canvas", timeout=60_000)
    page.wait_for_timeout(1500)  # the first WebGL frame, drawn in software


def hover_until(page, box, wanted: str):
    """Move the mouse over a grid across the map until the deck's tooltip shows ``wanted``; return the
    (x, y) where it did and the tooltip's text, or (None, None)."""
    tooltip = page.locator(".deck-tooltip")
    steps = 14
    for j in range(2, steps - 1):
        for i in range(2, steps - 1):
            x, y = box["x"] + box["width"] * i / steps, box["y"] + box["height"] * j / steps
            page.mouse.move(x, y)
            page.wait_for_timeout(60)
            if tooltip.count() and tooltip.first.is_visible():
                text = tooltip.first.inner_text()
                if wanted in text:
                    return (x, y), text
    return None, None


def pcn_name(scenario: str, code: str) -> str:
    """The PCN's name in the demo database the server reads (the run's private demo folder)."""
    from sqlalchemy import select

    from qidash import db
    from qidash import models as m

    engine = db.make_engine(db.demo_url(scenario))
    try:
        with engine.connect() as conn:
            return conn.execute(select(m.Pcn.name).where(m.Pcn.code == code)).scalar_one()
    finally:
        engine.dispose()


def test_map_draws_shows_tooltips_and_filters_on_click(server, page):
    open_map(page, f"{server}/capability_map?scenario=cornwall")
    assert page.get_by_role("heading", name="Capability map", exact=True).is_visible()
    canvas = page.locator(f"{MAP} canvas").first
    box = canvas.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300
    # Something was drawn: a blank canvas has one colour; areas, outlines and points have many.
    colours = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours and len(colours) > 20

    where, area_tip = hover_until(page, box, "organisations trained")
    assert where, "no PCN area tooltip anywhere on the map"
    assert "PCN" in area_tip and "Coverage" in area_tip and "{" not in area_tip
    _, point_tip = hover_until(page, box, "Stage:")
    assert point_tip and "People trained in post" in point_tip and "{" not in point_tip

    assert "pcn=" not in page.url
    page.mouse.move(*where)
    page.wait_for_timeout(200)
    page.mouse.click(*where)
    page.wait_for_function("() => window.location.search.includes('pcn=')", timeout=30_000)
    wait_idle(page)
    code = page.url.split("pcn=")[1].split("&")[0]  # (Cornwall is the default programme: not in the URL)
    name = pcn_name("cornwall", code)
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    assert f"PCN {name}" in caption
    page.wait_for_selector(f"{MAP} canvas", timeout=30_000)

    # The link opens the same filtered map.
    link = page.url
    page.goto("about:blank")
    open_map(page, link)
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    assert f"PCN {name}" in caption
    assert_clean(page)  # no console error, no failed response, nothing fetched from outside
