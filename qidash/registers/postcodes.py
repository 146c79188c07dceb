"""Placing rows that carry only a postcode, with ONS's postcode lookup (NSPL or ONSPD): one CSV file or
a folder of them (the per-area files ONS ships). Only the postcodes asked for are kept while the files
are read, so the national file (2.7 million rows) never sits in memory.

Postcodes are compared with spaces removed: ONS's 7-character form writes an outward code of four
characters with no space (``TR108HX``) and of two with two spaces (``B1  1AA``). A row with no grid
reference (latitude blank, longitude 0, or the 99.999999 ONS uses) places nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from qidash.registers.tables import RegisterError, Source, csv_rows, normalise

POSTCODE_HEADINGS = ("pcds", "pcd", "pcd7", "pcd8", "pcd2", "postcode")
LAT_HEADINGS = ("lat", "latitude")
LONG_HEADINGS = ("long", "longitude", "lon")


def key(postcode: str | None) -> str:
    """A postcode as compared: capitals, no spaces."""
    return "".join((postcode or "").upper().split())


def sources(path: str | Path | Iterable) -> list[Source]:
    """The CSV files of a lookup: a file, a folder of files, or uploads (name, bytes)."""
    if isinstance(path, (str, Path)):
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.suffix.lower() == ".csv")
            if not files:
                raise RegisterError(f"The postcode folder {str(p)!r} holds no CSV files.")
            return [Source.of(f) for f in files]
        return [Source.of(p)]
    return [Source.of(s) for s in path]


def lookup(files: list[Source], wanted: set[str]) -> dict[str, tuple[float, float]]:
    """Postcode key -> (latitude, longitude) for the ``wanted`` keys found in ``files``."""
    found: dict[str, tuple[float, float]] = {}
    for source in files:
        rows = csv_rows(source)
        header = next(rows, None)
        if header is None:
            continue
        names = [normalise(h) for h in header]
        pc = next((names.index(h) for h in POSTCODE_HEADINGS if h in names), None)
        lat = next((names.index(h) for h in LAT_HEADINGS if h in names), None)
        lon = next((names.index(h) for h in LONG_HEADINGS if h in names), None)
        if pc is None or lat is None or lon is None:
            raise RegisterError(
                f"{source.name}: a postcode lookup needs a postcode column (pcds, pcd or Postcode) and lat "
                "and "
                f"long; its header is {', '.join(header[:12])}."
            )
        width = max(pc, lat, lon)
        for row in rows:
            if len(row) <= width:
                continue
            k = key(row[pc])
            if k not in wanted or k in found:
                continue
            try:
                la, lo = float(row[lat]), float(row[lon])
            except ValueError:
                continue  # blank: no grid reference
            if lo == 0 or abs(la) > 90 or la == 99.999999:
                continue
            found[k] = (la, lo)
    return found
