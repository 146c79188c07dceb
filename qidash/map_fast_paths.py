"""The Capability map's hand-tuned hot paths, in one place, each guarded by a figure of
``python -m qidash bench --paths`` (see :mod:`qidash.bench`): what the map sends is written here, and
only here, by hand or with a fast library, because the plain way cost too much on every view of a
national map (scale 50: 18,750 organisations, 750 PCN areas, 1,200 coaches).

1. The deck's JSON (:class:`MapDeck`, :class:`JsonRows`, :func:`template_rows`, :func:`written_rows`).
   Bench figures ``deck_grouped_ms``/``deck_grouped_mb`` and ``deck_every_point_ms``/``..._mb``.
2. Stored area geometry kept as the JSON it was stored as (:func:`polygon_items`,
   :func:`ring_items`, :func:`json_bounds`). Bench figure ``stored_areas_ms``.
3. The nearest coach to every gap (:func:`nearest`), with ``scipy.spatial.cKDTree``. Bench figure
   ``nearest_ms``.
4. Each PCN boundary drawn once (:func:`boundary_paths`). Bench figure ``boundaries_ms``.

Each function's docstring says why it is not written the plain way. The tests in
tests/test_map_fast_paths.py hold each one to the plain way's answers.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson
import pydeck as pdk

# --- 1. the deck's JSON --------------------------------------------------------------------------------
#
# Why not pydeck's own ``Deck.to_json``: it indents its JSON, which makes Python's json fall back to
# its pure-Python encoder, over a second for 15,000 organisations, and it reaches the layers through
# pydeck's private serialiser. The deck here is written from deck.gl's documented JSON format
# (https://deck.gl/docs/api-reference/json/conversion-reference: ``{"initialViewState": ...,
# "layers": [{"@@type": "ScatterplotLayer", "id": ..., "data": [...], "getPosition": "@@=position"}],
# "views": [{"@@type": "MapView", "controller": true}]}``), with orjson for everything but the rows
# of data the map's layers already hold as JSON text.


class JsonRows:
    """A layer's rows as one JSON array (``text``), already written, for :class:`MapDeck` to put in
    place as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def accessor(name: str) -> str:
    """A deck.gl accessor reading a row's field (``@@=position``)."""
    return f"@@={name}"


@dataclass
class MapLayer:
    """One deck.gl layer in the JSON format: its type (``ScatterplotLayer``), ``id``, rows (a list of
    plain values or :class:`JsonRows`) and its other properties under their deck.gl names
    (``getFillColor``, ``radiusUnits``...). A string property is a literal; name a row's field with
    :func:`accessor`."""

    type: str
    id: str
    data: list | JsonRows
    props: dict = field(default_factory=dict)


class MapDeck(pdk.Deck):
    """A ``pydeck.Deck`` (what ``st.pydeck_chart`` takes, tooltip included) whose layers are
    :class:`MapLayer` and whose JSON is written by :meth:`to_json`: compact, keys sorted, rows as
    written, no basemap (no network request)."""

    def __init__(self, layers: list[MapLayer], view: pdk.ViewState, tooltip: dict):
        super().__init__(layers=layers, initial_view_state=view, map_provider=None, tooltip=tooltip)

    def to_json(self) -> str:
        return deck_json(self.layers, self.initial_view_state, self.map_style)


