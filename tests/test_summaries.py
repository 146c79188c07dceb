"""Text alternatives for charts: each summary states the chart's numbers in words, and the table holds
them."""

import datetime as dt

import pandas as pd

from qidash import measures, spc, summaries
from qidash.scope import Scope
from qidash.views import project as pj
from qidash.views.overview import overview_data
from tests.support import demo_engine, no_exceptions, open_page, open_section
from tests.test_portfolio import PAGE_SIZE, open_tab
from tests.test_project_page import busiest_project


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
    numbers = [e for e in at.expander if e.label == "Numbers behind this chart"]
    assert len(numbers) == 2  # reach and coverage (the open tab's sectors chart has its table beside it)
    assert not any(e.dataframe for e in numbers)  # written only once opened
    at.session_state["reach_numbers_open"] = True  # as a click on the expander does
    at.run()
    no_exceptions(at)
    numbers = [e for e in at.expander if e.label == "Numbers behind this chart"]
    assert [len(e.dataframe) for e in numbers] == [1, 0]
    assert numbers[0].dataframe[0].value["People trained (total)"].iloc[-1] == view.now["people_trained"]
    # The second row's other tab is built when opened, with its own summary and numbers.
    assert not any(" projects are showing improvement" in c.value for c in at.caption)
    at.session_state["overview_tab"] = "Projects improving, by priority"  # as a click on the tab does
    at.run()
    no_exceptions(at)
    assert any(" projects are showing improvement" in c.value for c in at.caption)
    assert len([e for e in at.expander if e.label == "Numbers behind this chart"]) == 3


LADDER = [{"code": "t1", "name": "Bronze"}, {"code": "t2", "name": "Silver"}, {"code": "t3", "name": "Gold"}]


def test_tier_funnel_says_how_many_started_and_how_many_reached_the_top():
    text, table = summaries.tier_funnel(LADDER, {"t1": 200, "t2": 50, "t3": 8})
    assert text == "200 people reached Bronze or beyond; 8 (4%) reached Gold."
    assert table["Of the first tier"].tolist() == ["100%", "25%", "4%"]
    assert summaries.tier_funnel(LADDER, {}, "patients")[0] == "No patients in this scope had reached a tier."


def test_tier_comparison_names_the_area_with_most_people():
    groups = pd.DataFrame({"name": ["East", "West"], "t1": [30, 45], "t2": [3, 4]})
    said = summaries.tier_comparison(groups, LADDER[0])
    assert said == "75 people across 2 areas reached Bronze; the most in West (45)."
    assert summaries.tier_comparison(groups.iloc[0:0], LADDER[0]) == "No area has people who reached Bronze."


def test_reach_by_tier_gives_each_tiers_total_by_the_date():
    reach = pd.DataFrame(
        {"tier": ["t1", "t1", "t2"], "day": [dt.date(2024, 4, 1), dt.date(2024, 6, 2), dt.date(2024, 9, 5)],
         "cumulative": [10, 25, 3]}
    )
    text, table = summaries.reach_by_tier(reach, LADDER, dt.date(2025, 1, 31))
    assert text == "By 31 January 2025: 25 reached Bronze; 3 reached Silver."
    assert table["First reached"].tolist() == ["1 April 2024", "5 September 2024", "–"]
    assert table["Reached by 31 January 2025"].tolist() == [25, 3, 0]


def test_session_attendance_compares_first_and_last_session_with_the_register():
    sessions = pd.DataFrame(
        {"session_no": [1, 2, 3], "held_on": [dt.date(2024, 5, 1), None, dt.date(2024, 7, 3)],
         "attended": [18, 15, 12], "on_register": [20, 20, 19]}
    )
    text, table = summaries.session_attendance(sessions)
    assert text == "Session 1: 18 of 20 attended; session 3: 12 of 19 (3 sessions)."
    assert table["Held on"].tolist() == ["1 May 2024", "not recorded", "3 July 2024"]


