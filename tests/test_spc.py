"""Tests of the run-chart and SPC engine (qidash/spc/) against reference/spc-rules.md.

Two kinds of test: the nine public worked examples produced by the peer R packages' own tests (public
data and their published results, kept in tests/fixtures/spc-public-cases.json), and hand-worked series
whose numbers are derived in the test itself.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from qidash import spc
from qidash.spc import analyse, latest_phase_summary

# A missing file is an error at collection, never a silent skip: the peer packages' numbers are the check.
CASES_FILE = Path(__file__).resolve().parent / "fixtures" / "spc-public-cases.json"
PUBLIC_CASES = json.loads(CASES_FILE.read_text())

D2 = 1.128


def approx(x):
    """The spec's tolerance: |a - b| <= 1e-6 * max(1, |b|)."""
    return pytest.approx(x, rel=1e-6, abs=1e-6)


def run_case(inp: dict, kind: str):
    return analyse(inp["values"], kind=kind, **{k: v for k, v in inp.items() if k != "values"})


def assert_matches(actual, expected, path="result"):
    """Compare a to_dict() against an expected shape: '*' unchecked, None undefined, numbers to 1e-6."""
    if isinstance(expected, str) and expected == "*":
        return
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} missing"
            assert_matches(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: length differs"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(a, e, f"{path}[{i}]")
    elif expected is None:
        assert actual is None, f"{path}: {actual!r} should be None"
    elif isinstance(expected, (bool, str)):
        assert type(actual) is type(expected) and actual == expected, f"{path}: {actual!r} != {expected!r}"
    else:
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), f"{path}: {actual!r}"
        assert abs(actual - expected) <= 1e-6 * max(1, abs(expected)), f"{path}: {actual} != {expected}"


# --------------------------------------------------------------------------------------------------
# Public worked examples (qicharts2 / NHSRplotthedots)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", PUBLIC_CASES, ids=[c["id"] for c in PUBLIC_CASES])
def test_public_case(case):
    result = run_case(case["input"], case["kind"])
    assert_matches(result.to_dict(), case["expected"])


def test_public_cases_file_holds_nine_cases():
    assert len(PUBLIC_CASES) == 9


def test_assert_matches_can_fail():
    with pytest.raises(AssertionError):
        assert_matches({"cl": [1.0]}, {"cl": [1.00001]})
    with pytest.raises(AssertionError):
        assert_matches({"flags": {"shift": [1]}}, {"flags": {"shift": [True]}})
    with pytest.raises(AssertionError):
        assert_matches({"lcl": [0.0]}, {"lcl": [None]})
    assert_matches({"lcl": [5.0]}, {"lcl": ["*"]})


# --------------------------------------------------------------------------------------------------
# Anhøj runs analysis
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_useful, expected", [(2, (4, 0)), (10, (6, 2)), (12, (7, 3)), (20, (7, 6)),
                                                (24, (8, 8)), (30, (8, 10))])
def test_runs_limits_reference_table(n_useful, expected):
    assert (spc.longest_run_max(n_useful), spc.qbinom_05(n_useful - 1)) == expected


def test_qbinom_matches_scipy():
    for m in range(121):
        assert spc.qbinom_05(m) == int(binom.ppf(0.05, m, 0.5)), m


def test_qbinom_by_hand():
    # m = 9: P(X <= 1) = 10/512 < 0.05, P(X <= 2) = 46/512 >= 0.05
    assert spc.qbinom_05(9) == 2
    # m = 13: P(X <= 3) = 378/8192 = 0.046 < 0.05, P(X <= 4) = 1093/8192 >= 0.05
    assert spc.qbinom_05(13) == 4


def test_runs_analysis_strict_run_length():
    cl = np.zeros(10)
    # longest run 6 == limit for n = 10 (round(log2 10) + 3 = 6): not a signal
    at_limit = spc.anhoej_runs_analysis(np.array([1, 1, 1, 1, 1, 1, -1, 1, -1, -1.0]), cl)
    assert (at_limit["longest_run"], at_limit["longest_run_max"]) == (6, 6)
    assert at_limit["n_crossings"] == 3 and at_limit["runs_signal"] is False
    over = spc.anhoej_runs_analysis(np.array([1] * 7 + [-1, 1, -1.0]), cl)
    assert over["longest_run"] == 7 and over["runs_signal"] is True


def test_runs_analysis_strict_crossings():
    cl = np.zeros(10)
    # 2 crossings == minimum for n = 10: not a signal; 1 crossing: signal
    at_min = spc.anhoej_runs_analysis(np.array([1, 1, 1, -1, -1, -1, -1, 1, 1, 1.0]), cl)
    assert (at_min["n_crossings"], at_min["n_crossings_min"], at_min["runs_signal"]) == (2, 2, False)
    below = spc.anhoej_runs_analysis(np.array([1.0] * 5 + [-1.0] * 5), cl)
    assert (below["n_crossings"], below["longest_run"], below["runs_signal"]) == (1, 5, True)


def test_runs_analysis_skips_points_on_centre_line():
    # median 3: signs -, 0, -, 0, +, 0, +  -> useful -, -, +, + : one crossing, longest run 2
    r = analyse([1, 3, 2, 3, 5, 3, 4]).summary[0]
    assert (r["n_obs"], r["n_useful"], r["longest_run"], r["n_crossings"]) == (7, 4, 2, 1)
    # n = 4: limit round(2) + 3 = 5, crossings minimum qbinom(0.05, 3) = 0 (P(X <= 0) = 1/8)
    assert (r["longest_run_max"], r["n_crossings_min"], r["runs_signal"]) == (5, 0, False)


def test_centre_line_point_between_opposite_sides_is_one_crossing():
    r = analyse([1, 2, 3]).summary[0]  # median 2: -, 0, +
    assert (r["n_useful"], r["n_crossings"], r["longest_run"]) == (2, 1, 1)


def test_runs_analysis_without_useful_points():
    r = analyse([4, 4, 4, 4]).summary[0]
    assert r == {"phase_index": 0, "n_obs": 4, "n_useful": 0, "longest_run": None, "longest_run_max": None,
                 "n_crossings": None, "n_crossings_min": None, "runs_signal": False}


def test_run_chart_signal_and_freeze():
    ys = list(range(1, 11))
    # median 5.5: five below then five above -> 1 crossing < 2: signal on every point
    whole = analyse(ys)
    assert whole.cl == [5.5] * 10 and whole.lcl == [None] * 10
    assert whole.summary[0]["n_crossings"] == 1 and whole.flags["runs_signal"] == [True] * 10
    assert set(whole.flags) == {"runs_signal"}
    # baseline 4: median of 1..4 = 2.5 applied to all 10 points; longest run 8 > 6
    frozen = analyse(ys, baseline_n=4)
    assert frozen.cl == [2.5] * 10
    assert frozen.summary[0]["longest_run"] == 8 and frozen.summary[0]["runs_signal"] is True


