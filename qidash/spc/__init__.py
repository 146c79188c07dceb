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

import numpy as np

from qidash.spc.anhoej import (
    anhoej_runs_analysis,
    longest_run_max,
    qbinom_05,
    run_blocks,
    useful_signs,
)
from qidash.spc.ihi import (
    IHI_MIN_USEFUL,
    ihi_runs_limits,
    ihi_shift,
    ihi_trend,
)
from qidash.spc.improvement import (
    ASSURANCE_CLASS,
    COMMON,
    CONCERN,
    IMPROVEMENT,
    NEUTRAL_HIGH,
    NEUTRAL_LOW,
    POINT_TYPES,
    SUGGEST_MIN_POINTS,
    SUGGEST_SHIFT,
    SUGGEST_WITHIN,
    VARIATION_CLASS,
    chart_assurance_icon,
    chart_variation_icon,
    improvement,
    last_point,
    phase_change,
    point_types,
    suggest_recalculation,
)
from qidash.spc.limits import (
    D2,
    MR_SCREEN_FACTOR,
    Lines,
    limits_c,
    limits_i,
    limits_mr,
    limits_p,
    limits_run,
    limits_u,
    outside_limits,
    screened_amr,
)
from qidash.spc.nhs import (
    COMMON_CAUSE,
    NHS_LIMIT,
    NHS_MIN_BASELINE,
    NHS_SHORT_GROUP,
    NhsLimits,
    assurance_icon,
    label_score,
    nhs_limits,
    nhs_part_of_run,
    nhs_point_type,
    nhs_position,
    nhs_shift_scores,
    nhs_special_cause_type,
    nhs_trend_direction,
    nhs_trend_scores,
    nhs_two_in_three,
    variation_icon,
)
from qidash.spc.result import (
    CONTROL_KINDS,
    DEFAULT_LENGTHS,
    DIRECTIONS,
    KINDS,
    RULESETS,
    SpcResult,
    as_float_array,
    finite,
    finite_list,
    nanmedian,
    phase_bounds,
    plotted_values,
)

# Every name of the engine, wherever it lives in the package: ``spc.X`` and ``from qidash.spc import X``.
__all__ = [
    "ASSURANCE_CLASS", "COMMON", "COMMON_CAUSE", "CONCERN", "CONTROL_KINDS", "D2", "DEFAULT_LENGTHS",
    "DIRECTIONS", "IHI_MIN_USEFUL", "IMPROVEMENT", "KINDS", "Lines", "MR_SCREEN_FACTOR", "NEUTRAL_HIGH",
    "NEUTRAL_LOW", "NHS_LIMIT", "NHS_MIN_BASELINE", "NHS_SHORT_GROUP", "NhsLimits", "POINT_TYPES", "RULESETS",
    "SUGGEST_MIN_POINTS", "SUGGEST_SHIFT", "SUGGEST_WITHIN", "SpcResult", "VARIATION_CLASS", "analyse",
    "anhoej_runs_analysis", "assurance_icon", "chart_assurance_icon", "chart_variation_icon",
    "ihi_runs_limits", "ihi_shift", "ihi_trend", "improvement", "label_score", "last_point",
    "latest_phase_summary", "limits_c", "limits_i", "limits_mr", "limits_p", "limits_run", "limits_u",
    "longest_run_max", "nhs_limits", "nhs_part_of_run", "nhs_point_type", "nhs_position", "nhs_shift_scores",
    "nhs_special_cause_type", "nhs_trend_direction", "nhs_trend_scores", "nhs_two_in_three", "outside_limits",
    "phase_bounds", "phase_change", "plotted_values", "point_types", "qbinom_05", "run_blocks",
    "screened_amr", "suggest_recalculation", "useful_signs", "variation_icon",
]


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

    raw_num = as_float_array(values, "values")
    raw_den = None if denominators is None else as_float_array(denominators, "denominators")
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
        values=finite_list(raw_num), denominators=None if raw_den is None else finite_list(raw_den),
        phases=phases, baseline_n=baseline_n, exclude=exclude, screen_mr=bool(screen_mr),
        improvement_direction=improvement_direction, target=finite(target),
        shift_length=shift_length, trend_length=trend_length,
        y=finite_list(lines.y), cl=finite_list(lines.cl),
        lcl=finite_list(lines.lcl), ucl=finite_list(lines.ucl),
        lcl_2sigma=finite_list(lines.lcl_2sigma), ucl_2sigma=finite_list(lines.ucl_2sigma),
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
        for target, part in zip(out, lines, strict=True):
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
        for s, (a, b) in zip(summary, bounds, strict=True):
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
        for line, value in zip(out[1:], (lim.mean, lim.lpl, lim.upl, lim.nlpl, lim.nupl), strict=True):
            line[a:b] = value
        present = np.flatnonzero(~np.isnan(ys))
        yc = ys[present]
        rtm, outside, close = nhs_position(yc, lim)
        group_labels, group_flags = nhs_special_cause_type(
            yc, rtm, outside, close, shift_length, trend_length
        )
        group_types = [nhs_point_type(label, direction) for label in group_labels]
        for k, i in enumerate(present):
            labels[a + i] = group_labels[k]
            types[a + i] = group_types[k]
        for name in flag_names:
            flags[name][a + present] = group_flags[name]
        summary.append({
            "phase_index": index,
            "n": len(present),
            "mean": finite(lim.mean),
            "lpl": finite(lim.lpl),
            "upl": finite(lim.upl),
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
        cl = nanmedian(base)
        out[1][a:b] = cl
        present = np.flatnonzero(~np.isnan(ys))
        yc = ys[present]
        shift, longest_shift, n_runs, _ = ihi_shift(yc, cl, shift_length)
        trend, longest_trend, _ = ihi_trend(yc, trend_length)
        flags["shift"][a + present] = shift
        flags["trend"][a + present] = trend
        n_useful = len(useful_signs(yc, cl))
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