def deck_json(layers: Sequence[MapLayer], view: pdk.ViewState, map_style: str | None) -> str:
    """The deck as deck.gl JSON: one ``MapView`` with a controller, ``view`` as the initial view,
    ``layers`` bottom to top and ``map_style`` as pydeck set it (with no map provider, pydeck's
    "no style" marker, which Streamlit reads as "draw no basemap": without it Streamlit would fetch
    a basemap from the internet). Layer rows given as :class:`JsonRows` go in as written; everything
    else is written by orjson, keys sorted (each layer's data first), so the same deck always gives
    the same text (Streamlit keys the map element by it)."""
    state = {
        key: value for key, value in (
            ("bearing", view.bearing), ("latitude", view.latitude), ("longitude", view.longitude),
            ("maxZoom", view.max_zoom), ("minZoom", view.min_zoom), ("pitch", view.pitch),
            ("zoom", view.zoom),
        ) if value is not None
    }
    written = []
    for layer in layers:
        rows = layer.data.text if isinstance(layer.data, JsonRows) else _dumps(layer.data)
        rest = _dumps({"@@type": layer.type, "id": layer.id, **layer.props})
        written.append('{"data":' + rows + "," + rest[1:])
    return (
        '{"initialViewState":' + _dumps(state) + ',"layers":[' + ",".join(written) + "],"
        + ('"mapStyle":' + _dumps(map_style) + "," if map_style is not None else "")
        + '"views":[{"@@type":"MapView","controller":true}]}'
    )