def test_freeze_is_ignored_with_phases():
    r = analyse(list(range(1, 11)), baseline_n=2, phases=[0] * 5 + [1] * 5)
    assert r.cl == [3.0] * 5 + [8.0] * 5
    # even a single-phase label list counts as phases (qicharts2: freeze ignored when part is given)
    assert analyse(list(range(1, 11)), baseline_n=2, phases=["a"] * 10).cl == [5.5] * 10


def test_missing_points_count_in_n_obs_but_not_in_runs():
    r = analyse([1, None, 3, 5])  # median of 1, 3, 5 = 3: -, missing, 0, +
    assert r.y == [1.0, None, 3.0, 5.0] and r.cl == [3.0] * 4
    assert (r.summary[0]["n_obs"], r.summary[0]["n_useful"]) == (4, 2)


def test_exclusions_on_a_run_chart():
    r = analyse([1, 2, 100, 3, 4], exclude=[2])
    assert r.cl == [2.5] * 5  # median of 1, 2, 3, 4
    assert r.y[2] == 100.0
    assert (r.summary[0]["n_obs"], r.summary[0]["n_useful"]) == (4, 4)


# --------------------------------------------------------------------------------------------------
# XmR (I) chart under qicharts2 rules, and the MR chart
# --------------------------------------------------------------------------------------------------


def test_xmr_anhoej_limits_by_hand():
    r = analyse([10, 12, 11, 13, 9], kind="xmr", ruleset="anhoej")
    amr = (2 + 1 + 2 + 4) / 4  # 3.267 * 2.25 = 7.35: nothing screened out
    assert r.cl == [11.0] * 5
    assert r.ucl[0] == approx(11 + 3 * amr / D2) and r.lcl[0] == approx(11 - 3 * amr / D2)
    assert r.ucl_2sigma[0] == approx(11 + 2 * amr / D2) and r.lcl_2sigma[0] == approx(11 - 2 * amr / D2)
    assert set(r.flags) == {"runs_signal", "outside_limits"}
    assert r.summary[0]["sigma_signal_count"] == 0
    assert r.special_cause_type is None and r.variation_icon is None


def test_mr_screening_on_and_off():
    ys = [4, 6, 4, 6, 4, 6, 4, 6, 30, 6]
    mean = (4 * 4 + 6 * 5 + 30) / 10
    raw_amr = (7 * 2 + 24 + 24) / 9  # ulmr = 3.267 * 6.89 = 22.5: both 24s are screened out
    screened = analyse(ys, kind="xmr", ruleset="anhoej")
    assert screened.cl[0] == approx(mean)
    assert screened.ucl[0] == approx(mean + 3 * 2 / D2)
    assert screened.flags["outside_limits"] == [False] * 8 + [True, False]
    unscreened = analyse(ys, kind="xmr", ruleset="anhoej", screen_mr=False)
    assert unscreened.ucl[0] == approx(mean + 3 * raw_amr / D2)


def test_screened_amr_is_one_strict_pass():
    # AMR 2.8 -> limit 9.15: the 10 goes; the new AMR (1.0) would screen the 2s but no second pass runs
    assert spc.screened_amr(np.array([1, 1, 2, 10.0, 0]), True) == approx((1 + 1 + 2 + 0) / 4)
    assert spc.screened_amr(np.array([1, 1, 2, 10.0, 0]), False) == approx(14 / 5)
    assert math.isnan(spc.screened_amr(np.array([0.0, 0.0]), True))  # nothing is < 0


@pytest.mark.parametrize("ruleset", ["anhoej", "nhs"])
def test_identical_values_with_screening_on_and_off(ruleset):
    on = analyse([5, 5, 5, 5], kind="xmr", ruleset=ruleset)
    assert on.cl == [5.0] * 4 and on.ucl == [None] * 4 and on.lcl == [None] * 4
    assert on.flags["outside_limits"] == [False] * 4
    off = analyse([5, 5, 5, 5], kind="xmr", ruleset=ruleset, screen_mr=False)
    assert off.ucl == [5.0] * 4 and off.lcl == [5.0] * 4 and off.ucl_2sigma == [5.0] * 4
    assert off.flags["outside_limits"] == [False] * 4  # on the limit is not outside
    if ruleset == "nhs":
        assert (
            on.special_cause_type == ["Common Cause"] * 4 and off.special_cause_type == ["Common Cause"] * 4
        )


def test_xmr_anhoej_missing_value_gap_is_not_bridged():
    r = analyse([10, None, 16, 14, 12], kind="xmr", ruleset="anhoej")
    # mean of 10, 16, 14, 12 = 13; MRs: NA, NA, 2, 2 (|16 - 10| is not taken)
    assert r.cl[0] == approx(13) and r.ucl[0] == approx(13 + 3 * 2 / D2)
    assert r.y[1] is None and r.ucl[1] == approx(13 + 3 * 2 / D2)
    assert r.summary[0]["n_obs"] == 5 and r.summary[0]["n_useful"] == 4


def test_xmr_anhoej_exclusion_makes_neighbours_adjacent():
    r = analyse([10, 12, 30, 11, 13], kind="xmr", ruleset="anhoej", exclude=[2])
    amr = (2 + 1 + 2) / 3  # MRs of 10, 12, 11, 13
    assert r.cl[0] == approx(11.5) and r.ucl[0] == approx(11.5 + 3 * amr / D2)
    assert r.flags["outside_limits"] == [False, False, True, False, False]  # still flagged
    s = r.summary[0]
    assert (s["n_obs"], s["n_crossings"], s["longest_run"], s["sigma_signal_count"]) == (4, 3, 1, 1)


def test_xmr_anhoej_short_series():
    one = analyse([5], kind="xmr", ruleset="anhoej")
    assert one.cl == [5.0] and one.ucl == [None] and one.lcl_2sigma == [None]
    assert one.summary[0]["n_useful"] == 0 and one.summary[0]["runs_signal"] is False
    two = analyse([4, 6], kind="xmr", ruleset="anhoej")
    assert two.cl == [5.0, 5.0] and two.ucl[0] == approx(5 + 3 * 2 / D2)
    s = two.summary[0]
    assert (s["n_useful"], s["longest_run"], s["longest_run_max"], s["n_crossings"], s["n_crossings_min"]) \
        == (2, 1, 4, 1, 0)


def test_run_chart_short_series():
    assert analyse([5]).cl == [5.0] and analyse([5]).summary[0]["n_useful"] == 0
    assert analyse([1, 3]).summary[0]["runs_signal"] is False


