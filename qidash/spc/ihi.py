"""IHI run-chart rules (Perla, Provost & Murray 2011): shift, trend and number of runs."""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from qidash.spc.anhoej import run_blocks
from qidash.spc.result import nan_sign

# --------------------------------------------------------------------------------------------------
# IHI run-chart rules (Perla, Provost & Murray 2011)
# --------------------------------------------------------------------------------------------------

IHI_MIN_USEFUL = 10  # the runs table starts at 10 useful observations


def _runs_count_distribution(n1: int, n2: int) -> dict[int, int]:
    """Number of arrangements of n1 + n2 two-sided points giving r runs (Swed & Eisenhart 1943)."""
    counts = {}
    for r in range(2, n1 + n2 + 1):
        k = r // 2
        if r % 2 == 0:
            c = 2 * math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k - 1)
        else:
            c = math.comb(n1 - 1, k) * math.comb(n2 - 1, k - 1) + math.comb(n1 - 1, k - 1) * math.comb(
                n2 - 1, k
            )
        counts[r] = c
    return counts


@cache
def ihi_runs_limits(n_useful: int) -> tuple[int | None, int | None]:
    """(runs_lower, runs_upper) for the IHI runs rule; (None, None) below 10 useful observations.

    "Too few runs" is n_runs < runs_lower, "too many" is n_runs > runs_upper.

    Source: we could not verify Perla, Provost & Murray 2011, Table 1 (searches of the public corpora
    found only paraphrases of the paper and Balestracci's different table, which gives 5-12 at n = 16),
    so, as the spec allows, the limits are computed from the exact distribution of the number of runs
    (Swed & Eisenhart 1943) for an equal split (n1 = floor(n/2), n2 = ceil(n/2)) at 5% two-sided:
    runs_lower is the largest L with P(R < L) <= 0.025 and runs_upper the smallest U with
    P(R > U) <= 0.025. This reproduces the spec's statement of where the exact limits agree with the
    recalled table (n = 10, 13-16, 18, 19, 21, 24, 26-28, 30) and n = 20 -> 7-15. Elsewhere the recalled
    published values differ by one (e.g. n = 11: 3-10 recalled, 4-9 here). The comparisons use exact
    integer arithmetic and work for any n >= 10.
    """
    if n_useful < IHI_MIN_USEFUL:
        return None, None
    n1 = n_useful // 2
    counts = _runs_count_distribution(n1, n_useful - n1)
    total = math.comb(n_useful, n1)
    runs = sorted(counts)
    lower, below = runs[0], 0  # below = arrangements with fewer than `lower` runs
    while 40 * (below + counts[lower]) <= total:
        below += counts[lower]
        lower += 1
    upper, above = runs[-1], 0  # above = arrangements with more than `upper` runs
    while 40 * (above + counts[upper]) <= total:
        above += counts[upper]
        upper -= 1
    return lower, upper


def ihi_shift(y: np.ndarray, cl: float, length: int = 6) -> tuple[np.ndarray, int | None, int, list]:
    """IHI shift on non-missing values: ``length`` or more consecutive points on one side of the median.

    Points on the median are skipped (they neither extend nor break a shift) and are never flagged.
    Returns (flags, longest_shift or None without useful points, n_runs, blocks as (sign, length)).
    """
    s = nan_sign(y - cl)
    useful = np.flatnonzero(~np.isnan(s) & (s != 0))
    blocks = run_blocks(s[useful])
    flags = np.zeros(len(y), dtype=bool)
    pos = 0
    for _, run_length in blocks:
        if run_length >= length:
            flags[useful[pos:pos + run_length]] = True
        pos += run_length
    longest = max((b for _, b in blocks), default=None)
    return flags, longest, len(blocks), blocks


def ihi_trend(y: np.ndarray, length: int = 5) -> tuple[np.ndarray, int | None, list]:
    """IHI trend on non-missing values: ``length`` or more points all going up or all going down.

    Repeated values are ignored when counting ("like points"): they neither extend nor break a trend,
    the trend length counts distinct values, and every point of a trend is flagged, repeats included.
    Returns (flags, longest_trend or None for an empty series, trends as (first, last, direction,
    n_distinct) with first/last point indices).
    """
    n = len(y)
    flags = np.zeros(n, dtype=bool)
    if n == 0:
        return flags, None, []
    # collapse runs of equal values into groups: first index of each group
    starts = [0] + [i for i in range(1, n) if y[i] != y[i - 1]]
    stops = starts[1:] + [n]
    steps = np.sign(np.diff([y[s] for s in starts])).astype(int)
    trends, longest, g = [], 1, 0
    while g < len(steps):
        h = g
        while h + 1 < len(steps) and steps[h + 1] == steps[g]:
            h += 1
        n_distinct = h - g + 2  # groups g .. h + 1
        longest = max(longest, n_distinct)
        if n_distinct >= length:
            first, last = starts[g], stops[h + 1] - 1
            flags[first:last + 1] = True
            trends.append((first, last, int(steps[g]), n_distinct))
        g = h + 1
    return flags, longest, trends
