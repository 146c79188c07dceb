"""PCN and locality areas for the Capability map.

Areas come from a boundary file when one is supplied, otherwise they are derived from where the
member organisations are.

Boundary file
    ``data/boundaries/pcns.geojson`` (``QIDASH_BOUNDARIES`` overrides the path): a GeoJSON
    ``FeatureCollection`` in WGS84 longitude/latitude (the GeoJSON default), one ``Polygon`` or
    ``MultiPolygon`` feature per PCN with a ``pcn_code`` property equal to the PCN's code in the
    database. Other properties are ignored; several features with the same code are merged; features
    naming a code the database does not hold are ignored. When the file names none of the database's
    PCNs (say it belongs to another system) the areas are derived instead. A PCN the file leaves out
    has no area. For example::

        {"type": "FeatureCollection", "features": [
          {"type": "Feature", "properties": {"pcn_code": "W-PEN"},
           "geometry": {"type": "Polygon", "coordinates": [[[-5.7, 50.0], [-5.4, 50.0], ...]]}}]}

Derived areas (no file)
    Each organisation that belongs to a PCN and has a location gets the land nearer to it than to
    any other such site (a Voronoi cell), clipped to the system's area: the concave hull of all those
    sites, widened by a few kilometres. Cells are merged by PCN, so PCN areas tile the system's area
    with no gaps or overlaps, and every site lies inside its own PCN's area. A site registered with a
    PCN but sitting among another PCN's sites makes a small island of its PCN there: that is where the
    organisation is. Organisations without a PCN (trusts, the council) belong to no area.

Localities are the union of their PCNs' areas, in both cases. Coordinates are computed in a local
equirectangular projection (kilometres) so cells are not stretched east-west.

Derived areas depend only on the data, so every load stores them (:func:`rebuild_pcn_areas`, table
``derived_area``) and drawing them reads them back; the boundary file stays a choice made when drawn.
Shapely is imported only by the functions that work on shapes: drawing stored areas needs none.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, Text, cast, delete, insert, select
from sqlalchemy.orm import Session

from qidash import catalog
from qidash import models as m
from qidash.db import DATA_DIR
from qidash.map_fast_paths import json_bounds, json_value, polygon_items, ring_items
from qidash.scope import Scope

BOUNDARY_FILE = DATA_DIR / "boundaries" / "pcns.geojson"
MARGIN_KM = 4.0  # how far the system's area reaches beyond its outermost sites
HULL_RATIO = 0.3  # concave hull tightness: 0 hugs the sites, 1 is the convex hull
KM_PER_DEG_LAT = 111.32
DIGITS = 5  # about a metre
# Settings the registers loader writes (qidash.registers.load): the ICB and its main towns.
REGISTERS_ICB, TOWNS = "registers_icb", "map_towns"


class Area:
    """One PCN or locality: ``polygons`` is a list of polygons, each a list of rings (the outline,
    then any holes), each ring a list of ``(longitude, latitude)`` pairs; ``bounds`` is
    (west, south, east, north).

    An area read back as stored (:func:`stored_areas`) keeps its polygons as the JSON they were
    stored as and parses them only when asked for: the map writes that JSON into its layers as it
    is and needs only the bounds besides (:mod:`qidash.map_fast_paths`, part 2: 750 PCNs at scale
    50, where parsing and writing every coordinate again took longer than anything else about the
    areas)."""

    __slots__ = ("_json", "_polygons", "bounds", "code", "locality", "name")

    def __init__(self, code: str, name: str, polygons: list | None = None, locality: str | None = None, *,
                 stored_json: str | None = None, bounds: tuple[float, float, float, float] | None = None):
        set_ = object.__setattr__  # read-only once made, as the frozen dataclass it was
        set_(self, "code", code)
        set_(self, "name", name)
        set_(self, "locality", locality)  # a PCN's locality code
        set_(self, "_polygons", polygons)
        set_(self, "_json", stored_json)
        if bounds is None:
            bounds = _bounds(polygons) if stored_json is None else json_bounds([stored_json])[0]
        set_(self, "bounds", bounds)

    def __setattr__(self, name, value):
        raise AttributeError(f"an Area is read-only: cannot set {name}")

    def __reduce__(self):
        return _area, (self.code, self.name, self._polygons, self.locality, self._json, self.bounds)

    @property
    def polygons(self) -> list:
        if self._polygons is None:
            object.__setattr__(
                self, "_polygons", [[_pairs(ring) for ring in polygon] for polygon in json.loads(self._json)]
            )
        return self._polygons

    def polygons_json(self) -> list[str]:
        """Each polygon as JSON (a list of rings of [longitude, latitude])."""
        if self._json is None:
            return [json_value(polygon) for polygon in self._polygons]
        return polygon_items(self._json)

    def rings_json(self) -> list[str]:
        """Every ring of every polygon as JSON (a list of [longitude, latitude])."""
        return [ring for polygon in self.polygons_json() for ring in ring_items(polygon)]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Area):
            return NotImplemented
        return (self.code, self.name, self.locality, self.polygons) == (
            other.code, other.name, other.locality, other.polygons
        )

    __hash__ = None

    def __repr__(self) -> str:
        return (
            f"Area(code={self.code!r}, name={self.name!r}, locality={self.locality!r}, "
            f"bounds={self.bounds!r})"
        )


def _area(code, name, polygons, locality, stored_json, bounds) -> Area:
    """An Area as pickled (:meth:`Area.__reduce__`)."""
    return Area(code, name, polygons, locality, stored_json=stored_json, bounds=bounds)


def _bounds(polygons: list) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the outlines of ``polygons``; None when there are none."""
    points = [pt for poly in polygons for pt in poly[0]]
    if not points:
        return None
    lons, lats = zip(*points, strict=True)
    return min(lons), min(lats), max(lons), max(lats)


