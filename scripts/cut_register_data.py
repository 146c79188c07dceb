"""Cut the small lookups and boundaries the ``registers`` loader and the map ship with, from the
public files (Open Government Licence v3.0) in a folder laid out as ``../shared/registers``.

    python scripts/cut_register_data.py ../shared/registers

Writes, under data/:
- ``registers/sub_icb_locations.csv``: every sub-ICB location and former CCG in ODS ``eccg`` (code,
  name, ICB code), so a CQC file's ``Location Commissioning CCG Code`` finds its ICB.
- ``registers/icbs.csv``: the 42 ICBs (ODS code, name, ONS code).
- ``boundaries/local_authorities.geojson``: ONS local authority districts (May 2024), generalised
  further, each with the ICB it lies in (the ICB whose ONS outline covers most of it, or the nearest for
  islands the coarse outlines leave out).
- ``boundaries/icbs.geojson``: each ICB's outline as the union of its local authorities (ICBs follow
  local authority boundaries), which keeps the coast the coarse ONS ICB outlines lose.
Run once when the sources are refreshed; the app never fetches anything.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

OUT = Path(__file__).resolve().parent.parent / "data"
TOLERANCE = 0.0012  # degrees, about 100 m: enough for a county-wide map
DIGITS = 4


def _round(geom):
    return shapely.set_precision(geom, 10**-DIGITS)


def main(src: Path) -> None:
    rows = list(csv.reader((src / "eccg_2025.csv").open(encoding="utf-8-sig")))
    with (OUT / "registers" / "sub_icb_locations.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sub_icb_code", "name", "icb_code", "closed_on"])
        for r in sorted(rows):
            w.writerow([r[0], r[1], r[3], r[11]])
    names = {}
    for r in rows:
        base = r[1].rsplit(" - ", 1)[0]
        if not r[11] and base.endswith(" ICB"):
            names[r[3]] = base
    icb22 = json.loads((src / "boundaries" / "icb22_all.geojson").read_text())
    ons = {}
    for feat in icb22["features"]:
        p = feat["properties"]
        key = p["icb22_name"].upper().replace("INTEGRATED CARE BOARD", "ICB")
        ons[key] = (p["icb22_code"], p["icb22_name"].replace("Integrated Care Board", "ICB"), feat)
    icbs = []
    for code, name in sorted(names.items()):
        ons_code, pretty, feat = ons[name]
        icbs.append((code, pretty, ons_code, shape(feat["geometry"])))
    with (OUT / "registers" / "icbs.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["icb_code", "name", "ons_code"])
        for code, name, ons_code, _ in icbs:
            w.writerow([code, name, ons_code])
    lads = json.loads((src / "boundaries" / "ltla24_all.geojson").read_text())
    coarse = [shapely.make_valid(g) for *_, g in icbs]
    features, members = [], {code: [] for code, *_ in icbs}
    for feat in lads["features"]:
        geom = shapely.make_valid(shape(feat["geometry"]))
        if feat["properties"]["ltla24_code"][0] != "E":
            continue  # Wales and Scotland: no ICB
        overlaps = [geom.intersection(c).area for c in coarse]
        best = max(range(len(icbs)), key=overlaps.__getitem__)
        if overlaps[best] == 0:  # islands the coarse outlines leave out: the nearest ICB
            best = min(range(len(icbs)), key=lambda i: geom.distance(coarse[i]))
        icb = icbs[best][0]
        members[icb].append(geom)
        small = _round(geom.simplify(TOLERANCE, preserve_topology=True))
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": feat["properties"]["ltla24_code"],
                    "name": feat["properties"]["ltla24_name"],
                    "icb_code": icb,
                },
                "geometry": mapping(small),
            }
        )
    _write(OUT / "boundaries" / "local_authorities.geojson", features)
    outlines = []
    for code, name, ons_code, _ in icbs:
        union = shapely.union_all(members[code])
        small = _round(union.simplify(TOLERANCE, preserve_topology=True))
        outlines.append(
            {
                "type": "Feature",
                "properties": {"icb_code": code, "name": name, "ons_code": ons_code},
                "geometry": mapping(small),
            }
        )
    _write(OUT / "boundaries" / "icbs.geojson", outlines)


def _write(path: Path, features: list) -> None:
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    path.write_text(text)
    print(f"{path.name}: {len(features)} features, {len(text) / 1024:,.0f} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
