"""The Capability map's deck (data in, a ``pydeck.Deck`` out). No basemap: the decks make no network
request. Its JSON is written by :mod:`qidash.map_fast_paths`, the one place the map's hot paths live.

The Capability map draws, bottom to top: PCN areas filled by a measure's class (layer ``pcn-areas``),
their dark boundary lines, each edge once (``pcn-boundaries``; :data:`AREA_LINE`), locality outlines
(``locality-outlines``), the chosen PCN's outline (``selected-pcn``) and organisations as points
marked by stage (``organisations``: a ring or a filled disc, outlined or not, in the stage's colour;
:data:`STAGE_MARKS`). Every layer has an id, which Streamlit needs to report selections. Area and
point rows carry the same tooltip fields (``title``, ``line1``..``line3``): deck.gl shows one
tooltip template for every layer and leaves a missing field's placeholder in the text. The tooltip
is text, not HTML: imported names in it are shown as written.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pydeck as pdk

from qidash import map_groups, palette
from qidash.geo import Areas, Geography
from qidash.map_fast_paths import (
    JsonRows,
    MapDeck,
    MapLayer,
    accessor,
    boundary_paths,
    joined,
    json_string,
    json_value,
    object_template,
    template_rows,
    written_rows,
)
from qidash.text import deck_literal

LAND = "#F4F6F7"  # the ICB's land, under everything: the sea stays the page's white
BASEMAP = LAND  # the darkest background points are drawn on (no tiles: the map makes no request)
SELECTED_LINE = "#231F20"  # NHS black
EDGE = "#FFFFFF"  # a filled point's thin edge, parting it from the area under it


@dataclass(frozen=True)
class StageMark:
    """How an organisation at one stage is drawn: never by colour alone (WCAG 1.4.1). ``hollow``
    points have a white centre inside a ring of ``colour`` ``ring_px`` wide; filled points are
    ``colour`` with an ``outline`` ``ring_px`` wide. The ring is drawn outside the disc whose area
    shows the organisation's size, so it never hides it. ``words``: the mark, said in words."""

    colour: str
    hollow: bool
    outline: str
    ring_px: float
    words: str


# Stages an organisation reaches (measures.ORG_STAGES), lowest first: rings while nothing or only an
# offer has happened, filled discs once engaged, a dark outline once trained, a thick one with a
# project. Each colour stands out 3:1 from the land under it (BASEMAP): darker than the charts' mark
# shades (palette.MARK_SHADES), which are 3:1 on white but not on the land.
STAGE_MARKS = {
    "not_offered": StageMark(palette.NHS_MID_GREY, True, palette.NHS_MID_GREY, 1.5, "thin ring"),
    "offered": StageMark("#A86F00", True, "#A86F00", 3.0, "thick ring"),  # a dark NHS warm yellow
    "engaged": StageMark("#CC5C00", False, EDGE, 1.0, "filled"),  # a dark NHS orange
    "trained": StageMark("#008577", False, SELECTED_LINE, 1.5, "filled, dark outline"),  # NHS aqua green
    "with_project": StageMark("#006747", False, SELECTED_LINE, 3.0, "filled, thick dark outline"),
}
STAGE_COLOURS = {stage: mark.colour for stage, mark in STAGE_MARKS.items()}
STAGE_LABELS = {
    "not_offered": "Not offered",
    "offered": "Offered training",
    "engaged": "Engaged",
    "trained": "Trained",
    "with_project": "With a project",
}
# Five classes of a measure, light to dark in NHS blues; fewer classes take spread-out steps.
# Light enough for the points to show; neighbouring classes (0-20% and 20-40% above all) differ in
# lightness enough to tell apart at the areas' opacity.
AREA_RAMP = ("#E8F1FA", "#AFCDEB", "#79A9DA", "#4682C4", "#1D5CA3")
NO_DATA = "#AEB7BD"  # a PCN in scope whose measure is undefined (no beds, say)
OUTSIDE = palette.NHS_PALE_GREY  # a PCN outside the filters: drawn for orientation, not coloured
AREA_ALPHA = 190
OUTSIDE_ALPHA = 170
# Every PCN area's boundary: a thin dark line standing out 3:1 (WCAG 1.4.11) from the land and from
# every area's fill as drawn (:func:`drawn_fill`), so each area's shape can be seen whatever its class.
# The pale classes alone do not stand out from the land (they leave the points readable); their class is
# said in words (the legend's ranges, each area's tooltip, the table of numbers below the map).
AREA_LINE = "#212B32"  # the NHS website's text colour: NHS dark grey is too light on the darkest class
AREA_LINE_PX = 1
LOCALITY_LINE = palette.NHS_DARK_BLUE
POINT_MIN_PX, POINT_MAX_PX = 2.5, 9.0
TILE_PX = 512  # deck.gl draws the world 512 pixels wide at zoom 0
MAP_WIDTH_PX, MAP_HEIGHT_PX = 820, 560  # what the view is fitted to (the page's map column)

