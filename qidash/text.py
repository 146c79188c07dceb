"""Imported text as text: escaping for each renderer a name, title or story reaches.

Imported words (a locality's name, a project's title, a story) are data. Each renderer reads some
markup: Streamlit reads Markdown (and its own ``:red[...]`` colours, ``:material/...:`` icons,
``$...$`` LaTeX and bare links) in page text, labels and tables; plotly reads a subset of HTML
(``<a href>``, ``<b>``, ``<br>``) in every label, tick and hover; a browser reads HTML. Each function
here turns a string into one that its renderer shows exactly as written, so imported text can never
become a link, an image, a format or markup. Apply them where data meets the renderer (a figure
builder, a page's sentence), never to the data itself: PowerPoint and CSV show text as it is.
"""

from __future__ import annotations

import html
import re

# CommonMark lets any ASCII punctuation be escaped with a backslash, and an escaped character is always
# literal. Escaped anywhere: what starts a link, image, emphasis, strike, code span, HTML tag or table
# (backslash, ``[ ] * _ ` < | ~``), Streamlit's LaTeX (``$``), and an entity (``&lt;``). (Streamlit's
# ``:red[...]``, ``:material/...:`` and ``:emoji:`` are broken by a word joiner: see below.)
# At the start of a line only: what starts a heading, quote, list or rule (``# > - + =``, ``1.``).
# Everything else is left as it is, so the text stays readable wherever Markdown is not rendered.
_ANYWHERE = re.compile(r"([\\\[\]*_`<|~$])|(&(?=#?\w+;))")
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Streamlit links bare addresses, and turns ``:smile:`` and ``:material/home:`` into an emoji and an
# icon, in the text after it is parsed, escaped or not: a word joiner (U+2060, invisible and
# zero-width) after ``https:``, ``www``, ``@`` and a colon before a letter leaves nothing to find.
_WORD_JOINER = "\u2060"
_BARE_LINK = re.compile(r"(?i)(https?:|www(?=\.)|@|:(?=[a-z]))")


def _escape_line(line: str) -> str:
    line = _ANYWHERE.sub(lambda m: "\\" + m.group(0), line)
    return _LINE_START.sub(_escape_start, line)


def _escape_start(match: re.Match) -> str:
    space, mark = match.groups()
    # A number starts a list with the "." or ")" after it: escape that; any other mark itself.
    return space + (mark + "\\" if mark[0].isdigit() else "\\" + mark)


def markdown_literal(value) -> str:
    """``value`` as Markdown that Streamlit shows exactly as written (on one line per line of the text).

    The marks Markdown and Streamlit read are backslash-escaped (see above); line breaks become
    Markdown hard breaks, so a line of the text cannot start a heading, list or quote either; bare
    links are broken by an invisible word joiner. ``None`` gives an empty string."""
    if value is None:
        return ""
    text = _BARE_LINK.sub(r"\1" + _WORD_JOINER, str(value))
    return "  \n".join(_escape_line(line) for line in _LINE_BREAK.split(text))


def plotly_literal(value):
    """``value`` as plotly text that plotly shows exactly as written: ``&``, ``<`` and ``>`` as
    entities (plotly turns them back into characters), so no ``<a href>``, ``<b>`` or ``<br>`` in
    imported text takes effect; ``{`` as an entity too, so text placed in a hover template cannot
    pull in ``%{...}`` values. Anything that is not a string (a number, None) is returned as it is."""
    if not isinstance(value, str):
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("{", "&#123;")


def plotly_literals(values) -> list:
    """:func:`plotly_literal` of each of ``values`` (a list, tuple or pandas Series), as a list."""
    return [plotly_literal(v) for v in values]


def html_literal(value) -> str:
    """``value`` as HTML text or an attribute value: ``&``, ``<``, ``>``, ``"`` and ``'`` escaped.
    ``None`` gives an empty string."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def deck_literal(value):
    """``value`` as a string in a pydeck map's data, kept a string: deck.gl's JSON reader turns a string
    starting ``@@`` into code (``@@=`` an expression, ``@@#`` a constant, ``@@type`` a class) wherever it
    is, rows included; a word joiner between the two ``@`` leaves it text. Not a string: as it is."""
    return "@\u2060" + value[1:] if isinstance(value, str) and value.startswith("@@") else value