def test_mr_chart_by_hand():
    r = analyse([3, 5, 4, 8, 6], kind="mr")
    cl = (2 + 1 + 4 + 2) / 4
    assert r.ruleset == "anhoej"
    assert r.y == [None, 2.0, 1.0, 4.0, 2.0]
    assert r.cl == [cl] * 5 and r.lcl == [0.0] * 5
    assert r.ucl[0] == approx(3.267 * cl) and r.ucl_2sigma[0] == approx(3.267 / 3 * 2 * cl)
    assert r.lcl_2sigma == [0.0] * 5


def test_mr_chart_never_gives_a_runs_signal():
    ys = list(range(11)) + [10 + 5 * k for k in range(1, 11)]  # MRs: ten 1s then ten 5s, CL 3
    r = analyse(ys, kind="mr")
    assert r.summary[0]["longest_run"] == 10 and r.summary[0]["longest_run_max"] == 7
    assert r.summary[0]["runs_signal"] is False and not any(r.flags["runs_signal"])


def test_mr_chart_exclusion_keeps_the_range_but_not_in_the_centre():
    r = analyse([3, 5, 4, 8, 6], kind="mr", exclude=[3])
    assert r.y[3] == 4.0 and r.cl[0] == approx((2 + 1 + 2) / 3)


# --------------------------------------------------------------------------------------------------
# P, U and C charts
# --------------------------------------------------------------------------------------------------


def test_p_chart_by_hand():
    r = analyse([5, 10, 15], kind="p", denominators=[100, 100, 100])
    sigma = math.sqrt(0.1 * 0.9 / 100)  # CL = 30 / 300
    assert r.y == approx([0.05, 0.1, 0.15]) and r.cl == approx([0.1] * 3)
    assert r.ucl[0] == approx(0.1 + 3 * sigma) and r.lcl[0] == approx(0.1 - 3 * sigma)
    assert r.ucl_2sigma[0] == approx(0.1 + 2 * sigma) and r.lcl_2sigma[0] == approx(0.1 - 2 * sigma)


def test_p_chart_pools_and_varies_with_n():
    r = analyse([1, 30], kind="p", denominators=[10, 100])
    cl = 31 / 110  # not the mean of 0.1 and 0.3
    assert r.cl[0] == approx(cl)
    assert r.ucl[0] == approx(cl + 3 * math.sqrt(cl * (1 - cl) / 10))
    assert r.ucl[1] == approx(cl + 3 * math.sqrt(cl * (1 - cl) / 100))
    assert r.lcl[0] == 0.0  # cl - 3 sigma < 0 is clipped
    assert r.lcl[1] == approx(cl - 3 * math.sqrt(cl * (1 - cl) / 100))


def test_p_chart_upper_limit_clipped_at_one():
    r = analyse([2, 3], kind="p", denominators=[5, 5])  # CL 0.5, sigma 0.224: 3 sigma = 0.67
    assert r.ucl == [1.0, 1.0] and r.lcl == [0.0, 0.0]
    sigma = math.sqrt(0.25 / 5)
    assert r.ucl_2sigma[0] == approx(0.5 + 2 * sigma) and r.lcl_2sigma[0] == approx(0.5 - 2 * sigma)


def test_p_chart_zero_denominators():
    r = analyse([0, 3, 5, 5], kind="p", denominators=[0, 0, 50, 50])
    # qicharts2: y.sum 0 and 3 still enter the pooled numerator, their zero denominators add nothing
    assert r.cl[0] == approx(13 / 100)
    assert r.y[:2] == [None, None]  # 0/0 = NaN and 3/0 = Inf are both reported as None
    assert r.lcl[:2] == [None, None] and r.ucl[:2] == [None, None] and r.ucl_2sigma[:2] == [None, None]
    assert r.flags["outside_limits"][:2] == [False, False]
    # 0/0 leaves the runs analysis; 3/0 (Inf) counts above the centre line as in R's sign()
    assert (r.summary[0]["n_obs"], r.summary[0]["n_useful"]) == (4, 3)
    json.dumps(r.to_dict(), allow_nan=False)


def test_p_chart_missing_numerator_or_denominator_blanks_both():
    r = analyse([5, None, 10], kind="p", denominators=[100, 100, None])
    assert r.cl == approx([0.05] * 3)
    assert r.y[1:] == [None, None] and r.ucl[1:] == [None, None]
    assert r.summary[0]["n_obs"] == 3 and r.summary[0]["n_useful"] == 0


def test_u_chart_by_hand():
    r = analyse([2, 4, 6], kind="u", denominators=[10, 20, 10])
    cl = 12 / 40
    assert r.cl[0] == approx(cl)
    assert r.ucl[0] == approx(cl + 3 * math.sqrt(cl / 10)) and r.ucl[1] == approx(cl + 3 * math.sqrt(cl / 20))
    assert r.lcl == [0.0] * 3  # 0.3 - 0.52 and 0.3 - 0.37 are clipped at 0
    assert r.ucl_2sigma[1] == approx(cl + 2 * math.sqrt(cl / 20))


def test_u_chart_zero_denominator():
    r = analyse([0, 2, 4], kind="u", denominators=[0, 10, 10])
    assert r.cl[0] == approx(6 / 20) and r.y[0] is None and r.ucl[0] is None
    assert r.flags["outside_limits"][0] is False


def test_c_chart_by_hand():
    r = analyse([20, 25, 30], kind="c")
    assert r.cl == [25.0] * 3  # sigma = sqrt(25) = 5
    assert (r.lcl[0], r.ucl[0], r.lcl_2sigma[0], r.ucl_2sigma[0]) == (10.0, 40.0, 15.0, 35.0)
    low = analyse([4, 6, 5, 9], kind="c")  # CL 6
    assert low.lcl[0] == 0.0 and low.ucl[0] == approx(6 + 3 * math.sqrt(6))
    assert low.lcl_2sigma[0] == approx(6 - 2 * math.sqrt(6))


def test_c_chart_outside_limits_is_strict():
    r = analyse([25, 25, 25, 40, 10, 25], kind="c")  # CL 25, limits exactly 10 and 40
    assert r.lcl[0] == 10.0 and r.ucl[0] == 40.0
    assert not any(r.flags["outside_limits"])
    assert r.summary[0]["sigma_signal_count"] == 0


def test_p_chart_phases_by_hand():
    r = analyse([1, 2, 3, 4], kind="p", denominators=[10] * 4, phases=[0, 0, 1, 1])
    assert r.cl == approx([0.15, 0.15, 0.35, 0.35])
    assert [s["phase_index"] for s in r.summary] == [0, 1]
    assert r.ucl[2] == approx(0.35 + 3 * math.sqrt(0.35 * 0.65 / 10))


# --------------------------------------------------------------------------------------------------
# NHS rules
# --------------------------------------------------------------------------------------------------