AREAS_ID, BOUNDARIES_ID, LOCALITIES_ID, SELECTED_ID, ORGS_ID = (
    "pcn-areas",
    "pcn-boundaries",
    "locality-outlines",
    "selected-pcn",
    "organisations",
)
LAND_ID, LA_ID, TOWNS_ID = "icb-outline", "local-authorities", "towns"
LA_LINE = "#768692"  # local authority boundaries: thin, grey, under the PCN areas
PIXELS = "pixels"
TOOLTIP = {
    # Text, not HTML: the browser shows the names as written, never as markup.
    "text": "{title}\n{line1}\n{line2}\n{line3}",
    "style": {"backgroundColor": "#FFFFFF", "color": palette.NHS_GREY, "fontSize": "13px",
              "border": f"1px solid {palette.NHS_PALE_GREY}", "padding": "6px 8px"},
}


def rgba(hex_colour: str, alpha: int = 255) -> list[int]:
    """``#RRGGBB`` as ``[r, g, b, a]`` (deck.gl colours)."""
    h = hex_colour.lstrip("#")
    return [int(h[i : i + 2], 16) for i in (0, 2, 4)] + [alpha]


# --- classes and legend ------------------------------------------------------------------------------


def legend_breaks(values: Iterable[float | None], percent: bool = False, integer: bool = False,
                  classes: int = 5) -> list[float]:
    """Class edges for a measure's values: ``[e0, e1, ..., en]`` for n ≤ ``classes`` classes, class i
    holding ``e_i <= v < e_(i+1)`` (the last also holds ``v == e_n``).

    - Percentages use fixed fifths (0, 20, ..., 100), so a colour means the same on every view.
    - Counts taking no more distinct values than ``classes`` get one class per value (``[0, 1, 1]``:
      "0" and "1"), so different numbers never share a colour.
    - Otherwise edges run from 0 to the largest value with inner edges at quantiles (no more classes
      than distinct values), rounded to two significant figures, or up to whole numbers for counts.

    Empty when no value is defined; ``[0, 0]`` when every value is 0.
    """
    vals = np.array([v for v in values if v is not None and not _isnan(v)], dtype=float)
    if vals.size == 0:
        return []
    if percent:
        return [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    top = float(vals.max())
    distinct = sorted({float(v) for v in vals})
    if top <= 0:
        return [0.0, 0.0]
    if integer and len(distinct) <= classes:
        return [*distinct, top]
    k = min(classes, len(distinct))
    inner = {_nice(float(np.quantile(vals, i / k))) for i in range(1, k)}
    if integer:
        inner = {float(math.ceil(e)) for e in inner}
    return sorted({0.0, top, *(e for e in inner if 0 < e < top)})


def class_of(value: float | None, edges: list[float]) -> int | None:
    """The class index of ``value`` under ``edges`` (see :func:`legend_breaks`); None when undefined."""
    if value is None or _isnan(value) or len(edges) < 2:
        return None
    n = len(edges) - 1
    return min(max(bisect.bisect_right(edges, value) - 1, 0), n - 1)


def class_colours(n: int) -> list[str]:
    """Colours of ``n`` classes (1 to 5), light to dark, spread over AREA_RAMP."""
    if n <= 0:
        return []
    if n == 1:
        return [AREA_RAMP[2]]
    last = len(AREA_RAMP) - 1
    return [AREA_RAMP[round(i * last / (n - 1))] for i in range(n)]


def fmt_edge(value: float) -> str:
    """A class edge for a legend: at most two decimals, no trailing zeros (0.74, 1.4, 12)."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def legend(
    edges: list[float], integer: bool, fmt: Callable[[float], str] = fmt_edge
) -> list[tuple[str, str]]:
    """(colour, label) per class, lowest first: "0–4", "5–9"... for whole numbers, "0–0.74" else."""
    if len(edges) < 2:
        return []
    if edges[-1] == edges[0]:
        return [(class_colours(1)[0], fmt(math.ceil(edges[0]) if integer else edges[0]))]
    colours = class_colours(len(edges) - 1)
    out = []
    for i, colour in enumerate(colours):
        lo, hi = edges[i], edges[i + 1]
        last = i == len(colours) - 1
        if integer:
            lo_i = math.ceil(lo)
            hi_i = math.floor(hi) if last else math.ceil(hi) - 1
            text = fmt(lo_i) if hi_i <= lo_i else f"{fmt(lo_i)}–{fmt(hi_i)}"
        else:
            text = f"{fmt(lo)}–{fmt(hi)}"
        out.append((colour, text))
    return out


def drawn_fill(colour: str, alpha: int = AREA_ALPHA) -> str:
    """``colour`` as the map shows it: drawn ``alpha`` opaque over the land (``#RRGGBB``)."""
    share = alpha / 255
    mixed = (t * share + u * (1 - share) for t, u in zip(rgba(colour)[:3], rgba(LAND)[:3], strict=True))
    return "#" + "".join(f"{round(x):02X}" for x in mixed)


def area_fills() -> dict[str, str]:
    """Every fill a PCN area can have, as drawn over the land: class colours and "no data" at the
    areas' opacity, "outside the filters" at its own. Keyed by the colour named in the code."""
    return {**{c: drawn_fill(c) for c in (*AREA_RAMP, NO_DATA)}, OUTSIDE: drawn_fill(OUTSIDE, OUTSIDE_ALPHA)}


def area_key_svg(colour: str, px: int = 16) -> str:
    """A legend's swatch of an area class: the fill as drawn, inside the areas' boundary line, as a
    small inline SVG (a pale class's swatch would otherwise vanish on the white page)."""
    return (
        f'<svg width="{px}" height="{px}" viewBox="0 0 {px} {px}" aria-hidden="true" '
        f'style="vertical-align:-3px"><rect x="0.5" y="0.5" width="{px - 1}" height="{px - 1}" '
        f'fill="{drawn_fill(colour, OUTSIDE_ALPHA if colour == OUTSIDE else AREA_ALPHA)}" '
        f'stroke="{AREA_LINE}" stroke-width="1"/></svg>'
    )


def area_colour(value: float | None, edges: list[float]) -> str:
    """The fill of a PCN in scope: its class's colour, or NO_DATA when its value is undefined."""
    k = class_of(value, edges)
    if k is None:
        return NO_DATA
    return class_colours(max(len(edges) - 1, 1))[k]


def _nice(x: float) -> float:
    return float(f"{x:.2g}")


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


# --- the view ----------------------------------------------------------------------------------------


def fit_view(bounds: tuple[float, float, float, float] | None, width: int = MAP_WIDTH_PX,
             height: int = MAP_HEIGHT_PX, padding: float = 0.04) -> pdk.ViewState:
    """The Web Mercator view showing ``bounds`` (west, south, east, north) whole, with a margin."""
    if bounds is None:
        return pdk.ViewState(latitude=52.5, longitude=-1.5, zoom=5.3)  # England
    west, south, east, north = bounds
    lon_span = max(east - west, 0.01)

    def y(lat: float) -> float:  # Web Mercator
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    merc_span = max(y(north) - y(south), 0.0002)
    usable = 1 - 2 * padding
    zoom_x = math.log2(width * usable * 360 / (TILE_PX * lon_span))
    zoom_y = math.log2(height * usable * 2 * math.pi / (TILE_PX * merc_span))
    centre_y = (y(north) + y(south)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return pdk.ViewState(
        latitude=round(centre_lat, 5), longitude=round((west + east) / 2, 5),
        zoom=round(min(zoom_x, zoom_y, 14.0), 2), pitch=0, bearing=0,
    )


def points_bounds(orgs: pd.DataFrame) -> tuple[float, float, float, float] | None:
    located = orgs.dropna(subset=["latitude", "longitude"])
    if located.empty:
        return None
    return (float(located["longitude"].min()), float(located["latitude"].min()),
            float(located["longitude"].max()), float(located["latitude"].max()))


def area_bounds(area) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of one area (None when it has no polygon)."""
    return area.bounds


def _union_bounds(*boxes):
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


# --- layers ------------------------------------------------------------------------------------------


def _json_text(value: str) -> str:
    """A string of a layer's rows as JSON, kept text for deck.gl (never ``@@`` code)."""
    return json_string(deck_literal(value))


def area_rows(areas: Areas, values: Mapping[str, float | None], edges: list[float],
              tips: Mapping[str, tuple[str, str, str]]) -> JsonRows:
    """One row per polygon of every PCN area: ``pcn``, ``locality``, ``title``, ``line1``..``line3``,
    ``polygon`` and ``fill``. PCNs in ``values`` (those in scope) are filled by class; the others are
    drawn faintly as outside the filters. Each polygon goes in as the JSON the area holds
    (:meth:`geo.Area.polygons_json`), not read and written again."""
    text = _json_text
    fills: dict[tuple[str, int], str] = {}  # a few colours, each written once
    templates, polygons = [], []
    for area in areas.pcns:
        inside = area.code in values
        colour = (area_colour(values[area.code], edges), AREA_ALPHA) if inside else (OUTSIDE, OUTSIDE_ALPHA)
        fill = fills.get(colour)
        if fill is None:
            fill = fills[colour] = json_value(rgba(*colour))
        line1, line2, line3 = tips.get(
            area.code, ("Outside the current filters", "Click to show this PCN", "")
        )
        template = object_template(
            {"fill": fill, "line1": text(line1), "line2": text(line2), "line3": text(line3),
             "locality": "null" if area.locality is None else text(area.locality), "pcn": text(area.code),
             "title": text(pcn_title(area.name))},
            {"polygon": "%s"},
        )
        for polygon in area.polygons_json():
            templates.append(template)
            polygons.append((polygon,))
    return template_rows(templates, polygons)


def _ring_rows(key: str, areas: Iterable) -> JsonRows:
    """One row per ring of each area's polygons: ``key`` (the area's code) and ``path`` (the ring)."""
    return written_rows(
        {key: _json_text(a.code), "path": ring} for a in areas for ring in a.rings_json()
    )


def boundary_rows(areas: Areas) -> JsonRows:
    """One row (``path``) per run of the PCN areas' boundaries, each edge once and none a locality
    outline draws (:func:`map_fast_paths.boundary_paths`): the areas are filled without a stroke, so
    the line is drawn once, not two or three times, and never in deck.gl's picking pass."""
    paths = boundary_paths(
        (a.rings_json() for a in areas.pcns), [ring for a in areas.localities for ring in a.rings_json()]
    )
    return written_rows({"path": path} for path in paths)


def pcn_title(name: str) -> str:
    """A PCN's name as a tooltip title, saying it is a PCN once ("Bude PCN", "Wells & Glastonbury PCN")."""
    return name if "PCN" in name.split() else f"{name} PCN"


def point_radius(values: pd.Series) -> pd.Series:
    """Point radius in pixels, by the square root of size (area ∝ beds or headcount), between
    POINT_MIN_PX and POINT_MAX_PX; the 95th percentile and above get the largest. Missing: smallest."""
    v = pd.to_numeric(values, errors="coerce")
    top = float(v.quantile(0.95)) if v.notna().any() else 0.0
    if not top or top <= 0:
        return pd.Series(POINT_MIN_PX, index=values.index)
    scaled = np.sqrt((v / top).clip(lower=0, upper=1)).fillna(0)
    return (POINT_MIN_PX + (POINT_MAX_PX - POINT_MIN_PX) * scaled).round(2)


def stage_paint(stage: str) -> tuple[str, str, float]:
    """How to paint a point at ``stage`` in a drawing of its own (the exports, the legend): its fill
    (white inside a ring), its outline colour and the outline's width in pixels (:data:`STAGE_MARKS`)."""
    mark = STAGE_MARKS[stage]
    return ("#FFFFFF" if mark.hollow else mark.colour), mark.outline, mark.ring_px


def mark_fields(stage: str) -> dict:
    """A point's drawing fields at ``stage`` (:data:`STAGE_MARKS`): ``fill``, ``line`` and ``width``
    (the ring, in pixels). deck.gl centres a point's outline on its radius, so the radius drawn is the
    size's radius plus half the ring (:func:`drawn_radius`)."""
    mark = STAGE_MARKS[stage]
    return {"fill": rgba("#FFFFFF" if mark.hollow else mark.colour), "line": rgba(mark.outline),
            "width": mark.ring_px}


def drawn_radius(size_px: float, stage: str) -> float:
    """The radius to draw a point of ``size_px`` at ``stage``: its disc keeps ``size_px`` and the
    ring lies outside it."""
    return round(size_px + STAGE_MARKS[stage].ring_px / 2, 2)


def org_rows(orgs: pd.DataFrame, size_by: str, kind_label: Callable[[str], str] = palette.label) -> JsonRows:
    """One row per located organisation: ``position``, the mark at its stage (``fill``, ``line``,
    ``width``: :func:`mark_fields`), ``radius`` (:func:`drawn_radius`), the tooltip's ``title`` and
    ``line1``..``line3``, ``ods_code``, ``pcn`` and ``stage``.

    Formatting each distinct kind and size, count, stage and PCN once, and every row with one ``%``
    (:func:`map_fast_paths.template_rows`): 19,000 points at scale 50.
    """
    located = orgs.dropna(subset=["latitude", "longitude"])
    if size_by in located:
        radius = point_radius(located[size_by]).tolist()
        sizes = located[size_by].astype(object).where(located[size_by].notna(), None).tolist()
    else:
        radius = [POINT_MIN_PX] * len(located)
        sizes = [None] * len(located)
    text = _json_text  # a string as JSON, kept text for deck.gl
    word = _size_word(size_by)

    @functools.cache
    def line1(kind, size) -> str:
        size_text = "" if size is None else f"{palette.fmt_int(size)} {word}"
        return text(" · ".join(p for p in (kind_label(kind), size_text) if p))

    @functools.cache
    def line3(n) -> str:
        return text(f"People trained in post: {palette.fmt_int(n)}")

    @functools.cache
    def pcn_of(code) -> str:
        return text(code) if isinstance(code, str) else "null"

    by_stage = {stage: _point_template(stage) for stage in STAGE_MARKS}
    ring = {stage: STAGE_MARKS[stage].ring_px / 2 for stage in STAGE_MARKS}
    stages = located["stage"].tolist()
    drawn = (np.asarray(radius, dtype=float) + np.array([ring[s] for s in stages], dtype=float)).round(2)
    values = zip(
        map(line1, located["kind"].tolist(), sizes),
        map(line3, located["trained_in_post"].tolist()),
        map(text, located["ods_code"].tolist()),
        map(pcn_of, located["pcn"].tolist()),
        located["longitude"].to_numpy(dtype=float).tolist(),
        located["latitude"].to_numpy(dtype=float).tolist(),
        drawn.tolist(),
        map(text, located["name"].tolist()),
        strict=True,
    )
    return template_rows(list(map(by_stage.__getitem__, stages)), values)


def _point_template(stage: str) -> str:
    """One organisation's JSON object at ``stage``, for ``%`` to fill with line1, line3, ods_code,
    pcn (each written as JSON), longitude, latitude and radius (floats) and title (JSON)."""
    marks = {key: json_value(value) for key, value in mark_fields(stage).items()}
    return object_template(
        {**marks, "line2": json_string(f"Stage: {STAGE_LABELS[stage]}"), "stage": json_string(stage)},
        {"line1": "%s", "line3": "%s", "ods_code": "%s", "pcn": "%s", "position": "[%r,%r]",
         "radius": "%r", "title": "%s"},
    )


def _size_word(size_by: str) -> str:
    return "beds" if size_by == "beds" else "staff"


def group_rows(groups: pd.DataFrame) -> JsonRows:
    """One row per group of overlapping organisations (:func:`map_groups.group_overlapping`), with the
    fields of :func:`org_rows`: ``position``, the mark of the stage most have reached, ``radius`` (by
    how many it holds), the tooltip's ``title`` and ``line1``..``line3`` (counts by stage), ``pcn`` (so
    a click filters to the PCN most belong to), ``stage``, and ``count``; ``ods_code`` is null."""
    most = max(int(groups["count"].max()), 2) if len(groups) else 2
    rows = []
    for g in groups.itertuples(index=False):
        by_stage = [(STAGE_LABELS[s], getattr(g, s)) for s in reversed(STAGE_MARKS) if getattr(g, s)]
        scale = math.sqrt((g.count - 1) / (most - 1))
        rows.append({
            "count": int(g.count),
            **mark_fields(g.stage),
            "line1": deck_literal(" · ".join(f"{label} {palette.fmt_int(n)}" for label, n in by_stage)),
            "line2": f"People trained in post: {palette.fmt_int(int(g.trained_in_post))}",
            "line3": ("Click to show this PCN's organisations one by one" if isinstance(g.pcn, str)
                      else "Zoom in to tell them apart"),
            "ods_code": None,
            "pcn": deck_literal(g.pcn) if isinstance(g.pcn, str) else None,
            "position": [round(float(g.longitude), 5), round(float(g.latitude), 5)],
            "radius": drawn_radius(POINT_MIN_PX + 1 + (POINT_MAX_PX - POINT_MIN_PX - 1) * scale, g.stage),
            "stage": g.stage,
            "title": f"{palette.fmt_int(int(g.count))} organisations close together",
        })
    return JsonRows(json_value(rows))


def stage_key_svg(stage: str, px: int = 16) -> str:
    """The mark of ``stage`` as a small inline SVG for a legend, drawn as the map draws it."""
    mark = STAGE_MARKS[stage]
    ring = max(mark.ring_px, 1.0) if mark.hollow or mark.outline != EDGE else 1.0
    r = px / 2 - ring / 2 - 0.5
    fill = "#FFFFFF" if mark.hollow else mark.colour
    stroke = mark.outline if mark.outline != EDGE else palette.NHS_MID_GREY
    return (
        f'<svg width="{px}" height="{px}" viewBox="0 0 {px} {px}" aria-hidden="true" '
        f'style="vertical-align:-3px"><circle cx="{px / 2}" cy="{px / 2}" r="{r:g}" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{ring:g}"/></svg>'
    )


def stage_legend(counts: Mapping[str, int]) -> list[str]:
    """One legend line per stage (HTML for ``st.markdown``): its mark, its name, its shape in words
    and how many organisations are at it."""
    return [
        f"{stage_key_svg(s)} {STAGE_LABELS[s]} ({palette.fmt_int(n)}) "
        f'<span style="color:{palette.NHS_GREY}">· {STAGE_MARKS[s].words}</span>'
        for s, n in counts.items()
    ]


def capability_deck(
    areas: Areas,
    values: Mapping[str, float | None],
    edges: list[float],
    tips: Mapping[str, tuple[str, str, str]],
    orgs: pd.DataFrame,
    size_by: str = "beds",
    selected_pcn: str | None = None,
    geography: Geography | None = None,
    group_overlapping: bool = False,
) -> MapDeck:
    """The Capability map.

    ``values``: the colour measure per PCN in scope (None when undefined); ``edges``: its classes
    (:func:`legend_breaks`); ``tips``: three tooltip lines per PCN in scope; ``orgs``: the
    organisations in scope (``measures.org_stages`` rows) drawn as points sized by ``size_by``
    (``beds`` or ``staff_headcount``), each stage by its mark (:data:`STAGE_MARKS`). The view fits the
    organisations and the PCN areas in scope. ``geography`` (qidash.geo.registers_geography) adds the
    ICB's outline and local authorities under the areas and its main towns' names on top. With
    ``group_overlapping``, organisations whose points would overlap in the view are drawn as groups
    (:mod:`qidash.map_groups`); the others keep their own points.
    """
    bounds = _union_bounds(points_bounds(orgs), *(area_bounds(a) for a in areas.pcns if a.code in values))
    view = fit_view(bounds)
    if group_overlapping:
        alone, groups = map_groups.group_overlapping(orgs, view.zoom)
        points = joined(org_rows(alone, size_by), group_rows(groups))
    else:
        points = org_rows(orgs, size_by)
    selected = [a for a in areas.pcns if a.code == selected_pcn]
    layers = geography_layers(geography) if geography else []
    layers += [
        MapLayer("PolygonLayer", AREAS_ID, area_rows(areas, values, edges, tips), {
            "getPolygon": accessor("polygon"), "getFillColor": accessor("fill"),
            "stroked": False, "filled": True, "pickable": True, "autoHighlight": True,
            "highlightColor": rgba(palette.NHS_WARM_YELLOW, 90),
        }),
        MapLayer("PathLayer", BOUNDARIES_ID, boundary_rows(areas), {
            "getPath": accessor("path"), "getColor": rgba(AREA_LINE), "getWidth": AREA_LINE_PX,
            "widthUnits": PIXELS, "pickable": False,
        }),
        MapLayer("PathLayer", LOCALITIES_ID, _ring_rows("locality", areas.localities), {
            "getPath": accessor("path"), "getColor": rgba(LOCALITY_LINE, 220), "getWidth": 2.5,
            "widthUnits": PIXELS, "pickable": False,
        }),
        MapLayer("PathLayer", SELECTED_ID, _ring_rows("pcn", selected), {
            "getPath": accessor("path"), "getColor": rgba(SELECTED_LINE), "getWidth": 4,
            "widthUnits": PIXELS, "pickable": False,
        }),
        MapLayer("ScatterplotLayer", ORGS_ID, points, {
            "getPosition": accessor("position"), "getFillColor": accessor("fill"),
            "getRadius": accessor("radius"), "radiusUnits": PIXELS, "stroked": True,
            "getLineColor": accessor("line"), "getLineWidth": accessor("width"), "lineWidthUnits": PIXELS,
            "pickable": True, "autoHighlight": True, "highlightColor": rgba(SELECTED_LINE, 120),
        }),
    ]
    if geography and geography.towns:
        layers.append(town_layer(geography.towns))
    return MapDeck(layers, view, TOOLTIP)


# --- real geography ----------------------------------------------------------------------------------


def geography_layers(geography: Geography) -> list[MapLayer]:
    """The ICB's land (filled, outlined) and its local authority boundaries, to draw under the areas."""
    land = [
        {"polygon": rings, "title": deck_literal(geography.icb_name), "line1": "", "line2": "", "line3": ""}
        for rings in geography.outline
    ]
    lines = [
        {"path": ring}
        for _name, polygons in geography.local_authorities
        for rings in polygons
        for ring in rings
    ]
    return [
        MapLayer("PolygonLayer", LAND_ID, land, {
            "getPolygon": accessor("polygon"), "getFillColor": rgba(LAND),
            "getLineColor": rgba(palette.NHS_GREY), "getLineWidth": 1.5, "lineWidthUnits": PIXELS,
            "stroked": True, "filled": True, "pickable": False,
        }),
        MapLayer("PathLayer", LA_ID, lines, {
            "getPath": accessor("path"), "getColor": rgba(LA_LINE, 200), "getWidth": 1,
            "widthUnits": PIXELS, "pickable": False,
        }),
    ]


def town_layer(towns: list[dict]) -> MapLayer:
    """The main towns' names, dark on a white halo so they read over any area's colour."""
    rows = [{"position": [t["longitude"], t["latitude"]], "name": deck_literal(t["name"])} for t in towns]
    return MapLayer("TextLayer", TOWNS_ID, rows, {
        "getPosition": accessor("position"), "getText": accessor("name"), "getSize": 12,
        "sizeUnits": PIXELS, "getColor": rgba(palette.NHS_DARK_BLUE), "outlineWidth": 3,
        "outlineColor": rgba("#FFFFFF"), "fontFamily": "Helvetica, Arial, sans-serif",
        "fontSettings": {"sdf": True}, "fontWeight": "bold", "pickable": False,
    })
