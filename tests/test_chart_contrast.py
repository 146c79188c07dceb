"""Chart colours against the white plot: marks at least 3:1 (WCAG 1.4.11), text at least 4.5:1 (1.4.3).
The Capability map's marks are checked against the land it draws under them (maps.BASEMAP), not white.

The colours are read from the chart modules' own constants (every ``#RRGGBB`` they hold, in tuples, dicts
and style records), so a colour added to a chart builder is checked without editing this test. Colours
that are not data marks (gridlines, background fills) are named with their use; colours that are marks
and still fail are pinned, each listed as not yet meeting AA on the accessibility statement, and must
really fail, so fixing one means taking it off both lists."""

import importlib
import re

import pytest

from qidash import maps, palette
from qidash.palette import MARK_CONTRAST, TEXT_CONTRAST, contrast_ratio

CHART_MODULES = (
    "qidash.chart_geometry", "qidash.charts", "qidash.spc_charts", "qidash.tier_charts", "qidash.maps",
)
# The background each module's marks are drawn on, where it is not the white plot.
BACKGROUNDS = {"qidash.maps": maps.BASEMAP}
HEX = re.compile(r"#[0-9A-Fa-f]{6}")

NOT_MARKS = {
    palette.NHS_PALE_GREY: "gridlines, axis lines, the funnel's connectors, the map's PCNs outside scope",
    "#FFFFFF": "the map's tooltip background and the white edge parting a point from the area under it",
    maps.LAND: "the map's land, the background its marks are checked against",
    **dict.fromkeys(maps.AREA_RAMP, "the map's PCN area classes: each value is in its tooltip and a table"),
    "#D8DDE0": "the lightest of the greys for people in no area, each bar also labelled in its hover",
}
# Marks still under 3:1 (the accessibility statement lists them): the Making Data Count icon colours are
# the NHS standard, and the tiers' light blue and the local-share line's yellow carry numbers on them.
NOT_YET = {
    palette.NHS_LIGHT_BLUE, palette.NHS_WARM_YELLOW, palette.NHS_ORANGE, "#AEB7BD", "#9AA8B2",
}


def _colours(value, path: str, found: dict) -> None:
    if isinstance(value, str) and HEX.fullmatch(value):
        found.setdefault(value.upper(), path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _colours(item, f"{path}[{key}]", found)
    elif isinstance(value, (tuple, list, set, frozenset)):
        for i, item in enumerate(value):
            _colours(item, f"{path}[{i}]", found)
    elif hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        for field in value.__dataclass_fields__:
            _colours(getattr(value, field), f"{path}.{field}", found)


def chart_colours(modules=CHART_MODULES) -> dict[str, str]:
    """Every colour the ``modules`` hold, with where the first use was found."""
    found: dict[str, str] = {}
    for name in modules:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if not attr.startswith("_") and not isinstance(value, type):
                _colours(value, f"{name}.{attr}", found)
    return found


def test_the_ratio_follows_wcag():
    assert contrast_ratio("#000000") == pytest.approx(21)
    assert contrast_ratio("#FFFFFF") == pytest.approx(1)
    assert contrast_ratio(palette.NHS_BLUE) == pytest.approx(6.38, abs=0.01)
    assert contrast_ratio(palette.NHS_PALE_GREY) == pytest.approx(1.18, abs=0.01)


def test_every_chart_mark_stands_out_from_its_background_at_three_to_one():
    known = {c.upper() for c in NOT_MARKS} | {c.upper() for c in NOT_YET}
    failing = {}
    for module in CHART_MODULES:
        background = BACKGROUNDS.get(module, "#FFFFFF")
        failing |= {
            colour: (where, background, round(contrast_ratio(colour, background), 2))
            for colour, where in chart_colours([module]).items()
            if colour not in known and contrast_ratio(colour, background) < MARK_CONTRAST
        }
    assert failing == {}, failing


def test_the_marks_pinned_as_not_yet_meeting_aa_really_fail():
    assert all(contrast_ratio(c) < MARK_CONTRAST for c in NOT_YET)
    assert set(map(str.upper, NOT_YET)) <= set(chart_colours())


def test_chart_text_and_the_darker_shades_read_at_four_and_a_half_to_one():
    from qidash import charts, spc_charts, tier_charts

    text = {charts.FONT["color"], spc_charts.FONT["color"], tier_charts.TEXT, *palette.TEXT_SHADES.values()}
    assert {c: round(contrast_ratio(c), 2) for c in text if contrast_ratio(c) < TEXT_CONTRAST} == {}
    assert all(contrast_ratio(palette.text_shade(c)) >= TEXT_CONTRAST for c in palette.TEXT_SHADES)
    assert palette.text_shade(palette.NHS_BLUE) == palette.NHS_BLUE  # already dark enough


def _bar_colours(fig) -> set[str]:
    colours = set()
    for trace in fig.data:
        if trace.type == "bar":
            colour = trace.marker.color
            colours |= {colour} if isinstance(colour, str) else set(colour)
    return colours


def test_bars_that_were_pale_now_stand_out():
    import pandas as pd

    from qidash import charts, spc_charts

    by_priority = pd.DataFrame({"priority": ["falls"], "projects": [4], "improving": [1]})
    projects = pd.DataFrame(
        {"priority": ["falls"] * 5, "latest_score": [None, 1.0, 2.0, 3.0, 4.5]}
    )
    sectors = {k: {"orgs_in_scope": 10, "orgs_offered": 5} for k in ("a", "b", "c", "d")}
    figures = [
        charts.projects_by_priority(by_priority, {}),
        charts.sector_side_by_side(sectors, {}),
        spc_charts.projects_by_priority_and_score(projects, {}),
        spc_charts.latest_score_bars(projects),
    ]
    colours = set().union(*(_bar_colours(f) for f in figures))
    assert len(colours) >= 8
    assert {c: round(contrast_ratio(c), 2) for c in colours if contrast_ratio(c) < MARK_CONTRAST} == {}
