"""The result of an analysis (``SpcResult``), the engine's shared constants, plain-number conversions
and input preparation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("run", "xmr", "p", "u", "c", "mr")
CONTROL_KINDS = ("xmr", "p", "u", "c", "mr")
RULESETS = ("anhoej", "nhs", "ihi")
DIRECTIONS = ("increase", "decrease", "neutral")

DEFAULT_LENGTHS = {"nhs": (7, 7), "ihi": (6, 5)}  # (shift, trend) per rule set


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
    denominators: list | None
    phases: list | None
    baseline_n: int | None
    exclude: list | None
    screen_mr: bool
    improvement_direction: str
    target: float | None
    shift_length: int | None
    trend_length: int | None
    y: list
    cl: list
    lcl: list
    ucl: list
    lcl_2sigma: list
    ucl_2sigma: list
    flags: dict
    special_cause_type: list | None
    point_type: list | None
    summary: list
    variation_icon: str | None
    assurance_icon: str | None

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


def finite(x: float) -> float | None:
    """A finite number as a Python float, anything else (NaN, Inf, None) as None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def finite_list(a: np.ndarray) -> list:
    """:func:`finite` of each value of a float array. ``v - v`` is 0 exactly for finite values: one
    comparison per value instead of a call (the engine runs thousands of times for a past date)."""
    return [v if v - v == 0.0 else None for v in np.asarray(a, dtype=float).tolist()]


def nanmean(a: np.ndarray) -> float:
    """Mean ignoring NaN; NaN (without a warning) when nothing is left, like R's mean(na.rm = TRUE)."""
    a = np.asarray(a, dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if a.size else math.nan


def nanmedian(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=float)
    a = a[~np.isnan(a)]
    return float(np.median(a)) if a.size else math.nan


def nan_sign(a: np.ndarray) -> np.ndarray:
    """sign() that keeps NaN as NaN (numpy already does) and silences invalid-value warnings."""
    with np.errstate(invalid="ignore"):
        return np.sign(a)


def greater(a, b) -> np.ndarray:
    """Elementwise a > b with any comparison involving NaN counted as False (R's NA -> FALSE)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(a > b, dtype=bool)


def less(a, b) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(a < b, dtype=bool)


# --------------------------------------------------------------------------------------------------
# Input preparation
# --------------------------------------------------------------------------------------------------


def as_float_array(seq: Sequence, name: str) -> np.ndarray:
    """Floats with NaN for None/NaN; a ValueError naming the position for anything else."""
    out = np.empty(len(seq), dtype=float)
    for i, v in enumerate(seq):
        if v is None:
            out[i] = math.nan
            continue
        if isinstance(v, (bool, np.bool_, str)):
            raise ValueError(f"{name}[{i}] is {v!r}: expected a number or None")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{i}] is {v!r}: expected a number or None") from None
        if math.isinf(f):
            raise ValueError(f"{name}[{i}] is infinite: expected a finite number or None")
        out[i] = f
    return out


def phase_bounds(phases: Sequence | None, n: int) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the phases; a new phase starts wherever the label changes."""
    if phases is None:
        return [(0, n)] if n else []
    starts = [0] + [i for i in range(1, n) if phases[i] != phases[i - 1]]
    return list(zip(starts, starts[1:] + [n], strict=True))


def plotted_values(kind: str, num: np.ndarray, den: np.ndarray | None) -> tuple:
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
