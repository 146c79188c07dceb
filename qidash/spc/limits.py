"""Centre lines and limits of each chart (qicharts2 qic.run / qic.i / qic.mr / qic.p / qic.u / qic.c),
one phase at a time."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from qidash.spc.result import greater, less, nanmean, nanmedian

# --------------------------------------------------------------------------------------------------
# Chart limits (qicharts2 qic.run / qic.i / qic.mr / qic.p / qic.u / qic.c), one phase at a time
# --------------------------------------------------------------------------------------------------

D2 = 1.128  # bias constant of the moving range of two points (sigma = AMR / d2)
MR_SCREEN_FACTOR = 3.267  # Nelson 1982 upper limit for moving ranges, also D4 of the MR chart


class Lines(NamedTuple):
    """Per-point arrays of one phase: plotted value, centre line, 3-sigma and 2-sigma limits."""

    y: np.ndarray
    cl: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    lcl_2sigma: np.ndarray
    ucl_2sigma: np.ndarray


def _full(n: int, value: float) -> np.ndarray:
    return np.full(n, value, dtype=float)


def limits_run(y: np.ndarray, base: np.ndarray) -> Lines:
    """Run chart: CL = median of the baseline values (missing ignored); no limits."""
    n = len(y)
    nan = _full(n, math.nan)
    return Lines(y, _full(n, nanmedian(y[base])), nan, nan, nan, nan)


def screened_amr(mr: np.ndarray, screen: bool) -> float:
    """Average moving range, after one strict pass of Nelson's screen (keep mr < 3.267 * AMR) if asked.

    NaN moving ranges (next to a missing point) are dropped. NaN when no moving range is left, which
    is what happens with screening on when every value is identical (no MR is < 0).
    """
    amr = nanmean(mr)
    if screen:
        keep = less(mr, MR_SCREEN_FACTOR * amr)
        amr = nanmean(mr[keep])
    return amr


def limits_i(y: np.ndarray, base: np.ndarray, screen: bool) -> Lines:
    """I (XmR) chart, qicharts2: CL = mean, sigma = AMR / 1.128, limits CL +/- 3 sigma (2-sigma lines too).

    The moving ranges are taken on the baseline sub-vector, so excluded points are removed first and
    their neighbours become adjacent; missing points stay, so the MRs beside them are NaN (no bridging).
    """
    n = len(y)
    yb = y[base]
    cl = nanmean(yb)
    sigma = screened_amr(np.abs(np.diff(yb - cl)), screen) / D2
    return Lines(y, _full(n, cl), _full(n, cl - 3 * sigma), _full(n, cl + 3 * sigma),
                 _full(n, cl - 2 * sigma), _full(n, cl + 2 * sigma))


def limits_mr(y: np.ndarray, base: np.ndarray) -> Lines:
    """MR chart, qicharts2: plots |y[i] - y[i-1]| (NaN for the first point of the phase).

    As in qic.mr the moving ranges are taken on the whole phase (excluded points included) and the
    baseline/exclusion mask only selects which of them enter the CL (their mean). LCL = 0,
    UCL = 3.267 * CL, 2-sigma upper line = (3.267 / 3) * 2 * CL.
    """
    n = len(y)
    mr = np.concatenate(([math.nan], np.abs(np.diff(y)))) if n else y.copy()
    cl = nanmean(mr[base])
    zero = 0.0 if math.isfinite(cl) else math.nan
    return Lines(mr, _full(n, cl), _full(n, zero), _full(n, MR_SCREEN_FACTOR * cl),
                 _full(n, zero), _full(n, MR_SCREEN_FACTOR / 3 * 2 * cl))


def _pooled_ratio(num: np.ndarray, den: np.ndarray, base: np.ndarray) -> float:
    """Sum of baseline numerators over sum of baseline denominators (not the mean of the ratios)."""
    top, bottom = np.nansum(num[base]), np.nansum(den[base])
    return float(top / bottom) if bottom != 0 else math.nan


def _clip_finite(a: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    """Clip only finite values: qicharts2 leaves Inf/NaN limits alone (they become None later)."""
    a = a.copy()
    finite = np.isfinite(a)
    if low is not None:
        a[finite & (a < low)] = low
    if high is not None:
        a[finite & (a > high)] = high
    return a


def _sigma_lines(y, cl, sigma, low, high) -> Lines:
    n = len(y)
    cls = _full(n, cl)
    with np.errstate(invalid="ignore"):
        lines = [cls - 3 * sigma, cls + 3 * sigma, cls - 2 * sigma, cls + 2 * sigma]
    return Lines(y, cls, *[_clip_finite(a, low, high) for a in lines])


def limits_p(y: np.ndarray, num: np.ndarray, den: np.ndarray, base: np.ndarray) -> Lines:
    """P chart: CL = pooled proportion, sigma_i = sqrt(CL (1 - CL) / n_i); limits clipped to [0, 1].

    A zero denominator gives sigma = Inf and therefore undefined limits at that point.
    """
    cl = _pooled_ratio(num, den, base)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(cl * (1 - cl) / den)
    return _sigma_lines(y, cl, sigma, 0.0, 1.0)


def limits_u(y: np.ndarray, num: np.ndarray, den: np.ndarray, base: np.ndarray) -> Lines:
    """U chart: CL = pooled rate, sigma_i = sqrt(CL / n_i); LCL clipped at 0."""
    cl = _pooled_ratio(num, den, base)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(cl / den)
    return _sigma_lines(y, cl, sigma, 0.0, None)


def limits_c(y: np.ndarray, base: np.ndarray) -> Lines:
    """C chart: CL = mean count, sigma = sqrt(CL); LCL clipped at 0."""
    cl = nanmean(y[base])
    sigma = _full(len(y), math.sqrt(cl) if cl >= 0 else math.nan)
    return _sigma_lines(y, cl, sigma, 0.0, None)


def outside_limits(y: np.ndarray, lcl: np.ndarray, ucl: np.ndarray) -> np.ndarray:
    """Sigma signal: y > UCL or y < LCL, strictly; a comparison with an undefined value is False."""
    return greater(y, ucl) | less(y, lcl)
