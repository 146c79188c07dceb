"""The Portfolio page: its measures pinned on a hand-made dataset, its view on every demo programme, and
the page itself in AppTest (numbers equal the measures engine's; the icon grid equals measure_analysis)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from qidash import analysis, db, icons, measures, scenarios, spc
from qidash import models as m
from qidash.scope import Scope
from qidash.views import portfolio as pf
from tests.support import demo_engine

AS_OF = dt.date(2024, 6, 30)
PAGE_SIZE = 12  # small multiples per page (app_pages/portfolio.py)


# --- a hand-made programme ----------------------------------------------------------------------------------


def months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, day = [], first
    while day <= last:
        out.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


@pytest.fixture(scope="module")
def small(backend, databases):
    """Six projects around 30 June 2024 (see each one's comment), on SQLite and on PostgreSQL."""
    engine = databases.new(backend)
    with Session(engine) as s:
        north, south = m.Locality(code="N", name="North"), m.Locality(code="S", name="South")
        s.add_all([north, south])
        s.flush()
        p1 = m.Pcn(code="P1", name="PCN one", locality_id=north.id)
        p2 = m.Pcn(code="P2", name="PCN two", locality_id=south.id)
        s.add_all([p1, p2])
        s.flush()
        home = m.Organisation(
            ods_code="A", name="Home A", kind="care_home_nursing", sector="independent", pcn_id=p1.id
        )
        practice = m.Organisation(
            ods_code="B", name="Practice B", kind="gp_practice", sector="nhs", pcn_id=p2.id
        )
        falls, uti = m.Priority(code="FALLS", name="Falls"), m.Priority(code="UTI", name="UTIs")
        s.add_all([home, practice, falls, uti])
        s.flush()

        def project(code, lead, priority, start, status="active", end=None, pcn=None):
            p = m.Project(
                code=code,
                title=f"Project {code}",
                priority_id=priority.id,
                lead_organisation_id=lead.id,
                start_date=start,
                status=status,
                end_date=end,
                pcn_id=pcn,
            )
            s.add(p)
            s.flush()
            return p

        def measure(p, values, first=dt.date(2023, 1, 1), chart="run", improvement="increase"):
            mm = m.Measure(
                project_id=p.id, code="M1", name=f"Measure of {p.code}", chart=chart, improvement=improvement
            )
            s.add(mm)
            s.flush()
            for day, v in zip(months(first, dt.date(2030, 1, 1)), values, strict=False):
                s.add(m.Observation(measure_id=mm.id, period=day, value=v))
            return mm

        # X1: active, measured to June 2024 with a clear rise (improving), scored 3.5 then 4.0.
        x1 = project("X1", home, falls, dt.date(2023, 1, 1), pcn=p1.id)
        measure(x1, [10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 11, 9, 20, 21, 19, 22, 20, 21])
        s.add_all(
            [
                m.ProgressScore(project_id=x1.id, scored_on=dt.date(2024, 1, 1), score=3.5),
                m.ProgressScore(project_id=x1.id, scored_on=dt.date(2024, 5, 1), score=4.0),
            ]
        )
        # X2: active, last observation on 1 April 2024 exactly 90 days before the date: stale.
        x2 = project("X2", home, falls, dt.date(2023, 1, 1))
        measure(x2, [5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6], first=dt.date(2023, 1, 1))
        s.add(m.ProgressScore(project_id=x2.id, scored_on=dt.date(2024, 3, 1), score=2.0))
        # X3: led by the practice with the home as partner, completed in January 2024.
        x3 = project("X3", practice, uti, dt.date(2023, 6, 1), status="completed", end=dt.date(2024, 1, 31))
        s.add(m.ProjectPartner(project_id=x3.id, organisation_id=home.id))
        # X4: starts after the date, so not in the portfolio yet.
        project("X4", practice, uti, dt.date(2024, 8, 1))
        # X5: active with no measure, but a score in April 2024: not stale.
        x5 = project("X5", practice, uti, dt.date(2023, 1, 1))
        s.add(m.ProgressScore(project_id=x5.id, scored_on=dt.date(2024, 4, 15), score=1.5))
        # X6: still recorded active but its end date has passed: "ended", so never stale.
        project("X6", practice, uti, dt.date(2023, 1, 1), end=dt.date(2024, 3, 31))
        s.flush()
        analysis.rebuild_measure_analysis(s)
        db.bump_data_version(s)
        s.commit()
    yield engine
    databases.drop(engine)


def ids(conn, *codes) -> set[int]:
    return set(conn.scalars(select(m.Project.id).where(m.Project.code.in_(codes))))


def test_stale_projects_pinned(small):
    with small.connect() as conn:
        assert measures.stale_project_ids(conn, Scope(), AS_OF) == ids(conn, "X2")
        assert measures.projects_stale(conn, Scope(), AS_OF) == 1
        assert measures.stale_project_ids(conn, Scope(pcn="P2"), AS_OF) == set()  # X2 is led from P1
        # A day earlier X2's April observation is inside the 90 days.
        assert measures.stale_project_ids(conn, Scope(), AS_OF - dt.timedelta(days=1)) == set()
        # One project checked alone (the Project page) agrees, whatever the scope.
        (x1,), (x2,) = ids(conn, "X1"), ids(conn, "X2")
        assert measures.is_stale(conn, x2, AS_OF) and not measures.is_stale(conn, x1, AS_OF)
        assert not measures.is_stale(conn, x2, AS_OF - dt.timedelta(days=1))


def test_portfolio_projects_pinned(small):
    with small.connect() as conn:
        rows = {r["code"]: r for r in measures.portfolio_projects(conn, Scope(), AS_OF)}
    assert list(rows) == ["X1", "X2", "X3", "X5", "X6"]
    assert {c: r["status"] for c, r in rows.items()} == {
        "X1": "active",
        "X2": "active",
        "X3": "completed",
        "X5": "active",
        "X6": "ended",
    }
    assert {c: r["latest_score"] for c, r in rows.items()} == {
        "X1": 4.0,
        "X2": 2.0,
        "X3": None,
        "X5": 1.5,
        "X6": None,
    }
    assert rows["X1"]["scored_on"] == dt.date(2024, 5, 1)
    assert [c for c, r in rows.items() if r["stale"]] == ["X2"]
    assert rows["X1"]["measures"] == 1 and rows["X5"]["measures"] == 0
    assert rows["X1"]["last_observation"] == dt.date(2024, 6, 1) and rows["X2"][
        "last_observation"
    ] == dt.date(2024, 4, 1)
    assert rows["X1"]["pcn"] == "P1" and rows["X2"]["pcn"] is None
    with small.connect() as conn:  # a project is in a PCN's scope through its lead or a partner
        assert [r["code"] for r in measures.portfolio_projects(conn, Scope(pcn="P1"), AS_OF)] == [
            "X1",
            "X2",
            "X3",
        ]


def test_portfolio_view_pinned(small):
    with small.connect() as conn:
        view = pf.portfolio_data(conn, Scope(), AS_OF)
        assert set(view.projects[view.projects["improving"]]["id"]) == measures.improving_project_ids(
            conn, Scope(), AS_OF
        )
    top = pf.headline(view.projects, view.measures)
    assert top == {
        "projects": 5,
        "active": 3,
        "completed": 1,
        "improving": 1,
        "stale": 1,
        "progress_ge_3": 1,
        "progress_ge_4": 1,
        "measures": 2,
        "improvement_icons": 1,
        "improved_since_baseline": 0,
        "concern_icons": 0,
    }
    x1 = view.measures[view.measures["project"] == "X1"].iloc[0]
    assert x1["variation_icon"] == "improvement_high" and x1["rank"] == 0
    projects, rows = pf.filtered(view, "FALLS", None, "stale")
    assert list(projects["code"]) == ["X2"] and list(rows["project"]) == ["X2"]
    projects, rows = pf.filtered(view, None, "active", "improving")
    assert list(projects["code"]) == ["X1"]


def test_a_scope_with_no_project_gives_an_empty_portfolio(small):
    # No organisation of this kind: nothing started, no measure (a filter a user can choose).
    with small.connect() as conn:
        view = pf.portfolio_data(conn, Scope(kind="hospice"), AS_OF)
    assert view.projects.empty and view.measures.empty
    assert pf.headline(view.projects, view.measures)["projects"] == 0


def test_an_earlier_date_reanalyses_only_the_data_it_had(small):
    day = dt.date(2023, 10, 31)  # before X1's rise
    with small.connect() as conn:
        view = pf.portfolio_data(conn, Scope(), day)
        x1 = view.measures[view.measures["project"] == "X1"].iloc[0]
        assert x1["reanalysed"] and x1["n_points"] == 10 and not x1["improving"]
        results = pf.chart_results(conn, (int(x1["measure_id"]),), day)
    assert results[int(x1["measure_id"])]["periods"][-1] == "2023-10-01"


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_view_read_in_bulk_is_the_measures_engines_rows(any_demo, scenario):
    # The page reads projects and measures as plain rows into its tables; they must be what
    # portfolio_projects and measure_analyses give, one measure re-analysed where the date needs it.
    with any_demo(scenario).connect() as conn:
        latest = measures.default_as_of(conn)
        for day in (latest, latest - dt.timedelta(days=365)):
            view = pf.portfolio_data(conn, Scope(), day)
            projects = measures.portfolio_projects(conn, Scope(), day)
            pd.testing.assert_frame_equal(
                view.projects[pf.PROJECT_COLUMNS], pd.DataFrame(projects, columns=pf.PROJECT_COLUMNS)
            )
            analyses = measures.measure_analyses(conn, Scope(), day, with_result=False)
            stored = {r["measure_id"]: r for r in analyses}
            rows = view.measures.set_index("measure_id")
            assert set(rows.index) <= set(stored)
            later = pf.chart_results(conn, tuple(int(i) for i in rows.index[rows["reanalysed"]]), day)
            assert rows["reanalysed"].any() == (day < latest)
            for mid, row in rows.iterrows():
                want = stored[mid]
                got = {k: None if pd.isna(v) else v for k, v in row.items()}
                assert (got["project"], got["code"], got["target"]) == (
                    want["project"],
                    want["code"],
                    want["target"],
                )
                if got["reanalysed"]:
                    assert want["last_period"] > day >= got["last_period"]
                    assert got["variation_icon"] == spc.chart_variation_icon(later[mid])
                    assert got["n_points"] == len(later[mid]["periods"])
                    continue
                assert [got[k] for k in ("improving", "concern", "signal", "n_points")] == [
                    want[k] for k in ("improving", "concern", "signal", "n_points")
                ]
                assert (got["variation_icon"], got["assurance_icon"]) == (
                    want["chart_variation_icon"],
                    want["chart_assurance_icon"],
                )
            missing = set(stored) - set(rows.index)  # measures with no observation by the date
            assert all(stored[mid]["last_period"] > day for mid in missing)


def test_icon_grid_holds_each_image_once_and_each_row_its_measures_icons():
    with demo_engine("cornwall").connect() as conn:
        view = pf.portfolio_data(conn, Scope(), measures.default_as_of(conn))
    rows = view.measures
    grid = pf.icon_grid(rows)
    assert list(grid["Project"]) == list(rows["project"]) and len(grid) > 50
    assert list(grid["Variation"]) == [icons.variation_uri(i) for i in rows["variation_icon"]]
    assert list(grid["Assurance"]) == [icons.assurance_uri(i) for i in rows["assurance_icon"]]
    assert list(grid["Variation in words"]) == [icons.variation_label(i) for i in rows["variation_icon"]]
    # A few images, whatever the number of measures (kilobytes each: not copied into every row).
    assert len(grid["Variation"].cat.categories) == len(set(grid["Variation"])) <= len(icons.VARIATION) + 1
    assert len(grid["Assurance"].cat.categories) == len(set(grid["Assurance"])) <= len(icons.ASSURANCE) + 1


# --- every demo programme ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_view_agrees_with_the_measures_engine(any_demo, scenario):
    engine = any_demo(scenario)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        for day in (as_of, as_of - dt.timedelta(days=365)):
            report = measures.report(conn, Scope(), day)
            view = pf.portfolio_data(conn, Scope(), day)
            top = pf.headline(view.projects, view.measures)
            assert top["projects"] == sum(report["projects_by_priority"].values())
            assert top["active"] == report["projects_active"]
            assert top["completed"] == report["projects_completed"]
            assert top["improving"] == report["projects_improving"]
            assert top["stale"] == report["projects_stale"]
            assert top["progress_ge_3"] == report["projects_progress_ge_3"]
            assert top["progress_ge_4"] == report["projects_progress_ge_4"]
            assert len(measures.stale_project_ids(conn, Scope(), day)) == report["projects_stale"]


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_stored_chart_icons_are_those_of_the_stored_result(any_demo, scenario):
    # The Portfolio reads these instead of every result; the Project page draws from the result.
    ma = m.MeasureAnalysis
    with any_demo(scenario).connect() as conn:
        rows = conn.execute(
            select(ma.result, m.Measure.target, ma.chart_variation_icon, ma.chart_assurance_icon).join(
                m.Measure, m.Measure.id == ma.measure_id
            )
        ).all()
    assert rows
    for result, target, variation, assurance in rows:
        assert variation == spc.chart_variation_icon(result)
        assert assurance == spc.chart_assurance_icon(result, target)
    assert any(v and v.startswith("improvement") for _, _, v, _ in rows)


def stored_improvement_icons(conn, scope: Scope, as_of: dt.date) -> tuple[int, int]:
    """(measures whose icon is improvement, measures improving) straight from measure_analysis."""
    ma = m.MeasureAnalysis
    started = select(m.Project.id).where(m.Project.start_date <= as_of, scope.project_condition())
    rows = conn.execute(
        select(ma.ruleset, ma.variation_icon, ma.improving, ma.result, ma.last_period)
        .join(m.Measure, m.Measure.id == ma.measure_id)
        .where(m.Measure.project_id.in_(started))
    ).all()
    assert all(last <= as_of for *_, last in rows), "the default date covers every stored analysis"
    icons = [
        icon if ruleset == "nhs" else spc.chart_variation_icon(result)
        for ruleset, icon, _, result, _ in rows
    ]
    return sum(1 for i in icons if i and i.startswith("improvement")), sum(1 for r in rows if r.improving)


def open_tab(at, label: str):
    """Switch the page's tabs to ``label`` (as a click does: only the open tab is built) and rerun."""
    at.session_state["portfolio_tab"] = label
    return at.run()


def test_only_the_open_tab_is_built():
    from tests.support import no_exceptions, open_page, plotly_specs

    at = open_page("portfolio", "cornwall")
    no_exceptions(at)
    columns = [set(d.value.columns) for d in at.dataframe]
    # The icon grid opens first: no small multiple and no project list yet.
    assert any("Variation" in c for c in columns) and not any("Latest score" in c for c in columns)
    assert len(plotly_specs(at)) == 2 and not list(at.get("page_link"))
    open_tab(at, "Project list")
    no_exceptions(at)
    columns = [set(d.value.columns) for d in at.dataframe]
    assert any("Latest score" in c for c in columns) and not any("Variation" in c for c in columns)
    assert len(plotly_specs(at)) == 2


def every_grid_page(at) -> pd.DataFrame:
    """The icon grid's rows, page after page (a page holds pf.ROWS_PER_PAGE); back on the first page."""
    def grid():
        return next(d.value for d in at.dataframe if "Variation" in d.value.columns)

    if not [s for s in at.selectbox if s.key == "icon_grid_page"]:
        return grid()
    pages = []
    for page in at.selectbox(key="icon_grid_page").options:
        at.selectbox(key="icon_grid_page").set_value(len(pages)).run()
        pages.append(grid())
        assert len(pages[-1]) <= pf.ROWS_PER_PAGE, page
    at.selectbox(key="icon_grid_page").set_value(0).run()
    return pd.concat(pages, ignore_index=True)


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_page_for_every_programme(scenario):
    from tests.support import no_exceptions, open_page, plotly_specs

    at = open_page("portfolio", scenario)
    no_exceptions(at)
    engine = demo_engine(scenario)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        report = measures.report(conn, Scope(), as_of)
        improvement_icons, improving = stored_improvement_icons(conn, Scope(), as_of)
        n_measures = len(measures.measure_analyses(conn, Scope(), as_of))
    metric = {mt.label: mt.value for mt in at.metric}
    assert metric["Projects improving"] == f"{report['projects_improving']:,}"
    assert metric["Stale projects"] == f"{report['projects_stale']:,}"
    assert metric["Scored 3.0 or more"] == f"{report['projects_progress_ge_3']:,}"
    assert metric["Measures charted"] == f"{n_measures:,}"
    # The tile's words agree in number with the count (fylde has exactly one such measure).
    showing = (
        "1 measure shows improvement at its latest point"
        if improvement_icons == 1
        else f"{improvement_icons:,} measures show improvement at their latest point"
    )
    assert any(c.value.startswith(showing + " · ") for c in at.caption)
    grid = every_grid_page(at)
    assert len(grid) == n_measures
    assert grid["Variation"].str.startswith("data:image/svg+xml").all()
    # The grid's improvement icons are the stored analysis's, and each belongs to an improving measure.
    shown = int(grid["Variation in words"].str.startswith("Improvement").sum())
    assert shown == improvement_icons <= improving
    # Two portfolio charts and, on the Charts tab, a first page of small multiples, improving first.
    open_tab(at, "Charts")
    no_exceptions(at)
    assert len(plotly_specs(at)) == 2 + min(PAGE_SIZE, n_measures)
    links = list(at.get("page_link"))
    assert len(links) == min(PAGE_SIZE, n_measures)


def test_icon_grid_follows_the_sidebar_scope(app_database):
    from tests.support import no_exceptions, open_page

    engine = app_database("cornwall")
    at = open_page("portfolio", "cornwall", locality="EAST")
    no_exceptions(at)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        improvement_icons, _ = stored_improvement_icons(conn, Scope(locality="EAST"), as_of)
        scoped = len(measures.measure_analyses(conn, Scope(locality="EAST"), as_of))
        whole = len(measures.measure_analyses(conn, Scope(), as_of))
    shown = next(d for d in at.dataframe if "Variation" in d.value.columns)
    grid = shown.value
    assert len(grid) == scoped < whole
    # every icon is shown beside its name in words, never alone
    order = list(shown.proto.column_order)
    assert order[order.index("Variation") + 1] == "Variation in words"
    assert order[order.index("Assurance") + 1] == "Assurance in words"
    assert int(grid["Variation in words"].str.startswith("Improvement").sum()) == improvement_icons


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "active"}, "projects_active"),
        ({"show": "stale"}, "projects_stale"),
        ({"priority": "FALLS"}, "FALLS"),
    ],
)
def test_page_filters(params, expected):
    from tests.support import no_exceptions, open_page

    at = open_page("portfolio", "cornwall", **params)
    no_exceptions(at)
    with demo_engine("cornwall").connect() as conn:
        report = measures.report(conn, Scope(), measures.default_as_of(conn))
    want = report["projects_by_priority"][expected] if expected == "FALLS" else report[expected]
    assert next(mt.value for mt in at.metric if mt.label == "Projects") == f"{want:,}"
    open_tab(at, "Project list")
    no_exceptions(at)
    table = next(d.value for d in at.dataframe if "Latest score" in d.value.columns)
    assert len(table) == want


