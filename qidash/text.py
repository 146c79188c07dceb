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
import string

# CommonMark lets any ASCII punctuation be escaped with a backslash, and a backslash-escaped character
# is always literal: no link, image, emphasis, heading, list, HTML, entity or code starts from it.
# Streamlit's extensions (``:red[...]``, ``:material/x:``, emoji ``:x:``, ``$...$``) start with
# punctuation too, and honour the escape. Escaping the dot and colon also stops bare links
# (``www.x.org``, ``https://x``) from being linked.
_MARKDOWN_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Streamlit links bare addresses found in the text after it is parsed, escaped or not: a word joiner
# (U+2060, invisible and zero-width) inside ``https://``, ``www.`` and after ``@`` leaves nothing to find.
_WORD_JOINER = "\u2060"
_BARE_LINK = re.compile(r"(?i)(https?:|www(?=\.)|@)")


def markdown_literal(value) -> str:
    """``value`` as Markdown that Streamlit shows exactly as written (on one line per line of the text).

    Every ASCII punctuation character is backslash-escaped; line breaks become Markdown hard breaks,
    so a line of the text cannot start a heading, list or quote. ``None`` gives an empty string."""
    if value is None:
        return ""
    text = _BARE_LINK.sub(r"\1" + _WORD_JOINER, str(value))
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return "  \n".join(_LINE_BREAK.split(text))


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
