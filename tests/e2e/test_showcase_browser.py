"""The Showcase in a real browser: a link opens a slide, Present hides the setting up, the arrow keys step
through the slides with the address following, a reload opens the same slide still presenting, Esc comes
back; nothing errors and nothing leaves the machine. And the HTML report, opened offline, asks the
network for nothing."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from qidash import db, measures, scenarios
from qidash.exports import html_report
from qidash.scope import Scope
from qidash.views.showcase import BOARD_SCREEN_ROWS, showcase_data
from tests.e2e.conftest import PageWatch, assert_clean, wait_idle

pytestmark = pytest.mark.e2e

BASE_PATH_PROBES = ("/_stcore/health", "/_stcore/host-config")


def barnet():
    """Barnet's showcase as the server builds it by default (same demo folder as the server)."""
    engine = db.make_engine(db.demo_url("barnet"))
    if db.is_empty(engine):
        db.migrate(engine)
        scenarios.load_demo(engine, "barnet")
    with engine.connect() as conn:
        sc = showcase_data(conn, Scope(), measures.default_as_of(conn))
    engine.dispose()
    return sc


def heading(page, text: str):
    return page.get_by_role("heading", name=text, exact=True)


def step(page, key: str, slide: int) -> None:
    page.keyboard.press(key)
    page.wait_for_url(f"**slide={slide}&**")
    wait_idle(page)


def test_present_and_step_through_the_slides_with_the_keyboard(server, page):
    probes = []
    page.on(
        "response",
        lambda r: probes.append(r.url) if r.status == 404 and r.url.endswith(BASE_PATH_PROBES) else None,
    )
    page.goto(f"{server}/showcase?scenario=barnet&slide=1")
    wait_idle(page)
    slides = barnet().screens(BOARD_SCREEN_ROWS)  # as presented
    expect(heading(page, "Showcase")).to_be_visible()
    expect(heading(page, slides[0].title)).to_be_visible()
    expect(page.get_by_text("Projects to celebrate, in the order to present them")).to_be_visible()

    page.get_by_role("button", name="Present", exact=True).click()
    page.wait_for_url("**present=1**")
    wait_idle(page)
    expect(heading(page, "Showcase")).to_have_count(0)  # slides only
    expect(page.get_by_text("Projects to celebrate, in the order to present them")).to_have_count(0)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_have_attribute("data-collapsed", "true")  # the slides fill the screen

    step(page, "ArrowRight", 2)
    expect(heading(page, slides[1].title)).to_be_visible()
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_contain_text("Lead")
    step(page, "ArrowRight", 3)
    expect(heading(page, slides[2].title)).to_be_visible()
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
    step(page, "ArrowRight", 4)
    expect(heading(page, slides[3].title)).to_be_visible()  # the first project
    expect(page.get_by_text(f"4 / {len(slides)}")).to_be_visible()
    step(page, "ArrowLeft", 3)
    expect(heading(page, slides[2].title)).to_be_visible()

    # The link opens the same slide, still presenting.
    link = page.url
    assert "present=1" in link and "projects=" in link
    page.goto("about:blank")
    page.goto(link)
    wait_idle(page)
    expect(heading(page, slides[2].title)).to_be_visible()
    expect(heading(page, "Showcase")).to_have_count(0)

    page.keyboard.press("Escape")
    page.wait_for_url(lambda url: "present=1" not in url)
    wait_idle(page)
    expect(heading(page, "Showcase")).to_be_visible()
    expect(heading(page, slides[2].title)).to_be_visible()
    expect(sidebar).to_have_attribute("data-collapsed", "false")  # filters and pages are back

    errors = [e for e in page.watch.console_errors if "favicon" not in e]
    expected = [e for e in errors if "status of 404" in e]
    assert len(expected) <= len(probes), (errors, probes)
    page.watch.console_errors[:] = [e for e in page.watch.console_errors if e not in expected]
    assert_clean(page)


