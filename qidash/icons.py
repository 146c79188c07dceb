"""Making Data Count (MDC) icons, drawn here as small inline SVGs (not copies of NHS England's files).

Variation icons say what the latest point of a chart shows: common cause (grey), special cause
improvement (blue) or concern (orange), or a special cause on a measure with no preferred direction
(purple); "H" / "L" says whether the signal is high or low. Assurance icons say whether the process,
as it runs now, will meet its target: consistently pass (blue "P"), consistently fail (orange "F"),
or hit and miss (grey "?"). ``None`` (no analysis, or no target) is drawn as a faint dashed circle.

Every function is pure and returns strings; pages show them with ``st.image`` or in a dataframe's
``ImageColumn`` through :func:`data_uri`.
"""

from __future__ import annotations

import base64
from functools import cache

from qidash.palette import NHS_BLUE, NHS_GREY, NHS_ORANGE

PURPLE = "#330072"  # NHS Purple: special cause on a measure whose direction is neutral
MID_GREY = "#768692"  # NHS Mid Grey: common cause
FAINT = "#AEB7BD"

# icon code -> (short label, sentence for a tooltip or legend)
VARIATION = {
    "improvement_high": (
        "Improvement (high)",
        "Special cause variation: improvement, the latest point is unusually high.",
    ),
    "improvement_low": (
        "Improvement (low)",
        "Special cause variation: improvement, the latest point is unusually low.",
    ),
    "concern_high": (
        "Concern (high)",
        "Special cause variation: concern, the latest point is unusually high.",
    ),
    "concern_low": ("Concern (low)", "Special cause variation: concern, the latest point is unusually low."),
    "neutral_high": (
        "Special cause (high)",
        (
            "Special cause variation, unusually high, that is neither improvement nor concern "
            "(no preferred direction, or signals both ways)."
        ),
    ),
    "neutral_low": (
        "Special cause (low)",
        (
            "Special cause variation, unusually low, that is neither improvement nor concern "
            "(no preferred direction, or signals both ways)."
        ),
    ),
    "common_cause": ("Common cause", "Common cause variation: no significant change at the latest point."),
}
ASSURANCE = {
    "consistent_pass": (
        "Consistently passing",
        "The target lies outside the limits on the good side: the process will pass it reliably.",
    ),
    "consistent_fail": (
        "Consistently failing",
        "The target lies outside the limits on the bad side: the process will not meet it without change.",
    ),
    "inconsistent": (
        "Hit and miss",
        "The target lies within the limits: the process will sometimes meet it and sometimes not.",
    ),
}
NOT_ASSESSED = ("Not assessed", "No icon: too little data, no limits (run chart) or no target.")


def variation_colour(icon: str | None) -> str:
    if icon is None:
        return FAINT
    if icon.startswith("improvement"):
        return NHS_BLUE
    if icon.startswith("concern"):
        return NHS_ORANGE
    if icon.startswith("neutral"):
        return PURPLE
    return MID_GREY


def assurance_colour(icon: str | None) -> str:
    return {"consistent_pass": NHS_BLUE, "consistent_fail": NHS_ORANGE, "inconsistent": NHS_GREY}.get(
        icon, FAINT
    )


def variation_label(icon: str | None) -> str:
    return VARIATION.get(icon, NOT_ASSESSED)[0]


def assurance_label(icon: str | None) -> str:
    return ASSURANCE.get(icon, NOT_ASSESSED)[0]


def variation_meaning(icon: str | None) -> str:
    return VARIATION.get(icon, NOT_ASSESSED)[1]


def assurance_meaning(icon: str | None) -> str:
    return ASSURANCE.get(icon, NOT_ASSESSED)[1]


def variation_name(icon: str | None) -> str:
    """The variation icon's accessible name, for a screen reader: "Variation: improvement (high)"."""
    return f"Variation: {variation_label(icon)[:1].lower()}{variation_label(icon)[1:]}"


