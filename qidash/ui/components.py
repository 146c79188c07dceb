"""Small rendering helpers shared by pages."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def chart(fig: go.Figure, key: str) -> None:
    """A plotly figure, full width, with the toolbar trimmed."""
    st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width="stretch")


def delta(now, before) -> int | float | None:
    """now − before for a tile's "change over 12 months", or None when either is undefined."""
    if now is None or before is None:
        return None
    return now - before


def page_header(title: str, subtitle: str, filters) -> None:
    st.title(title)
    st.caption(f"{subtitle} · {filters.label} · as of {filters.as_of:%d %B %Y}")