def test_the_html_report_opened_offline_requests_nothing(browser, tmp_path):
    path = tmp_path / "showcase.html"
    path.write_text(html_report.render(barnet()), encoding="utf-8")
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert requests == [path.as_uri()], requests  # the document itself, nothing else
    assert not errors, errors
    assert page.locator("section.slide").count() == len(barnet().slides)
    assert page.locator("section.slide svg").count() >= 3
    context.close()


# A4 landscape less the report's 10 mm margins, in CSS pixels (96 per inch).
PRINTED_WIDTH_PX = round((297 - 2 * html_report.PAGE_MARGIN_MM) / 25.4 * 96)
PRINTED_HEIGHT_PX = round((210 - 2 * html_report.PAGE_MARGIN_MM) / 25.4 * 96)


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_the_printed_report_cuts_nothing_off_its_one_page_slides(browser, databases, scenario, tmp_path):
    # Printed, each slide is one page high with anything beyond hidden (so one page per slide holds): what
    # the slide holds must end within it.
    with databases.demo("sqlite", scenario).connect() as conn:
        sc = showcase_data(conn, Scope(), measures.default_as_of(conn))
    path = tmp_path / "showcase.html"
    path.write_text(html_report.render(sc), encoding="utf-8")
    context = browser.new_context(
        offline=True, viewport={"width": PRINTED_WIDTH_PX, "height": PRINTED_HEIGHT_PX}
    )
    page = context.new_page()
    page.goto(path.as_uri())
    page.emulate_media(media="print")
    slides = page.evaluate(
        """() => Array.from(document.querySelectorAll('section.slide')).map(s => {
            const box = s.getBoundingClientRect();
            const inside = Array.from(s.querySelectorAll('*')).filter(e => e.getClientRects().length);
            return {kind: s.dataset.kind, height: box.height,
                    content: Math.max(...inside.map(e => e.getBoundingClientRect().bottom)) - box.top,
                    clipped: getComputedStyle(s).overflowY === 'hidden'};
        })"""
    )
    context.close()
    assert len(slides) == len(sc.slides)
    for number, s in enumerate(slides, start=1):
        assert s["clipped"] and s["height"] <= PRINTED_HEIGHT_PX, (number, s)
        assert s["content"] <= s["height"] + 0.5, (number, s)


# --- presenting: every slide fits the screen -------------------------------------------------------------
SCREENS = ((1440, 900), (1920, 1080))
MEASURE = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const elements = '[data-testid="stMain"] [data-testid="stElementContainer"]';
    const below = Array.from(document.querySelectorAll(elements))
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().height > 0)
        .map(e => ({bottom: e.getBoundingClientRect().bottom, text: (e.innerText || '').slice(0, 60)}))
        .filter(e => e.bottom > window.innerHeight + 1);
    // Containers that scroll within themselves would hide what is cut off.
    const inner = Array.from(document.querySelectorAll('.st-key-slide_body *'))
        .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY)
            && e.scrollHeight > e.clientHeight + 1)
        .map(e => (e.dataset.testid || e.className || e.tagName).toString().slice(0, 60));
    // The body text's computed size: captions and paragraphs (the board's cells: ROOM_TEXT below).
    const body = '.st-key-slide_body [data-testid="stCaptionContainer"], '
        + '.st-key-slide_body [data-testid="stMarkdownContainer"] p';
    const sizes = Array.from(document.querySelectorAll(body))
        .filter(e => e.getClientRects().length && (e.innerText || '').trim())
        .map(e => parseFloat(getComputedStyle(e).fontSize));
    return {scroll: main.scrollHeight, client: main.clientHeight, below, inner, sizes};
}"""
READABLE_PX = 24  # body text while presenting on a 1920 x 1080 screen, read from the back of a room


def default_showcase(scenario: str):
    """The scenario's showcase as the server builds it by default (same demo folder as the server)."""
    engine = db.make_engine(db.demo_url(scenario))
    if db.is_empty(engine):
        db.migrate(engine)
        scenarios.load_demo(engine, scenario)
    with engine.connect() as conn:
        sc = showcase_data(conn, Scope(), measures.default_as_of(conn))
    engine.dispose()
    return sc