def test_role_mix_names_the_largest_role():
    roles = pd.DataFrame({"role": ["nurse", None, "patient"], "people": [30, 5, 15]})
    text, table = summaries.role_mix(roles, {"nurse": "Nurse", "patient": "Patient partner"})
    assert text == "50 people with a place across 3 roles; the most are Nurse (30, 60%)."
    assert table["Role"].tolist() == ["Nurse", "Role not recorded", "Patient partner"]


def test_local_faculty_compares_the_latest_period_with_the_first():
    periods = pd.DataFrame({"cohorts": [4, 2, 5], "local": [1, 0, 4], "share": [0.25, 0.0, 0.8]})
    labels = ["Apr–Sep 2024", "Oct–Mar 2024", "Apr–Sep 2025"]
    text, table = summaries.local_faculty(periods, labels)
    assert text == (
        "Local faculty taught 80% of cohorts in Apr–Sep 2025, against 25% in Apr–Sep 2024; "
        "5 of 11 cohorts in all."
    )
    assert table["Taught by an external provider"].tolist() == [3, 2, 1]


def test_every_tiers_chart_carries_a_summary_and_its_numbers(app_database):
    app_database("cornwall")
    at = open_page("tiers", "cornwall")
    captions, numbers = [], 0
    sections = ("Progression", "Compared across areas", "Reach over time", "Cohorts", "Self-sustainability")
    for section in sections:
        open_section(at, "tiers_tab", section)  # only the open section is built
        no_exceptions(at)
        captions += [c.value for c in at.caption]
        numbers += len([e for e in at.expander if e.label == "Numbers behind this chart"])
    assert any(" people reached " in c and " or beyond" in c for c in captions)  # the funnel
    assert any(c.startswith("By ") and " reached " in c for c in captions)  # reach over time
    assert any(" people across " in c and " areas reached " in c for c in captions)  # the comparison
    assert any(c.startswith("Session 1: ") for c in captions)
    assert any(" people with a place across " in c for c in captions)
    assert any(c.startswith("Local faculty taught ") for c in captions)
    assert numbers >= 5


def test_projects_by_priority_counts_the_improving_and_names_the_largest_priority():
    projects = pd.DataFrame(
        {"priority": ["falls", "falls", "frailty", "falls"], "latest_score": [3.5, None, 4.0, 1.0]}
    )
    text, table = summaries.projects_by_priority(projects, {"falls": "Falls", "frailty": "Frailty"})
    assert text == "2 of 4 projects score 3.0 or more (improving); the most projects are under Falls (3)."
    assert table["Priority"].tolist() == ["Falls", "Frailty"]
    assert table["No score yet"].tolist() == [1, 0]
    assert table["Projects"].tolist() == [3, 1]


def test_latest_scores_names_the_commonest_score_in_words():
    projects = pd.DataFrame({"latest_score": [2.0, 2.0, 3.5, None]})
    text, table = summaries.latest_scores(projects)
    assert text == (
        "The most common latest score is 2.0 (activity, but no changes), "
        "for 2 of 3 scored projects; 1 not yet scored."
    )
    assert table.loc[table["Latest progress score"] == "3.5", "Projects"].tolist() == [1]
    assert summaries.latest_scores(projects.iloc[3:])[0] == "None of the 1 projects has a progress score yet."


def test_progress_history_gives_the_first_and_latest_score():
    scores = pd.DataFrame({"scored_on": [dt.date(2024, 2, 1), dt.date(2024, 8, 1)], "score": [1.0, 3.5]})
    text, table = summaries.progress_history(scores)
    assert text == (
        "The progress score went from 1.0 (charter and team established) on 1 February 2024 "
        "to 3.5 (improvement) on 1 August 2024, over 2 scores."
    )
    assert table["Meaning"].tolist() == ["Charter and team established", "Improvement"]


def test_spc_measure_gives_the_span_the_latest_point_and_the_icons_in_words():
    result = spc.analyse([10, 12, 11, 13, 12, 14, 13, 15, 14, 16, 15, 17], kind="xmr").to_dict()
    result["periods"] = [f"2024-{m:02d}-01" for m in range(1, 13)]
    text, table = summaries.spc_measure(result, "Common cause variation", "Assurance: no target")
    centre = table["Centre line"].iloc[-1]
    assert text == (
        f"12 points from 1 January 2024 to 1 December 2024; the latest is 17 against a centre line of "
        f"{centre:,.3g}. Common cause variation; Assurance: no target."
    )
    assert table["Value"].tolist()[:3] == [10, 12, 11]
    assert summaries.spc_measure(result)[0].endswith(f"centre line of {centre:,.3g}.")  # icons said elsewhere
    assert len(table) == 12


