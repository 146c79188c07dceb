"""The map slide: the PCN areas coloured by coverage, the organisations by stage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from qidash import geo, maps
from qidash import models as m
from qidash.palette import fmt_int, fmt_pct
from qidash.scope import Scope
from qidash.views.capability_map import capability_map_data
from qidash.views.showcase.privacy import SUPPRESS_BELOW, people_count, suppressed


@dataclass(frozen=True)
class MapView:
    """The Capability map for the showcase: PCN areas coloured by coverage, organisations by stage."""

    areas: geo.Areas
    values: dict  # PCN code -> coverage % (None when undefined): the PCNs in scope
    edges: list  # class edges (maps.legend_breaks)
    legend: tuple  # (colour, label) per class
    tips: dict  # PCN code -> three tooltip lines (people counts already suppressed)
    orgs: pd.DataFrame  # measures.org_stages rows (organisations, not people)
    stages: tuple  # (stage, label, colour, organisations)
    size_by: str
    headline: str
    note: str
    # The numbers behind the areas, one row per PCN in scope, people counts as they may be shown:
    # (name, coverage % or None, organisations trained, organisations, people trained, projects active).
    pcn_rows: tuple = ()

    def area_fill(self, code: str) -> str:
        """The fill of a PCN area: its class colour, "no data", or the outside-the-filters grey."""
        if code not in self.values:
            return maps.OUTSIDE
        return maps.area_colour(self.values[code], self.edges)


def map_to_draw(conn: Connection, scope: Scope) -> bool:
    """Whether :func:`showcase_map` has something to draw for ``scope``, without building it: an
    organisation in scope with a location, or organisations in scope and a boundary file."""
    located = select(m.Organisation.id).where(*scope.org_conditions())
    if geo.boundary_stamp() == "none":
        located = located.where(m.Organisation.latitude.is_not(None), m.Organisation.longitude.is_not(None))
    return conn.execute(located.limit(1)).first() is not None


def showcase_map(
    conn: Connection, scope: Scope, as_of: dt.date, public: bool, threshold: int = SUPPRESS_BELOW
) -> MapView | None:
    """The map slide alone (None when there is nothing to draw)."""
    view = capability_map_data(conn, scope, as_of, with_gaps=False)
    areas = geo.within_area(geo.pcn_areas(conn, geo.boundary_stamp()), scope)  # a lead sees only their area
    if view.orgs.empty or (not areas.pcns and view.orgs[["latitude", "longitude"]].dropna().empty):
        return None
    values = {}
    tips = {}
    rows = []
    for r in view.by_pcn.to_dict("records") if len(view.by_pcn) else []:
        v = r.get("coverage_pct")
        values[r["pcn"]] = None if v is None or pd.isna(v) else float(v)
        tips[r["pcn"]] = (
            (
                f"Coverage {fmt_pct(values[r['pcn']])}: {fmt_int(r['orgs_trained'])} of "
                f"{fmt_int(r['orgs_in_scope'])} organisations trained"
            ),
            f"People trained {people_count(r.get('people_trained'), public, threshold)}",
            f"Projects active {fmt_int(r.get('projects_active'))}",
        )
        rows.append(
            (
                r["name"],
                values[r["pcn"]],
                int(r["orgs_trained"]),
                int(r["orgs_in_scope"]),
                people_count(r.get("people_trained"), public, threshold),
                int(r.get("projects_active") or 0),
            )
        )
    edges = maps.legend_breaks(values.values(), percent=True)
    legend = tuple((c, f"{t}%") for c, t in maps.legend(edges, False))
    stages = tuple((s, maps.STAGE_LABELS[s], maps.STAGE_COLOURS[s], n) for s, n in view.stage_counts.items())
    counts = view.counts
    headline = (
        f"{fmt_int(counts['trained'])} of {fmt_int(counts['orgs'])} organisations have someone trained "
        f"still in post; {fmt_int(view.stage_counts['with_project'])} have an active project."
    )
    note = (
        "PCN areas are drawn around member organisations, not official boundaries."
        if areas.source == "derived"
        else ""
    )
    orgs = view.orgs
    if public:  # the map's tooltips give each organisation's people trained in post
        hidden = [None if suppressed(int(n), public, threshold) else int(n) for n in orgs["trained_in_post"]]
        orgs = orgs.assign(trained_in_post=pd.Series(hidden, index=orgs.index, dtype=object))
    with_beds = orgs["beds"].notna().sum()
    return MapView(
        areas=areas,
        values=values,
        edges=edges,
        legend=legend,
        tips=tips,
        orgs=orgs,
        stages=stages,
        size_by="beds" if with_beds * 2 > len(view.orgs) else "staff_headcount",
        headline=headline,
        note=note,
        pcn_rows=tuple(rows),
    )