def test_nhs_limits_by_hand():
    r = analyse([1, 3, 2, 4, 5], kind="xmr")
    amr = (2 + 1 + 2 + 1) / 4
    assert r.ruleset == "nhs"
    assert r.cl == [3.0] * 5
    assert r.ucl[0] == approx(3 + 2.66 * amr) and r.lcl[0] == approx(3 - 2.66 * amr)
    assert r.ucl_2sigma[0] == approx(3 + 2 * 2.66 / 3 * amr) and r.lcl_2sigma[0] == approx(3 - 2.66)
    # qicharts2's constant 3 / 1.128 differs in the fourth decimal
    assert analyse([1, 3, 2, 4, 5], kind="xmr", ruleset="anhoej").ucl[0] == approx(3 + 3 * amr / D2)
    assert set(r.flags) == {"outside_limits", "close_to_limits", "shift", "trend", "two_in_three"}


def test_nhs_position_strict_and_beyond_three_sigma_not_close():
    lim = spc.NhsLimits(mean=0.0, amr=1.0, lpl=-3.0, upl=3.0, nlpl=-2.0, nupl=2.0)
    rtm, outside, close = spc.nhs_position(np.array([2.5, 3.5, 2.0, 3.0, -2.5, 0.0]), lim)
    assert rtm.tolist() == [1, 1, 1, 1, -1, 0]
    assert outside.tolist() == [False, True, False, False, False, False]
    assert close.tolist() == [True, False, False, True, True, False]


def test_nhs_trend_rule_and_ties():
    scores = spc.nhs_trend_scores(np.arange(1.0, 8.0))
    assert scores.tolist() == [0] * 6 + [1]
    assert spc.nhs_part_of_run(scores).tolist() == [True] * 7
    assert spc.nhs_trend_scores(np.arange(7.0, 0.0, -1)).tolist() == [0] * 6 + [-1]
    # a tie breaks the trend: no window of 7 is strictly monotone
    assert not spc.nhs_trend_scores(np.array([1, 2, 3, 3, 4, 5, 6, 7, 8.0])).any()
    assert not spc.nhs_trend_scores(np.arange(1.0, 7.0)).any()  # fewer than 7 points
    # configurable length
    assert spc.nhs_trend_scores(np.arange(1.0, 7.0), 6).tolist() == [0] * 5 + [1]


def test_nhs_shift_rule_point_on_mean_breaks():
    rtm = np.array([1, 1, 1, 0, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1])
    scores = spc.nhs_shift_scores(rtm)
    assert scores.tolist() == [0] * 14 + [-1]
    assert spc.nhs_part_of_run(scores).tolist() == [False] * 8 + [True] * 7


def test_nhs_two_in_three_flags_only_close_points_on_one_side():
    close = np.array([False, True, False, True, False])
    fired = spc.nhs_two_in_three(close, np.array([1, 1, 1, 1, -1]))
    assert fired.tolist() == [False, True, False, True, False]
    # a point on the mean inside the window stops it (|sum| must be 3)
    assert not spc.nhs_two_in_three(close, np.array([1, 1, 0, 1, 1])).any()
    assert not spc.nhs_two_in_three(close, np.array([1, -1, 1, -1, 1])).any()


def test_nhs_precedence_of_labels():
    y = np.array([1, 2, 3, 4, 5, 6, 7, 6.0])
    rtm = np.ones(8, dtype=int)
    outside = np.array([False] * 6 + [True, False])
    close = np.array([False] * 5 + [True, False, True])
    labels, flags = spc.nhs_special_cause_type(y, rtm, outside, close)
    assert labels == ["7 Point Trend (Increasing)"] * 6 + ["Above UCL", "2 in 3 Above CL"]
    # each rule's own flag is kept even where another rule labels the point
    assert flags["trend"].tolist() == [True] * 7 + [False]
    assert flags["two_in_three"].tolist() == [False] * 5 + [True, False, True]
    assert flags["shift"].tolist() == [True] * 8
    assert flags["outside_limits"].tolist() == outside.tolist()


def test_nhs_shift_beats_common_and_loses_to_two_in_three():
    rtm = np.array([-1] * 7)
    close = np.array([False] * 5 + [True, True])
    labels, _ = spc.nhs_special_cause_type(np.array([5, 4, 5, 4, 5, 1, 1.0]), rtm, np.zeros(7, bool), close)
    assert labels == ["7 Points Below CL"] * 5 + ["2 in 3 Below CL"] * 2


def test_nhs_trend_direction_uses_right_step_inside_and_left_step_at_end():
    part = np.array([True] * 7 + [False])
    assert spc.nhs_trend_direction(part, np.array([7, 6, 5, 4, 3, 2, 1, 5.0])).tolist()[:7] == [-1] * 7


def test_nhs_trend_series_by_hand():
    ys = [3, 1, 3, 1, 3, 1, 3, 1, 2, 3, 4, 5, 6, 7, 3, 1, 3]
    r = analyse(ys, kind="xmr")
    mean = 50 / 17
    amr = (7 * 2 + 6 * 1 + 4 + 2 + 2) / 16  # 1.75; 3.267 * 1.75 = 5.7 > 4: nothing screened
    assert r.cl[0] == approx(mean) and r.ucl[0] == approx(mean + 2.66 * amr)
    assert (
        r.special_cause_type
        == ["Common Cause"] * 7 + ["7 Point Trend (Increasing)"] * 7 + ["Common Cause"] * 3
    )
    assert r.point_type[7:14] == ["special_cause_improvement"] * 7
    assert r.flags["close_to_limits"][13] is True  # 7 > mean + (2/3) 2.66 AMR, < UCL
    # an earlier special cause does not set the icon when the last point is common cause
    assert r.variation_icon == "common_cause"
    down = analyse(ys[::-1], kind="xmr")
    assert down.special_cause_type[3:10] == ["7 Point Trend (Decreasing)"] * 7
    assert down.point_type[3] == "special_cause_concern"


SHIFT_SERIES = [6, 7, 6, 5, 7, 6, 7, 6, 4, 3, 4, 3, 4, 3, 4]  # mean exactly 75 / 15 = 5


def test_nhs_shift_series_by_hand():
    r = analyse(SHIFT_SERIES, kind="xmr")
    amr = (1 + 1 + 1 + 2 + 1 + 1 + 1 + 2 + 6 * 1) / 14
    assert r.cl[0] == 5.0 and r.ucl[0] == approx(5 + 2.66 * amr)
    assert not any(r.flags["close_to_limits"])  # 7 < 5 + 1.7733 * 1.1429 = 7.03
    # the 5 (on the mean) breaks the run above; the seven points below form a shift
    assert r.special_cause_type == ["Common Cause"] * 8 + ["7 Points Below CL"] * 7
    assert r.flags["shift"] == [False] * 8 + [True] * 7
    assert r.point_type[-1] == "special_cause_concern" and r.variation_icon == "concern_low"
    dec = analyse(SHIFT_SERIES, kind="xmr", improvement_direction="decrease")
    assert dec.point_type[-1] == "special_cause_improvement" and dec.variation_icon == "improvement_low"
    neutral = analyse(SHIFT_SERIES, kind="xmr", improvement_direction="neutral")
    assert neutral.point_type[-1] == "special_cause_neutral_low" and neutral.variation_icon == "neutral_low"
    s = r.summary[0]
    assert (s["n"], s["common_cause"], s["special_cause_improvement"], s["special_cause_concern"]) == (
        15,
        8,
        0,
        7,
    )
    assert s["last_point_type"] == "special_cause_concern" and s["short_group_warning"] is False


