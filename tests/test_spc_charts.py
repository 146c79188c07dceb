"""The Portfolio and Project figure builders and the Making Data Count icons, on hand-made series.

Point types for the anhoej rule set are typed here (qidash.spc.point_types); the tests pin them on
series whose signals are obvious, and check they agree with the engine's own phase summary.
"""

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from qidash import icons, spc, spc_charts
from qidash.palette import NHS_BLUE, NHS_ORANGE
from qidash.spc import COMMON, CONCERN, IMPROVEMENT, NEUTRAL_HIGH, NEUTRAL_LOW
from qidash.spc_charts import POINT_COLOURS

BASE = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 11, 9]


def stored(result, start_month: int = 1) -> dict:
    """A result as measure_analysis keeps it: to_dict() plus ISO periods (monthly from 2024)."""
    out = result.to_dict()
    out["periods"] = [
        f"{2024 + (start_month - 1 + i) // 12}-{(start_month - 1 + i) % 12 + 1:02d}-01"
        for i in range(len(out["y"]))
    ]
    return out


def shifted_run_chart(direction: str = "increase") -> dict:
    """A run chart: 12 points around 10, then 10 points around 20 (a long run above the median)."""
    values = BASE + [20, 21, 19, 22, 20, 21, 19, 20, 22, 21]
    return stored(spc.analyse(values, kind="run", improvement_direction=direction))


def traces(fig, name=None, group=None):
    return [
        t for t in fig.data if (name is None or t.name == name) and (group is None or t.legendgroup == group)
    ]


# --- point types and icons ---------------------------------------------------------------------------------


def test_nhs_point_types_are_the_engines():
    values = BASE + [30]
    result = stored(spc.analyse(values, kind="xmr", improvement_direction="decrease"))
    types = spc.point_types(result)
    assert types == result["point_type"]
    assert types[-1] == CONCERN  # above the upper limit on a lower-is-better measure
    assert spc.chart_variation_icon(result) == result["variation_icon"] == "concern_high"


def test_anhoej_longest_run_is_typed_by_its_side_and_direction():
    up = shifted_run_chart("increase")
    types = spc.point_types(up)
    summary = up["summary"][0]
    assert summary["runs_signal"] and summary["longest_run"] > summary["longest_run_max"]
    # The 10 points after the shift form the longest run, above the median: improvement when higher is better.
    assert types[12:] == [IMPROVEMENT] * 10
    assert set(types[:12]) == {COMMON}
    assert spc.chart_variation_icon(up) == "improvement_high"

    down = shifted_run_chart("decrease")
    assert spc.point_types(down)[12:] == [CONCERN] * 10
    assert spc.chart_variation_icon(down) == "concern_high"  # high values are the concern


def test_anhoej_points_outside_the_limits_take_their_side():
    values = [3, 4, 2, 3, 5, 3, 2, 4, 3, 3, 4, 2, 3, 14, 3]
    result = stored(spc.analyse(values, kind="c", improvement_direction="decrease"))
    types = spc.point_types(result)
    assert result["flags"]["outside_limits"][13]
    assert types[13] == CONCERN
    assert types.count(COMMON) == len(values) - 1
    # The icon reads the last point only: common cause again after the spike.
    assert spc.chart_variation_icon(result) == "common_cause"


TWO_LEVELS = [1] * 9 + [5] * 9  # two runs of 9: a runs signal whose longest runs lie on both sides


def test_anhoej_longest_runs_on_both_sides_take_the_measures_direction():
    """With a direction set, no point is purple "no direction": each longest run is typed by its own
    side (the low run is a concern and the high run an improvement when higher is better)."""
    result = stored(spc.analyse(TWO_LEVELS, kind="run", improvement_direction="increase"))
    assert result["summary"][0]["runs_signal"]
    types = spc.point_types(result)
    assert types == [CONCERN] * 9 + [IMPROVEMENT] * 9
    assert spc.chart_variation_icon(result) == "improvement_high"
    down = stored(spc.analyse(TWO_LEVELS, kind="run", improvement_direction="decrease"))
    assert spc.point_types(down) == [IMPROVEMENT] * 9 + [CONCERN] * 9
    assert spc.chart_variation_icon(down) == "concern_high"


def test_only_a_measure_with_no_direction_has_neutral_points():
    result = stored(spc.analyse(TWO_LEVELS, kind="run", improvement_direction="neutral"))
    types = spc.point_types(result)
    assert set(types[:9]) == {NEUTRAL_LOW} and set(types[9:]) == {NEUTRAL_HIGH}
    assert spc.chart_variation_icon(result) == "neutral_high"
    summary = spc.latest_phase_summary(spc.analyse(TWO_LEVELS, kind="run", improvement_direction="neutral"))
    assert not summary["improving"] and not summary["concern"]


