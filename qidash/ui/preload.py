"""Start fetching the front-end code a page's first view needs as soon as its run begins.

Streamlit fetches and starts the JavaScript of its heavier elements only when a page first shows one:
plotly charts (4.7 MB), deck.gl maps (3.1 MB), interactive tables (st.dataframe). In a fresh tab that
waits until the element itself arrives, after the frame and the page have read their data, so the
script's time and the fetching and starting of that code add up. Imported at the start of the run
instead, they overlap: in a bare page that spends 0.5 s before its one chart, the chart was drawn
0.45 s sooner (2.3 s, not 2.8 s). The code is the same file Streamlit would fetch (its module is
loaded once, then shared), served by this app's own server: nothing is fetched from anywhere else.

Each page says what its first view draws (:attr:`qidash.ui.pages.PageEntry.first_view`); the frame
calls :func:`preload` with it before the sidebar is built. A page that draws none of them fetches
nothing it would not have fetched. tests/e2e/test_preload_browser.py holds each page's list to what
its first view loads in a real browser.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path

import streamlit as st

# Streamlit's built front end. Its server serves these files beside its main module (the page's
# ``<script type="module" src=".../static/js/index.*.js">``), which is where Streamlit itself imports
# them from: the preload resolves each name against that script's address, so it asks for the very
# URL Streamlit will (a module is loaded once per URL), under any base path or page address.
STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"
_IMPORT = (
    "<script>(() => {"
    "const main = document.querySelector('script[type=\"module\"][src*=\"/static/js/index.\"]');"
    "if (main) for (const name of %s) import(new URL(name, main.src).href).catch(() => {});"
    "})();</script>"
)
# The kinds of element a first view may draw, by the name of the module Streamlit loads for each.
CHUNKS = {"plotly": "PlotlyChart", "deck": "DeckGlJsonChart", "table": "DataFrame"}
KEY = "qidash_preload"  # the container the script sits in, hidden by the frame's style (no gap)
_FILE_NAME = re.compile(r"[A-Za-z]+\.[A-Za-z0-9_-]+\.js")


@functools.cache
def chunk_file(kind: str) -> str | None:
    """The file name of the module Streamlit loads for ``kind`` (a key of :data:`CHUNKS`), or None when
    the installed Streamlit has no single such file (a renamed module: nothing is preloaded, and the
    browser test says so)."""
    found = sorted(p.name for p in STATIC_JS.glob(f"{CHUNKS[kind]}.*.js"))
    return found[0] if len(found) == 1 and _FILE_NAME.fullmatch(found[0]) else None


def preload_script(kinds: Iterable[str]) -> str | None:
    """The ``<script>`` that imports the modules for ``kinds``, or None when there is nothing to load.
    Only file names of the installed Streamlit go in it (checked against :data:`_FILE_NAME`); a failed
    import is ignored (the element loads its code itself, as it would have)."""
    names = [name for name in (chunk_file(kind) for kind in dict.fromkeys(kinds)) if name]
    if not names:
        return None
    return _IMPORT % json.dumps(names)


def preload(kinds: Iterable[str]) -> None:
    """Start loading the front-end code for ``kinds`` in this browser tab (once loaded, a later import
    is free, so menu moves cost nothing more)."""
    script = preload_script(kinds)
    if script is None:
        return
    with st.container(key=KEY):
        # Our own constant script, never data: only the installed Streamlit's file names are in it.
        st.html(script, unsafe_allow_javascript=True)