def test_nhs_two_in_three_series_by_hand():
    ys = [0, 2] * 7 + [5.4, 5.6]
    r = analyse(ys, kind="xmr")
    mean, amr = 25 / 16, (13 * 2 + 3.4 + 0.2) / 15  # 3.267 * 1.97 = 6.4: nothing screened
    assert r.cl[0] == approx(mean) and r.ucl[0] == approx(mean + 2.66 * amr)
    assert r.ucl_2sigma[0] == approx(mean + 2 * 2.66 / 3 * amr)
    assert r.flags["close_to_limits"][-3:] == [False, True, True]
    assert r.special_cause_type[-3:] == ["Common Cause", "2 in 3 Above CL", "2 in 3 Above CL"]
    assert r.variation_icon == "improvement_high"


@pytest.mark.parametrize("label, increase, decrease, neutral", [
    ("Above UCL", "special_cause_improvement", "special_cause_concern", "special_cause_neutral_high"),
    ("Below LCL", "special_cause_concern", "special_cause_improvement", "special_cause_neutral_low"),
    ("7 Point Trend (Increasing)", "special_cause_improvement", "special_cause_concern",
     "special_cause_neutral_high"),
    ("7 Point Trend (Decreasing)", "special_cause_concern", "special_cause_improvement",
     "special_cause_neutral_low"),
    ("2 in 3 Below CL", "special_cause_concern", "special_cause_improvement", "special_cause_neutral_low"),
    ("7 Points Above CL", "special_cause_improvement", "special_cause_concern", "special_cause_neutral_high"),
    ("Common Cause", "common_cause", "common_cause", "common_cause"),
])
def test_point_types(label, increase, decrease, neutral):
    assert spc.nhs_point_type(label, "increase") == increase
    assert spc.nhs_point_type(label, "decrease") == decrease
    assert spc.nhs_point_type(label, "neutral") == neutral


@pytest.mark.parametrize("point_type, direction, icon", [
    ("common_cause", "increase", "common_cause"),
    ("special_cause_neutral_high", "neutral", "neutral_high"),
    ("special_cause_neutral_low", "neutral", "neutral_low"),
    ("special_cause_concern", "increase", "concern_low"),
    ("special_cause_concern", "decrease", "concern_high"),
    ("special_cause_improvement", "increase", "improvement_high"),
    ("special_cause_improvement", "decrease", "improvement_low"),
    (None, "increase", None),
])
def test_variation_icon(point_type, direction, icon):
    assert spc.variation_icon(point_type, direction) == icon


@pytest.mark.parametrize("target, direction, icon", [
    (12, "increase", "consistent_fail"), (12, "decrease", "consistent_pass"),
    (-2, "increase", "consistent_pass"), (-2, "decrease", "consistent_fail"),
    (5, "increase", "inconsistent"),
    (10, "increase", "inconsistent"), (0, "decrease", "inconsistent"),  # equal to a limit
    (5, "neutral", None), (None, "increase", None),
])
def test_assurance_icon(target, direction, icon):
    assert spc.assurance_icon(target, 0.0, 10.0, direction) == icon


def test_assurance_icon_with_undefined_limits_is_inconsistent():
    assert spc.assurance_icon(3, math.nan, math.nan, "increase") == "inconsistent"


def test_assurance_through_analyse_uses_last_phase_limits():
    ys = [1, 3, 2, 4, 5]  # UCL 3 + 2.66 * 1.5 = 6.99
    assert analyse(ys, kind="xmr", target=8).assurance_icon == "consistent_fail"
    assert (
        analyse(ys, kind="xmr", target=8, improvement_direction="decrease").assurance_icon
        == "consistent_pass"
    )
    assert analyse(ys, kind="xmr", target=4).assurance_icon == "inconsistent"
    assert analyse(ys, kind="xmr").assurance_icon is None
    upl = analyse(ys, kind="xmr").ucl[-1]
    assert analyse(ys, kind="xmr", target=upl).assurance_icon == "inconsistent"  # equal: not beyond
    phased = analyse(ys + [101, 103, 102, 104, 105], kind="xmr", phases=[0] * 5 + [1] * 5, target=8)
    assert phased.assurance_icon == "consistent_pass"  # last phase LPL = 103 - 3.99 > 8


def test_short_group_warning_12_vs_13():
    base = [1, 3, 2, 4, 2, 3, 1, 3, 2, 4, 3, 2, 3]
    assert analyse(base[:12], kind="xmr").summary[0]["short_group_warning"] is True
    assert analyse(base, kind="xmr").summary[0]["short_group_warning"] is False


def test_nhs_missing_values_are_left_out_of_the_rules():
    r = analyse([1, 2, 3, None, 5, 6, 7, 8], kind="xmr")
    mean = 32 / 7  # MRs 1, 1, NA, NA, 1, 1, 1: AMR 1 (|5 - 3| is not bridged)
    assert r.cl[3] == approx(mean) and r.ucl[3] == approx(mean + 2.66)
    assert r.y[3] is None and r.special_cause_type[3] is None and r.point_type[3] is None
    assert r.flags["trend"] == [True, True, True, False, True, True, True, True]  # across the gap
    assert r.special_cause_type[0] == "Below LCL" and r.special_cause_type[7] == "Above UCL"
    assert r.special_cause_type[1] == "7 Point Trend (Increasing)"
    s = r.summary[0]
    assert (s["n"], s["common_cause"], s["special_cause_improvement"], s["special_cause_concern"]) == (
        7,
        0,
        6,
        1,
    )
    assert s["short_group_warning"] is True and r.variation_icon == "improvement_high"


def test_nhs_icon_skips_a_missing_last_point():
    r = analyse(SHIFT_SERIES + [None], kind="xmr")
    assert r.point_type[-1] is None and r.variation_icon == "concern_low"


def test_nhs_short_series():
    one = analyse([5], kind="xmr", target=3)
    assert one.ucl == [None] and one.special_cause_type == ["Common Cause"]
    assert one.variation_icon == "common_cause" and one.assurance_icon == "inconsistent"
    assert one.summary[0]["n"] == 1 and one.summary[0]["short_group_warning"] is True
    assert one.summary[0]["lpl"] is None
    two = analyse([4, 6], kind="xmr")
    assert two.ucl[0] == approx(5 + 2.66 * 2)


