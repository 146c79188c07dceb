"""Chart colours against the white plot: marks at least 3:1 (WCAG 1.4.11), text at least 4.5:1 (1.4.3).

The colours are read from the chart modules' own constants (every ``#RRGGBB`` they hold, in tuples, dicts
and style records), so a colour added to a chart builder is checked without editing this test. Colours
that are not data marks (gridlines) are named with their use. Text is checked where it is drawn: the
axes' tick labels and titles of every plotly figure, and numbers written on bars against the bar. The
Capability map's marks are checked against the land it draws under them (maps.BASEMAP), not white; its
PCN areas by their boundary line, against the land and against every fill as drawn."""

import datetime as dt
import importlib
import re
from pathlib import Path

import pytest

from qidash import maps, palette
from qidash.palette import MARK_CONTRAST, TEXT_CONTRAST, contrast_ratio

CHART_MODULES = (
    "qidash.chart_geometry", "qidash.charts", "qidash.spc_charts", "qidash.tier_charts", "qidash.maps",
)
EXPORT_MODULES = ("qidash.exports.svg", "qidash.exports.pptx_deck")  # the same charts, drawn for files
# The background each module's marks are drawn on, where it is not the white plot.
BACKGROUNDS = {"qidash.maps": maps.BASEMAP}
HEX = re.compile(r"#[0-9A-Fa-f]{6}")

NOT_MARKS = {
    palette.NHS_PALE_GREY: "gridlines, the house charts' axis lines, the funnel's connectors",
    "#FFFFFF": "the map's tooltip background and the white edge parting a point from the area under it",
    maps.LAND: "the map's land, the background its marks are checked against",
}
# The PCN areas' fills: the pale ones do not stand out from the land, so every area's shape is drawn by
# its boundary line (maps.AREA_LINE), checked against the land and each fill in the test below.
AREA_FILLS = {c.upper() for c in maps.area_fills()}


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


def chart_colours(modules=CHART_MODULES + EXPORT_MODULES) -> dict[str, str]:
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
    known = {c.upper() for c in NOT_MARKS} | AREA_FILLS
    failing = {}
    for module in CHART_MODULES + EXPORT_MODULES:
        background = BACKGROUNDS.get(module, "#FFFFFF")
        failing |= {
            colour: (where, background, round(contrast_ratio(colour, background), 2))
            for colour, where in chart_colours([module]).items()
            if colour not in known and contrast_ratio(colour, background) < MARK_CONTRAST
        }
    assert failing == {}, failing


def test_every_pcn_area_is_outlined_three_to_one_against_the_land_and_its_fill():
    """WCAG 1.4.11 for the areas: each one's shape is seen by its boundary, whatever its class's colour.
    Checked on the fills as drawn (see-through over the land), which is what a viewer sees."""
    assert set(maps.area_fills()) == {*maps.AREA_RAMP, maps.NO_DATA, maps.OUTSIDE}
    against = {"land": maps.LAND, **{f"fill {c} drawn as {d}": d for c, d in maps.area_fills().items()}}
    ratios = {name: round(contrast_ratio(maps.AREA_LINE, bg), 2) for name, bg in against.items()}
    assert {name: r for name, r in ratios.items() if r < MARK_CONTRAST} == {}, ratios
    # and that is the line the map draws round every area (each edge once, in its own layer, every
    # edge it leaves out drawn by the locality outline above it), at a width that shows
    deck = maps.capability_deck(maps.Areas("none", [], []), {}, [], {}, _no_orgs())
    (lines,) = [layer for layer in deck.layers if layer.id == maps.BOUNDARIES_ID]
    assert lines.props["getColor"] == maps.rgba(maps.AREA_LINE) and lines.props["getWidth"] >= 1
    # the control: the pale classes on their own fail against the land, and the old white line would
    assert contrast_ratio(maps.area_fills()[maps.AREA_RAMP[0]], maps.LAND) < MARK_CONTRAST
    assert contrast_ratio("#FFFFFF", maps.LAND) < MARK_CONTRAST


def _no_orgs():
    import pandas as pd

    columns = ["ods_code", "name", "kind", "pcn", "stage", "latitude", "longitude", "beds", "trained_in_post"]
    return pd.DataFrame(columns=columns)


def test_the_check_finds_a_pale_mark():
    """The control: the NHS colours the darker shades replace fail, and a chart constant in one of them
    would be found."""
    assert all(contrast_ratio(c) < MARK_CONTRAST for c in palette.MARK_SHADES)
    found: dict = {}
    _colours({"upper": ("line", palette.NHS_LIGHT_BLUE)}, "x", found)
    assert found == {palette.NHS_LIGHT_BLUE: "x[upper][1]"}


def test_the_darker_shades_pass_and_their_ratio_is_the_one_written_beside_them():
    assert set(palette.MARK_SHADES.values()) <= set(chart_colours())  # the charts draw with them
    for colour, shade in palette.MARK_SHADES.items():
        assert contrast_ratio(shade) >= MARK_CONTRAST > contrast_ratio(colour)
        assert palette.mark_shade(colour) == shade
    assert palette.mark_shade(palette.NHS_BLUE) == palette.NHS_BLUE
    source = Path(palette.__file__).read_text()
    written = re.findall(r'^[A-Z_]+ = "(#[0-9A-F]{6})"  # (\d\.\d\d):1', source, re.M)
    assert len(written) >= 4  # the three shades and the limits' grey
    assert dict(written) == {c: f"{contrast_ratio(c):.2f}" for c, _ in written}


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