@pytest.mark.parametrize(
    "scenario, screen",
    [(scenario, screen) for scenario in ("cornwall", "barnet") for screen in SCREENS]
    + [("fylde", SCREENS[0])],  # the longest titles and measures on its board
    ids=lambda v: f"{v[0]}x{v[1]}" if isinstance(v, tuple) else v,
)
def test_every_slide_fits_the_screen_when_presenting(server, browser, scenario, screen, tmp_path):
    slides = default_showcase(scenario).screens(BOARD_SCREEN_ROWS)
    width, height = screen
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.watch = PageWatch(page)
    page.goto(f"{server}/showcase?scenario={scenario}&slide=1&present=1")
    wait_idle(page)
    ahead = page.get_by_role("button", name="Next")
    for number, slide in enumerate(slides, start=1):
        if number > 1:
            ahead.click()
            page.wait_for_url(f"**slide={number}&**")
            wait_idle(page)
        if slide.kind == "map":
            page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
        expect(heading(page, slide.title)).to_be_visible()
        expect(page.get_by_text(f"{number} / {len(slides)}")).to_be_visible()
        seen = page.evaluate(MEASURE)
        shot = tmp_path / f"{scenario}-{width}-{number}.png"
        fits = seen["scroll"] <= seen["client"] + 1 and not seen["below"] and not seen["inner"]
        if not fits:
            page.screenshot(path=str(shot))
        assert fits, (number, slide.title, seen, str(shot))
        assert seen["sizes"], (number, slide.title)
        if width >= 1920:
            assert min(seen["sizes"]) >= READABLE_PX - 0.5, (number, slide.title, seen["sizes"])
        expect(ahead).to_be_in_viewport(ratio=1)
        expect(page.get_by_role("button", name="Previous")).to_be_in_viewport(ratio=1)
    expect(ahead).to_be_disabled()  # the last slide
    assert_clean(page)
    context.close()


def test_setting_up_shows_every_chosen_project_and_the_whole_board(server, page):
    sc = default_showcase("cornwall")
    assert len(sc.projects) >= 6  # enough to have overflowed the picker
    page.goto(f"{server}/showcase?scenario=cornwall&slide={len(sc.slides)}")  # the board summary
    wait_idle(page)
    # The running order: a chip per chosen project, each wholly inside the picker, none scrolled away.
    picker = page.evaluate(
        """() => {
            const box = document.querySelector(
                '.st-key-showcase_projects [data-testid="stMultiSelectTagsContainer"]');
            const outer = box.getBoundingClientRect();
            const chips = Array.from(box.querySelectorAll('[role=group] > span'));
            return {scrolls: box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1,
                    chips: chips.map(c => c.innerText),
                    outside: chips.filter(c => { const r = c.getBoundingClientRect();
                        return r.top < outer.top - 1 || r.bottom > outer.bottom + 1
                            || r.left < outer.left - 1 || r.right > outer.right + 1; })
                        .map(c => c.innerText)};
        }"""
    )
    assert [c.split(" · ")[0] for c in picker["chips"]] == [p.code for p in sc.projects], picker
    assert not picker["scrolls"] and not picker["outside"], picker
    # The board: every title and measure in full, no cell cut short.
    board = page.evaluate(
        """() => {
            const cells = Array.from(document.querySelectorAll('table.board td'));
            return {text: document.querySelector('table.board').innerText,
                    cut: cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText),
                    key: Array.from(document.querySelectorAll('.icons-key img')).map(i => i.alt),
                    icons: Array.from(document.querySelectorAll('table.board img')).map(i => i.alt)};
        }"""
    )
    assert not board["cut"], board["cut"]
    for r in sc.board:
        assert r.title in board["text"] and r.measure in board["text"], r
    # The key explains every icon the board shows (its colour and letter), and only those.
    assert set(board["key"]) == set(board["icons"]), board
    assert len(board["icons"]) == 2 * len(sc.board)
    assert_clean(page)