@dataclass(frozen=True)
class Areas:
    source: str  # "file", "derived" or "none"
    pcns: list[Area]
    localities: list[Area]

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of every PCN area, or None when there are none."""
        boxes = [a.bounds for a in self.pcns if a.bounds is not None]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))


def within_area(areas: Areas, scope: Scope) -> Areas:
    """``areas`` as a user limited to ``scope``'s permitted area may see them: only the PCNs inside it
    (in one of its localities, or one of its PCNs) and the outlines of its localities. Nothing outside
    it is drawn or named, in the map's layers or their tooltips. Everything for a scope with no
    permitted area (the whole system)."""
    if not scope.is_restricted:
        return areas
    localities, pcns = set(scope.within_localities or ()), set(scope.within_pcns or ())
    return Areas(
        areas.source,
        [a for a in areas.pcns if a.code in pcns or a.locality in localities],
        [a for a in areas.localities if a.code in localities],
    )


def boundary_file() -> Path:
    return Path(os.environ.get("QIDASH_BOUNDARIES") or BOUNDARY_FILE)


def boundary_stamp() -> str:
    """Changes when the boundary file is added, replaced or removed: pass it to :func:`pcn_areas`
    through the cache so a new file is drawn without waiting for the cache to expire."""
    path = boundary_file()
    try:
        stat = path.stat()
    except OSError:
        return "none"
    return f"{path}:{stat.st_mtime_ns}:{stat.st_size}"


def pcn_areas(conn: Connection, stamp: str = "") -> Areas:
    """The PCN and locality areas: from the boundary file when it names this database's PCNs, else
    derived from the member sites (see the module docstring), as the last load stored them.
    ``stamp`` only keys the cache."""
    pcns = catalog.pcn_localities(conn)
    shapes = read_boundary_file(boundary_file(), {p["pcn"] for p in pcns})
    if shapes:
        return _areas(pcns, shapes, "file")
    return stored_areas(conn, pcns) or derived_areas(conn, pcns)


def derived_areas(conn: Connection, pcns: list[dict] | None = None) -> Areas:
    """The areas derived from the member sites now (``pcns``: :func:`catalog.pcn_localities`),
    clipped to the ICB's outline when the registers were loaded for one (:func:`icb_outline`)."""
    shapes = derive_pcn_shapes(catalog.pcn_sites(conn), icb_outline(conn))
    if not shapes:
        return Areas("none", [], [])
    return _areas(catalog.pcn_localities(conn) if pcns is None else pcns, shapes, "derived")


def rebuild_pcn_areas(session: Session) -> int:
    """Store :func:`derived_areas` in ``derived_area`` (every load calls this); returns how many
    PCN and locality areas were stored."""
    session.execute(delete(m.DerivedArea))
    areas = derived_areas(session.connection())
    rows = [{"level": "pcn", "code": a.code, "polygons": a.polygons} for a in areas.pcns]
    rows += [{"level": "locality", "code": a.code, "polygons": a.polygons} for a in areas.localities]
    if rows:
        session.execute(insert(m.DerivedArea), rows)
    return len(rows)


