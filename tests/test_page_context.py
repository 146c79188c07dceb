"""What pages are given: the page context the frame builds once per run, the cached loader's keyword
arguments, and the one list of pages."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from qidash import db
from qidash.ui import data
from qidash.ui.context import CONTEXT_KEY, DEFAULT_PROGRAMME, PageContext
from qidash.ui.pages import HOME, PAGES
from tests.support import ROOT, TIMEOUT, engine_url

CALLS: list[tuple] = []


def loader(conn, code: str, *, public: bool = False, threshold: int = 5) -> tuple:
    CALLS.append((code, public, threshold))
    return code, public, threshold


def test_the_cache_passes_keyword_arguments_and_keys_on_them_in_any_order(any_engine):
    st.cache_data.clear()
    CALLS.clear()
    assert data.query(any_engine, loader, "A", public=True, threshold=10) == ("A", True, 10)
    assert data.query(any_engine, loader, "A", threshold=10, public=True) == ("A", True, 10)  # the same entry
    assert CALLS == [("A", True, 10)]
    assert data.query(any_engine, loader, "A", public=False, threshold=10) == ("A", False, 10)
    assert data.query(any_engine, loader, "A") == ("A", False, 5)
    assert CALLS == [("A", True, 10), ("A", False, 10), ("A", False, 5)]


def _frame(engine, monkeypatch) -> AppTest:
    monkeypatch.setenv("QIDASH_DB_URL", engine_url(engine))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_frame_builds_the_context_every_page_reads(any_engine, monkeypatch):
    at = _frame(any_engine, monkeypatch)
    context = at.session_state[CONTEXT_KEY]
    assert isinstance(context, PageContext)
    assert str(context.engine.url) == str(any_engine.url)
    assert context.viewer.email == "sign-in-off@qidash.local"
    assert (context.scope, context.as_of) == (context.filters.scope, context.filters.as_of)
    assert context.programme == DEFAULT_PROGRAMME  # nothing loaded names the programme
    assert at.caption[0].value.startswith(f"{DEFAULT_PROGRAMME} · ")

    with Session(any_engine) as session, session.begin():
        db.set_setting(session, "scenario_title", "Barnet QI")
    st.cache_data.clear()  # the title is read through the cache, as a load would refresh it
    at.run()
    assert at.session_state[CONTEXT_KEY].programme == "Barnet QI"
    assert at.caption[0].value.startswith("Barnet QI · ")


def test_every_listed_page_has_its_script_and_one_is_home():
    assert [page for page in PAGES if page.default] == [HOME]
    assert HOME.name == "overview"
    assert all((ROOT / page.path).is_file() for page in PAGES)
    data_page = next(page for page in PAGES if page.name == "data")
    assert data_page.open_to("admin") and not data_page.open_to("executive")
    assert all(page.open_to("executive") for page in PAGES if page is not data_page)
