"""NHS identity colours and number formatting (the Streamlit theme itself is in .streamlit/config.toml)."""

from __future__ import annotations

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_GREEN = "#009639"
NHS_WARM_YELLOW = "#FFB81C"
NHS_ORANGE = "#ED8B00"
NHS_RED = "#DA291C"
NHS_GREY = "#425563"
NHS_PALE_GREY = "#E8EDEE"
NHS_MID_GREY = "#768692"

# Darker shades for text in the NHS colours that fail 4.5:1 on white (WCAG 1.4.3): the light blue, green,
# yellow and orange stay for marks and fills, their words take these.
TEXT_SHADES = {
    NHS_LIGHT_BLUE: "#00719E",
    NHS_GREEN: "#007F3B",
    NHS_WARM_YELLOW: "#7A5800",
    NHS_ORANGE: "#A35200",
}
# Darker shades for marks in the NHS colours that fail 3:1 on white (WCAG 1.4.11): bars, lines and points
# take these in every chart (plotly, SVG, PowerPoint); the Making Data Count icons keep the NHS standard
# colours. Each ratio is palette.contrast_ratio against white.
LIGHT_BLUE_MARK = "#379CC6"  # 3.12:1; the text colour #212B32 on it 4.62:1, so the first tier's number reads
WARM_YELLOW_MARK = "#BC8611"  # 3.20:1
ORANGE_MARK = "#CF7800"  # 3.31:1
LIMIT_GREY = "#85919A"  # 3.22:1, control limits: lighter than the data line's Mid Grey (3.75:1), dashed
MARK_SHADES = {
    NHS_LIGHT_BLUE: LIGHT_BLUE_MARK,
    NHS_WARM_YELLOW: WARM_YELLOW_MARK,
    NHS_ORANGE: ORANGE_MARK,
}
MARK_CONTRAST = 3.0  # chart marks against the white plot (WCAG 1.4.11)
TEXT_CONTRAST = 4.5  # text against its background (WCAG 1.4.3)


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(colour: str, background: str = "#FFFFFF") -> float:
    """The WCAG contrast ratio of two ``#RRGGBB`` colours, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((_luminance(colour), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_shade(colour: str) -> str:
    """The colour to write words in for an NHS colour: itself, or its darker shade when it fails as text."""
    return TEXT_SHADES.get(colour, colour)


def mark_shade(colour: str) -> str:
    """The colour to draw a chart mark in for an NHS colour: itself, or its darker shade when it fails
    3:1 on white."""
    return MARK_SHADES.get(colour, colour)


def readable_on(fill: str, dark: str = "#212B32") -> str:
    """The text colour for words drawn on ``fill`` (numbers on a bar): ``dark`` or white, whichever
    stands out more (WCAG 1.4.3)."""
    return dark if contrast_ratio(dark, fill) >= contrast_ratio("#FFFFFF", fill) else "#FFFFFF"


def fmt_int(value) -> str:
    return "–" if value is None else f"{int(value):,}"


def fmt_pct(value, digits: int = 0) -> str:
    """A 0–100 percentage, or a dash when undefined."""
    return "–" if value is None else f"{value:.{digits}f}%"


def fmt_ratio_pct(value, digits: int = 0) -> str:
    """A 0–1 fraction shown as a percentage, or a dash when undefined."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def fmt_num(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


WORDS = {
    "gp": "GP", "qi": "QI", "nhs": "NHS", "vcse": "VCSE", "icb": "ICB",
    "gp_practice": "GP practice", "pdsa": "PDSA",
}


def in_sentence(words: str) -> str:
    """Words as they read inside a sentence: the first letter in lower case unless the first word is
    an acronym ("Care assistant": "care assistant"; "PCN", "QI facilitator" unchanged)."""
    head = words.split(" ", 1)[0]
    return words if sum(c.isupper() for c in head) > 1 else words[:1].lower() + words[1:]


# Words of a code that are acronyms, wherever they come in it ("qi_facilitator": "QI facilitator").
ACRONYMS = {"gp", "qi", "nhs", "vcse", "icb", "pcn", "ods", "ics", "pdsa", "spc"}


def label(code: str | None) -> str:
    """A code such as ``care_home_nursing`` in words: "Care home nursing" (acronyms kept, as in
    "QI facilitator" and "PCN")."""
    if code is None:
        return ""
    if code in WORDS:
        return WORDS[code]
    words = [w.upper() if w in ACRONYMS else w for w in code.lower().split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]