def test_small_multiples_page_through_every_measure():
    from tests.support import no_exceptions, open_page, plotly_specs

    at = open_page("portfolio", "fylde")
    measures_shown = len(next(d.value for d in at.dataframe if "Variation" in d.value.columns))
    open_tab(at, "Charts")
    pages = at.selectbox(key="chart_page")
    assert len(pages.options) == -(-measures_shown // PAGE_SIZE)
    pages.set_value(len(pages.options) - 1).run()
    no_exceptions(at)
    assert 2 < len(plotly_specs(at)) <= 2 + PAGE_SIZE


def test_a_long_icon_grid_or_project_list_is_sent_a_page_at_a_time(monkeypatch):
    from tests.support import no_exceptions, open_page

    monkeypatch.setattr(pf, "ROWS_PER_PAGE", 20)
    at = open_page("portfolio", "cornwall")
    no_exceptions(at)
    with demo_engine("cornwall").connect() as conn:
        as_of = measures.default_as_of(conn)
        view = pf.portfolio_data(conn, Scope(), as_of)
    projects, rows = pf.filtered(view, None, None, "all")
    first = next(d.value for d in at.dataframe if "Variation" in d.value.columns)
    assert first["Project"].tolist() == rows["project"].head(20).tolist()
    pager = at.selectbox(key="icon_grid_page")
    assert pager.options[0] == f"1–20 of {len(rows)}" and len(pager.options) == -(-len(rows) // 20)
    pager.set_value(2).run()
    third = next(d.value for d in at.dataframe if "Variation" in d.value.columns)
    assert third["Measure"].tolist() == rows["name"].iloc[40:60].tolist()
    open_tab(at, "Project list")
    listed = next(d.value for d in at.dataframe if "Latest score" in d.value.columns)
    assert len(listed) == 20 and len(projects) > 20
    at.selectbox(key="project_list_page").set_value(1).run()
    second = next(d.value for d in at.dataframe if "Latest score" in d.value.columns)
    whole = pf.project_table(projects, view.priorities)
    assert second["Project"].tolist() == whole["Project"].iloc[20:40].tolist()


def test_the_view_is_shared_between_runs_and_never_changed_by_the_page(monkeypatch):
    """The page reads its view from a cache that hands out the object itself (no copy per run): it is
    built once, every run gets that one object, and every filter, tab and pager the page has leaves it
    as the database gives it."""
    from qidash.ui import data
    from tests.support import no_exceptions, open_page

    built, original = [], pf.portfolio_data

    def probe(conn, scope, as_of):
        built.append(original(conn, scope, as_of))
        return built[-1]

    probe.__qualname__ = "shared_view_probe"  # a cache key of its own, so this test builds it
    monkeypatch.setattr(pf, "portfolio_data", probe)
    engine = demo_engine("cornwall")
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        fresh = original(conn, Scope(), as_of)
    at = open_page("portfolio", "cornwall")
    for key, value in (("priority", "FALLS"), ("status", "active"), ("show", "improving")):
        at.session_state[key] = value
        at.run()
        no_exceptions(at)
    for label in ("Charts", "Project list", "Impact"):
        open_tab(at, label)
        no_exceptions(at)
    (shared,) = built
    assert data.shared_query(engine, probe, Scope(), as_of) is shared  # the object itself, not a copy
    pd.testing.assert_frame_equal(shared.projects, fresh.projects)
    pd.testing.assert_frame_equal(shared.measures, fresh.measures)
    assert shared.priorities == fresh.priorities