def assurance_name(icon: str | None) -> str:
    """The assurance icon's accessible name, for a screen reader: "Assurance: consistently passing"."""
    return f"Assurance: {assurance_label(icon)[:1].lower()}{assurance_label(icon)[1:]}"


def _frame(colour: str, body: str, title: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40">'
        f"<title>{title}</title>"
        f'<circle cx="20" cy="20" r="17.5" fill="white" stroke="{colour}" stroke-width="3"{dash}/>'
        f"{body}</svg>"
    )


def _dots(points: list[tuple[float, float, str]]) -> str:
    return "".join(f'<circle cx="{x}" cy="{y}" r="1.9" fill="{c}"/>' for x, y, c in points)


@cache
def variation_svg(icon: str | None) -> str:
    """The SVG of a variation icon (a faint dashed circle when ``icon`` is None)."""
    if icon is None or icon not in VARIATION:
        return _frame(FAINT, "", NOT_ASSESSED[0], dashed=True)
    colour = variation_colour(icon)
    xs = [9.5, 13, 16.5, 20, 23.5, 27, 30.5]
    if icon == "common_cause":
        ys = [22, 19, 23, 20, 22.5, 19.5, 21.5]
        return _frame(
            colour, _dots([(x, y, colour) for x, y in zip(xs, ys, strict=True)]), variation_label(icon)
        )
    high = icon.endswith("high")
    # Four ordinary points, then three that moved away (up for "high", down for "low").
    ys = [24, 22.5, 24.5, 23, 17, 16, 15] if high else [18, 16.5, 18.5, 17, 24.5, 25.5, 26.5]
    dots = [(x, y, MID_GREY if i < 4 else colour) for i, (x, y) in enumerate(zip(xs, ys, strict=True))]
    letter_y = 31.5 if high else 13.5  # the letter sits where the dots are not
    letter = (
        f'<text x="20" y="{letter_y}" text-anchor="middle" font-family="Arial, Helvetica, sans-serif" '
        f'font-size="9" font-weight="bold" fill="{colour}">{"H" if high else "L"}</text>'
    )
    return _frame(colour, _dots(dots) + letter, variation_label(icon))


@cache
def assurance_svg(icon: str | None) -> str:
    """The SVG of an assurance icon (a faint dashed circle when ``icon`` is None)."""
    if icon is None or icon not in ASSURANCE:
        return _frame(FAINT, "", NOT_ASSESSED[0], dashed=True)
    colour = assurance_colour(icon)
    letter = {"consistent_pass": "P", "consistent_fail": "F", "inconsistent": "?"}[icon]
    target = (
        f'<line x1="7" y1="27" x2="33" y2="27" stroke="{colour}" stroke-width="1.6" stroke-dasharray="3 2"/>'
    )
    text = (
        f'<text x="20" y="22" text-anchor="middle" font-family="Arial, Helvetica, sans-serif" font-size="15" '
        f'font-weight="bold" fill="{colour}">{letter}</text>'
    )
    return _frame(colour, target + text, assurance_label(icon))


@cache
def data_uri(svg: str) -> str:
    """``data:image/svg+xml;base64,...`` for an SVG string (what ImageColumn and <img> accept)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def variation_uri(icon: str | None) -> str:
    return data_uri(variation_svg(icon))


def assurance_uri(icon: str | None) -> str:
    return data_uri(assurance_svg(icon))


def legend() -> list[dict]:
    """Every icon with its name and meaning, variation first: rows ``Icon`` (data URI), ``Kind``,
    ``Name`` and ``Meaning``, for a key beside the grid."""
    rows = [
        {"Icon": variation_uri(code), "Kind": "Variation", "Name": name, "Meaning": meaning}
        for code, (name, meaning) in VARIATION.items()
    ]
    rows += [
        {"Icon": assurance_uri(code), "Kind": "Assurance", "Name": name, "Meaning": meaning}
        for code, (name, meaning) in ASSURANCE.items()
    ]
    rows.append(
        {"Icon": variation_uri(None), "Kind": "Either", "Name": NOT_ASSESSED[0], "Meaning": NOT_ASSESSED[1]}
    )
    return rows