def _dumps(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


# A string as JSON, ASCII only, as ``json.dumps`` writes it (the C function itself: it is called for
# every text of every point).
json_string = json.encoder.encode_basestring_ascii


def json_value(value) -> str:
    """A small value (a colour, a number) as compact JSON."""
    return _dumps(value)


def written_rows(rows: Iterable[Mapping[str, str]]) -> JsonRows:
    """Rows whose values are already JSON text, as one JSON array (keys sorted, no spaces). Used
    where each row's values come from a few distinct texts written once (an area's polygons, kept as
    stored: writing them again was the slowest part of the areas)."""
    return JsonRows("[" + ",".join(
        "{" + ",".join(f"{json_string(k)}:{v}" for k, v in sorted(row.items())) + "}" for row in rows
    ) + "]")


def object_template(fixed: Mapping[str, str], slots: Mapping[str, str]) -> str:
    """One row's JSON object as a ``%`` template: ``fixed`` fields hold JSON text the same in every
    row of its kind (a stage's colour), ``slots`` fields a format (``%s`` for JSON text, ``%r`` for a
    float, ``[%r,%r]`` for a position). Keys sorted, so the values fill the slots in their keys'
    order; any ``%`` in the fixed text is doubled."""
    fields = {k: v.replace("%", "%%") for k, v in fixed.items()} | dict(slots)
    return "{" + ",".join(f"{json_string(k)}:{fields[k]}" for k in sorted(fields)) + "}"


def template_rows(templates: Sequence[str], values: Iterable[Iterable]) -> JsonRows:
    """Rows written with one ``%``: ``templates`` (:func:`object_template`) one per row, ``values``
    each row's slot values in its slots' key order (JSON text or floats).

    Why: building a dict per row and then JSON took twice as long at scale 50 (18,750 points), even
    with orjson; the distinct texts are written once by the caller and every row by one C-level
    ``%`` over a flat tuple, without a Python step per point."""
    flat = tuple(itertools.chain.from_iterable(values))
    return JsonRows("[" + ",".join(templates) % flat + "]")


def joined(*arrays: JsonRows) -> JsonRows:
    """Several rows' JSON arrays as one."""
    items = [a.text[1:-1] for a in arrays if a.text != "[]"]
    return JsonRows("[" + ",".join(items) + "]")


# --- 2. stored area geometry ---------------------------------------------------------------------------
#
# Derived PCN areas are stored as JSON (table derived_area) and cached as that text: a cached value is
# unpickled on every view, and a string unpickles in a fraction of the time lists of coordinates take.
# The map writes each polygon's JSON into its layers as it is, so it needs the text of each polygon and
# ring, and the bounds, but never the numbers themselves.

# Where one item of a JSON list of polygons (of rings, of points: arrays of numbers only) ends and
# the next begins: only there do three brackets close ("]]]"), and only between rings two.
_POLYGON_GAP = re.compile(r"\]\]\]\s*,\s*\[\[\[")
_RING_GAP = re.compile(r"\]\]\s*,\s*\[\[")


def polygon_items(text: str) -> list[str]:
    """The polygons of a JSON list of polygons (each a list of rings of [longitude, latitude]), each as
    its JSON text. Split at the brackets rather than parsed and written again: parsing and writing
    750 areas' coordinates (orjson included) took ten to thirty times as long as splitting."""
    return _items(text, _POLYGON_GAP, 3)


def ring_items(polygon: str) -> list[str]:
    """The rings of one polygon's JSON (:func:`polygon_items`), each as its JSON text."""
    return _items(polygon, _RING_GAP, 2)


def _items(text: str, gap: re.Pattern, depth: int) -> list[str]:
    inner = text.strip()[1:-1].strip()
    if not inner:
        return []
    parts = gap.split(inner)
    close, open_ = "]" * depth, "[" * depth
    last = len(parts) - 1
    return [("" if i == 0 else open_) + part + ("" if i == last else close) for i, part in enumerate(parts)]


def json_bounds(texts: list[str]) -> list[tuple[float, float, float, float] | None]:
    """(west, south, east, north) of each JSON list of polygons, None for an empty one, read as one
    run of numbers: with the brackets blanked out, the numbers are longitude, latitude, longitude...
    separated by commas, so each text holds one more number than it has commas. (Holes lie inside
    their outline, so all rings give the outline's bounds.) Texts that are not lists of [lon, lat]
    pairs are parsed instead. One NumPy pass over every area, where parsing them all took longer than
    reading them from the database."""
    blank = str.maketrans("[]", "  ")
    counts = np.array([t.count(",") + 1 if "[[[" in t else 0 for t in texts], dtype=np.intp)
    if not counts.any():
        return [None] * len(texts)
    numbers = np.fromstring(",".join(t.translate(blank) for t in texts if "[[[" in t), sep=",")
    if len(numbers) != counts.sum() or (counts % 2).any():  # not lists of [lon, lat]: parse them
        return [_parsed_bounds(json.loads(t)) for t in texts]
    filled = np.flatnonzero(counts)
    starts = (np.cumsum(counts) - counts)[filled] // 2
    lon, lat = numbers[0::2], numbers[1::2]
    boxes = np.column_stack((
        np.minimum.reduceat(lon, starts), np.minimum.reduceat(lat, starts),
        np.maximum.reduceat(lon, starts), np.maximum.reduceat(lat, starts),
    )).tolist()
    out: list = [None] * len(texts)
    for i, box in zip(filled.tolist(), boxes, strict=True):
        out[i] = tuple(box)
    return out


def _parsed_bounds(polygons: list) -> tuple[float, float, float, float] | None:
    points = [pt for poly in polygons for pt in poly[0]]
    if not points:
        return None
    lons, lats = zip(*points, strict=True)
    return min(lons), min(lats), max(lons), max(lats)


# --- 3. the nearest coach ------------------------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088
# Places whose chord distances differ by less than this (on the unit sphere: about 6 mm on the
# ground) are settled by haversine, then by which is listed first.
_TIE = 1e-9


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distances in km; arrays broadcast."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def unit_vectors(lat, lon) -> np.ndarray:
    """Points on the unit sphere (x, y, z) for latitudes and longitudes in degrees."""
    lat, lon = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def nearest(lat, lon, to_lat, to_lon) -> tuple[np.ndarray, np.ndarray]:
    """For each located point (``lat``, ``lon``), the position in the ``to`` lists of the nearest of
    them by great-circle distance (the first listed on a tie) and that distance in km
    (:func:`haversine_km`). No points: two empty arrays. No ``to`` points: ValueError.

    A k-d tree (``scipy.spatial.cKDTree``) over the targets in 3-D unit-sphere coordinates: the
    straight-line (chord) distance between two points on the sphere grows with the great-circle
    distance, so the nearest by chord is the nearest by haversine, anywhere on Earth (a tree over
    latitude and longitude in degrees would stretch England east-west by 1.6). Targets sharing a
    place count once (the first listed there); near-ties (:data:`_TIE`) are settled by haversine, then
    by order. Replaces a hand-written block-by-block matrix search: same answers, a fraction of the
    time (bench figure ``nearest_ms``)."""
    from scipy.spatial import cKDTree

    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    to_lat, to_lon = np.asarray(to_lat, dtype=float), np.asarray(to_lon, dtype=float)
    if not len(to_lat):
        raise ValueError("nearest needs at least one place to search")
    if not len(lat):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=float)
    _places, first = np.unique(np.column_stack((to_lat, to_lon)), axis=0, return_index=True)
    first = np.sort(first)  # each place by its first target, in the targets' order
    tree = cKDTree(unit_vectors(to_lat[first], to_lon[first]))
    points = unit_vectors(lat, lon)
    k = min(2, len(first))
    chord, at = tree.query(points, k=k)
    if k == 1:
        chord, at = chord[:, None], at[:, None]
    best = first[at[:, 0]]
    if k == 2:
        for i in np.flatnonzero(chord[:, 1] - chord[:, 0] <= _TIE).tolist():
            close = np.sort(np.asarray(tree.query_ball_point(points[i], chord[i, 0] + _TIE), dtype=np.intp))
            candidates = first[close]
            km = haversine_km(lat[i], lon[i], to_lat[candidates], to_lon[candidates])
            best[i] = candidates[km.argmin()]  # the first listed of the nearest
    return best, haversine_km(lat, lon, to_lat[best], to_lon[best])


