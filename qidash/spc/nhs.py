"""NHS Making Data Count rules (NHSRplotthedots ptd_spc_standard / ptd_calculate_point_type): limits,
special-cause rules, point types and the variation / assurance icons."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from qidash.spc.limits import screened_amr
from qidash.spc.result import greater, less, nan_sign, nanmean

# --------------------------------------------------------------------------------------------------
# NHS Making Data Count rules (NHSRplotthedots ptd_spc_standard / ptd_calculate_point_type)
# --------------------------------------------------------------------------------------------------

NHS_LIMIT = 2.66  # NHSRplotthedots uses 2.66 exactly, not 3 / 1.128
NHS_SHORT_GROUP = 13  # ptd_spc.warning_threshold: warn when a group has fewer points than this
NHS_MIN_BASELINE = 12  # ptd_spc_options rejects fix_after_n_points below 12
COMMON_CAUSE = "Common Cause"


class NhsLimits(NamedTuple):
    """Process limits of one NHS rebase group (NaN when undefined)."""

    mean: float
    amr: float
    lpl: float
    upl: float
    nlpl: float
    nupl: float


def nhs_limits(y: np.ndarray, baseline_n: int | None, screen: bool) -> NhsLimits:
    """Mean and limits of one group: mean +/- 2.66 AMR and the 2-sigma band mean +/- (2/3) 2.66 AMR.

    Only the first ``baseline_n`` rows of the group (fix_after_n_points) feed the mean and AMR; the
    moving ranges are taken on that vector with missing values kept, so a gap is never bridged.
    """
    fix = y.copy()
    if baseline_n is not None:
        fix[baseline_n:] = math.nan
    mean = nanmean(fix)
    amr = screened_amr(np.abs(np.diff(fix)), screen)
    close = 2 * NHS_LIMIT / 3
    return NhsLimits(mean, amr, mean - NHS_LIMIT * amr, mean + NHS_LIMIT * amr,
                     mean - close * amr, mean + close * amr)


def nhs_position(y: np.ndarray, lim: NhsLimits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(relative_to_mean, outside_limits, close_to_limits) for non-missing points of one group.

    relative_to_mean is 0 on the mean. "Close" means beyond the 2-sigma band but not outside the
    limits (strict both ways). Undefined limits make both flags False.
    """
    rtm = nan_sign(y - lim.mean)
    rtm = np.where(np.isnan(rtm), 0.0, rtm).astype(int)
    outside = greater(y, lim.upl) | less(y, lim.lpl)
    close = ~outside & (less(y, lim.nlpl) | greater(y, lim.nupl))
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
            labels.append(
                f"{trend_length} Point Trend ({'Increasing' if trend_dir[i] == 1 else 'Decreasing'})"
            )
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


def variation_icon(last_point_type: str | None, direction: str) -> str | None:
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


def assurance_icon(target: float | None, lpl: float, upl: float, direction: str) -> str | None:
    """MDC assurance icon from the last point's limits; None without a target or for 'neutral'.

    Strict comparisons: a target equal to a limit, or undefined limits, give 'inconsistent'.
    """
    if target is None or direction == "neutral":
        return None
    increase = direction == "increase"
    if greater(target, upl):
        return "consistent_fail" if increase else "consistent_pass"
    if less(target, lpl):
        return "consistent_pass" if increase else "consistent_fail"
    return "inconsistent"