def test_nhs_baseline_per_phase():
    group1 = [1, 2] * 6 + [10, 10]  # first 12: mean 1.5, eleven MRs of 1
    group2 = [5, 6] * 6 + [5]
    r = analyse(group1 + group2, kind="xmr", baseline_n=12, phases=[0] * 14 + [1] * 13)
    assert r.cl[0] == 1.5 and r.ucl[0] == approx(1.5 + 2.66) and r.lcl[0] == approx(1.5 - 2.66)
    assert r.special_cause_type[12:14] == ["Above UCL", "Above UCL"]
    assert r.cl[14] == 5.5 and r.ucl[14] == approx(5.5 + 2.66)
    assert [s["mean"] for s in r.summary] == [1.5, 5.5]
    # without the baseline the 10s pull the mean up
    assert analyse(group1, kind="xmr").cl[0] == approx(38 / 14)


def test_nhs_phases_get_their_own_limits():
    r = analyse([1, 3, 2, 4, 5, 11, 13, 12, 14, 15], kind="xmr", phases=["a"] * 5 + ["b"] * 5)
    assert r.cl == [3.0] * 5 + [13.0] * 5
    assert r.ucl[5] == approx(13 + 2.66 * 1.5)
    assert [s["phase_index"] for s in r.summary] == [0, 1]
    assert r.summary[1]["upl"] == approx(13 + 2.66 * 1.5)


def test_nhs_configurable_lengths():
    ys = [3, 1, 3, 1, 2, 3, 4, 5, 6, 2, 1, 3]
    assert "Point Trend" not in " ".join(analyse(ys, kind="xmr").special_cause_type)
    six = analyse(ys, kind="xmr", trend_length=6)
    assert six.special_cause_type[3:9] == ["6 Point Trend (Increasing)"] * 6


# --------------------------------------------------------------------------------------------------
# IHI rules
# --------------------------------------------------------------------------------------------------


def _brute_force_runs_limits(n):
    """Limits by enumerating every arrangement of floor(n/2) '+' among n points (independent check)."""
    n1 = n // 2
    counts = {}
    for plus in itertools.combinations(range(n), n1):
        signs = [1 if i in plus else -1 for i in range(n)]
        runs = 1 + sum(signs[i] != signs[i - 1] for i in range(1, n))
        counts[runs] = counts.get(runs, 0) + 1
    total = math.comb(n, n1)
    lower = max(k for k in range(1, n + 2) if sum(c for r, c in counts.items() if r < k) / total <= 0.025)
    upper = min(k for k in range(n + 1) if sum(c for r, c in counts.items() if r > k) / total <= 0.025)
    return lower, upper


@pytest.mark.parametrize("n", [10, 11, 12, 13, 14, 15, 16])
def test_ihi_runs_limits_match_enumeration(n):
    assert spc.ihi_runs_limits(n) == _brute_force_runs_limits(n)


def test_ihi_runs_limits_known_values():
    # where the exact limits and the recalled Perla table agree (spec section 5), and n = 20 -> 7-15
    assert spc.ihi_runs_limits(10) == (3, 9)
    assert spc.ihi_runs_limits(16) == (5, 13)
    assert spc.ihi_runs_limits(20) == (7, 15)
    assert spc.ihi_runs_limits(24) == (8, 18)
    assert spc.ihi_runs_limits(30) == (11, 21)
    assert spc.ihi_runs_limits(9) == (None, None)
    lows, highs = zip(*(spc.ihi_runs_limits(n) for n in range(10, 61)), strict=True)
    assert all(b >= a for a, b in itertools.pairwise(lows)) and all(
        b >= a for a, b in itertools.pairwise(highs)
    )


def test_ihi_shift_skips_points_on_the_median():
    r = analyse(SHIFT_SERIES, ruleset="ihi")  # median 5
    assert r.cl == [5.0] * 15 and r.lcl == [None] * 15
    assert r.flags["shift"] == [True, True, True, False] + [True] * 11  # the 5 is skipped, not flagged
    s = r.summary[0]
    assert (s["n_obs"], s["n_useful"], s["n_runs"], s["longest_shift"], s["shift_signal"]) == (
        15,
        14,
        2,
        7,
        True,
    )
    assert (s["runs_lower"], s["runs_upper"], s["too_few_runs"], s["too_many_runs"]) == (4, 12, True, False)
    assert set(r.flags) == {"shift", "trend"} and r.variation_icon is None
    # the same points under Anhøj: longest run 7 = limit for n = 14, but 1 crossing < qbinom(0.05, 13) = 4
    a = analyse(SHIFT_SERIES).summary[0]
    assert (a["longest_run"], a["longest_run_max"], a["n_crossings_min"], a["runs_signal"]) == (7, 7, 4, True)


def test_ihi_trend_ignores_ties():
    flags, longest, trends = spc.ihi_trend(np.array([1, 2, 2, 3, 4, 5.0]))
    assert longest == 5 and flags.tolist() == [True] * 6 and trends == [(0, 5, 1, 5)]
    flags, longest, _ = spc.ihi_trend(np.array([1, 2, 2, 3, 4.0]))
    assert longest == 4 and not flags.any()
    # down then up: the turning point belongs to both; only the 5-value fall is a trend
    flags, longest, trends = spc.ihi_trend(np.array([9, 8, 7, 6, 5, 6, 7.0]))
    assert longest == 5 and flags.tolist() == [True] * 5 + [False] * 2 and trends == [(0, 4, -1, 5)]
    assert spc.ihi_trend(np.array([4.0]))[1] == 1 and spc.ihi_trend(np.array([]))[1] is None


def test_ihi_and_nhs_disagree_on_ties():
    ys = [1, 2, 3, 3, 4, 5, 6, 7, 8]
    ihi = analyse(ys, ruleset="ihi")
    assert ihi.flags["trend"] == [True] * 9 and ihi.summary[0]["longest_trend"] == 8
    nhs = analyse(ys, kind="xmr")
    assert not any(nhs.flags["trend"])


def test_ihi_missing_values_are_dropped():
    r = analyse([1, 2, None, 3, 4, 5], ruleset="ihi")
    assert r.flags["trend"] == [True, True, False, True, True, True]
    assert r.cl[2] == 3.0 and r.y[2] is None
    s = r.summary[0]
    assert (s["n_obs"], s["n_useful"], s["longest_trend"], s["trend_signal"]) == (6, 4, 5, True)
    assert s["runs_lower"] is None and s["too_few_runs"] is None and s["too_many_runs"] is None


def test_ihi_baseline_and_phases():
    ys = list(range(1, 13))
    r = analyse(ys, ruleset="ihi", baseline_n=4)  # median of 1..4
    assert r.cl == [2.5] * 12
    s = r.summary[0]
    assert (s["longest_shift"], s["n_runs"], s["runs_lower"], s["too_few_runs"]) == (10, 2, 4, True)
    phased = analyse(ys, ruleset="ihi", baseline_n=4, phases=[0] * 6 + [1] * 6)
    assert phased.cl == [3.5] * 6 + [9.5] * 6  # baseline ignored with phases