# --- 4. each boundary once -----------------------------------------------------------------------------
#
# PCN areas tile the system, so every inner edge belongs to two areas, and a locality's outline runs
# over the edges of the areas along it. Stroking each area's polygon drew every inner edge twice and the
# locality edges three times, and the stroke went into deck.gl's picking pass with the areas. The map
# instead fills the areas without a stroke and draws, in one layer nobody can pick, each edge once,
# leaving out those a locality outline already draws.


@functools.lru_cache(maxsize=8)
def _boundary_paths(area_rings: tuple[tuple[str, ...], ...], outline_rings: tuple[str, ...]) -> tuple:
    outlined = set()
    for ring in outline_rings:
        points = [tuple(p) for p in orjson.loads(ring)]
        outlined.update((a, b) if a < b else (b, a) for a, b in itertools.pairwise(points))
    drawn: set[tuple] = set()
    paths: list[list] = []
    for rings in area_rings:
        for ring in rings:
            points = [tuple(p) for p in orjson.loads(ring)]
            ring_paths: list[list] = []
            current: list | None = None
            for a, b in itertools.pairwise(points):
                edge = (a, b) if a < b else (b, a)
                if a == b or edge in drawn or edge in outlined:
                    current = None
                    continue
                drawn.add(edge)
                if current is None:
                    current = [a]
                    ring_paths.append(current)
                current.append(b)
            # A closed ring drawn from its first point: the run through that point is one path.
            if (len(ring_paths) > 1 and points[0] == points[-1] and ring_paths[0][0] == points[0]
                    and ring_paths[-1][-1] == points[-1]):
                ring_paths[0][:1] = ring_paths.pop()
            paths.extend(ring_paths)
    return tuple(orjson.dumps(path).decode() for path in paths)


def boundary_paths(areas: Iterable[Sequence[str]], outlines: Iterable[str] = ()) -> list[str]:
    """The boundary lines of ``areas`` (each area's rings as JSON text, :func:`ring_items`), each edge
    once, as JSON paths (lists of [longitude, latitude]) to draw in one ``PathLayer``. An edge two areas
    share is drawn once; edges on one of the ``outlines`` (rings drawn by another layer, the
    localities') are left out; what is left is joined into runs, one path per run.

    Edges are matched by their end points as stored: derived areas share their corners exactly. Areas
    from a boundary file whose neighbours do not share corners keep both their edges, drawn as before.
    Memoised on the rings' text (a few entries): the map's areas change only with a load or a new
    boundary file, and on a national map (22,000 vertices) this takes about 16 ms (bench figure
    ``boundaries_ms``)."""
    return list(_boundary_paths(tuple(tuple(rings) for rings in areas), tuple(outlines)))


def forget_boundaries() -> None:
    """Empty :func:`boundary_paths`' memo (for timing it)."""
    _boundary_paths.cache_clear()
