"""The global sidebar filters. Each keeps its value in the URL, so a pasted link opens the same view."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st
from sqlalchemy import Engine

from qidash import catalog
from qidash.auth import Viewer
from qidash.palette import in_sentence, label
from qidash.scope import KIND_GROUPS, Scope
from qidash.text import markdown_literal
from qidash.ui import data

ALL = "all"


@dataclass(frozen=True)
class Filters:
    scope: Scope
    as_of: dt.date
    names: tuple[tuple[str, str], ...] = ()  # (code, display name) of the chosen filters
    area: str = ""  # the viewer's permitted area in words ("West Cornwall"), when limited to one

    @property
    def label(self) -> str:
        """The scope in words with names, not codes ("locality Woking"; a locality lead's whole area
        by its name)."""
        return self.scope.label(dict(self.names), self.area or None)

    @property
    def year_earlier(self) -> dt.date:
        return self.as_of - dt.timedelta(days=365)


def url_selectbox(title: str, options: dict[str, str], key: str, default: str = ALL, **kw) -> str:
    """A selectbox whose value (a code) lives in the URL as ``?key=code``.

    The URL is read when the session starts (a pasted link) and written after every run, so the
    address bar always holds a link to the current view. Codes, not labels, go in the URL so links
    match the command line's scope flags. A value that no longer exists (say after switching
    programme) falls back to the default.
    """
    asked = None
    if key not in st.session_state:
        asked = st.query_params.get(key)
        st.session_state[key] = asked if asked is not None else default
    if st.session_state[key] not in options:
        st.session_state[key] = default
        if asked is not None:
            # A pasted link that asks for something this database does not have: say so, once.
            st.warning(
                f'The link asked for {in_sentence(title)} "{markdown_literal(asked)}", which is not here; '
                f"showing {markdown_literal(options.get(default, default))} instead.",
                icon=":material/link_off:",
            )
    value = st.selectbox(title, list(options), key=key, format_func=lambda c: options.get(c, c), **kw)
    if value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = value
    return value


def url_date(title: str, key: str, default: dt.date, lo: dt.date, hi: dt.date, **kw) -> dt.date:
    """A date input whose value lives in the URL as ``?key=YYYY-MM-DD`` (omitted when default)."""
    if key not in st.session_state:
        try:
            st.session_state[key] = dt.date.fromisoformat(st.query_params.get(key, ""))
        except ValueError:
            st.session_state[key] = default
    if not isinstance(st.session_state[key], dt.date) or not lo <= st.session_state[key] <= hi:
        st.session_state[key] = default
    value = st.date_input(title, min_value=lo, max_value=hi, key=key, format="DD/MM/YYYY", **kw) or default
    if value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = value.isoformat()
    return value


def _choice(title: str, options: dict[str, str], key: str, everything: str) -> str | None:
    value = url_selectbox(title, {ALL: everything, **options}, key)
    return None if value == ALL else value


def sidebar_filters(engine: Engine, viewer: Viewer) -> Filters:
    """Draw the filters in the sidebar and return the chosen scope (limited to what ``viewer`` may see)
    and as-of date."""
    localities = data.query(engine, catalog.localities)
    area = ""
    if viewer.has_area:
        allowed = set(viewer.localities) | set(data.query(engine, catalog.localities_of_pcns, viewer.pcns))
        area = area_in_words(viewer, localities, data.query(engine, catalog.pcns, None))
        localities = {code: name for code, name in localities.items() if code in allowed}
        if tuple(localities) == viewer.localities and not viewer.pcns:
            # One locality, and it is the whole area: "West Cornwall" once, as the everything option.
            if "locality" not in st.session_state and st.query_params.get("locality") in localities:
                st.session_state["locality"] = ALL
            localities = {}
    kinds = data.query(engine, catalog.kinds_present)
    sectors = data.query(engine, catalog.sectors_present)
    first, last = data.query(engine, catalog.date_span)
    default_day = data.default_as_of(engine)
    with st.sidebar:
        st.markdown("**Filters**")
        locality = _choice("Locality", localities, "locality", area or "All localities")
        pcns = data.query(engine, catalog.pcns, locality)
        if viewer.has_area:
            inside = data.query(engine, catalog.pcns_within, viewer.localities, viewer.pcns)
            pcns = {code: name for code, name in pcns.items() if code in inside}
        pcn = _choice("PCN", pcns, "pcn", "All PCNs")
        kind_options = {k: label(k) + "s" for k in KIND_GROUPS if set(KIND_GROUPS[k]) & set(kinds)}
        kind_options.update({k: label(k) for k in kinds})
        kind = _choice("Organisation kind", kind_options, "kind", "All kinds")
        sector = _choice("Sector", {s: label(s) for s in sectors}, "sector", "All sectors")
        lo = min(first or default_day, default_day) - dt.timedelta(days=365)
        hi = max(last or default_day, default_day, dt.date.today())
        as_of = url_date(
            "As of", "as_of", default_day, lo, hi, help="Counts include what is dated on or before this day."
        )
    names = {**localities, **pcns, **kind_options, **{s: label(s) for s in sectors}}
    chosen = tuple((code, names[code]) for code in (locality, pcn, kind, sector) if code in names)
    scope = viewer.restrict(Scope(locality=locality, pcn=pcn, kind=kind, sector=sector))
    return Filters(scope, as_of, chosen, area)


def area_in_words(viewer: Viewer, localities: dict[str, str], pcns: dict[str, str]) -> str:
    """A limited viewer's area by name: "West Cornwall", "West Cornwall and Penwith PCN" (their
    localities, then their PCNs, as the catalog names them; a code the catalog lacks as it is)."""
    names = [localities.get(c, c) for c in viewer.localities] + [pcns.get(c, c) for c in viewer.pcns]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
