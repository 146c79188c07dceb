"""Organisations drawn as groups where their points would overlap on the map as it opens.

At national scale a system-wide Capability map holds about 19,000 organisations. Drawn one point each,
with a tooltip each, the map's data is over 5 MB, which the browser must receive, parse and draw, while
at the zoom that shows the whole country most of the points sit on top of one another. So when more
than :data:`CROWDED_ABOVE` organisations are located in scope, the points that fall in the same small
square of the opening view (:data:`CELL_PX` screen pixels, about one point across) are drawn as one
group point: sized by how many it holds, coloured by the stage most of them have reached, its tooltip
counting them by stage. An organisation alone in its square keeps its own point and tooltip. Clicking
a group filters to its PCN (where every organisation is drawn on its own), and the page offers every
point at once on request.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

CROWDED_ABOVE = 2_000  # located organisations in scope above which overlapping points are grouped
CELL_PX = 6.0  # the smallest point's disc is 5 pixels across: closer centres overlap (rings more)
TILE_PX = 512  # deck.gl draws the world 512 pixels wide at zoom 0
STAGES = ("not_offered", "offered", "engaged", "trained", "with_project")  # measures.ORG_STAGES


def is_crowded(orgs: pd.DataFrame) -> bool:
    """True when ``orgs`` has more located organisations than :data:`CROWDED_ABOVE`."""
    return int(orgs[["latitude", "longitude"]].notna().all(axis=1).sum()) > CROWDED_ABOVE


def screen_cells(
    longitude: np.ndarray, latitude: np.ndarray, zoom: float, cell_px: float = CELL_PX
) -> np.ndarray:
    """The square of ``cell_px`` screen pixels each position falls in at ``zoom`` (Web Mercator), as
    one integer per position: positions with the same number overlap on screen."""
    world = TILE_PX * 2.0**zoom
    x = (np.asarray(longitude, dtype=float) + 180.0) / 360.0 * world
    lat = np.radians(np.clip(np.asarray(latitude, dtype=float), -85.0, 85.0))
    y = (1.0 - np.log(np.tan(lat) + 1.0 / np.cos(lat)) / math.pi) / 2.0 * world
    columns = math.ceil(world / cell_px) + 1
    return (np.floor(y / cell_px).astype(np.int64) * columns + np.floor(x / cell_px).astype(np.int64))


def group_overlapping(
    orgs: pd.DataFrame, zoom: float, cell_px: float = CELL_PX
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the located organisations of ``orgs`` (``measures.org_stage_columns`` rows) into those
    alone in their square at ``zoom`` (returned as they are) and groups, one row per square holding
    two or more: ``longitude``, ``latitude`` (their mean), ``count``, one count per stage in
    :data:`STAGES`, ``stage`` (the stage most of them have reached; on a tie the further),
    ``trained_in_post`` (summed) and ``pcn`` (the PCN most of them belong to, None if none has one).

    Counted with numpy over whole columns: this runs on every view of a national map."""
    located = orgs.dropna(subset=["latitude", "longitude"])
    cells = screen_cells(located["longitude"].to_numpy(), located["latitude"].to_numpy(), zoom, cell_px)
    _cells, where, sizes = np.unique(cells, return_inverse=True, return_counts=True)
    crowded = sizes[where] > 1
    alone = located[~crowded]
    columns = ["longitude", "latitude", "count", *STAGES, "stage", "trained_in_post", "pcn"]
    if not crowded.any():
        return alone, pd.DataFrame(columns=columns)
    crowd = located[crowded]
    _cells, group, count = np.unique(cells[crowded], return_inverse=True, return_counts=True)
    n = len(count)

    def total(values) -> np.ndarray:
        return np.bincount(group, weights=np.asarray(values, dtype=float), minlength=n)

    stage_of = {stage: i for i, stage in enumerate(STAGES)}
    stage_index = np.array([stage_of[s] for s in crowd["stage"].tolist()], dtype=np.int64)
    by_stage = np.bincount(group * len(STAGES) + stage_index, minlength=n * len(STAGES)).reshape(
        n, len(STAGES)
    )
    # Most common stage, the further one on a tie: the last maximum in stage order.
    most_stage = len(STAGES) - 1 - np.argmax(by_stage[:, ::-1], axis=1)
    pcn_codes, pcn_names = pd.factorize(
        crowd["pcn"].where(crowd["pcn"].map(lambda p: isinstance(p, str)), None)
    )
    known = pcn_codes >= 0
    pcn = np.full(n, None, dtype=object)
    if known.any():
        k = len(pcn_names)
        per_pcn = np.bincount(group[known] * k + pcn_codes[known], minlength=n * k).reshape(n, k)
        has = per_pcn.max(axis=1) > 0
        pcn[has] = np.asarray(pcn_names, dtype=object)[np.argmax(per_pcn[has], axis=1)]
    groups = pd.DataFrame(
        {
            "longitude": total(crowd["longitude"]) / count,
            "latitude": total(crowd["latitude"]) / count,
            "count": count,
            **{stage: by_stage[:, i] for i, stage in enumerate(STAGES)},
            "stage": np.asarray(STAGES, dtype=object)[most_stage],
            "trained_in_post": total(
                pd.to_numeric(crowd["trained_in_post"], errors="coerce").fillna(0)
            ).astype(np.int64),
            "pcn": pcn,
        }
    )
    return alone, groups[columns]
