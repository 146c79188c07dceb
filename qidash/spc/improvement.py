"""Classification of a stored result (point types, icons, phase change), the one meaning of
"improving" (DESIGN.md section 4) and when to suggest a recalculation."""

from __future__ import annotations

import math

from qidash.spc.nhs import assurance_icon, variation_icon
from qidash.spc.result import phase_bounds

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