def test_ihi_short_series():
    s = analyse([4], ruleset="ihi").summary[0]
    assert (s["n_useful"], s["n_runs"], s["longest_shift"], s["longest_trend"]) == (0, 0, None, 1)
    assert s["shift_signal"] is False and s["trend_signal"] is False


def test_ihi_configurable_lengths():
    r = analyse([1, 2, 3, 4, 3, 2, 1, 2], ruleset="ihi", trend_length=4)
    assert r.summary[0]["trend_signal"] is True and r.flags["trend"] == [True] * 7 + [False]
    assert analyse([1, 2, 3, 4, 3, 2, 1, 2], ruleset="ihi").summary[0]["trend_signal"] is False


# --------------------------------------------------------------------------------------------------
# Phases, inputs and the result contract
# --------------------------------------------------------------------------------------------------


def test_phase_labels_start_a_phase_wherever_they_change():
    assert spc.phase_bounds([1, 1, 2, 2, 1, 1], 6) == [(0, 2), (2, 4), (4, 6)]
    assert spc.phase_bounds(None, 3) == [(0, 3)]
    r = analyse([1, 2, 3, 4, 5, 10, 11, 12, 13, 14], phases=["a"] * 5 + ["b"] * 5)
    assert r.cl == [3.0] * 5 + [12.0] * 5
    assert [s["n_obs"] for s in r.summary] == [5, 5]


def test_default_rulesets():
    assert analyse([1, 2, 3]).ruleset == "anhoej"
    assert analyse([1, 2, 3], kind="xmr").ruleset == "nhs"
    assert analyse([1, 2, 3], kind="c").ruleset == "anhoej"
    assert analyse([1, 2, 3], kind="mr").ruleset == "anhoej"
    assert analyse([1, 2, 3], kind="p", denominators=[5, 5, 5]).ruleset == "anhoej"


def test_ratio_run_chart_with_denominators():
    r = analyse([1, 2, 3], denominators=[10, 0, 10])
    assert r.y[0] == approx(0.1) and r.y[1] is None and r.y[2] == approx(0.3)
    assert r.cl == approx([0.2] * 3)  # k/0 counts as missing outside p/u charts


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="run", ruleset="nhs"), "nhs"),
    (dict(kind="xmr", ruleset="ihi"), "IHI"),
    (dict(kind="c", ruleset="ihi"), "IHI"),
    (dict(kind="c", ruleset="nhs"), "nhs"),
    (dict(kind="xmr", baseline_n=11), "at least 12"),
    (dict(kind="xmr", exclude=[1]), "exclude"),
    (dict(ruleset="ihi", exclude=[1]), "exclude"),
    (dict(exclude=[40]), "exclude"),
    (dict(kind="p"), "denominators"),
    (dict(kind="u"), "denominators"),
    (dict(kind="p", denominators=[1] * 13), "denominators"),
    (dict(kind="c", denominators=[1] * 12), "denominators"),
    (dict(phases=[1] * 11), "phases"),
    (dict(kind="xbar"), "kind"),
    (dict(ruleset="western"), "ruleset"),
    (dict(improvement_direction="up"), "improvement_direction"),
    (dict(baseline_n=0), "baseline_n"),
    (dict(kind="xmr", shift_length=1), "shift_length"),
    (dict(kind="xmr", target="high"), "target"),
])
def test_invalid_inputs_raise_plain_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        analyse(list(range(12)), **kwargs)


def test_invalid_values_raise():
    with pytest.raises(ValueError, match="empty"):
        analyse([])
    with pytest.raises(ValueError, match=r"values\[1\]"):
        analyse([1, "x", 3])
    with pytest.raises(ValueError, match="infinite"):
        analyse([1, math.inf, 3])


def test_nhs_baseline_of_twelve_is_accepted():
    assert analyse(list(range(12)), kind="xmr", baseline_n=12).summary[0]["n"] == 12


def test_result_is_frozen():
    r = analyse([1, 2, 3])
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.kind = "xmr"


SECTION_8_KEYS = {
    "kind",
    "values",
    "denominators",
    "ruleset",
    "phases",
    "baseline_n",
    "exclude",
    "screen_mr",
    "improvement_direction",
    "target",
    "y",
    "cl",
    "lcl",
    "ucl",
    "lcl_2sigma",
    "ucl_2sigma",
    "flags",
    "special_cause_type",
    "point_type",
    "summary",
    "variation_icon",
    "assurance_icon",
}


def _assert_plain(obj, path="d"):
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert type(k) is str, path
            _assert_plain(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _assert_plain(v, f"{path}[{i}]")
    else:
        assert obj is None or type(obj) in (bool, int, float, str), f"{path}: {type(obj)}"
        if type(obj) is float:
            assert math.isfinite(obj), path


@pytest.mark.parametrize("values, kwargs", [
    ([1, None, 3, 3, 5], {}),
    ([5, 5, 5, 5], dict(kind="xmr", target=5, phases=[np.int64(1)] * 4)),
    ([5, 5, None, 5], dict(kind="xmr", ruleset="anhoej", exclude=[0])),
    ([0, 3, 5, 5], dict(kind="p", denominators=[0, 0, 50, 50])),
    (np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), dict(ruleset="ihi")),
    ([3, 5, 4, 8, 6], dict(kind="mr")),
])
def test_to_dict_has_plain_types_and_section_8_names(values, kwargs):
    d = analyse(values, **kwargs).to_dict()
    assert set(d) == SECTION_8_KEYS
    _assert_plain(d)
    json.dumps(d, allow_nan=False)
    n = len(d["values"])
    assert all(len(d[k]) == n for k in ("y", "cl", "lcl", "ucl", "lcl_2sigma", "ucl_2sigma"))
    assert all(len(v) == n and all(type(b) is bool for b in v) for v in d["flags"].values())


def test_summary_keys_per_ruleset():
    assert set(analyse([1, 2, 3]).summary[0]) == {
        "phase_index",
        "n_obs",
        "n_useful",
        "longest_run",
        "longest_run_max",
        "n_crossings",
        "n_crossings_min",
        "runs_signal",
    }
    assert set(analyse([1, 2, 3], kind="c").summary[0]) == set(analyse([1, 2, 3]).summary[0]) | {
        "sigma_signal_count"}
    assert set(analyse([1, 2, 3], kind="xmr").summary[0]) == {
        "phase_index", "n", "mean", "lpl", "upl", "common_cause", "special_cause_improvement",
        "special_cause_concern", "last_point_type", "short_group_warning"}
    assert set(analyse([1, 2, 3], ruleset="ihi").summary[0]) == {
        "phase_index", "n_obs", "n_useful", "n_runs", "longest_shift", "longest_trend", "shift_signal",
        "trend_signal", "too_few_runs", "too_many_runs", "runs_lower", "runs_upper"}


