"""Small rendering helpers shared by pages."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy import Engine

from qidash import auth, icons, tabular
from qidash.text import markdown_literal
from qidash.ui.context import page_context

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
log = logging.getLogger(__name__)


def chart(fig: go.Figure, key: str, summary: str | None = None, table: pd.DataFrame | None = None) -> None:
    """A plotly figure, full width, with the toolbar trimmed; then its text alternative (WCAG 1.1.1): a
    one-line ``summary`` in words (names in it are imported text, shown as written) and the numbers behind
    it, ``table``, one click away."""
    st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width="stretch")
    # The numbers are written only once opened (opening reruns the page): a closed expander's table
    # would still be sent and laid out, and the first table on a page makes a fresh tab fetch and start
    # Streamlit's table component (1.3 MB of JavaScript) before anything on the page is shown.
    alternative(key, summary, table, lazy=True)


def alternative(
    key: str, summary: str | None, table: pd.DataFrame | None, what: str = "chart", lazy: bool = False
) -> None:
    """A chart's or map's text alternative, for one drawn on its own (:func:`chart` draws it with its
    figure): the ``summary`` as a caption, the numbers behind it, ``table``, in an expander. ``lazy``:
    the table is written only once the expander is opened (a closed one's table would still be sent and
    laid out below a slide that must fit the screen)."""
    if summary:
        st.caption(markdown_literal(summary))
    if table is None:
        return
    label = f"Numbers behind this {what}"
    if not lazy:
        with st.expander(label):
            st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_numbers")
        return
    numbers = st.expander(label, key=f"{key}_numbers_open", on_change="rerun")
    if numbers.open:
        with numbers:
            st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_numbers")


def named_images(images: list[tuple[str, str]], width: int) -> None:
    """Small SVG images (Making Data Count icons) in a row, each with its accessible name as alt text
    (``st.image`` leaves the alt text empty, so a screen reader would skip the icon's meaning)."""
    tags = "".join(
        f'<img src="{icons.data_uri(svg)}" alt="{html.escape(name, quote=True)}" width="{width}" '
        f'height="{width}"> '
        for svg, name in images
    )
    st.html(f"<div>{tags}</div>")


def delta(now, before) -> int | float | None:
    """now − before for a tile's "change over 12 months", or None when either is undefined."""
    if now is None or before is None:
        return None
    return now - before


def page_header(title: str, subtitle: str, filters) -> None:
    """The page's title and a caption: the programme, the scope in names and the as-of date (the names
    are imported, so shown as text)."""
    st.title(title)
    st.caption(markdown_literal(f"{subtitle} · {filters.label} · as of {filters.as_of:%d %B %Y}"))


# --- downloads ----------------------------------------------------------------------------------------------


def delivered(engine: Engine, actor: str, action: str, detail: dict, make: Callable[[], bytes]) -> bytes:
    """``make()``'s bytes, with the download recorded in the audit trail as ``action`` by ``actor``
    (``detail`` plus the file's size). Recording never fails the download: a failed audit write is
    logged for the admin instead."""
    data = make()
    try:
        auth.audit(engine, actor, action, {**detail, "bytes": len(data)})
    except Exception:  # the visitor still gets the file; the log keeps why it went unrecorded
        log.exception(
            "could not record the download of %s by %s in the audit trail", detail.get("file"), actor
        )
    return data


def file_download(
    label: str,
    make: Callable[[], bytes],
    *,
    file_name: str,
    mime: str,
    what: str,
    detail: dict | None = None,
    action: str = "download",
    where=None,
    icon: str = ":material/download:",
    **kw,
) -> None:
    """A download button whose file is made when clicked (not on every run of the page) and recorded in
    the audit trail with the viewer's identity: ``what`` the file is, its name and ``detail``. ``where``:
    the container to draw in (a column; the page by default)."""
    ctx = page_context()
    engine, viewer = ctx.engine, ctx.viewer
    detail = {"what": what, "file": file_name, **(detail or {})}
    (where or st).download_button(
        label,
        data=functools.partial(delivered, engine, viewer.email, action, detail, make),
        file_name=file_name,
        mime=mime,
        icon=icon,
        on_click="ignore",
        **kw,
    )


def table_download(label: str, table: pd.DataFrame, *, file_name: str, what: str, detail: dict | None = None,
                   **kw) -> None:
    """:func:`file_download` of ``table`` as a CSV through the one formula-neutralising writer."""
    file_download(label, functools.partial(tabular.frame_csv, table), file_name=file_name, mime="text/csv",
                  what=what, detail=detail, **kw)


def first_rows(table: pd.DataFrame, limit: int, *, what: str, file_name: str, order: str = "first",
               detail: dict | None = None, key: str | None = None) -> pd.DataFrame:
    """The first ``limit`` rows of ``table``, for the page to draw; when it holds more, first a caption
    saying how many are shown of how many and a download of them all (CSV, made when clicked).

    A table of thousands of rows sent whole is megabytes for the browser to receive and lay out on every
    view, most of which nobody scrolls to: the page lists the first ones and the file holds the rest.
    ``order`` says which come first, in words ("newest", "largest")."""
    if len(table) <= limit:
        return table
    st.caption(f"Listing the {order} {limit:,} of {len(table):,} {what}; the download holds them all.")
    table_download(f"Download all {len(table):,} {what} (CSV)", table, file_name=file_name, what=what,
                   detail=detail, key=key)
    return table.head(limit)