def stored_areas(conn: Connection, pcns: list[dict]) -> Areas | None:
    """The derived areas as the last load stored them, in :func:`derived_areas`' order and with the
    names in ``pcns`` (:func:`catalog.pcn_localities`); None when none are stored (no site had a
    location, or the data was written without a load's refresh). Each keeps its polygons as the
    stored JSON (see :class:`Area`)."""
    rows = conn.execute(
        select(m.DerivedArea.level, m.DerivedArea.code, cast(m.DerivedArea.polygons, Text))
    ).all()
    if not rows:
        return None
    boxes = json_bounds([text for _level, _code, text in rows])
    stored = {(level, code): (text, box) for (level, code, text), box in zip(rows, boxes, strict=True)}
    pcn_areas_ = [
        Area(p["pcn"], p["pcn_name"], locality=p["locality"], stored_json=text, bounds=box)
        for p in pcns if ("pcn", p["pcn"]) in stored
        for text, box in [stored["pcn", p["pcn"]]]
    ]
    names = {p["locality"]: p["locality_name"] for p in pcns}
    localities = [
        Area(code, names[code], stored_json=text, bounds=box)
        for (level, code), (text, box) in sorted(stored.items())
        if level == "locality" and code in names
    ]
    return Areas("derived", pcn_areas_, localities)


def read_boundary_file(path: Path, codes: set[str]) -> dict:
    """PCN code -> shapely geometry for the features of ``path`` naming one of ``codes``; empty when
    the file is missing or names none of them. Raises ValueError, in words, on a malformed file."""
    if not path.exists():
        return {}
    import shapely
    from shapely.geometry import shape

    try:
        features = json.loads(path.read_text(encoding="utf-8-sig"))["features"]
        parts = defaultdict(list)
        for feature in features:
            code = str((feature.get("properties") or {}).get("pcn_code", ""))
            if code in codes and feature.get("geometry"):
                parts[code].append(shapely.make_valid(shape(feature["geometry"])))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"The boundary file {path} is not a GeoJSON FeatureCollection of PCN polygons ({exc})."
        ) from exc
    return {code: shapely.union_all(geoms) for code, geoms in parts.items()}


def derive_pcn_shapes(sites: list[tuple[str, float, float]], outline=None) -> dict:
    """PCN code -> shapely geometry (lon/lat) tiling :func:`system_area`, from (PCN code, latitude,
    longitude) sites: each site's Voronoi cell, clipped to the system's area and merged by PCN.
    Identical locations count once (the first site listed there keeps it). With ``outline`` (the
    ICB's real outline, lon/lat), the system's area stops at it too: no area reaches into the sea."""
    import shapely

    if not sites:
        return {}
    codes, xy, to_km = _places(sites)
    points = shapely.multipoints(xy)
    envelope = _envelope(points)
    if outline is not None:
        clipped = envelope.intersection(shapely.make_valid(_transform(outline, to_km)))
        envelope = clipped if not clipped.is_empty else envelope
    if len(xy) == 1:
        cells = np.array([envelope])
    else:
        cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=envelope, ordered=True))
        shapely.prepare(envelope)
        outside = ~shapely.within(cells, envelope)  # only the outer cells need clipping
        cells[outside] = shapely.intersection(cells[outside], envelope)
    by_pcn = defaultdict(list)
    for code, cell in zip(codes, cells, strict=True):
        by_pcn[code].append(cell)
    out = {}
    for code, pieces in by_pcn.items():
        # The cells share their edges exactly (one diagram), so a coverage union is exact and fast.
        merged = shapely.coverage_union_all(pieces)
        out[code] = _transform(merged, lambda x, y: to_km(x, y, inverse=True))
    return out


def icb_outline(conn: Connection):
    """The outline (shapely, lon/lat) of the ICB the public registers were loaded for, from the
    ONS boundaries shipped in data/; None when they were not loaded or the ICB has no outline."""
    from qidash.db import get_setting
    from qidash.registers import lookups

    code = get_setting(conn, REGISTERS_ICB)
    geometry = lookups.icb_outline(code) if code else None
    if geometry is None:
        return None
    from shapely.geometry import shape

    return shape(geometry)


@dataclass(frozen=True)
class Geography:
    """The real geography drawn under the PCN areas: the ICB's outline and local authority districts
    (lists of rings of (longitude, latitude)), and the main towns (name, latitude, longitude)."""

    icb_name: str
    outline: list
    local_authorities: list[tuple[str, list]]
    towns: list[dict]


