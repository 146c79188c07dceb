"""AppTest of the Overview page: its numbers are the measures engine's, under several filters."""

import datetime as dt
import json

import pytest

from qidash import db, measures, scenarios
from qidash.scope import Scope
from tests.support import no_exceptions, open_page, plotly_specs


def engine_of(scenario: str):
    return db.make_engine(db.demo_url(scenario))


def metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_overview_renders_real_numbers_for_every_scenario(app_database, scenario):
    engine = app_database(scenario)
    at = open_page(None, scenario)
    no_exceptions(at)
    with engine.connect() as conn:
        report = measures.report(conn, Scope(), measures.default_as_of(conn))
    assert metric(at, "People trained").value == f"{report['people_trained']:,}"
    assert metric(at, "Projects active").value == f"{report['projects_active']:,}"
    assert metric(at, "Organisations trained").value == (
        f"{report['orgs_trained']:,} of {report['orgs_in_scope']:,}"
    )
    # Improving is out of the projects started (any status), never a bare count beside "active".
    started = sum(report["projects_by_priority"].values())
    assert metric(at, "Projects improving").value == f"{report['projects_improving']:,} of {started:,}"
    assert len(plotly_specs(at)) >= 2


def test_overview_follows_the_locality_filter(app_database):
    engine = app_database("cornwall")
    at = open_page(None, "cornwall", locality="EAST", kind="care_home")
    no_exceptions(at)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        report = measures.report(conn, Scope(locality="EAST", kind="care_home"), as_of)
        whole = measures.report(conn, Scope(), as_of)
    assert metric(at, "People trained").value == f"{report['people_trained']:,}"
    assert report["people_trained"] < whole["people_trained"]
    # A locality has no system target: the tile says so rather than showing the system's.
    assert metric(at, "Reach against target").value == "No target"


def test_overview_as_of_date_from_the_url():
    at = open_page(None, "somerset", as_of="2018-12-31")
    no_exceptions(at)
    with engine_of("somerset").connect() as conn:
        report = measures.report(conn, Scope(), dt.date(2018, 12, 31))
    assert metric(at, "People trained").value == f"{report['people_trained']:,}"
    assert metric(at, "Reach against target").value.endswith("/ 1,000")


def test_a_link_asking_for_a_filter_value_this_programme_lacks_says_so_and_shows_everything():
    from streamlit.testing.v1 import AppTest

    from tests.support import ROOT, TIMEOUT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["scenario"] = "nw_surrey"  # NHS, council and VCSE organisations: no independent sector
    at.query_params["sector"] = "independent"
    at.query_params["locality"] = "WOKING"
    at.run()
    no_exceptions(at)
    warnings = [w.value for w in at.sidebar.warning]
    assert warnings == [
        'The link asked for sector "independent", which is not here; showing All sectors instead.'
    ]
    assert "locality Woking" in at.caption[0].value  # the locality the link asked for still applies
    assert at.query_params.get("sector") is None
    at.run()  # the next run is not from the link: nothing more to say
    assert not at.sidebar.warning


def test_reach_chart_draws_the_target_star_on_top_with_its_label_clear_of_the_line():
    """The projection can end on the target: the star is drawn after it, its label above and to the
    left (a line arrives from below), not clipped at the plot's edge."""
    import pandas as pd

    from qidash import charts

    reach = pd.DataFrame({"day": [dt.date(2023, 1, 1), dt.date(2023, 6, 1)], "cumulative": [10, 50],
                          "patients_cumulative": [0, 2]})
    target = {"target_value": 100, "due_on": "2024-01-01", "people_trained": 50, "projected_at_due": 100}
    fig = charts.reach_vs_target(reach, target, dt.date(2023, 6, 30))
    names = [t.name for t in fig.data]
    assert names == ["People trained", "of whom patients", "Projection at recent rate", "Target"]
    star = fig.data[-1]
    assert star.textposition == "top left" and star.cliponaxis is False
    assert list(star.y) == [100] and star.text == ("Target 100",)


