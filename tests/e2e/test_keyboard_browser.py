"""Keyboard only: choose a programme, set a filter, pick a PCN from a list (the map's alternative to
clicking it) and open a project, with Tab, typing and Enter alone, the focused control visibly marked."""

from __future__ import annotations

from qidash import scenarios

from .conftest import assert_clean, wait_idle

FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  return el.getAttribute('aria-label') || el.innerText || el.tagName;
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


def tab_to(page, name: str, limit: int = 80) -> None:
    """Press Tab until the control named ``name`` has the focus (failing after ``limit`` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_JS) == name:
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