def registers_geography(conn: Connection) -> Geography | None:
    """The geography of the ICB the public registers were loaded for, or None when they were not."""
    from qidash.db import get_setting
    from qidash.registers import lookups

    code = get_setting(conn, REGISTERS_ICB)
    if not code or code not in lookups.icbs():
        return None
    from shapely.geometry import shape

    outline = lookups.icb_outline(code)
    las = [(f["properties"]["name"], _rings(shape(f["geometry"]))) for f in lookups.local_authorities(code)]
    towns = json.loads(get_setting(conn, TOWNS) or "[]")
    return Geography(lookups.icbs()[code].name, _rings(shape(outline)) if outline else [], las, towns)


def system_area(sites: list[tuple[str, float, float]]):
    """The area derived PCN areas tile (lon/lat): the concave hull of the sites widened by MARGIN_KM."""
    import shapely

    _codes, xy, to_km = _places(sites)
    return _transform(_envelope(shapely.multipoints(xy)), lambda x, y: to_km(x, y, inverse=True))


def _places(sites):
    """(PCN codes, projected km coordinates, projection) with each location once, in first-seen order."""
    codes = np.array([s[0] for s in sites], dtype=object)
    lat = np.array([s[1] for s in sites], dtype=float)
    lon = np.array([s[2] for s in sites], dtype=float)
    to_km = _projection(lat)
    xy = np.column_stack(to_km(lon, lat))
    xy, first = np.unique(np.round(xy, 4), axis=0, return_index=True)  # one generator per place
    order = np.argsort(first)
    return codes[first[order]], xy[order], to_km


def _envelope(points):
    import shapely

    return shapely.concave_hull(points, ratio=HULL_RATIO).buffer(MARGIN_KM, quad_segs=4)


def _projection(lat: np.ndarray):
    """A local equirectangular projection around the sites' mean latitude: (lon, lat) <-> (km, km)."""
    k_lon = KM_PER_DEG_LAT * math.cos(math.radians(float(np.mean(lat))))

    def to_km(x, y, inverse: bool = False):
        if inverse:
            return np.asarray(x) / k_lon, np.asarray(y) / KM_PER_DEG_LAT
        return np.asarray(x) * k_lon, np.asarray(y) * KM_PER_DEG_LAT

    return to_km


def _transform(geom, fn):
    import shapely

    return shapely.transform(geom, lambda xy: np.column_stack(fn(xy[:, 0], xy[:, 1])))


def _rings(geom) -> list:
    """A (multi)polygon as a list of polygons, each a list of rings of (lon, lat), rounded."""
    import shapely
    from shapely.geometry import Polygon

    polys = (
        [geom]
        if isinstance(geom, Polygon)
        else [g for g in shapely.get_parts(geom) if isinstance(g, Polygon)]
    )
    out = []
    for poly in polys:
        if poly.is_empty:
            continue
        rings = [poly.exterior, *poly.interiors]
        out.append([_pairs(np.round(np.asarray(r.coords), DIGITS).tolist()) for r in rings])
    return out


def _pairs(ring: list) -> list[tuple[float, float]]:
    """A ring's points as tuples: tens of thousands of them are kept while the app runs, and the
    garbage collector stops looking at tuples of numbers, where it would walk every list each time."""
    return [tuple(pt) for pt in ring]


def _areas(pcns: list[dict], shapes: dict, source: str) -> Areas:
    import shapely

    pcn_areas_, members = [], defaultdict(list)
    names = {}
    for p in pcns:
        geom = shapes.get(p["pcn"])
        if geom is None or geom.is_empty:
            continue
        geom = _polygonal(geom)
        pcn_areas_.append(Area(p["pcn"], p["pcn_name"], _rings(geom), p["locality"]))
        members[p["locality"]].append(geom)
        names[p["locality"]] = p["locality_name"]
    localities = [
        Area(code, names[code], _rings(_polygonal(shapely.union_all(geoms))))
        for code, geoms in sorted(members.items())
    ]
    return Areas(source, pcn_areas_, localities)


def _polygonal(geom):
    """Only the polygons of a geometry (a union can leave stray lines or points)."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    return MultiPolygon([g for g in shapely.get_parts(geom) if isinstance(g, Polygon)])


def as_shape(area: Area):
    """An area back as a shapely (multi)polygon in lon/lat (for tests and point-in-area checks)."""
    from shapely.geometry import MultiPolygon, Polygon

    polys = [Polygon(rings[0], rings[1:]) for rings in area.polygons]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)