def test_variation_icon_agrees_with_the_engines_phase_summary():
    """An improvement icon implies the phase is improving (it is typed from the same signals)."""
    for values, kind, direction in [
        (BASE + [20, 21, 19, 22, 20, 21, 19, 20, 22, 21], "run", "increase"),
        (BASE + [2, 3, 1, 2, 3, 2, 1, 2, 3], "c", "decrease"),
        ([3, 4, 2, 3, 5, 3, 2, 4, 3, 3, 4, 2, 3, 14], "c", "increase"),
    ]:
        result = spc.analyse(values, kind=kind, improvement_direction=direction)
        icon = spc.chart_variation_icon(stored(result))
        summary = spc.latest_phase_summary(result)
        assert icon.startswith("improvement") <= summary["improving"]
        assert icon.startswith("concern") <= summary["concern"]


def test_assurance_compares_the_target_with_the_latest_limits():
    values = [40, 42, 38, 41, 39, 40, 43, 37, 40, 41, 39, 40]
    dens = [100] * 12
    result = stored(spc.analyse(values, kind="p", denominators=dens))
    assert spc.chart_assurance_icon(result, 0.9) == "consistent_fail"  # 90% above the upper limit
    assert spc.chart_assurance_icon(result, 0.2) == "consistent_pass"
    assert spc.chart_assurance_icon(result, 0.4) == "inconsistent"
    assert spc.chart_assurance_icon(result, None) is None
    run = stored(spc.analyse(values, kind="run"))
    assert spc.chart_assurance_icon(run, 45) is None  # run charts have no limits
    xmr = stored(spc.analyse(values, kind="xmr", target=60))
    assert spc.chart_assurance_icon(xmr, 60) == xmr["assurance_icon"] == "consistent_fail"


def test_icons_are_well_formed_svgs_in_their_colours():
    for code in [*icons.VARIATION, None]:
        svg = icons.variation_svg(code)
        ET.fromstring(svg)
        assert icons.variation_colour(code) in svg
    for code in [*icons.ASSURANCE, None]:
        ET.fromstring(icons.assurance_svg(code))
    assert NHS_BLUE in icons.variation_svg("improvement_low") and ">L<" in icons.variation_svg(
        "improvement_low"
    )
    assert NHS_ORANGE in icons.variation_svg("concern_high") and ">H<" in icons.variation_svg("concern_high")
    assert ">P<" in icons.assurance_svg("consistent_pass") and ">F<" in icons.assurance_svg("consistent_fail")
    assert icons.variation_uri("common_cause").startswith("data:image/svg+xml;base64,")
    assert icons.variation_label(None) == icons.assurance_label("nonsense") == "Not assessed"


# --- the chart ---------------------------------------------------------------------------------------------


def phased_xmr() -> dict:
    values = BASE + [20, 21, 19, 22, 20, 21, 19, 20, 22, 21, 20, 19]
    return stored(spc.analyse(values, kind="xmr", phases=[1] * 12 + [2] * 12))


def test_chart_draws_centre_and_limits_per_phase_with_a_line_at_each_new_phase():
    result = phased_xmr()
    fig = spc_charts.spc_chart(result)
    centre = traces(fig, group="cl")
    limits = traces(fig, group="limits")
    assert len(centre) == 2 and len(limits) == 4
    assert [t.showlegend for t in centre] == [True, False]
    assert list(centre[0].x) == result["periods"][:12] and list(centre[1].x) == result["periods"][12:]
    assert centre[0].y[0] == pytest.approx(result["cl"][0]) and centre[1].y[0] == pytest.approx(
        result["cl"][12]
    )
    assert centre[0].name == "Mean"
    phase_lines = [s for s in fig.layout.shapes if s.line.dash == "dot"]
    assert len(phase_lines) == 1 and phase_lines[0].x0 == result["periods"][12]


def test_chart_colours_points_by_type():
    result = shifted_run_chart("increase")
    fig = spc_charts.spc_chart(result)
    types = spc.point_types(result)
    for point_type in (COMMON, IMPROVEMENT):
        (trace,) = traces(fig, name=spc_charts.POINT_LABELS[point_type])
        assert trace.marker.color == POINT_COLOURS[point_type]
        assert list(trace.x) == [p for p, t in zip(result["periods"], types, strict=True) if t == point_type]
    assert not traces(fig, name=spc_charts.POINT_LABELS[CONCERN])
    assert traces(fig, group="cl")[0].name == "Median"
    assert not traces(fig, group="limits")  # a run chart has no limits


def test_chart_marks_every_change_along_the_top():
    result = shifted_run_chart()
    changes = [
        {"day": "2024-03-10", "title": "Huddle at handover", "kind": "pdsa"},
        {"day": "2024-06-02", "title": "Comfort rounds", "kind": "pdsa"},
        {"day": "2024-09-15", "title": "New rota", "kind": "change"},
        {"day": "2025-01-01", "title": "New baseline", "kind": "rebase"},
    ]
    fig = spc_charts.spc_chart(result, changes=changes)
    marks = [t for t in fig.data if t.yaxis == "y2"]
    assert sum(len(t.x) for t in marks) == len(changes)
    pdsa = next(t for t in marks if t.name == "PDSA cycle")
    assert list(pdsa.customdata) == ["Huddle at handover", "Comfort rounds"]
    assert fig.layout.yaxis2.overlaying == "y" and fig.layout.yaxis2.visible is False
    # Head-room above the data keeps the markers clear of the points.
    assert fig.layout.yaxis.range[1] > max(result["y"]) * 1.05