# --- text where it is drawn ------------------------------------------------------------------------------

D = dt.date


def _figures() -> dict:
    """One figure of every layout path: the house figure (charts, tiers), the SPC charts' own, a figure
    whose axes are set after it is made (progress scores) and one with a right-hand axis."""
    import pandas as pd

    from qidash import charts, spc, spc_charts, tier_charts

    result = spc.analyse([3, 4, 5, 4, 3, 4, 9, 9, 9, 9], kind="xmr").to_dict()
    result["periods"] = [D(2024, k + 1, 1).isoformat() for k in range(10)]
    tiers = [{"code": "learn", "name": "Learn"}, {"code": "live", "name": "Live"}]
    return {
        "projects_by_priority": charts.projects_by_priority(
            pd.DataFrame({"priority": ["falls"], "projects": [4], "improving": [1]}), {}
        ),
        "spc_chart": spc_charts.spc_chart(
            result, changes=[{"day": "2024-03-01", "title": "t", "kind": "pdsa"}]
        ),
        "small_multiple": spc_charts.small_multiple(result),
        "progress_history": spc_charts.progress_history(
            pd.DataFrame({"scored_on": [D(2024, 1, 1)], "score": [2.0]})
        ),
        "tier_funnel": tier_charts.tier_funnel(tiers, {"learn": 9, "live": 4}),
        "local_faculty": tier_charts.local_faculty_over_time(
            pd.DataFrame({"period_start": [D(2024, 1, 1)], "cohorts": [2], "local": [1], "share": [0.5]}), 6
        ),
    }


def _axis_text(layout: dict) -> dict[str, str | None]:
    """The colour of each axis's tick labels and title, and of the legend and hover labels."""
    out = {}
    for key, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", key):
            out[f"{key} ticks"] = axis.get("tickfont", {}).get("color")
            out[f"{key} title"] = axis.get("title", {}).get("font", {}).get("color")
    out["legend"] = layout.get("legend", {}).get("font", {}).get("color")
    out["hover"] = layout.get("hoverlabel", {}).get("font", {}).get("color")
    return out


def test_axis_words_are_set_dark_on_every_figure_not_left_to_streamlits_grey():
    """Streamlit's chart theme paints axis text #808495 (3.7:1) unless the figure sets its own colour."""
    assert contrast_ratio("#808495") < TEXT_CONTRAST  # what an unset colour would be, in the browser
    for name, fig in _figures().items():
        text = _axis_text(fig.to_plotly_json()["layout"])
        assert {"xaxis ticks", "yaxis ticks", "xaxis title", "yaxis title"} <= set(text), name
        weak = {k: c for k, c in text.items() if c is None or contrast_ratio(c) < TEXT_CONTRAST}
        assert weak == {}, name
    assert "yaxis2 ticks" in _axis_text(_figures()["local_faculty"].to_plotly_json()["layout"])


def test_a_bare_plotly_figure_would_fail_the_axis_check():
    import plotly.graph_objects as go

    text = _axis_text(go.Figure(layout={"xaxis": {"title": "x"}}).to_plotly_json()["layout"])
    assert text["xaxis ticks"] is None and text["legend"] is None


def test_numbers_written_on_bars_read_at_four_and_a_half_to_one_against_the_bar():
    from qidash import tier_charts
    from qidash.exports import svg
    from qidash.views.showcase import Funnel, FunnelStage

    fills = [*tier_charts.TIER_COLOURS, tier_charts.PATIENT_COLOUR]
    assert {f: round(contrast_ratio(tier_charts.text_on(f), f), 2) for f in fills
            if contrast_ratio(tier_charts.text_on(f), f) < TEXT_CONTRAST} == {}
    # and as drawn: the page's funnel (text inside its bars) and the report's
    tiers = [{"code": f"t{i}", "name": f"Tier {i}"} for i in range(len(tier_charts.TIER_COLOURS))]
    for colour in (None, tier_charts.PATIENT_COLOUR):
        counts = {t["code"]: 50 - i for i, t in enumerate(tiers)}
        (trace,) = tier_charts.tier_funnel(tiers, counts, colour=colour).data
        pairs = zip(trace.insidetextfont.color, trace.marker.color, strict=True)
        assert all(contrast_ratio(text, fill) >= TEXT_CONTRAST for text, fill in pairs)
    stages = tuple(FunnelStage(t["code"], t["name"], 100 - i, f"{100 - i}", "") for i, t in enumerate(tiers))
    drawn = svg.funnel(Funnel("Framework", stages))
    bars = re.findall(r'<rect [^>]*fill="(#[0-9A-F]{6})"/><text [^>]*fill="(#[0-9A-F]{6}|white)"', drawn)
    assert len(bars) == len(stages)
    assert all(contrast_ratio("#FFFFFF" if t == "white" else t, f) >= TEXT_CONTRAST for f, t in bars)
    # the attendance bars' numbers, written inside them
    import pandas as pd

    sessions = pd.DataFrame(
        {"session_no": [1], "held_on": [D(2024, 1, 5)], "on_register": [9], "attended": [8]}
    )
    bars = tier_charts.session_attendance(sessions).data[0]
    words = bars.insidetextfont.color.replace("white", "#FFFFFF")
    assert contrast_ratio(words, bars.marker.color) >= TEXT_CONTRAST
    # the first tier's light blue with the old white numbers: the check would have caught it
    assert contrast_ratio("#FFFFFF", palette.NHS_LIGHT_BLUE) < TEXT_CONTRAST