# Every kind of text a presented slide shows, by what it is: the body text of the check (story,
# captions, table cells, metric labels, headings), the icons' key and the charts' labels.
ROOM_TEXT = """() => {
    const kinds = {
        story: '.st-key-slide_body [data-testid="stMarkdownContainer"] p, .st-key-slide_body li, '
            + '.st-key-slide_body .stMarkdownBadge',
        caption: '.st-key-slide_body [data-testid="stCaptionContainer"]',
        table_cell: '.st-key-slide_body table.board td, .st-key-slide_body table.board th',
        metric_label: '.st-key-slide_body [data-testid="stMetricLabel"] p',
        metric_value: '.st-key-slide_body [data-testid="stMetricValue"] p',
        heading: '.st-key-slide_body h1, .st-key-slide_body h2, .st-key-slide_body h3, '
            + '.st-key-slide_body h4, .st-key-slide_body h5',
        icons_key: '.st-key-slide_body .icons-key span',
        chart_label: '.st-key-slide_body .js-plotly-plot :is(.xtick text, .ytick text, text.xtitle, '
            + 'text.ytitle, text.legendtext, text.annotation-text)',
    };
    const out = {};
    for (const [kind, selector] of Object.entries(kinds)) {
        out[kind] = Array.from(document.querySelectorAll(selector))
            .filter(e => e.getClientRects().length && (e.textContent || '').trim())
            .map(e => [parseFloat(getComputedStyle(e).fontSize), (e.textContent || '').trim().slice(0, 40)]);
    }
    return out;
}"""


def test_presenting_at_1920_by_1080_every_text_is_read_from_the_back_of_the_room(server, browser):
    """Presenting on a 1920 x 1080 screen, the story, captions, the board's cells, metric labels, headings,
    the icons' key and the charts' axis labels are all at least 24 px, on every slide of a showcase with
    a funnel, a map, projects and a board of several screens. Screenshots go to QIDASH_SHOTS when set."""
    sc = default_showcase("cornwall")
    slides = sc.screens(BOARD_SCREEN_ROWS)
    assert len(sc.board) > BOARD_SCREEN_ROWS  # the board takes more than one screen
    shots = os.environ.get("QIDASH_SHOTS")
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.watch = PageWatch(page)
    page.goto(f"{server}/showcase?scenario=cornwall&slide=1&present=1")
    wait_idle(page)
    seen: dict[str, list] = {}
    for number, slide in enumerate(slides, start=1):
        if number > 1:
            page.get_by_role("button", name="Next").click()
            page.wait_for_url(f"**slide={number}&**")
            wait_idle(page)
        if slide.kind == "map":
            page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
        if slide.kind in ("funnel", "project"):
            page.wait_for_selector(".st-key-slide_body .js-plotly-plot .ytick", timeout=30_000)
        expect(heading(page, slide.title)).to_be_visible()
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"cornwall-1920-{number:02d}.png"))
        for kind, sizes in page.evaluate(ROOM_TEXT).items():
            seen.setdefault(kind, []).extend((number, size, text) for size, text in sizes)
    kinds = {"story", "caption", "table_cell", "metric_label", "metric_value", "heading", "icons_key",
             "chart_label"}
    assert set(seen) == kinds
    for kind, found in seen.items():
        assert found, f"no {kind} shown on any slide"
        small = [f for f in found if f[1] < READABLE_PX - 0.5]
        assert not small, (kind, small[:5])
    # A metric's value stands out from its label (the value's paragraph keeps the metric's size).
    assert min(size for _n, size, _t in seen["metric_value"]) >= READABLE_PX + 4, seen["metric_value"][:4]
    assert_clean(page)
    context.close()
