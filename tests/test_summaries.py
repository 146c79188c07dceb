"""Text alternatives for charts: each summary states the chart's numbers in words, and the table holds
them."""

import datetime as dt

import pandas as pd

from qidash import measures, summaries
from qidash.scope import Scope
from qidash.views.overview import overview_data
from tests.support import no_exceptions, open_page


def test_reach_says_where_it_started_where_it_is_and_the_target():
    frame = pd.DataFrame(
        {
            "day": [dt.date(2024, 4, 1), dt.date(2025, 1, 9)],
            "cumulative": [32, 470],
            "patients_cumulative": [0, 12],
        }
    )
    text, table = summaries.reach(frame, {"target_value": 600, "due_on": "2026-03-31"}, dt.date(2025, 3, 1))
    assert text == (
        "People trained rose from 32 on 1 April 2024 to 470 by 1 March 2025, "
        "against a target of 600 by 31 March 2026."
    )
    assert table["People trained (total)"].tolist() == [32, 470]
    assert table["Of whom patients"].tolist() == [0, 12]
    empty = frame.iloc[0:0]
    assert (
        summaries.reach(empty, None, dt.date(2025, 3, 1))[0]
        == "Nobody in this scope had been trained by 1 March 2025."
    )


def test_coverage_names_the_lowest_and_highest_area():
    rows = pd.DataFrame(
        {"name": ["East", "West", "North"], "coverage_pct": [40.0, 12.5, None],
         "orgs_trained": [4, 1, 0], "orgs_in_scope": [10, 8, 0]}
    )
    text, table = summaries.coverage(rows)
    assert text == "Coverage ranges from 12% in West to 40% in East, across 2 areas."
    assert table["Coverage"].tolist() == ["40%", "12%", "–"]
    assert summaries.coverage(rows.iloc[:1])[0] == "Coverage in East is 40%."


def test_improving_by_priority_counts_and_names_the_leading_priority():
    frame = pd.DataFrame(
        {"priority": ["falls", "frailty", "dementia"], "projects": [5, 3, 0], "improving": [1, 2, 0]}
    )
    text, table = summaries.improving_by_priority(frame, {"falls": "Falls", "frailty": "Frailty"})
    assert text == "3 of 8 projects are showing improvement; the most under Frailty (2)."
    assert table["Priority"].tolist() == ["Falls", "Frailty"]  # no row for a priority without projects


def test_overview_charts_carry_their_summaries_and_numbers(app_database):
    engine = app_database("cornwall")
    at = open_page(None, "cornwall")
    no_exceptions(at)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        view = overview_data(conn, Scope(), as_of)
    captions = [c.value for c in at.caption]
    reach_text = summaries.reach(view.reach, view.now["reach_vs_target"], as_of)[0]
    assert reach_text in captions
    assert any(c.startswith("Coverage ranges from ") for c in captions)
    assert any(" projects are showing improvement" in c for c in captions)
    numbers = [e for e in at.expander if e.label == "Numbers behind this chart"]
    assert len(numbers) == 3
    assert numbers[0].dataframe[0].value["People trained (total)"].iloc[-1] == view.now["people_trained"]
