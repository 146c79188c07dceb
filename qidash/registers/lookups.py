"""The small public lookups shipped in data/ (cut by scripts/cut_register_data.py from ODS ``eccg`` and
ONS boundaries, Open Government Licence v3.0): ICBs by ODS code, sub-ICB locations (and the CCGs they
replaced) to their ICB, and each ICB's outline and local authorities."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache

from qidash.db import DATA_DIR

REGISTERS_DIR = DATA_DIR / "registers"
BOUNDARIES_DIR = DATA_DIR / "boundaries"
ICB_OUTLINES = BOUNDARIES_DIR / "icbs.geojson"
LOCAL_AUTHORITIES = BOUNDARIES_DIR / "local_authorities.geojson"

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(NHS ODS, CQC, ONS). Contains OS data © Crown copyright and database right."
)


@dataclass(frozen=True)
class Icb:
    code: str  # ODS code, e.g. QT6
    name: str
    ons_code: str  # E54...


@dataclass(frozen=True)
class SubIcb:
    code: str  # ODS code, e.g. 11N (or a former CCG's)
    name: str
    icb_code: str


@cache
def icbs() -> dict[str, Icb]:
    """The ICBs of England by ODS code, sorted by name."""
    with (REGISTERS_DIR / "icbs.csv").open(encoding="utf-8") as f:
        rows = [Icb(r["icb_code"], r["name"], r["ons_code"]) for r in csv.DictReader(f)]
    return {i.code: i for i in sorted(rows, key=lambda i: i.name)}


@cache
def sub_icbs() -> dict[str, SubIcb]:
    """Sub-ICB locations and former CCGs by ODS code, each with its ICB."""
    with (REGISTERS_DIR / "sub_icb_locations.csv").open(encoding="utf-8") as f:
        return {
            r["sub_icb_code"]: SubIcb(r["sub_icb_code"], r["name"], r["icb_code"]) for r in csv.DictReader(f)
        }


def icb(code: str) -> Icb:
    """The ICB of an ODS code; KeyError names the codes there are."""
    code = (code or "").strip().upper()
    found = icbs().get(code)
    if found is None:
        raise KeyError(code)
    return found


def place_name(name: str) -> str:
    """ODS's capitals as a name people read: ``NHS DEVON ICB - 15N`` -> ``NHS Devon ICB - 15N``."""
    keep = {"NHS", "ICB", "CCG", "PCN", "UK"}
    small = {"and", "of", "the", "on", "upon", "in", "by"}
    words = []
    for i, word in enumerate(name.split(" ")):
        if word in keep or any(ch.isdigit() for ch in word):
            words.append(word)
        elif i and word.lower() in small:
            words.append(word.lower())
        else:
            parts = word.split("-")
            words.append(
                "-".join(
                    p.lower() if j and p.lower() in small else _capitalised(p) for j, p in enumerate(parts)
                )
            )
    return " ".join(words)


def _capitalised(word: str) -> str:
    """``(DR`` -> ``(Dr``: the first letter a capital, the rest small."""
    lower = word.lower()
    for i, ch in enumerate(lower):
        if ch.isalpha():
            return lower[:i] + ch.upper() + lower[i + 1 :]
    return lower


@cache
def _features(path) -> tuple:
    return tuple(json.loads(path.read_text(encoding="utf-8"))["features"])


def icb_outline(code: str) -> dict | None:
    """The GeoJSON geometry of an ICB's outline (lon/lat), or None when not shipped."""
    return next((f["geometry"] for f in _features(ICB_OUTLINES) if f["properties"]["icb_code"] == code), None)


def local_authorities(code: str) -> list[dict]:
    """The local authority districts of an ICB: GeoJSON features with ``code`` and ``name``."""
    return [f for f in _features(LOCAL_AUTHORITIES) if f["properties"]["icb_code"] == code]


def icb_shape(code: str):
    """An ICB's outline as a prepared shapely geometry (for point-in-ICB tests), or None."""
    import shapely
    from shapely.geometry import shape

    geometry = icb_outline(code)
    if geometry is None:
        return None
    geom = shape(geometry)
    shapely.prepare(geom)
    return geom
