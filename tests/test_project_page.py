"""The Project page: its view on the demo programmes (team privacy, partners, charts from the stored
analysis, annotations, data download) and the page in AppTest for every programme, from a pasted link."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from qidash import catalog, measures, scenarios, spc, spc_charts
from qidash import models as m
from qidash.scope import Scope
from qidash.views import project as pj
from tests.support import demo_engine, no_exceptions, open_page, open_section, plotly_specs

SECTIONS = ["Measures", "Progress score and story", "Organisations and team", "PDSA cycles and changes"]


def busiest_project(conn) -> str:
    """The project with the most measures, then the most changes (the richest page)."""
    measures_n = select(func.count()).where(m.Measure.project_id == m.Project.id).scalar_subquery()
    changes_n = select(func.count()).where(m.Change.project_id == m.Project.id).scalar_subquery()
    return (
        conn.execute(select(m.Project.code).order_by(measures_n.desc(), changes_n.desc(), m.Project.code))
        .scalars()
        .first()
    )


def test_person_shown_by_name_only_with_consent_and_to_faculty_or_admins():
    assert pj.person_shown("Ann Lee", True, "nurse", False, True) == "Ann Lee"
    assert pj.person_shown("Ann Lee", True, "nurse", False, False) == "Nurse"  # an executive or locality lead
    assert pj.person_shown("Ann Lee", False, "practice_manager", False, True) == "Practice manager"
    assert pj.person_shown(None, True, "gp", False, True) == "GP"  # no name to show: the role
    assert pj.person_shown("Bo", False, "nurse", True, True) == "Patient partner"
    assert pj.person_shown(None, False, None, False, True) == "Team member"


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_view_of_the_busiest_project(any_demo, scenario):
    with any_demo(scenario).connect() as conn:
        as_of = measures.default_as_of(conn)
        code = busiest_project(conn)
        view = pj.project_data(conn, code, as_of, can_see_people=True)
        anonymous = pj.project_data(conn, code, as_of)  # an executive's or a locality lead's view
        project = conn.execute(
            select(
                m.Project.id, m.Project.title, m.Project.lead_person_id, m.Project.lead_organisation_id
            ).where(m.Project.code == code)
        ).one()
        team = select(m.ProjectMember.person_id).where(m.ProjectMember.project_id == project.id)
        people = conn.execute(
            select(m.Person.id, m.Person.display_name, m.Person.consents_to_be_named).where(
                m.Person.id.in_(team) | (m.Person.id == project.lead_person_id)
            )
        ).all()
        n_partners = conn.execute(
            select(func.count()).where(
                m.ProjectPartner.project_id == project.id,
                m.ProjectPartner.organisation_id != project.lead_organisation_id,
            )
        ).scalar_one()
        n_changes = conn.execute(
            select(func.count()).where(m.Change.project_id == project.id, m.Change.changed_on <= as_of)
        ).scalar_one()
    assert view.about["title"] == project.title
    # Team: the lead person once, then members; a name only for those who consented.
    assert len(view.team) == len(people)
    named = {p.display_name for p in people if p.consents_to_be_named and p.display_name}
    hidden = {p.display_name for p in people if not p.consents_to_be_named and p.display_name} - named
    assert set(view.team["person"]) >= named and not set(view.team["person"]) & hidden
    assert not set(anonymous.team["person"]) & (named | hidden)
    assert len(anonymous.team) == len(view.team)
    assert (view.team["role"] == "lead").sum() == (1 if project.lead_person_id else 0)
    # Organisations: the lead, then its partners; cross-boundary is projects_cross_boundary's definition.
    assert view.organisations["role"].iloc[0] == "lead" and len(view.organisations) == 1 + n_partners
    spans = view.organisations["sector"].nunique() > 1 or view.organisations["kind"].nunique() > 1
    assert view.cross_boundary == spans
    assert len(view.changes) == n_changes
    assert view.scores["scored_on"].max() <= as_of if not view.scores.empty else True
    for measure in view.measures:
        result = measure["result"]
        assert len(result["periods"]) == len(result["y"]) and result["periods"][-1] <= as_of.isoformat()
        assert measure["variation_icon"] == spc.chart_variation_icon(result)
        # Each change that applies to the measure is one marker on its chart.
        fig = spc_charts.spc_chart(result, changes=measure["changes"], target=measure["target"])
        assert sum(len(t.x) for t in fig.data if t.yaxis == "y2") == len(measure["changes"])
        applies = view.changes[view.changes["measure"].isna() | (view.changes["measure"] == measure["code"])]
        assert len(measure["changes"]) == len(applies)


def test_a_rebase_starts_a_new_phase_on_the_chart(any_demo):
    with any_demo("nw_surrey").connect() as conn:
        as_of = measures.default_as_of(conn)
        code = (
            conn.execute(
                select(m.Project.code)
                .join(m.Change, m.Change.project_id == m.Project.id)
                .where(m.Change.kind == "rebase")
                .order_by(m.Project.code)
            )
            .scalars()
            .first()
        )
        view = pj.project_data(conn, code, as_of)
    phased = [mm for mm in view.measures if mm["result"]["phases"]]
    assert phased, "the rebase splits a measure's chart into phases"
    result = phased[0]["result"]
    fig = spc_charts.spc_chart(result, changes=phased[0]["changes"])
    n_phases = len(set(result["phases"]))
    assert len([t for t in fig.data if t.legendgroup == "cl"]) == n_phases
    assert len([s for s in fig.layout.shapes if s.line.dash == "dot"]) == n_phases - 1
    assert any(c["kind"] == "rebase" for c in phased[0]["changes"])


def test_download_table_is_the_chart_data(any_demo):
    with any_demo("fylde").connect() as conn:
        as_of = measures.default_as_of(conn)
        view = pj.project_data(conn, busiest_project(conn), as_of)
    result = view.measures[0]["result"]
    table = pj.download_table(result)
    assert list(table.columns) == ["period", "value", "denominator", "y", "cl", "lcl", "ucl", "point type"]
    assert len(table) == len(result["y"]) and list(table["y"]) == result["y"]


def test_an_earlier_date_cuts_the_charts_and_scores(any_demo):
    with any_demo("barnet").connect() as conn:
        as_of = measures.default_as_of(conn)
        code = busiest_project(conn)
        now = pj.project_data(conn, code, as_of)
        first = min(dt.date.fromisoformat(p) for mm in now.measures for p in mm["result"]["periods"])
        day = first + dt.timedelta(days=120)
        then = pj.project_data(conn, code, day)
        assert pj.project_data(conn, "NO-SUCH", as_of) is None
    assert all(p <= day.isoformat() for mm in then.measures for p in mm["result"]["periods"])
    assert sum(len(mm["result"]["y"]) for mm in then.measures) < sum(
        len(mm["result"]["y"]) for mm in now.measures
    )
    assert all(d <= day for d in then.scores["scored_on"]) and all(
        d <= day for d in then.changes["changed_on"]
    )


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_page_for_every_programme(scenario):
    with demo_engine(scenario).connect() as conn:
        code = busiest_project(conn)
        view = pj.project_data(conn, code, measures.default_as_of(conn))
    at = open_page("project", scenario, project=code)
    no_exceptions(at)
    assert at.selectbox(key="project").value == code
    assert at.header[0].value == view.about["title"]
    # The Measures section opens first: a chart per measure with data, and nothing of the other sections.
    charts = plotly_specs(at)
    assert len(charts) == len(view.measures)
    assert [t.label for t in at.tabs] == SECTIONS
    downloads = at.get("download_button")
    assert len(downloads) == len(view.measures)
    for measure, spec in zip(
        view.measures, charts[-len(view.measures) :] if view.measures else [], strict=True
    ):
        marks = [t for t in spec["data"] if t.get("yaxis") == "y2"]
        assert sum(len(t["x"]) for t in marks) == len(measure["changes"])
    metric = {mt.label: mt.value for mt in at.metric}
    assert (
        metric["Measures improving"]
        == f"{sum(mm['improving'] for mm in view.measures)} of {len(view.measures)}"
    )


def test_each_section_shows_its_content_when_opened():
    with demo_engine("cornwall").connect() as conn:
        code = busiest_project(conn)
        view = pj.project_data(conn, code, measures.default_as_of(conn))
    assert not view.scores.empty and len(view.changes) and len(view.team)
    at = open_page("project", "cornwall", project=code)
    no_exceptions(at)
    assert [h.value for h in at.subheader] == ["Measures"]
    assert not [d for d in at.dataframe if {"Organisation"} & set(d.value.columns)]  # not yet sent
    open_section(at, "project_tab", "Progress score and story")
    no_exceptions(at)
    assert [h.value for h in at.subheader] == ["Progress score history", "Quiet wins"]
    assert len(plotly_specs(at)) == 1  # the progress history, and no measure's chart
    open_section(at, "project_tab", "Organisations and team")
    no_exceptions(at)
    assert [h.value for h in at.subheader] == ["Organisations", "Team"] and not plotly_specs(at)
    organisations, team = (d.value for d in at.dataframe if {"Organisation"} & set(d.value.columns))
    assert len(organisations) == len(view.organisations) and len(team) == len(view.team)
    open_section(at, "project_tab", "PDSA cycles and changes")
    no_exceptions(at)
    (changes,) = (d.value for d in at.dataframe if "Title" in d.value.columns)
    assert changes["Title"].tolist() == view.changes["title"].tolist()
    # The project chosen stays chosen from section to section.
    assert at.selectbox(key="project").value == code


def test_pasted_link_opens_the_project():
    with demo_engine("nw_surrey").connect() as conn:
        codes = list(catalog.projects(conn, Scope(), measures.default_as_of(conn)))
    wanted = codes[-1]
    from streamlit.testing.v1 import AppTest

    from tests.support import ROOT, TIMEOUT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["scenario"] = "nw_surrey"
    at.query_params["project"] = wanted
    at.run()
    at.switch_page("app_pages/project.py").run()
    no_exceptions(at)
    assert at.selectbox(key="project").value == wanted
    assert at.query_params["project"] == wanted


def test_unknown_project_in_a_link_is_a_plain_message():
    from streamlit.testing.v1 import AppTest

    from tests.support import ROOT, TIMEOUT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["scenario"] = "barnet"
    at.query_params["project"] = "NO-SUCH"
    at.run()
    at.switch_page("app_pages/project.py").run()
    assert not at.exception
    assert any("NO-SUCH" in w.value for w in at.warning)
    with demo_engine("barnet").connect() as conn:
        codes = list(catalog.projects(conn, Scope(), measures.default_as_of(conn)))
    assert at.selectbox(key="project").value == codes[0]
    assert at.query_params["project"] == codes[0]  # the link now names the project shown


def test_choosing_another_project_updates_the_link(app_database):
    engine = app_database("barnet")
    with engine.connect() as conn:
        codes = list(catalog.projects(conn, Scope(), measures.default_as_of(conn)))
        titles = catalog.projects(conn)
    at = open_page("project", "barnet")
    assert at.selectbox(key="project").value == codes[0]
    at.selectbox(key="project").set_value(codes[-1]).run()
    no_exceptions(at)
    assert at.selectbox(key="project").value == codes[-1]
    assert at.query_params["project"] == codes[-1]
    assert titles[codes[-1]].endswith(at.header[0].value)


def test_filters_limit_the_projects_offered():
    at = open_page("project", "cornwall", locality="EAST")
    no_exceptions(at)
    with demo_engine("cornwall").connect() as conn:
        scoped = catalog.projects(conn, Scope(locality="EAST"), measures.default_as_of(conn))
    assert len(at.selectbox(key="project").options) == len(scoped)


def test_measure_summary_and_a_rebase_said_in_words(any_demo):
    with any_demo("cornwall").connect() as conn:
        as_of = measures.default_as_of(conn)
        code = (
            conn.execute(
                select(m.Project.code)
                .join(m.Change, m.Change.project_id == m.Project.id)
                .where(m.Change.kind == "rebase")
                .order_by(m.Project.code)
            )
            .scalars()
            .first()
        )
        view = pj.project_data(conn, code, as_of)
    phased = next(mm for mm in view.measures if mm["result"]["phases"])
    moved = spc_charts.phase_change(phased["result"])
    note = pj.phase_note(phased)
    assert note.startswith("The centre line moved from") and f"phase {moved['phases']}" in note
    assert ("better" in note) == bool(moved["better"])
    summary = pj.measure_summary(phased)
    assert f"{len(phased['result']['y'])} points" in summary
    single = next((mm for mm in view.measures if not mm["result"]["phases"]), None)
    assert single is None or pj.phase_note(single) is None