# --------------------------------------------------------------------------------------------------
# latest_phase_summary
# --------------------------------------------------------------------------------------------------


SUMMARY_KEYS = {"kind", "ruleset", "phase_index", "centre", "lcl", "ucl", "n", "signal", "improving",
                "special_cause", "improved_since_baseline", "concern", "phase_start", "variation_icon",
                "assurance_icon"}


def verdict(s: dict) -> tuple:
    return s["signal"], s["improving"], s["concern"]


def test_latest_phase_summary_nhs():
    s = latest_phase_summary(analyse([0, 2] * 7 + [5.4, 5.6], kind="xmr", target=20))
    assert set(s) == SUMMARY_KEYS
    assert (s["kind"], s["ruleset"], s["phase_index"], s["n"]) == ("xmr", "nhs", 0, 16)
    assert s["centre"] == approx(25 / 16)
    assert verdict(s) == (True, True, False) and s["special_cause"] and not s["improved_since_baseline"]
    assert (s["variation_icon"], s["assurance_icon"]) == ("improvement_high", "consistent_fail")
    # The last 7 points (4, 3, 4, ...) lie below the mean of 5: a shift, a concern when higher is better.
    shift = latest_phase_summary(analyse(SHIFT_SERIES, kind="xmr"))
    assert verdict(shift) == (True, False, True)
    calm = latest_phase_summary(analyse([1, 3, 2, 4, 2, 3], kind="xmr"))
    assert verdict(calm) == (False, False, False)


def test_latest_phase_summary_only_looks_at_the_last_phase():
    # Phase 2 (1, 3, 2, 4, 2, 3) has mean 2.5 and no signal; the first phase's centre line was 5, so
    # a lower later phase is no improvement when higher is better.
    r = analyse(SHIFT_SERIES + [1, 3, 2, 4, 2, 3], kind="xmr", phases=[0] * 15 + [1] * 6)
    s = latest_phase_summary(r)
    assert s["phase_index"] == 1 and s["n"] == 6 and s["centre"] == approx(2.5) and s["phase_start"] == 15
    assert verdict(s) == (False, False, False) and not s["improved_since_baseline"]


def test_improved_since_baseline_compares_the_latest_phase_with_the_first():
    # First phase mean 5, latest phase mean 2.5, no signal at the latest point: lower is better, so the
    # measure improved since its baseline, and nothing else.
    r = analyse(SHIFT_SERIES + [1, 3, 2, 4, 2, 3], kind="xmr", phases=[0] * 15 + [1] * 6,
                improvement_direction="decrease")
    s = latest_phase_summary(r)
    assert (s["improving"], s["special_cause"], s["improved_since_baseline"]) == (True, False, True)
    assert s["variation_icon"] == "common_cause"  # a grey icon, improved since baseline
    # Three phases: only the first and the latest count (10 -> 30 -> 20 is better than 10).
    ys = [10, 11, 9] * 4 + [30, 31, 29] * 4 + [20, 21, 19] * 4
    three = analyse(ys, kind="run", phases=[0] * 12 + [1] * 12 + [2] * 12)
    assert latest_phase_summary(three)["improved_since_baseline"] is True
    # No preferred direction: never improving.
    flat = analyse(ys, kind="run", phases=[0] * 12 + [1] * 12 + [2] * 12, improvement_direction="neutral")
    assert latest_phase_summary(flat)["improving"] is False


def test_latest_phase_summary_run_chart_direction():
    # Frozen on 1..4 (median 2.5): 5..10 form a run of 8 above it (limit 6), ending at the latest point.
    frozen = analyse(list(range(1, 11)), baseline_n=4)
    up = latest_phase_summary(frozen)
    assert verdict(up) == (True, True, False)
    assert up["centre"] == 2.5 and up["lcl"] is None and up["variation_icon"] is None
    down = latest_phase_summary(analyse(list(range(1, 11)), baseline_n=4, improvement_direction="decrease"))
    assert (down["improving"], down["concern"]) == (False, True)
    neutral = latest_phase_summary(analyse(list(range(1, 11)), baseline_n=4, improvement_direction="neutral"))
    assert verdict(neutral) == (True, False, False)
    # Median 5.5: one crossing (< 2) is a runs signal; the longest runs (5 each) lie on both sides, each
    # typed by its side, so the latest point (10, above) is special-cause improvement.
    tie = latest_phase_summary(analyse(list(range(1, 11))))
    assert verdict(tie) == (True, True, False)


def test_latest_phase_summary_control_chart_outside_limits():
    # CL 42.7, LCL 23.1: the 0 is below the LCL; 6 useful points, longest run 4 <= 6, 2 crossings >= 1.
    # The latest point (52) is common cause again: a signal in the phase, but not improving.
    c_chart = analyse([50, 52, 50, 52, 0, 52], kind="c", improvement_direction="decrease")
    assert c_chart.summary[0]["runs_signal"] is False
    assert verdict(latest_phase_summary(c_chart)) == (True, False, False)
    low = latest_phase_summary(analyse([50, 52, 50, 52, 52, 0], kind="c", improvement_direction="decrease"))
    assert verdict(low) == (True, True, False)
    rise = latest_phase_summary(analyse([50, 52, 50, 52, 52, 0], kind="c"))
    assert (rise["improving"], rise["concern"]) == (False, True)
    # 30 is above the UCL (improvement side) and the last point 6 is common cause.
    ys = [4, 6, 4, 6, 4, 6, 4, 6, 30, 6]
    both = latest_phase_summary(analyse(ys, kind="xmr", ruleset="anhoej"))
    assert both["ucl"] == approx(7.6 + 3 * 2 / D2)
    assert verdict(both) == (True, False, False)


def test_latest_phase_summary_ihi():
    up = latest_phase_summary(analyse([1, 2, 3, 4, 5, 3, 1], ruleset="ihi"))
    assert verdict(up) == (True, False, False)  # a rising trend of 5, over by the latest point
    rising = latest_phase_summary(analyse([3, 1, 1, 2, 3, 4, 5], ruleset="ihi"))
    assert verdict(rising) == (True, True, False)  # the latest point ends a rising trend of 5
    shift = latest_phase_summary(analyse(SHIFT_SERIES, ruleset="ihi"))
    assert verdict(shift) == (True, False, True)  # the latest point is in the shift below the median
    runs_only = analyse([1, 3] * 10, ruleset="ihi")  # 20 runs > 15: too many runs, no direction
    s = latest_phase_summary(runs_only)
    assert runs_only.summary[0]["too_many_runs"] is True
    assert verdict(s) == (True, False, False)
