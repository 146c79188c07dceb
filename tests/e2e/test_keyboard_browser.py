"""Keyboard only: choose a programme, set a filter, pick a PCN from a list (the map's alternative to
clicking it) and open a project; open the Showcase, present it, step through its slides, come back and
download its deck; with Tab, typing, the arrow keys and Enter alone, the focused control visibly marked."""

from __future__ import annotations

from qidash import scenarios

from .conftest import assert_clean, wait_idle

FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  return el.getAttribute('aria-label') || el.innerText || el.tagName;
}"""
# A link's or button's lines of text (null for anything else): its icon's name ("slideshow") and its
# shortcut ("→") are lines of their own beside its label.
LABEL_JS = """() => {
  const el = document.activeElement;
  if (!el || !['A', 'BUTTON', 'SUMMARY'].includes(el.tagName) || el.getAttribute('aria-label')) return null;
  return (el.innerText || '').split(String.fromCharCode(10)).map(s => s.trim()).filter(Boolean);
}"""
# A visible focus: the focused control, or the box Streamlit draws around it, looks different from the
# same elements without the focus (an outline, a ring or a border colour), in a colour of at least 3:1
# against white (WCAG 2.4.7 and 1.4.11).
LOOK_JS = """(remember) => {
  if (remember) { window.__chain = []; let el = document.activeElement;
    for (let i = 0; el && i < 5; i++, el = el.parentElement) window.__chain.push(el); }
  return window.__chain.map(el => { const s = getComputedStyle(el);
    return [s.outlineStyle === 'none' ? '' : s.outlineColor, s.boxShadow, s.borderTopColor]; });
}"""


def _luminance(css: str) -> float:
    channels = [int(c) / 255 for c in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def focus_shown(page) -> bool:
    """Whether the focused control looks different with the focus, in a colour of 3:1 on white."""
    focused = page.evaluate(LOOK_JS, True)
    page.keyboard.press("Shift+Tab")
    unfocused = page.evaluate(LOOK_JS, False)
    page.keyboard.press("Tab")
    for now, before in zip(focused, unfocused, strict=True):
        for a, b in zip(now, before, strict=True):
            if a != b and a.startswith("rgb") and 1.05 / (_luminance(a) + 0.05) >= 3:
                return True
    return False


def tab_to(page, name: str, limit: int = 80, labelled: bool = False) -> None:
    """Press Tab until the control named ``name`` has the focus (failing after ``limit`` presses);
    ``labelled``: a link or button whose label, beside its icon and shortcut, is ``name``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = name in (page.evaluate(LABEL_JS) or []) if labelled else page.evaluate(FOCUSED_JS) == name
        if found:
            assert focus_shown(page), f"{name} has the focus but shows no focus indicator"
            return
    raise AssertionError(f"Tab never reached {name!r}")


def choose_next(page, name: str) -> None:
    """Tab to the select box ``name``, move one option down with the arrow key and press Enter; wait for
    the rerun."""
    tab_to(page, name)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_idle(page)


def test_the_journey_by_keyboard_alone(server, page):
    page.goto(f"{server}/capability_map")
    wait_idle(page)
    page.locator("body").focus()

    tab_to(page, "Demo programme")
    page.keyboard.type(scenarios.definition("somerset")["short_name"])
    page.keyboard.press("Enter")
    wait_idle(page)
    assert "scenario=somerset" in page.url

    page.locator("body").focus()
    choose_next(page, "Locality")
    assert "locality=" in page.url

    # The PCN list in the filters is the keyboard's way to what a click on the map selects.
    page.locator("body").focus()
    choose_next(page, "PCN")
    assert "pcn=" in page.url
    pcn = page.url.split("pcn=")[1].split("&")[0]

    page.goto(f"{server}/project?scenario=somerset")
    wait_idle(page)
    first = page.url.split("project=")[1].split("&")[0]
    page.locator("body").focus()
    choose_next(page, "Project")
    assert "project=" in page.url and page.url.split("project=")[1].split("&")[0] != first
    assert pcn
    assert_clean(page)


def press_and_wait(page, key: str) -> None:
    page.keyboard.press(key)
    wait_idle(page)


def test_the_showcase_presented_and_downloaded_by_keyboard_alone(server, page):
    page.goto(f"{server}/overview?scenario=barnet")
    wait_idle(page)
    page.locator("body").focus()

    tab_to(page, "Showcase", labelled=True)  # the page's link in the sidebar
    press_and_wait(page, "Enter")
    assert "/showcase" in page.url and "present=" not in page.url

    page.locator("body").focus()
    tab_to(page, "Present", labelled=True)
    press_and_wait(page, "Enter")
    assert "present=1" in page.url and "slide=1" in page.url

    # The arrow keys step through the slides; so do Tab to Next and Enter.
    press_and_wait(page, "ArrowRight")
    assert "slide=2" in page.url
    # The folded-away sidebar is out of the Tab order: the focus goes from the page to the controls.
    page.locator("body").focus()
    hidden = []
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('[data-testid=\"stSidebar\"]')"):
            hidden.append(page.evaluate(FOCUSED_JS))
    assert not hidden, hidden
    page.locator("body").focus()
    tab_to(page, "Next", labelled=True)
    press_and_wait(page, "Enter")
    assert "slide=3" in page.url
    press_and_wait(page, "ArrowLeft")
    assert "slide=2" in page.url

    # The funnel's numbers, one Enter away.
    page.locator("body").focus()
    tab_to(page, "Numbers behind this chart", labelled=True)
    press_and_wait(page, "Enter")
    page.locator('.st-key-slide_body [data-testid="stDataFrame"]').wait_for(timeout=30_000)

    page.locator("body").focus()
    tab_to(page, "Exit", labelled=True)
    press_and_wait(page, "Enter")
    assert "present=" not in page.url and "slide=2" in page.url

    # The downloads are ordinary buttons: Tab to the deck and press Enter.
    page.locator("body").focus()
    tab_to(page, "PowerPoint deck", limit=150, labelled=True)
    with page.expect_download(timeout=120_000) as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".pptx")
    assert download.value.path().stat().st_size > 10_000
    assert_clean(page)
