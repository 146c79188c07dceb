"""Run-chart and SPC engine: centre lines, limits and special-cause rules for one series.

The behaviour follows ``reference/spc-rules.md`` (the spec), which copies three published rule sets:

- ``anhoej``: qicharts2 0.8.1 (run, i/xmr, mr, p, u, c charts; Anhøj runs analysis plus 3-sigma signal);
- ``nhs``: NHSRplotthedots 0.2.2, NHS England "Making Data Count" (XmR charts; outside limits, trend,
  two-in-three, shift; point types and variation / assurance icons);
- ``ihi``: the IHI run-chart rules of Perla, Provost & Murray 2011 (shift, trend, number of runs).

Everything here is pure numpy: ``analyse()`` takes plain lists and returns a frozen ``SpcResult`` whose
``to_dict()`` holds only plain Python types (None for undefined numbers, never NaN or Inf).
Each rule is a small function so it can be tested on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, Optional, Sequence

import numpy as np

KINDS = ("run", "xmr", "p", "u", "c", "mr")
CONTROL_KINDS = ("xmr", "p", "u", "c", "mr")
RULESETS = ("anhoej", "nhs", "ihi")
DIRECTIONS = ("increase", "decrease", "neutral")

D2 = 1.128  # bias constant of the moving range of two points (sigma = AMR / d2)
MR_SCREEN_FACTOR = 3.267  # Nelson 1982 upper limit for moving ranges, also D4 of the MR chart
NHS_LIMIT = 2.66  # NHSRplotthedots uses 2.66 exactly, not 3 / 1.128
NHS_SHORT_GROUP = 13  # ptd_spc.warning_threshold: warn when a group has fewer points than this
NHS_MIN_BASELINE = 12  # ptd_spc_options rejects fix_after_n_points below 12
IHI_MIN_USEFUL = 10  # the runs table starts at 10 useful observations
DEFAULT_LENGTHS = {"nhs": (7, 7), "ihi": (6, 5)}  # (shift, trend) per rule set

COMMON_CAUSE = "Common Cause"


# --------------------------------------------------------------------------------------------------
# Result object
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpcResult:
    """The analysis of one series: inputs, per-point lines and flags, per-phase summary, icons.

    Per-point lists are as long as ``values``; an undefined number is None (so is a p/u ratio over a
    zero denominator, 0/0 or k/0). ``flags`` holds one bool list per rule of the rule set: anhoej
    runs_signal (+ outside_limits on control charts); nhs outside_limits, close_to_limits, shift, trend,
    two_in_three; ihi shift, trend. ``special_cause_type``, ``point_type`` and ``variation_icon`` are
    set for nhs only (None otherwise); ``assurance_icon`` for nhs with a target and a direction.
    """

    kind: str
    ruleset: str
    values: list
    denominators: Optional[list]
    phases: Optional[list]
    baseline_n: Optional[int]
    exclude: Optional[list]
    screen_mr: bool
    improvement_direction: str
    target: Optional[float]
    shift_length: Optional[int]
    trend_length: Optional[int]
    y: list
    cl: list
    lcl: list
    ucl: list
    lcl_2sigma: list
    ucl_2sigma: list
    flags: dict
    special_cause_type: Optional[list]
    point_type: Optional[list]
    summary: list
    variation_icon: Optional[str]
    assurance_icon: Optional[str]

    def to_dict(self) -> dict:
        """Plain-Python dict with the names of section 8 of the spec (JSON-safe: no NaN, no Inf)."""
        return {
            "kind": self.kind,
            "ruleset": self.ruleset,
            "values": list(self.values),
            "denominators": None if self.denominators is None else list(self.denominators),
            "phases": None if self.phases is None else [_plain(p) for p in self.phases],
            "baseline_n": self.baseline_n,
            "exclude": None if self.exclude is None else list(self.exclude),
            "screen_mr": self.screen_mr,
            "improvement_direction": self.improvement_direction,
            "target": self.target,
            "y": list(self.y),
            "cl": list(self.cl),
            "lcl": list(self.lcl),
            "ucl": list(self.ucl),
            "lcl_2sigma": list(self.lcl_2sigma),
            "ucl_2sigma": list(self.ucl_2sigma),
            "flags": {name: list(v) for name, v in self.flags.items()},
            "special_cause_type": None if self.special_cause_type is None else list(self.special_cause_type),
            "point_type": None if self.point_type is None else list(self.point_type),
            "summary": [dict(s) for s in self.summary],
            "variation_icon": self.variation_icon,
            "assurance_icon": self.assurance_icon,
        }


def _plain(x: Any) -> Any:
    """A numpy scalar as the matching Python scalar; anything else unchanged."""
    return x.item() if isinstance(x, np.generic) else x


def _num(x: float) -> Optional[float]:
    """A finite number as a Python float, anything else (NaN, Inf, None) as None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _num_list(a: np.ndarray) -> list:
    """:func:`_num` of each value of a float array. ``v - v`` is 0 exactly for finite values: one
    comparison per value instead of a call (the engine runs thousands of times for a past date)."""
    return [v if v - v == 0.0 else None for v in np.asarray(a, dtype=float).tolist()]