def test_portfolio_charts_carry_their_summaries_and_numbers():
    at = open_page("portfolio", "cornwall")
    no_exceptions(at)
    captions = [c.value for c in at.caption]
    assert any(" projects score 3.0 or more (improving); the most projects are under " in c for c in captions)
    assert any(c.startswith("The most common latest score is ") for c in captions)
    assert len([e for e in at.expander if e.label == "Numbers behind this chart"]) >= 2
    open_tab(at, "Charts")
    no_exceptions(at)
    small = [c.value for c in at.caption if " points from " in c.value and "; the latest is " in c.value]
    assert 2 < len(small) <= PAGE_SIZE
    open_tab(at, "Impact")
    no_exceptions(at)
    assert any(c.value.startswith("The estimated total of ") for c in at.caption)


def test_project_charts_carry_their_summaries_and_numbers():
    with demo_engine("cornwall").connect() as conn:
        code = busiest_project(conn)
        view = pj.project_data(conn, code, measures.default_as_of(conn))
    at = open_page("project", "cornwall", project=code)
    no_exceptions(at)
    captions = [c.value for c in at.caption]
    charted = [c for c in captions if " points from " in c and "; the latest is " in c]
    assert len(charted) == len(view.measures)
    numbers = [e for e in at.expander if e.label == "Numbers behind this chart"]
    assert len(numbers) == len(view.measures)
    open_section(at, "project_tab", "Progress score and story")
    no_exceptions(at)
    assert summaries.progress_history(view.scores)[0] in [c.value for c in at.caption]
    assert len([e for e in at.expander if e.label == "Numbers behind this chart"]) == 1


STAGE_LABELS = {"not_offered": "Not offered", "offered": "Offered training", "trained": "Trained"}


def test_capability_map_says_the_stages_in_words_and_the_measures_range():
    stages = {"not_offered": 12, "offered": 0, "trained": 3}
    by_pcn = pd.DataFrame({"name": ["Looe", "Bodmin", "Truro"], "coverage_pct": [20.0, None, 75.0],
                           "people_trained": [4, 9, 2]})
    text = summaries.capability_map(stages, STAGE_LABELS, by_pcn, "coverage_pct", "Coverage")
    assert text == (
        "Of 15 organisations: 12 not offered and 3 trained. "
        "Coverage per PCN ranges from 20% in Looe to 75% in Truro."
    )
    by_people = summaries.capability_map(stages, STAGE_LABELS, by_pcn, "people_trained", "People trained")
    assert by_people.endswith(
        "People trained per PCN ranges from 2 in Truro to 9 in Bodmin."
    )
    assert summaries.capability_map(dict.fromkeys(stages, 0), STAGE_LABELS, by_pcn.iloc[0:0]) == (
        "No organisation is in this scope."
    )


def test_capability_map_page_says_the_stages_under_the_map():
    at = open_page("capability_map", "cornwall")
    no_exceptions(at)
    said = [c.value for c in at.caption if c.value.startswith("Of ") and " organisations: " in c.value]
    assert len(said) == 1
    assert "not offered" in said[0] and " per PCN ranges from " in said[0]


def test_cumulative_impact_gives_the_running_total_and_its_range():
    frame = pd.DataFrame({"period": ["2024-01-01", "2024-06-01"], "cumulative": [12.4, 150.6]})
    text, table = summaries.cumulative_impact(frame, "bed days saved", 110.2, 190.7)
    assert text == (
        "The estimated total of bed days saved grew from 12 in January 2024 to 151 by June 2024 "
        "(range 110 to 191)."
    )
    assert table["Month"].tolist() == ["January 2024", "June 2024"]
    nothing = summaries.cumulative_impact(frame.iloc[0:0], "falls avoided", 0, 0)[0]
    assert nothing == "No falls avoided estimated yet."
