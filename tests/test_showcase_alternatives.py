"""The Showcase's text alternatives: each chart's and the map's one-line summary is computed from the
story model's numbers (public mode's "<5" included), and its table holds the numbers the slide draws."""


from qidash.views.showcase import Funnel, FunnelStage, MapView, alternatives, before_after, chart_series
from tests.test_showcase import MONTHS, _measure


def _funnel(lead: int | None, lead_text: str, conversion: str) -> Funnel:
    return Funnel(
        "QI ladder",
        (
            FunnelStage("learn", "Learn", 40, "40", ""),
            FunnelStage("practise", "Practise", 10, "10", "25% of Learn"),
            FunnelStage("lead", "Lead", lead, lead_text, conversion),
        ),
    )


def test_the_funnel_is_summarised_from_its_stages_and_keeps_public_modes_suppression():
    text, table = alternatives.funnel(_funnel(4, "4", "40% of Practise"))
    # 4 of the 40 who reached Learn reached Lead: 10%.
    assert text == "40 people reached Learn or beyond; 4 reached Lead (10% of them)."
    assert table["Reached this tier or beyond"].tolist() == ["40", "10", "4"]
    assert table["Of the tier before"].tolist() == ["–", "25% of Learn", "40% of Practise"]

    text, table = alternatives.funnel(_funnel(None, "<5", ""))
    assert text == "40 people reached Learn or beyond; <5 reached Lead."  # no share to give the count away
    assert table["Reached this tier or beyond"].tolist()[-1] == "<5"


def test_a_project_chart_is_summarised_by_how_its_median_moved_and_what_is_marked():
    values = [10, 12, 11, 13, 12, 11, 20, 21, 19, 22, 20, 21]
    changes = [
        {"day": "2023-02-01", "title": "PDSA 1", "kind": "pdsa"},
        {"day": "2023-03-01", "title": "PDSA 2", "kind": "pdsa"},
        {"day": "2023-06-01", "title": "Huddles", "kind": "change"},
    ]
    m = _measure(values, MONTHS, phases=[1] * 6 + [2] * 6, changes=changes)
    ch = chart_series(m)
    text, table = alternatives.project_chart(ch, before_after(ch, m["changes"]))
    # Medians: first phase 11.5 (10, 11, 11, 12, 12, 13), latest 20.5; +78%, up is better.
    assert text == (
        "Measure: 12 points from Jan 2023 to Dec 2023; the median rose from 11.5 (first phase) to 20.5 "
        "(latest phase), 78% higher: better; 2 PDSA cycles and 1 change marked."
    )
    assert list(table.columns) == ["Period", *ch.lines(), "PDSA cycles", "Changes adopted"]
    assert table["Period"].tolist()[:2] == ["Jan 2023", "Feb 2023"]
    assert table["Measure"].tolist() == values
    assert table["PDSA cycles"].tolist()[1:3] == ["1", "2"] and table["Changes adopted"][5] == "1"

    falling = _measure(values[::-1], MONTHS, improvement="increase")
    ch = chart_series(falling)
    text, _ = alternatives.project_chart(ch, before_after(ch, []))
    # No phase, no change: the first 6 points (median 20.5) against the latest 6 (11.5), 44% lower.
    assert "the median fell from 20.5 (first 6 points) to 11.5 (latest 6 points), 44% lower: worse." in text

    # Split at a change: the change is named; the meaning of improving that applies is said.
    change = {"day": "2023-05-10", "title": "Adopted: huddles", "kind": "change"}
    split = _measure(values, MONTHS, improvement="decrease", changes=[change])
    split["improving_reason"] = "special cause improvement at the latest point"
    ch = chart_series(split)
    text, _ = alternatives.project_chart(ch, before_after(ch, split["changes"]))
    # Jan–May (10, 11, 12, 12, 13: median 12) against Jun–Dec (median 20): +67%, but down is better.
    assert text == (
        "Measure: 12 points from Jan 2023 to Dec 2023; the median rose from 12 (before the change) to 20 "
        "(after the change “Adopted: huddles”), 67% higher: worse; 1 change marked. Improving: special "
        "cause improvement at the latest point."
    )

    short = _measure([3, 5, 4], MONTHS[:3])
    ch = chart_series(short)
    assert before_after(ch, []) is None
    text, _ = alternatives.project_chart(ch, None)
    assert text == "Measure: 3 points from Jan 2023 to Mar 2023; the latest is 4."


def test_the_map_is_summarised_by_stage_and_by_its_lowest_and_highest_coverage():
    mv = MapView(
        areas=None,
        values={},
        edges=[],
        legend=(),
        tips={},
        orgs=None,
        stages=(("trained", "Trained", "#000", 3), ("with_project", "With a project", "#111", 2)),
        size_by="beds",
        headline="",
        note="",
        pcn_rows=(
            ("North PCN", 25.0, 1, 4, "<5", 0),
            ("South PCN", 60.0, 3, 5, "12", 2),
            ("East PCN", None, 0, 0, "0", 0),
        ),
    )
    text, table = alternatives.map_slide(mv)
    assert text == (
        "Of 5 organisations: 3 trained and 2 with a project. Coverage per PCN ranges from 25% in North PCN "
        "to 60% in South PCN."
    )
    assert table["Coverage"].tolist() == ["25%", "60%", "–"]
    assert table["People trained"].tolist() == ["<5", "12", "0"]


def test_summaries_follow_the_numbers_not_a_fixed_sentence():
    # A control: different numbers give a different sentence.
    a, _ = alternatives.funnel(_funnel(4, "4", ""))
    b, _ = alternatives.funnel(_funnel(8, "8", ""))
    assert a != b and "8 reached Lead (20% of them)" in b