def _nanmean(a: np.ndarray) -> float:
    """Mean ignoring NaN; NaN (without a warning) when nothing is left, like R's mean(na.rm = TRUE)."""
    a = np.asarray(a, dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if a.size else math.nan


def _nanmedian(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=float)
    a = a[~np.isnan(a)]
    return float(np.median(a)) if a.size else math.nan


def _sign(a: np.ndarray) -> np.ndarray:
    """sign() that keeps NaN as NaN (numpy already does) and silences invalid-value warnings."""
    with np.errstate(invalid="ignore"):
        return np.sign(a)


def _greater(a, b) -> np.ndarray:
    """Elementwise a > b with any comparison involving NaN counted as False (R's NA -> FALSE)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(a > b, dtype=bool)


def _less(a, b) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(a < b, dtype=bool)


# --------------------------------------------------------------------------------------------------
# Input preparation
# --------------------------------------------------------------------------------------------------


def _as_float_array(seq: Sequence, name: str) -> np.ndarray:
    """Floats with NaN for None/NaN; a ValueError naming the position for anything else."""
    out = np.empty(len(seq), dtype=float)
    for i, v in enumerate(seq):
        if v is None:
            out[i] = math.nan
            continue
        if isinstance(v, (bool, np.bool_)) or isinstance(v, str):
            raise ValueError(f"{name}[{i}] is {v!r}: expected a number or None")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{i}] is {v!r}: expected a number or None") from None
        if math.isinf(f):
            raise ValueError(f"{name}[{i}] is infinite: expected a finite number or None")
        out[i] = f
    return out


def phase_bounds(phases: Optional[Sequence], n: int) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the phases; a new phase starts wherever the label changes."""
    if phases is None:
        return [(0, n)] if n else []
    starts = [0] + [i for i in range(1, n) if phases[i] != phases[i - 1]]
    return list(zip(starts, starts[1:] + [n]))


def plotted_values(kind: str, num: np.ndarray, den: Optional[np.ndarray]) -> tuple:
    """(numerators, denominators, y) after qicharts2's missing-value handling.

    With denominators, a missing numerator or denominator blanks both. p/u keep qicharts2's
    arithmetic: 0/0 gives NaN and k/0 gives Inf. For the other kinds a ratio over a zero denominator is
    treated as missing, because an infinite value would make their mean (and limits) meaningless.
    """
    if den is None:
        return num, None, num.copy()
    num, den = num.copy(), den.copy()
    blank = np.isnan(num) | np.isnan(den)
    num[blank] = math.nan
    den[blank] = math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        y = num / den
    if kind not in ("p", "u"):
        y[den == 0] = math.nan
    return num, den, y


# --------------------------------------------------------------------------------------------------
# Chart limits (qicharts2 qic.run / qic.i / qic.mr / qic.p / qic.u / qic.c), one phase at a time
# --------------------------------------------------------------------------------------------------


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
    return Lines(y, _full(n, _nanmedian(y[base])), nan, nan, nan, nan)


def screened_amr(mr: np.ndarray, screen: bool) -> float:
    """Average moving range, after one strict pass of Nelson's screen (keep mr < 3.267 * AMR) if asked.

    NaN moving ranges (next to a missing point) are dropped. NaN when no moving range is left, which
    is what happens with screening on when every value is identical (no MR is < 0).
    """
    amr = _nanmean(mr)
    if screen:
        keep = _less(mr, MR_SCREEN_FACTOR * amr)
        amr = _nanmean(mr[keep])
    return amr


def limits_i(y: np.ndarray, base: np.ndarray, screen: bool) -> Lines:
    """I (XmR) chart, qicharts2: CL = mean, sigma = AMR / 1.128, limits CL +/- 3 sigma (2-sigma lines too).

    The moving ranges are taken on the baseline sub-vector, so excluded points are removed first and
    their neighbours become adjacent; missing points stay, so the MRs beside them are NaN (no bridging).
    """
    n = len(y)
    yb = y[base]
    cl = _nanmean(yb)
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
    cl = _nanmean(mr[base])
    zero = 0.0 if math.isfinite(cl) else math.nan
    return Lines(mr, _full(n, cl), _full(n, zero), _full(n, MR_SCREEN_FACTOR * cl),
                 _full(n, zero), _full(n, MR_SCREEN_FACTOR / 3 * 2 * cl))


def _pooled_ratio(num: np.ndarray, den: np.ndarray, base: np.ndarray) -> float:
    """Sum of baseline numerators over sum of baseline denominators (not the mean of the ratios)."""
    top, bottom = np.nansum(num[base]), np.nansum(den[base])
    return float(top / bottom) if bottom != 0 else math.nan


def _clip_finite(a: np.ndarray, low: Optional[float], high: Optional[float]) -> np.ndarray:
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
    cl = _nanmean(y[base])
    sigma = _full(len(y), math.sqrt(cl) if cl >= 0 else math.nan)
    return _sigma_lines(y, cl, sigma, 0.0, None)


def outside_limits(y: np.ndarray, lcl: np.ndarray, ucl: np.ndarray) -> np.ndarray:
    """Sigma signal: y > UCL or y < LCL, strictly; a comparison with an undefined value is False."""
    return _greater(y, ucl) | _less(y, lcl)


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
    return int(math.floor(math.log2(n_useful) + 0.5)) + 3


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
    s = _sign(np.asarray(y, dtype=float) - np.asarray(cl, dtype=float))
    return s[~np.isnan(s) & (s != 0)]


def anhoej_runs_analysis(y: np.ndarray, cl: np.ndarray) -> dict:
    """Anhøj runs analysis of one phase (excluded points already removed, missing ones kept).

    Returns n_obs, n_useful, longest_run, longest_run_max, n_crossings, n_crossings_min and
    runs_signal. A signal needs longest_run > longest_run_max or n_crossings < n_crossings_min (both
    strict). Without useful observations the four numbers are None and there is no signal.
    """
    s = useful_signs(y, cl)
    n_useful = len(s)
    out = {"n_obs": int(len(y)), "n_useful": n_useful, "longest_run": None, "longest_run_max": None,
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


# --------------------------------------------------------------------------------------------------
# NHS Making Data Count rules (NHSRplotthedots ptd_spc_standard / ptd_calculate_point_type)
# --------------------------------------------------------------------------------------------------


class NhsLimits(NamedTuple):
    """Process limits of one NHS rebase group (NaN when undefined)."""

    mean: float
    amr: float
    lpl: float
    upl: float
    nlpl: float
    nupl: float


def nhs_limits(y: np.ndarray, baseline_n: Optional[int], screen: bool) -> NhsLimits:
    """Mean and limits of one group: mean +/- 2.66 AMR and the 2-sigma band mean +/- (2/3) 2.66 AMR.

    Only the first ``baseline_n`` rows of the group (fix_after_n_points) feed the mean and AMR; the
    moving ranges are taken on that vector with missing values kept, so a gap is never bridged.
    """
    fix = y.copy()
    if baseline_n is not None:
        fix[baseline_n:] = math.nan
    mean = _nanmean(fix)
    amr = screened_amr(np.abs(np.diff(fix)), screen)
    close = 2 * NHS_LIMIT / 3
    return NhsLimits(mean, amr, mean - NHS_LIMIT * amr, mean + NHS_LIMIT * amr,
                     mean - close * amr, mean + close * amr)


def nhs_position(y: np.ndarray, lim: NhsLimits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(relative_to_mean, outside_limits, close_to_limits) for non-missing points of one group.

    relative_to_mean is 0 on the mean. "Close" means beyond the 2-sigma band but not outside the
    limits (strict both ways). Undefined limits make both flags False.
    """
    rtm = _sign(y - lim.mean)
    rtm = np.where(np.isnan(rtm), 0.0, rtm).astype(int)
    outside = _greater(y, lim.upl) | _less(y, lim.lpl)
    close = ~outside & (_less(y, lim.nlpl) | _greater(y, lim.nupl))
    return rtm, outside, close


def nhs_trend_scores(y: np.ndarray, length: int = 7) -> np.ndarray:
    """+1 / -1 at position i when the ``length`` points ending at i strictly rise / fall, else 0.

    A tie (difference 0) breaks a trend; the mean plays no part.
    """
    n = len(y)
    scores = np.zeros(n, dtype=int)
    d = np.sign(np.diff(y))
    for i in range(length - 1, n):
        window = d[i - length + 1:i]
        if np.all(window > 0):
            scores[i] = 1
        elif np.all(window < 0):
            scores[i] = -1
    return scores


def nhs_shift_scores(rtm: np.ndarray, length: int = 7) -> np.ndarray:
    """+/-1 at position i when i and the ``length - 1`` points before it share a nonzero side of the mean.

    A point on the mean (side 0) breaks the run.
    """
    n = len(rtm)
    scores = np.zeros(n, dtype=int)
    for i in range(length - 1, n):
        window = rtm[i - length + 1:i + 1]
        if rtm[i] != 0 and np.all(window == rtm[i]):
            scores[i] = rtm[i]
    return scores


def nhs_part_of_run(scores: np.ndarray, length: int = 7) -> np.ndarray:
    """True where this point or one of the next ``length - 1`` carries a nonzero score.

    A score marks the last point of a qualifying window, so this flags every point of the window.
    """
    nonzero = np.asarray(scores) != 0
    return np.array([nonzero[i:i + length].any() for i in range(len(nonzero))], dtype=bool)


def nhs_two_in_three(close: np.ndarray, rtm: np.ndarray) -> np.ndarray:
    """Flag the close points of any 3-point window with >= 2 close points all on one side of the mean.

    |sum of sides| == 3 requires all three points on the same side and none on the mean (issue #143).
    The window's third point, inside the 2-sigma band, is not flagged.
    """
    n = len(close)
    c = np.concatenate(([0, 0], np.asarray(close, dtype=int), [0, 0]))
    r = np.concatenate(([0, 0], np.asarray(rtm, dtype=int), [0, 0]))
    fires = np.zeros(n, dtype=bool)
    for i in range(n):
        # padded position of point i is i + 2; its three windows start at i, i + 1, i + 2
        fires[i] = any(c[j:j + 3].sum() >= 2 and abs(r[j:j + 3].sum()) == 3 for j in (i, i + 1, i + 2))
    return fires & np.asarray(close, dtype=bool)


def nhs_trend_direction(part_trend: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Direction (+1/-1/0) used to label each trend point, as NHSRplotthedots' ``sdy``.

    A trend point whose right neighbour is also a trend point takes the sign of the step to its right;
    otherwise it takes the sign of the step to its left.
    """
    n = len(y)
    d = np.sign(np.diff(y)).astype(int)
    out = np.zeros(n, dtype=int)
    for i in range(n):
        if i + 1 < n and part_trend[i] and part_trend[i + 1]:
            out[i] = d[i]
        elif i > 0:
            out[i] = d[i - 1]
    return out


def nhs_special_cause_type(y: np.ndarray, rtm: np.ndarray, outside: np.ndarray, close: np.ndarray,
                           shift_length: int = 7, trend_length: int = 7) -> tuple[list, dict]:
    """(labels, flags) for the non-missing points of one group.

    Each point gets one label; the first matching rule wins: outside limits, trend, two-in-three,
    shift, otherwise 'Common Cause'. The label strings are NHSRplotthedots' (with the configured
    lengths in place of 7). flags holds each rule's own bool array, set even when another rule wins.
    """
    trend = nhs_part_of_run(nhs_trend_scores(y, trend_length), trend_length)
    two = nhs_two_in_three(close, rtm)
    shift = nhs_part_of_run(nhs_shift_scores(rtm, shift_length), shift_length)
    trend_dir = nhs_trend_direction(trend, y)
    labels = []
    for i in range(len(y)):
        side = "Above" if rtm[i] > 0 else "Below"
        if outside[i]:
            labels.append("Above UCL" if rtm[i] == 1 else "Below LCL")
        elif trend[i]:
            labels.append(f"{trend_length} Point Trend ({'Increasing' if trend_dir[i] == 1 else 'Decreasing'})")
        elif two[i]:
            labels.append(f"2 in 3 {side} CL")
        elif shift[i]:
            labels.append(f"{shift_length} Points {side} CL")
        else:
            labels.append(COMMON_CAUSE)
    flags = {"outside_limits": outside, "close_to_limits": close, "shift": shift, "trend": trend,
             "two_in_three": two}
    return labels, flags


def label_score(label: str) -> int:
    """+1 for a label saying Above/Increasing, -1 for Below/Decreasing, 0 otherwise."""
    if "Above" in label or "Increasing" in label:
        return 1
    if "Below" in label or "Decreasing" in label:
        return -1
    return 0


def nhs_point_type(label: str, direction: str) -> str:
    """Point type of one label for an improvement direction ('increase', 'decrease' or 'neutral')."""
    score = label_score(label)
    if direction == "neutral":
        return {1: "special_cause_neutral_high", -1: "special_cause_neutral_low"}.get(score, "common_cause")
    score *= 1 if direction == "increase" else -1
    return {1: "special_cause_improvement", -1: "special_cause_concern"}.get(score, "common_cause")


def variation_icon(last_point_type: Optional[str], direction: str) -> Optional[str]:
    """MDC variation icon from the last point's type (None when there is no such point)."""
    if last_point_type is None:
        return None
    increase = direction == "increase"
    return {
        "common_cause": "common_cause",
        "special_cause_neutral_high": "neutral_high",
        "special_cause_neutral_low": "neutral_low",
        "special_cause_concern": "concern_low" if increase else "concern_high",
        "special_cause_improvement": "improvement_high" if increase else "improvement_low",
    }[last_point_type]


def assurance_icon(target: Optional[float], lpl: float, upl: float, direction: str) -> Optional[str]:
    """MDC assurance icon from the last point's limits; None without a target or for 'neutral'.

    Strict comparisons: a target equal to a limit, or undefined limits, give 'inconsistent'.
    """
    if target is None or direction == "neutral":
        return None
    increase = direction == "increase"
    if _greater(target, upl):
        return "consistent_fail" if increase else "consistent_pass"
    if _less(target, lpl):
        return "consistent_pass" if increase else "consistent_fail"
    return "inconsistent"


# --------------------------------------------------------------------------------------------------
# IHI run-chart rules (Perla, Provost & Murray 2011)
# --------------------------------------------------------------------------------------------------


def _runs_count_distribution(n1: int, n2: int) -> dict[int, int]:
    """Number of arrangements of n1 + n2 two-sided points giving r runs (Swed & Eisenhart 1943)."""
    counts = {}
    for r in range(2, n1 + n2 + 1):
        k = r // 2
        if r % 2 == 0:
            c = 2 * math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k - 1)
        else:
            c = math.comb(n1 - 1, k) * math.comb(n2 - 1, k - 1) + math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k)
        counts[r] = c
    return counts


@lru_cache(maxsize=None)
def ihi_runs_limits(n_useful: int) -> tuple[Optional[int], Optional[int]]:
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


def ihi_shift(y: np.ndarray, cl: float, length: int = 6) -> tuple[np.ndarray, Optional[int], int, list]:
    """IHI shift on non-missing values: ``length`` or more consecutive points on one side of the median.

    Points on the median are skipped (they neither extend nor break a shift) and are never flagged.
    Returns (flags, longest_shift or None without useful points, n_runs, blocks as (sign, length)).
    """
    s = _sign(y - cl)
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


def ihi_trend(y: np.ndarray, length: int = 5) -> tuple[np.ndarray, Optional[int], list]:
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


# --------------------------------------------------------------------------------------------------
# analyse()
# --------------------------------------------------------------------------------------------------


def _is_whole(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _check_inputs(n, kind, ruleset, den, phases, baseline_n, exclude, improvement_direction, target,
                  shift_length, trend_length) -> None:
    """Raise ValueError, in plain words, for combinations the spec leaves undefined or that are invalid."""
    if n == 0:
        raise ValueError("values is empty: at least one point is needed")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if ruleset not in RULESETS:
        raise ValueError(f"ruleset must be one of {', '.join(RULESETS)}, not {ruleset!r}")
    if ruleset == "nhs" and kind != "xmr":
        raise ValueError(f"the nhs rules are defined for XmR charts only, not for a {kind!r} chart")
    if ruleset == "ihi" and kind != "run":
        raise ValueError(f"the IHI rules are defined for run charts only, not for a {kind!r} chart")
    if improvement_direction not in DIRECTIONS:
        raise ValueError(f"improvement_direction must be one of {', '.join(DIRECTIONS)}, "
                         f"not {improvement_direction!r}")
    if kind in ("p", "u") and den is None:
        raise ValueError(f"a {kind} chart needs denominators")
    if kind == "c" and den is not None:
        raise ValueError("a c chart takes counts only: denominators are not allowed (use a u chart)")
    if den is not None and len(den) != n:
        raise ValueError(f"denominators has {len(den)} entries but values has {n}")
    if phases is not None and len(phases) != n:
        raise ValueError(f"phases has {len(phases)} labels but values has {n}")
    if baseline_n is not None:
        if not _is_whole(baseline_n) or baseline_n < 1:
            raise ValueError(f"baseline_n must be a positive whole number, not {baseline_n!r}")
        if ruleset == "nhs" and baseline_n < NHS_MIN_BASELINE:
            raise ValueError(f"baseline_n must be at least {NHS_MIN_BASELINE} for the nhs rules, "
                             f"not {baseline_n}")
    if exclude:
        if ruleset != "anhoej":
            raise ValueError(f"exclude is defined for the anhoej rules only, not for {ruleset!r}")
        bad = [i for i in exclude if not _is_whole(i) or not 0 <= i < n]
        if bad:
            raise ValueError(f"exclude holds {bad!r}: expected 0-based positions between 0 and {n - 1}")
    for name, value in (("shift_length", shift_length), ("trend_length", trend_length)):
        if value is not None and (not _is_whole(value) or value < 2):
            raise ValueError(f"{name} must be a whole number of at least 2, not {value!r}")
    if target is not None:
        try:
            ok = not isinstance(target, (bool, str)) and math.isfinite(float(target))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"target must be a finite number or None, not {target!r}")


def analyse(values, *, kind="run", denominators=None, ruleset=None, phases=None, baseline_n=None,
            exclude=None, screen_mr=True, improvement_direction="increase", target=None,
            shift_length=None, trend_length=None) -> SpcResult:
    """Analyse one series and return an ``SpcResult`` (see the spec, section 8, for every field).

    ``values`` are numbers or None (missing); for p/u they are numerators over ``denominators``
    (allowed too for run/xmr/mr, where y = value / denominator). ``kind`` is run, xmr, p, u, c or mr.
    ``ruleset`` defaults to 'nhs' for xmr and 'anhoej' otherwise; 'ihi' is for run charts only.
    ``phases`` holds one label per point (a new phase where it changes). ``baseline_n`` freezes the
    centre line and limits on the first n points (anhoej/ihi: whole series, ignored with phases;
    nhs: first n points of each phase, n >= 12). ``exclude`` (anhoej only) lists 0-based points left out
    of the centre line, limits and runs analysis. ``shift_length``/``trend_length`` default to 7/7
    (nhs) and 6/5 (ihi) and are not used by anhoej. ``target`` feeds the nhs assurance icon.
    Raises ValueError for invalid or undefined combinations.
    """
    if ruleset is None:
        ruleset = "nhs" if kind == "xmr" else "anhoej"
    values = list(values)
    denominators = None if denominators is None else list(denominators)
    phases = None if phases is None else list(phases)
    exclude = None if exclude is None else list(exclude)
    n = len(values)
    _check_inputs(n, kind, ruleset, denominators, phases, baseline_n, exclude, improvement_direction,
                  target, shift_length, trend_length)
    if exclude is not None:
        exclude = sorted({int(i) for i in exclude})
    if ruleset in DEFAULT_LENGTHS:
        default_shift, default_trend = DEFAULT_LENGTHS[ruleset]
        shift_length = default_shift if shift_length is None else int(shift_length)
        trend_length = default_trend if trend_length is None else int(trend_length)
    baseline_n = None if baseline_n is None else int(baseline_n)

    raw_num = _as_float_array(values, "values")
    raw_den = None if denominators is None else _as_float_array(denominators, "denominators")
    num, den, y = plotted_values(kind, raw_num, raw_den)
    bounds = phase_bounds(phases, n)

    if ruleset == "anhoej":
        lines, flags, summary = _analyse_anhoej(kind, y, num, den, bounds, baseline_n, phases is not None,
                                                exclude or [], screen_mr)
        nhs = {}
    elif ruleset == "nhs":
        lines, flags, summary, nhs = _analyse_nhs(y, bounds, baseline_n, screen_mr, improvement_direction,
                                                  target, shift_length, trend_length)
    else:
        lines, flags, summary = _analyse_ihi(y, bounds, baseline_n, phases is not None, shift_length,
                                             trend_length)
        nhs = {}

    return SpcResult(
        kind=kind, ruleset=ruleset,
        values=_num_list(raw_num), denominators=None if raw_den is None else _num_list(raw_den),
        phases=phases, baseline_n=baseline_n, exclude=exclude, screen_mr=bool(screen_mr),
        improvement_direction=improvement_direction, target=_num(target),
        shift_length=shift_length, trend_length=trend_length,
        y=_num_list(lines.y), cl=_num_list(lines.cl), lcl=_num_list(lines.lcl), ucl=_num_list(lines.ucl),
        lcl_2sigma=_num_list(lines.lcl_2sigma), ucl_2sigma=_num_list(lines.ucl_2sigma),
        flags={name: [bool(v) for v in a] for name, a in flags.items()},
        special_cause_type=nhs.get("special_cause_type"), point_type=nhs.get("point_type"), summary=summary,
        variation_icon=nhs.get("variation_icon"), assurance_icon=nhs.get("assurance_icon"),
    )


def _empty_lines(n: int) -> list[np.ndarray]:
    return [np.full(n, math.nan) for _ in range(6)]


def _analyse_anhoej(kind, y, num, den, bounds, baseline_n, has_phases, exclude, screen):
    """qicharts2: per phase, the chart's limits from baseline & included points, then runs analysis."""
    n = len(y)
    out = _empty_lines(n)
    include = np.ones(n, dtype=bool)
    include[exclude] = False
    # freeze is one global count, ignored when there are phases
    baseline = np.ones(n, dtype=bool)
    if baseline_n is not None and not has_phases:
        baseline[baseline_n:] = False
    runs_flag = np.zeros(n, dtype=bool)
    summary = []
    for index, (a, b) in enumerate(bounds):
        sl = slice(a, b)
        base = baseline[sl] & include[sl]
        if kind == "run":
            lines = limits_run(y[sl], base)
        elif kind == "xmr":
            lines = limits_i(y[sl], base, screen)
        elif kind == "mr":
            lines = limits_mr(y[sl], base)
        elif kind == "p":
            lines = limits_p(y[sl], num[sl], den[sl], base)
        elif kind == "u":
            lines = limits_u(y[sl], num[sl], den[sl], base)
        else:
            lines = limits_c(y[sl], base)
        for target, part in zip(out, lines):
            target[sl] = part
        inc = include[sl]
        runs = anhoej_runs_analysis(lines.y[inc], lines.cl[inc])
        if kind == "mr":  # qicharts2 ignores the runs analysis of an MR chart
            runs["runs_signal"] = False
        runs_flag[sl] = runs["runs_signal"]
        summary.append({"phase_index": index, **runs})
    lines = Lines(*out)
    flags = {"runs_signal": runs_flag}
    if kind in CONTROL_KINDS:
        # qicharts2 turns every non-finite limit into NA ("remove control lines from missing
        # subgroups"; reported as None): a comparison with one is never a signal
        sigma = outside_limits(lines.y, lines.lcl, lines.ucl)
        flags["outside_limits"] = sigma
        for s, (a, b) in zip(summary, bounds):
            s["sigma_signal_count"] = int(sigma[a:b].sum())
    return lines, flags, summary


def _analyse_nhs(y, bounds, baseline_n, screen, direction, target, shift_length, trend_length):
    """NHSRplotthedots, per rebase group; missing points are left out of the rules (reported as None)."""
    n = len(y)
    out = _empty_lines(n)
    out[0] = y.copy()
    flag_names = ("outside_limits", "close_to_limits", "shift", "trend", "two_in_three")
    flags = {name: np.zeros(n, dtype=bool) for name in flag_names}
    labels: list = [None] * n
    types: list = [None] * n
    summary = []
    limits = []
    for index, (a, b) in enumerate(bounds):
        ys = y[a:b]
        lim = nhs_limits(ys, baseline_n, screen)
        limits.append(lim)
        for line, value in zip(out[1:], (lim.mean, lim.lpl, lim.upl, lim.nlpl, lim.nupl)):
            line[a:b] = value
        present = np.flatnonzero(~np.isnan(ys))
        yc = ys[present]
        rtm, outside, close = nhs_position(yc, lim)
        group_labels, group_flags = nhs_special_cause_type(yc, rtm, outside, close, shift_length, trend_length)
        group_types = [nhs_point_type(label, direction) for label in group_labels]
        for k, i in enumerate(present):
            labels[a + i] = group_labels[k]
            types[a + i] = group_types[k]
        for name in flag_names:
            flags[name][a + present] = group_flags[name]
        summary.append({
            "phase_index": index,
            "n": int(len(present)),
            "mean": _num(lim.mean),
            "lpl": _num(lim.lpl),
            "upl": _num(lim.upl),
            "common_cause": int(sum(label == COMMON_CAUSE for label in group_labels)),
            "special_cause_improvement": group_types.count("special_cause_improvement"),
            "special_cause_concern": group_types.count("special_cause_concern"),
            "last_point_type": group_types[-1] if group_types else None,
            "short_group_warning": len(present) < NHS_SHORT_GROUP,
        })
    # icons come from the last point that has a value (latest date, last phase)
    last_type = next((t for t in reversed(types) if t is not None), None)
    last = limits[-1]
    nhs = {"special_cause_type": labels, "point_type": types,
           "variation_icon": variation_icon(last_type, direction),
           "assurance_icon": assurance_icon(target, last.lpl, last.upl, direction)}
    return Lines(*out), flags, summary, nhs


def _analyse_ihi(y, bounds, baseline_n, has_phases, shift_length, trend_length):
    """IHI rules per phase on the non-missing points; the centre is the median (baseline without phases)."""
    n = len(y)
    out = _empty_lines(n)
    out[0] = y.copy()
    flags = {"shift": np.zeros(n, dtype=bool), "trend": np.zeros(n, dtype=bool)}
    summary = []
    for index, (a, b) in enumerate(bounds):
        ys = y[a:b]
        base = ys if baseline_n is None or has_phases else ys[:baseline_n]
        cl = _nanmedian(base)
        out[1][a:b] = cl
        present = np.flatnonzero(~np.isnan(ys))
        yc = ys[present]
        shift, longest_shift, n_runs, _ = ihi_shift(yc, cl, shift_length)
        trend, longest_trend, _ = ihi_trend(yc, trend_length)
        flags["shift"][a + present] = shift
        flags["trend"][a + present] = trend
        n_useful = int(len(useful_signs(yc, cl)))
        lower, upper = ihi_runs_limits(n_useful)
        summary.append({
            "phase_index": index,
            "n_obs": b - a,  # missing points count, as in qicharts2 (not pinned down for IHI)
            "n_useful": n_useful,
            "n_runs": n_runs,
            "longest_shift": longest_shift,
            "longest_trend": longest_trend,
            "shift_signal": longest_shift is not None and longest_shift >= shift_length,
            "trend_signal": longest_trend is not None and longest_trend >= trend_length,
            "too_few_runs": None if lower is None else n_runs < lower,
            "too_many_runs": None if upper is None else n_runs > upper,
            "runs_lower": lower,
            "runs_upper": upper,
        })
    return Lines(*out), flags, summary


# --------------------------------------------------------------------------------------------------
# Dashboard summary
# --------------------------------------------------------------------------------------------------


def latest_phase_summary(result: SpcResult, stored: dict | None = None) -> dict:
    """Headline of the LAST phase, as stored for the dashboard's counts.

    Returns a dict with: kind, ruleset, phase_index, centre / lcl / ucl (of the last point; None when
    undefined), n (points of the last phase with a defined y), signal, improving, special_cause,
    improved_since_baseline, concern, variation_icon, assurance_icon (the nhs engine's own; see
    :func:`chart_variation_icon` for every rule set).

    - signal: any special cause in the last phase. nhs: a point not labelled 'Common Cause'. anhoej:
      the runs signal, or a point outside the limits. ihi: a shift, a trend, too few or too many runs.
    - improving, special_cause, improved_since_baseline, concern: :func:`improvement` (DESIGN.md
      section 4's one meaning of "improving": the latest point, or the latest phase against the first).

    ``stored``: ``result.to_dict()`` when the caller has it already (it is not made again).
    """
    a, b = phase_bounds(result.phases, len(result.y))[-1]
    phase = result.summary[-1]
    if result.ruleset == "nhs":
        labels = [t for t in result.special_cause_type[a:b] if t is not None]
        signal = any(label != COMMON_CAUSE for label in labels)
    elif result.ruleset == "anhoej":
        outside = result.flags.get("outside_limits", [False] * len(result.y))[a:b]
        signal = bool(phase["runs_signal"]) or any(outside)
    else:
        signal = bool(phase["shift_signal"] or phase["trend_signal"] or phase["too_few_runs"]
                      or phase["too_many_runs"])
    status = improvement(stored if stored is not None else result.to_dict())
    return {
        "kind": result.kind,
        "ruleset": result.ruleset,
        "phase_index": phase["phase_index"],
        "centre": result.cl[-1],
        "lcl": result.lcl[-1],
        "ucl": result.ucl[-1],
        "n": sum(v is not None for v in result.y[a:b]),
        "signal": bool(signal),
        **status,
        "variation_icon": result.variation_icon,
        "assurance_icon": result.assurance_icon,
    }


# --------------------------------------------------------------------------------------------------
# Classification: what every chart, icon, count and export reads of a result
# --------------------------------------------------------------------------------------------------
# These work on the stored form of a result (``SpcResult.to_dict()``, as ``measure_analysis.result``
# keeps it), so pages and exports classify without running the engine again, and only colour what is
# decided here (as NHSRplotthedots' ptd_spc -> plot pipeline).

COMMON = "common_cause"
IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"
NEUTRAL_HIGH = "special_cause_neutral_high"
NEUTRAL_LOW = "special_cause_neutral_low"
POINT_TYPES = (COMMON, IMPROVEMENT, CONCERN, NEUTRAL_HIGH, NEUTRAL_LOW)

# The portfolio command's words for the variation and assurance icons (DESIGN.md section 7).
VARIATION_CLASS = {
    "improvement_high": "improvement", "improvement_low": "improvement",
    "concern_high": "concern", "concern_low": "concern",
    "common_cause": "common_cause",
    "neutral_high": "neither", "neutral_low": "neither",
}
ASSURANCE_CLASS = {"consistent_pass": "pass", "consistent_fail": "fail", "inconsistent": "hit_or_miss"}


def _good(result: dict) -> int:
    """+1 when higher is better, -1 when lower is better, 0 with no preferred direction."""
    return {"increase": 1, "decrease": -1}.get(result.get("improvement_direction") or "increase", 0)


def _side(x: float) -> int:
    return (x > 0) - (x < 0)


def _typed(side: int, good: int) -> str:
    """The point type of a special-cause point on ``side`` (+1 above / rising, -1 below / falling).

    Only a measure with no preferred direction has "neutral" (purple) points: with a direction set,
    every special-cause point is an improvement or a concern."""
    if good == 0:
        return NEUTRAL_HIGH if side > 0 else NEUTRAL_LOW
    return IMPROVEMENT if side * good > 0 else CONCERN


def point_types(result: dict) -> list[str | None]:
    """One point type per point of a stored result (None where the point has no value).

    - nhs: the engine's own ``point_type`` (NHSRplotthedots' ptd_point_type).
    - anhoej: a point outside the limits is special cause on its side of the centre line; when a phase
      has a runs signal, the points of its longest run(s) are too, each run on its own side.
    - ihi: points of a shift on their side of the median; points of a trend in its direction.
    Improvement or concern then follows the measure's improvement direction (neutral only without one).
    """
    y, cl = result["y"], result["cl"]
    n = len(y)
    if result.get("point_type") is not None:
        return [None if y[i] is None else t for i, t in enumerate(result["point_type"])]
    good = _good(result)
    types: list[str | None] = [None if v is None else COMMON for v in y]
    flags = result.get("flags") or {}
    excluded = set(result.get("exclude") or [])
    bounds = phase_bounds(result.get("phases"), n)
    summaries = result.get("summary") or [{}] * len(bounds)

    def side_of(i: int) -> int:
        return 0 if y[i] is None or cl[i] is None else _side(y[i] - cl[i])

    if result.get("ruleset") == "ihi":
        shift, trend = flags.get("shift") or [False] * n, flags.get("trend") or [False] * n
        for i in range(n):
            if shift[i] and side_of(i):
                types[i] = _typed(side_of(i), good)
        present = [i for i in range(n) if y[i] is not None]
        block: list[int] = []
        for i in present + [None]:
            if i is not None and trend[i]:
                block.append(i)
                continue
            if len(block) > 1:
                rising = _side(y[block[-1]] - y[block[0]])
                for j in block:
                    types[j] = _typed(rising, good)
            block = []
        return types

    outside = flags.get("outside_limits") or [False] * n
    for (a, b), phase in zip(bounds, summaries, strict=False):
        if phase.get("runs_signal"):
            useful = [i for i in range(a, b) if i not in excluded and side_of(i)]
            runs: list[list[int]] = []
            for i in useful:
                if runs and side_of(runs[-1][-1]) == side_of(i):
                    runs[-1].append(i)
                else:
                    runs.append([i])
            longest = max((len(r) for r in runs), default=0)
            for run in (r for r in runs if len(r) == longest):
                for i in run:
                    types[i] = _typed(side_of(i), good)
        for i in range(a, b):
            if outside[i] and side_of(i):
                types[i] = _typed(side_of(i), good)
    return types


def last_point(result: dict) -> int | None:
    """Index of the latest point with a value, in the last phase (None when it has none)."""
    a, b = phase_bounds(result.get("phases"), len(result["y"]))[-1]
    present = [i for i in range(a, b) if result["y"][i] is not None]
    return present[-1] if present else None


def chart_variation_icon(result: dict | None) -> str | None:
    """The MDC variation icon of a stored result, for every rule set: the engine's (nhs), else from
    the last point's type (:func:`point_types`)."""
    if not result or not result.get("y"):
        return None
    if result.get("ruleset") == "nhs":
        return result.get("variation_icon")
    last = last_point(result)
    if last is None:
        return None
    return variation_icon(point_types(result)[last], result.get("improvement_direction") or "increase")


def chart_assurance_icon(result: dict | None, target: float | None) -> str | None:
    """The MDC assurance icon: the engine's (nhs), else the same rule on the last point's limits.

    Run charts have no limits, so no assurance; a measure with no target or no preferred direction
    has none either.
    """
    if not result or not result.get("y"):
        return None
    if result.get("assurance_icon") is not None:
        return result["assurance_icon"]
    direction = result.get("improvement_direction") or "increase"
    if target is None or direction == "neutral" or result.get("kind") == "run":
        return None
    lcl, ucl = result["lcl"][-1], result["ucl"][-1]
    if lcl is None and ucl is None:
        return None
    nan = math.nan
    return assurance_icon(float(target), nan if lcl is None else lcl, nan if ucl is None else ucl, direction)


def phase_change(result: dict) -> dict | None:
    """How the centre line moved from the first phase to the last (engine scale): ``first``, ``last``,
    ``phases`` and ``better`` (True / False in the measure's improvement direction, None when it has
    none or nothing moved). None for a chart with one phase."""
    bounds = phase_bounds(result.get("phases"), len(result["y"]))
    if len(bounds) < 2:
        return None
    first, last = result["cl"][bounds[0][0]], result["cl"][bounds[-1][0]]
    if first is None or last is None:
        return None
    moved = _side(last - first) * _good(result)
    return {"first": first, "last": last, "phases": len(bounds), "better": None if not moved else moved > 0}


def improvement(result: dict) -> dict:
    """DESIGN.md section 4's one meaning of "improving", for one stored result.

    - ``special_cause``: the latest point shows special-cause improvement (its MDC variation icon is
      "improvement"; on a run chart, it belongs to a run or trend in the improvement direction).
    - ``improved_since_baseline``: the latest phase (begun at a recorded change or recalculation) has
      a centre line better than the first phase's in the improvement direction.
    - ``improving``: either. ``concern``: the latest point shows special-cause concern.
    - ``phase_start``: index of the first point of the latest phase (0 with one phase).
    """
    icon = chart_variation_icon(result) or ""
    moved = phase_change(result) if result.get("y") else None
    since = bool(moved and moved["better"])
    special = icon.startswith("improvement")
    starts = phase_bounds(result.get("phases"), len(result.get("y") or []))
    return {
        "improving": special or since,
        "special_cause": special,
        "improved_since_baseline": since,
        "concern": icon.startswith("concern"),
        "phase_start": starts[-1][0] if starts else 0,
    }


# --------------------------------------------------------------------------------------------------
# When to suggest a recalculation (docs/spc-rules.md, "When qidash suggests a recalculation")
# --------------------------------------------------------------------------------------------------

SUGGEST_SHIFT = 7  # the NHS shift rule: 7 or more consecutive points on one side of the centre line
SUGGEST_WITHIN = 3  # the shift begins at one of the first 3 points on or after the change
SUGGEST_MIN_POINTS = 12  # points on or after the shift's first point (NHSRplotthedots' short group: < 12)


def suggest_recalculation(result: dict, change_index: int, *, shift_length: int = SUGGEST_SHIFT,
                          within: int = SUGGEST_WITHIN, min_points: int = SUGGEST_MIN_POINTS) -> dict | None:
    """The new phase a sustained shift after a change calls for, or None.

    ``change_index`` is the first point on or after the change's date. Within the phase holding that
    point, the points with a value are compared with the phase's centre line (sign 0, on the line,
    breaks a run, as the NHS shift rule); the first run of ``shift_length`` or more on one side that
    begins at one of the first ``within`` of those points on or after the change, and has at least
    ``min_points`` points from its start to the end of the phase, is the suggestion. A run that began
    before the change is not caused by it; a run beginning where the phase already begins needs no new
    phase. Returns ``start`` (index of the run's first point), ``run`` (its length), ``points`` (points
    from ``start`` to the phase's end), ``side`` (+1 above, -1 below) and ``improvement`` (True in the
    improvement direction, False against it, None with no direction).
    """
    y, cl = result["y"], result["cl"]
    n = len(y)
    if not 0 <= change_index < n:
        return None
    excluded = set(result.get("exclude") or [])
    a, b = next((a, b) for a, b in phase_bounds(result.get("phases"), n) if a <= change_index < b)
    present = [i for i in range(a, b) if y[i] is not None and cl[i] is not None and i not in excluded]
    runs: list[list[int]] = []
    for i in present:
        s = _side(y[i] - cl[i])
        if runs and runs[-1] and s != 0 and _side(y[runs[-1][-1]] - cl[runs[-1][-1]]) == s:
            runs[-1].append(i)
        else:
            runs.append([i] if s != 0 else [])
    runs = [r for r in runs if r]
    after = [i for i in present if i >= change_index][:within]
    for run in runs:
        if run[0] not in after or len(run) < shift_length or run[0] == a:
            continue
        points = sum(1 for i in present if i >= run[0])
        if points < min_points:
            return None
        side = _side(y[run[0]] - cl[run[0]])
        good = _good(result)
        return {"start": run[0], "run": len(run), "points": points, "side": side,
                "improvement": None if good == 0 else side == good}
    return None
