"""Anhøj runs analysis (qicharts2 runs.analysis / crsignal)."""

from __future__ import annotations

import math

import numpy as np

from qidash.spc.result import nan_sign

# --------------------------------------------------------------------------------------------------
# Anhøj runs analysis (qicharts2 runs.analysis / crsignal)
# --------------------------------------------------------------------------------------------------


def qbinom_05(m: int) -> int:
    """Smallest k with P(X <= k) >= 0.05 for X ~ Binomial(m, 1/2), computed exactly with integers.

    2**m / 20 is never an integer, so there is no tie for R's qbinom() to break differently.
    """
    if m <= 0:
        return 0
    total, cum = 2**m, 0
    for k in range(m + 1):
        cum += math.comb(m, k)
        if 20 * cum >= total:
            return k
    return m


def longest_run_max(n_useful: int) -> int:
    """Upper limit for the longest run, round(log2(n)) + 3 (Schilling 2012); log2(n) never ends in .5."""
    return math.floor(math.log2(n_useful) + 0.5) + 3


def run_blocks(signs: np.ndarray) -> list[tuple[int, int]]:
    """(sign, length) of each maximal block of equal signs, in order."""
    blocks: list[tuple[int, int]] = []
    for s in signs:
        s = int(s)
        if blocks and blocks[-1][0] == s:
            blocks[-1] = (s, blocks[-1][1] + 1)
        else:
            blocks.append((s, 1))
    return blocks


def useful_signs(y: np.ndarray, cl: np.ndarray) -> np.ndarray:
    """sign(y - cl) without the points on the centre line (0) and the missing ones (NaN)."""
    s = nan_sign(np.asarray(y, dtype=float) - np.asarray(cl, dtype=float))
    return s[~np.isnan(s) & (s != 0)]


def anhoej_runs_analysis(y: np.ndarray, cl: np.ndarray) -> dict:
    """Anhøj runs analysis of one phase (excluded points already removed, missing ones kept).

    Returns n_obs, n_useful, longest_run, longest_run_max, n_crossings, n_crossings_min and
    runs_signal. A signal needs longest_run > longest_run_max or n_crossings < n_crossings_min (both
    strict). Without useful observations the four numbers are None and there is no signal.
    """
    s = useful_signs(y, cl)
    n_useful = len(s)
    out = {"n_obs": len(y), "n_useful": n_useful, "longest_run": None, "longest_run_max": None,
           "n_crossings": None, "n_crossings_min": None, "runs_signal": False}
    if n_useful == 0:
        return out
    lengths = [length for _, length in run_blocks(s)]
    out["longest_run"] = max(lengths)
    out["longest_run_max"] = longest_run_max(n_useful)
    out["n_crossings"] = len(lengths) - 1
    out["n_crossings_min"] = qbinom_05(n_useful - 1)  # Chen 2010
    out["runs_signal"] = bool(out["longest_run"] > out["longest_run_max"]
                              or out["n_crossings"] < out["n_crossings_min"])
    return out
