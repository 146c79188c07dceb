"""Imported text is data, never markup, in a real browser (issue 15).

First the escaping itself: a tiny app (apps/literal_text.py) puts hostile text through
``markdown_literal`` in every Streamlit element that reads Markdown, and as it is in those that show
plain text; no link, image, format, colour, icon or formula appears, and the text reads as written.

Then the app: a database loaded through the import with a locality that is an ``<a href>``, project
titles that fetch an outside image, PCNs with ``onerror`` images and organisations that are
``HYPERLINK`` formulas (tests/hostile.py). The Overview, Portfolio, Project, Capability map and
Showcase hold no link or image from it and make no request to another host; a map tooltip shows a
PCN's name as text; the gaps download is neutralised and audited.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from qidash import auth, db
from tests.e2e.conftest import assert_clean, start_server, stop_server, wait_idle
from tests.e2e.test_map_browser import MAP, hover_until
from tests.hostile import MARKDOWN_SAMPLE, hostile_database

pytestmark = pytest.mark.e2e

APPS = Path(__file__).parent / "apps"

# Every link, image or script in the page whose address names the attacker's host (SVG <a> included).
EVIL_ELEMENTS = """() => [...document.querySelectorAll('a, img, script, iframe, image, use, link')]
    .map(e => e.tagName + ' '
        + (e.getAttribute('href') || e.getAttribute('xlink:href') || e.getAttribute('src') || ''))
    .filter(t => t.includes('evil'))"""
# Markup that would come from the text: formats, headings, quotes, lists, LaTeX, colours, icons.
FORMATTED = """() => [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
    .flatMap(c => [...c.querySelectorAll('strong, em, del, code, blockquote, ul, ol, img, a, .katex, '
        + 'span[style*="color"], [data-testid="stIconMaterial"]')])
    .map(e => e.tagName + ' ' + e.textContent)"""


def _plain(text: str) -> str:
    return text.replace("\u2060", "")


@pytest.fixture(scope="module")
def literal_app():
    proc, base = start_server(script=APPS / "literal_text.py")
    try:
        yield base
    finally:
        stop_server(proc)


def test_markdown_literal_shows_hostile_text_as_written_in_every_element(literal_app, page):
    page.goto(literal_app)
    wait_idle(page)
    assert page.evaluate(EVIL_ELEMENTS) == []
    assert page.evaluate(FORMATTED) == []
    headings = page.evaluate(
        "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => h.textContent)"
    )
    assert len(headings) == 2 and all(h.startswith(("title ", "subheader ")) for h in headings), headings
    paragraph = page.locator('[data-testid="stMarkdownContainer"] p', has_text="markdown <a href").first
    assert _plain(paragraph.inner_text()) == "markdown " + MARKDOWN_SAMPLE  # as written, every character
    lines = _plain(page.locator('[data-testid="stMarkdownContainer"]', has_text="heading").first.inner_text())
    assert lines.splitlines() == ["# heading", "- list", "> quote", "1. one"]
    for start in ("caption ", "metric ", "value ", "delta ", "expander ", "tab ", "radio ", "segment ",
                  "table ", "info ", "warning "):
        assert page.get_by_text(start + "<a href", exact=False).count(), start
    assert_clean(page)


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """(base URL, engine) of the app on a database holding the hostile programme, sign-in off."""
    folder = tmp_path_factory.mktemp("e2e-hostile")
    url = db.sqlite_url(folder / "hostile.db")
    engine = db.make_engine(url)
    db.migrate(engine)
    hostile_database(engine)
    proc, base = start_server({"QIDASH_DB_URL": url, "QIDASH_AUTH": "off", "QIDASH_DEMO_DIR": str(folder)})
    try:
        yield base, engine
    finally:
        stop_server(proc)
        engine.dispose()


def _locality(engine) -> str:
    from sqlalchemy import select

    from qidash import models as m

    with engine.connect() as conn:
        return conn.execute(select(m.Locality.code).order_by(m.Locality.code)).scalars().first()


@pytest.mark.parametrize("path", ["", "portfolio", "project", "capability_map", "showcase", "tiers"])
def test_no_page_links_out_or_fetches_from_imported_text(hostile_server, page, path):
    base, engine = hostile_server
    page.goto(f"{base}/{path}?locality={_locality(engine)}")
    wait_idle(page)
    if path == "capability_map":
        page.wait_for_selector(f"{MAP} canvas", timeout=60_000)
    body = _plain(page.locator('[data-testid="stMain"]').inner_text())
    assert "Locality 1</a>" in body  # the control: the hostile locality is on the page, as text
    assert page.evaluate(EVIL_ELEMENTS) == []
    assert_clean(page)  # no request left this machine (an image from a title would have)


def test_a_map_tooltip_shows_the_pcn_name_as_text(hostile_server, page):
    base, _engine = hostile_server
    page.goto(f"{base}/capability_map")
    wait_idle(page)
    canvas = page.locator(f"{MAP} canvas").first
    page.wait_for_timeout(1500)
    where, text = hover_until(page, canvas.bounding_box(), "organisations trained")
    assert where, "no PCN area tooltip anywhere on the map"
    assert "<img src=x onerror=alert(1)> PCN" in text  # the name, as written
    tooltip = page.locator(".deck-tooltip").first
    assert tooltip.evaluate("t => t.querySelectorAll('*').length") <= text.count("\n") + 1  # only <br>s
    assert tooltip.evaluate("t => t.querySelector('img')") is None
    assert_clean(page)


def test_the_gaps_download_is_neutralised_and_audited(hostile_server, page):
    base, engine = hostile_server
    page.goto(f"{base}/capability_map")
    wait_idle(page)
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the gaps (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_bytes().decode("utf-8-sig"))))
    names = [row[rows[0].index("Organisation")] for row in rows[1:]] if "Organisation" in rows[0] else []
    assert names and all(n.startswith("'=HYPERLINK(") for n in names), rows[:3]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row if not _number(cell))
    with engine.connect() as conn:
        event = auth.audit_events(conn, action="download")[0]
    assert event["detail"]["what"] == "gaps" and event["detail"]["bytes"] > 0
    assert event["actor"]  # the viewer's identity (sign-in off: the operator's demo identity)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
