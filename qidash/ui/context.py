"""What every page reads of the run: one frozen object the frame (app.py) builds once per run, after
sign-in and the sidebar filters, and each page takes with :func:`page_context`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st
from sqlalchemy import Engine

from qidash.auth import Viewer
from qidash.scope import Scope
from qidash.ui import data
from qidash.ui.filters import Filters

CONTEXT_KEY = "_page_context"  # where the frame leaves this run's context in the session
PROGRAMME_SETTING = "scenario_title"
DEFAULT_PROGRAMME = "QI capability"  # a page's subtitle when the data names no programme


@dataclass(frozen=True)
class PageContext:
    engine: Engine  # the database the frame chose (demo file or the configured one)
    viewer: Viewer  # who is looking, with their role and area
    filters: Filters  # the sidebar's scope (already limited to the viewer's area) and as-of date
    programme: str  # the programme's title, for page headers and exports

    @property
    def scope(self) -> Scope:
        return self.filters.scope

    @property
    def as_of(self) -> dt.date:
        return self.filters.as_of


def programme_title(engine: Engine) -> str:
    """The programme's title as the data names it (the scenario's title), or a general one."""
    return data.setting(engine, PROGRAMME_SETTING) or DEFAULT_PROGRAMME


def set_page_context(engine: Engine, viewer: Viewer, filters: Filters) -> PageContext:
    """Build this run's context and keep it for the page the frame runs next (the frame calls this)."""
    context = PageContext(engine, viewer, filters, programme_title(engine))
    st.session_state[CONTEXT_KEY] = context
    return context


def page_context() -> PageContext:
    """This run's context, as the frame built it."""
    return st.session_state[CONTEXT_KEY]
