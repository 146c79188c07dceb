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
from collections import Counter

import numpy as np
import pandas as pd

CROWDED_ABOVE = 2_000  # located organisations in scope above which overlapping points are grouped
CELL_PX = 6.0  # a point at the smallest size is 5 pixels across: closer centres overlap
TILE_PX = 512  # deck.gl draws the world 512 pixels wide at zoom 0
STAGES = ("not_offered", "offered", "engaged", "trained", "with_project")  # measures.ORG_STAGES


def is_crowded(orgs: pd.DataFrame) -> bool:
    """True when ``orgs`` has more located organisations than :data:`CROWDED_ABOVE`."""
    return int(orgs[["latitude", "longitude"]].notna().all(axis=1).sum()) > CROWDED_ABOVE


def screen_cells(longitude: np.ndarray, latitude: np.ndarray, zoom: float, cell_px: float = CELL_PX) -> np.ndarray:
    """The square of ``cell_px`` screen pixels each position falls in at ``zoom`` (Web Mercator), as
    one integer per position: positions with the same number overlap on screen."""
    world = TILE_PX * 2.0**zoom
    x = (np.asarray(longitude, dtype=float) + 180.0) / 360.0 * world
    lat = np.radians(np.clip(np.asarray(latitude, dtype=float), -85.0, 85.0))
    y = (1.0 - np.log(np.tan(lat) + 1.0 / np.cos(lat)) / math.pi) / 2.0 * world
    columns = math.ceil(world / cell_px) + 1
    return (np.floor(y / cell_px).astype(np.int64) * columns + np.floor(x / cell_px).astype(np.int64))


def group_overlapping(orgs: pd.DataFrame, zoom: float, cell_px: float = CELL_PX) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the located organisations of ``orgs`` (``measures.org_stage_columns`` rows) into those
    alone in their square at ``zoom`` (returned as they are) and groups, one row per square holding
    two or more: ``longitude``, ``latitude`` (their mean), ``count``, one count per stage in
    :data:`STAGES`, ``stage`` (the stage most of them have reached; on a tie the further),
    ``trained_in_post`` (summed) and ``pcn`` (the PCN most of them belong to, None if none has one)."""
    located = orgs.dropna(subset=["latitude", "longitude"])
    cells = screen_cells(located["longitude"].to_numpy(), located["latitude"].to_numpy(), zoom, cell_px)
    sizes = pd.Series(cells).map(pd.Series(cells).value_counts()).to_numpy()
    alone = located[sizes == 1]
    crowd = located[sizes > 1].assign(_cell=cells[sizes > 1])
    columns = ["longitude", "latitude", "count", *STAGES, "stage", "trained_in_post", "pcn"]
    if crowd.empty:
        return alone, pd.DataFrame(columns=columns)
    by_cell = crowd.groupby("_cell", sort=True)
    groups = by_cell.agg(longitude=("longitude", "mean"), latitude=("latitude", "mean"),
                         count=("stage", "size"), trained_in_post=("trained_in_post", "sum"))
    stage_counts = pd.crosstab(crowd["_cell"], crowd["stage"]).reindex(columns=list(STAGES), fill_value=0)
    groups = groups.join(stage_counts)
    # Most common stage, the further one on a tie: take the last maximum in stage order.
    counts = groups[list(STAGES)].to_numpy()
    last_max = len(STAGES) - 1 - np.argmax(counts[:, ::-1], axis=1)
    groups["stage"] = [STAGES[i] for i in last_max]
    groups["pcn"] = [
        (Counter(p for p in pcns if isinstance(p, str)).most_common(1) or [(None, 0)])[0][0]
        for pcns in by_cell["pcn"].agg(list)
    ]
    return alone, groups.reset_index(drop=True)[columns]