def test_p_chart_is_in_percent_with_its_target_dashed():
    values = [40, 42, 38, 41, 39, 40, 43, 37, 40, 41, 39, 40]
    result = stored(spc.analyse(values, kind="p", denominators=[100] * 12))
    fig = spc_charts.spc_chart(result, target=0.9, unit="%")
    (target,) = [t for t in fig.data if (t.name or "").startswith("Target")]
    assert list(target.y) == [90.0, 90.0] and target.line.dash == "dash" and target.name == "Target 90.0%"
    data = traces(fig, name="Common cause")[0]
    assert data.y[0] == pytest.approx(40.0)
    assert fig.layout.yaxis.title.text == "%"
    assert spc_charts.value_title("u", "per 1,000 bed days") == "per 1,000 bed days"
    assert spc_charts.value_title("u", None) == "per unit"


def test_small_multiple_is_one_data_trace_coloured_by_type_with_gapped_phase_lines():
    result = phased_xmr()
    fig = spc_charts.small_multiple(result, target=15)
    data = fig.data[-1]
    types = spc.point_types(result)
    assert list(data.marker.color) == [POINT_COLOURS[t] for t in types]
    centre = fig.data[0]
    assert list(centre.x).count(None) == 1 and len(centre.x) == len(result["y"]) + 1
    assert any(list(t.y) == [15, 15] for t in fig.data)
    assert len(fig.layout.shapes) == 1 and fig.layout.showlegend is False


def test_chart_data_is_the_table_behind_the_chart():
    result = stored(spc.analyse([40, 42, 38, 41], kind="p", denominators=[100, 100, 95, 100]))
    table = spc_charts.chart_data(result)
    assert list(table.columns) == ["period", "value", "denominator", "y", "cl", "lcl", "ucl", "point_type"]
    assert table["y"].iloc[2] == pytest.approx(38 / 95)
    assert list(table["period"]) == result["periods"]


def test_progress_history_is_labelled_in_the_ihi_words():
    scores = pd.DataFrame({"scored_on": ["2024-01-01", "2024-04-01"], "score": [1.0, 3.0]})
    fig = spc_charts.progress_history(scores, as_of="2024-06-30")
    assert "3.0 Modest improvement" in fig.layout.yaxis.ticktext
    assert list(fig.data[-1].customdata) == ["Charter and team established", "Modest improvement"]
    assert list(fig.data[0].x) == ["2024-04-01", "2024-06-30"]  # the latest score carried to the date


def test_portfolio_bars_split_priorities_by_score_band():
    projects = pd.DataFrame(
        {"priority": ["FALLS", "FALLS", "UTI", "UTI", "UTI"], "latest_score": [1.0, 4.5, None, 3.0, 3.5]}
    )
    fig = spc_charts.projects_by_priority_and_score(projects, {"FALLS": "Falls", "UTI": "UTIs"})
    by_band = {t.name: dict(zip(t.y, t.x, strict=True)) for t in fig.data}
    assert by_band["3.0–3.5 improving"] == {"Falls": 0, "UTIs": 2}
    assert by_band["No score yet"] == {"Falls": 0, "UTIs": 1}
    assert sum(sum(v.values()) for v in by_band.values()) == 5
    bars = spc_charts.latest_score_bars(projects)
    assert sum(bars.data[0].y) == 4 and next(iter(bars.data[0].x)) == "0.5"
    assert (
        spc_charts.score_band(2.5) == "2.0–2.5 testing changes"
        and spc_charts.score_band(None) == "No score yet"
    )


def test_phase_change_says_which_way_the_centre_line_moved():
    better = spc_charts.phase_change(phased_xmr())  # higher is better: 10 -> 20
    assert better["first"] == pytest.approx(10.0, abs=0.5) and better["last"] == pytest.approx(20.5, abs=0.5)
    assert better["better"] is True and better["phases"] == 2
    values = BASE + [20, 21, 19, 22, 20, 21, 19, 20, 22, 21, 20, 19]
    worse = stored(
        spc.analyse(values, kind="xmr", phases=[1] * 12 + [2] * 12, improvement_direction="decrease")
    )
    assert spc_charts.phase_change(worse)["better"] is False
    assert spc_charts.phase_change(shifted_run_chart()) is None  # one phase


def test_icons_have_names_a_screen_reader_can_say():
    from qidash import icons

    assert icons.variation_name("improvement_high") == "Variation: improvement (high)"
    assert icons.assurance_name("consistent_pass") == "Assurance: consistently passing"
    assert icons.variation_name(None) == "Variation: not assessed"
    assert icons.assurance_name(None) == "Assurance: not assessed"