def test_sectors_side_by_side_are_percentages_of_a_stated_number_of_organisations():
    """One axis, one kind of number: each bar is a percentage of the sector's organisations and says of
    how many; densities (per 10 beds, per 100 staff) are not drawn on the same axis."""
    from qidash import charts

    sectors = {
        # 20 NHS organisations: 19 offered, 1 engaged, 1 trained, 2 with a project.
        "nhs": {"orgs_in_scope": 20, "orgs_offered": 19, "orgs_engaged": 1, "orgs_trained": 1,
                "orgs_with_project": 2, "trained_per_10_beds": None, "trained_per_100_staff": 0.2},
        # 86 independent: 86 offered, 65 engaged, 58 trained, 8 with a project.
        "independent": {"orgs_in_scope": 86, "orgs_offered": 86, "orgs_engaged": 65, "orgs_trained": 58,
                        "orgs_with_project": 8, "trained_per_10_beds": 1.04, "trained_per_100_staff": 7.6},
    }
    fig = charts.sector_side_by_side(sectors, {"nhs": "NHS", "independent": "Independent"})
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"NHS (20 organisations)", "Independent (86 organisations)"}
    stages = ["With an active project", "Someone trained in post", "Engaged", "Offered training"]
    nhs, independent = by_name["NHS (20 organisations)"], by_name["Independent (86 organisations)"]
    assert list(nhs.y) == list(independent.y) == stages  # no density among the categories
    assert list(nhs.text) == ["10% of 20", "5% of 20", "5% of 20", "95% of 20"]  # 2/20, 1/20, 1/20, 19/20
    assert list(independent.text) == ["9% of 86", "67% of 86", "76% of 86", "100% of 86"]  # 8, 58, 65, 86
    assert all(0 <= x <= 100 for t in fig.data for x in t.x)
    assert fig.layout.xaxis.title.text.startswith("%")


def test_overview_sector_table_keeps_the_densities(app_database):
    app_database("cornwall")
    at = open_page(None, "cornwall")
    no_exceptions(at)
    specs = plotly_specs(at)
    sectors = next(s for s in specs if any(str(t.get("name", "")).startswith("NHS (") for t in s["data"]))
    assert all(" of " in text for t in sectors["data"] for text in t["text"])
    table = next(t.value for t in at.table if "Trained per 10 beds" in t.value.index)
    assert "Trained per 100 staff" in table.index and list(table.columns) == ["NHS", "Independent"]
    assert not at.dataframe  # no interactive table on the first view: its component is not fetched


def test_the_coverage_chart_draws_the_lowest_areas_and_its_numbers_list_all(monkeypatch):
    from qidash.views import overview as overview_view

    monkeypatch.setattr(overview_view, "MAX_AREAS", 2)
    at = open_page(None, "cornwall")
    no_exceptions(at)
    with db.make_engine(db.demo_url("cornwall")).connect() as conn:
        view = overview_view.overview_data(conn, Scope(), measures.default_as_of(conn))
    coverage = view.coverage_by_locality
    assert len(coverage) > 2
    lowest = coverage.sort_values("coverage_pct", kind="stable").head(2)
    (bars,) = next(json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart") if c.key == "coverage")
    assert sorted(bars["y"]) == sorted(lowest["name"])
    said = (
        "The chart shows the 2 localities with the lowest coverage; the numbers behind it list all "
        f"{len(coverage)}."
    )
    assert said in [c.value for c in at.caption]
    at.session_state["coverage_numbers_open"] = True
    at.run()
    opened = [e for e in at.expander if e.label == "Numbers behind this chart" and e.dataframe]
    (numbers,) = [e.dataframe[0].value for e in opened]
    assert len(numbers) == len(coverage)


def test_the_second_row_is_built_when_its_tab_is_opened(app_database):
    """Below the fold, NHS and independent settings and projects improving by priority are lazy tabs:
    a first view draws the first (and not the other's chart); opening the other draws its chart."""
    from tests.support import open_section

    engine = app_database("cornwall")
    with engine.connect() as conn:
        report = measures.report(conn, Scope(), measures.default_as_of(conn))
    at = open_page(None, "cornwall")
    no_exceptions(at)
    assert [t.label for t in at.tabs] == ["NHS and independent settings", "Projects improving, by priority"]
    keys = [c.key for c in at.get("plotly_chart")]
    assert keys == ["reach", "coverage", "sectors"]
    assert "Projects improving, by priority" not in [h.value for h in at.subheader]
    open_section(at, "overview_tab", "Projects improving, by priority")
    no_exceptions(at)
    assert [c.key for c in at.get("plotly_chart")] == ["reach", "coverage", "priorities"]
    assert "Projects improving, by priority" in [h.value for h in at.subheader]
    (priorities,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == "priorities"]
    assert [t["name"] for t in priorities["data"]] == [
        "Improving (latest point or since baseline)", "Not (yet) showing improvement"
    ]
    started = sum(1 for n in report["projects_by_priority"].values() if n)
    assert len(priorities["data"][0]["y"]) == started
