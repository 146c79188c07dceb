"""One meaning of "improving" (DESIGN.md section 4), the ``portfolio`` command (section 7) and suggested
recalculations (docs/spc-rules.md, "When qidash suggests a recalculation"): hand-worked rules, then
every demo on both databases.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete, select

from qidash import analysis, auth, catalog, cli, db, measures, spc
from qidash import models as m
from qidash.scope import Scope
from qidash.views import overview, portfolio, project
from qidash.views import showcase as showcase_view

LOW = [45, 44, 46, 45, 44, 46, 45, 44, 46, 45, 44, 46]  # 12 points around 45


def stored(values, **kw) -> dict:
    """An engine result as measure_analysis keeps it, with monthly periods from January 2023."""
    out = spc.analyse(values, **kw).to_dict()
    out["periods"] = [dt.date(2023 + i // 12, i % 12 + 1, 1).isoformat() for i in range(len(values))]
    return out


def high(n: int) -> list[int]:
    return ([80, 79, 81] * 10)[:n]


# --- the suggestion rule, hand-worked -----------------------------------------------------------------------


def test_a_sustained_shift_right_after_a_change_is_suggested_where_it_starts():
    # Mean (12 x 45 + 14 x 80) / 26 = 63.8: the 14 points from index 12 are all above it.
    result = stored(LOW + high(14), kind="xmr")
    assert result["cl"][0] == pytest.approx((sum(LOW) + sum(high(14))) / 26)
    s = spc.suggest_recalculation(result, 12)
    assert s == {"start": 12, "run": 14, "points": 14, "side": 1, "improvement": True}
    down = spc.suggest_recalculation(stored(LOW + high(14), kind="xmr", improvement_direction="decrease"), 12)
    assert down["improvement"] is False  # a change for the worse is suggested too
    flat = spc.suggest_recalculation(stored(LOW + high(14), kind="xmr", improvement_direction="neutral"), 12)
    assert flat["improvement"] is None


def test_the_shift_must_begin_within_the_first_three_points_after_the_change():
    result = stored(LOW + high(14), kind="xmr")
    assert spc.suggest_recalculation(result, 10)["start"] == 12  # points 10, 11, 12: the shift is the third
    assert spc.suggest_recalculation(result, 9) is None  # points 9, 10, 11: the data moved later
    assert spc.suggest_recalculation(result, 14) is None  # the run began before the change


def test_a_suggestion_needs_twelve_points_from_the_shifts_start():
    assert spc.suggest_recalculation(stored(LOW + high(12), kind="xmr"), 12)["points"] == 12
    assert spc.suggest_recalculation(stored(LOW + high(11), kind="xmr"), 12) is None


def test_a_run_shorter_than_seven_or_broken_by_a_point_on_the_centre_line_is_no_shift():
    # 6 high, then back down: mean of LOW + 6 x 80 + 8 x 45 ... the 6 high points are the only run above.
    values = LOW + [80] * 6 + [45] * 8
    assert spc.suggest_recalculation(stored(values, kind="xmr"), 12) is None
    # Run chart of 12 lows and 14 highs where two values equal the median (79.5 is not a value: use 80, 79):
    # median of [45.. x12, 80 x7, 79 x7] is 79: the 79s are ON the line, so the highs never run to 7.
    on_line = stored(LOW + [80, 79] * 7, kind="run")
    assert on_line["cl"][0] == 79
    assert spc.suggest_recalculation(on_line, 12) is None


def test_no_suggestion_where_a_phase_already_starts_or_for_points_without_a_value():
    phased = stored(LOW + high(14), kind="xmr", phases=[0] * 12 + [1] * 14)
    assert spc.suggest_recalculation(phased, 12) is None
    gappy = stored(LOW + [None] + high(13), kind="xmr")  # the missing point neither starts nor breaks a run
    assert spc.suggest_recalculation(gappy, 12) == {
        "start": 13,
        "run": 13,
        "points": 13,
        "side": 1,
        "improvement": True,
    }


def test_the_suggestion_is_worded_and_caused_by_the_adopted_change_and_remembers_dismissals():
    result = stored(LOW + high(14), kind="xmr")
    changes = [
        {"day": "2023-11-20", "title": "PDSA: drinks trolley", "kind": "pdsa"},  # first point Dec: index 11
        {"day": "2023-12-01", "title": "Adopted: drinks trolley", "kind": "change"},  # index 11
        {"day": "2024-01-01", "title": "Old rebase", "kind": "rebase"},  # never a cause
    ]
    s = analysis.suggested_recalculation(result, changes)
    assert (s["start"], s["starts_on"], s["change"], s["changed_on"]) == (
        12,
        dt.date(2024, 1, 1),
        "Adopted: drinks trolley",
        dt.date(2023, 12, 1),
    )
    assert s["words"] == (
        "14 points above the mean since the change 'Adopted: drinks trolley' on 1 Dec 2023; 14 points since "
        "(in the improvement direction). Recalculating from Jan 2024 would give the new process its own "
        "centre line and limits."
    )
    assert analysis.suggested_recalculation(result, changes[:1])["change"] == "PDSA: drinks trolley"
    assert analysis.suggested_recalculation(result, changes, dismissed={dt.date(2024, 1, 1)}) is None
    assert analysis.suggested_recalculation(result, changes[2:]) is None


def test_improving_says_which_meaning_applies():
    assert analysis.improving_words(True, False) == "special cause improvement at the latest point"
    assert analysis.improving_words(False, True, "Sustained shift after 'X'", dt.date(2024, 3, 1)) == (
        "improved since baseline (recalculated at \u201cSustained shift after 'X'\u201d on 1 Mar 2024)"
    )
    both = analysis.improving_words(True, True, "Rebase", dt.date(2024, 3, 1))
    assert both.startswith("special cause improvement at the latest point; improved since baseline")
    assert analysis.improving_words(False, False) is None


def test_the_rebase_that_began_the_latest_phase_is_named():
    periods = [dt.date(2024, k, 1) for k in range(1, 7)]
    rebases = [
        (dt.date(2024, 2, 10), "early"),
        (dt.date(2024, 3, 15), "embedded"),
        (dt.date(2024, 4, 1), "same"),
    ]
    # The phase starting at April (index 3) began at a rebase after March 1 and on or before April 1.
    assert analysis.baseline_rebase(periods, 3, rebases) == (dt.date(2024, 4, 1), "same")
    assert analysis.baseline_rebase(periods, 3, rebases[:2]) == (dt.date(2024, 3, 15), "embedded")
    assert analysis.baseline_rebase(periods, 0, rebases) == (None, None)


# --- every demo, both databases ----------------------------------------------------------------------

SCENARIOS = ("barnet", "cornwall", "fylde", "nw_surrey", "somerset")


def _scopes(conn) -> list[Scope]:
    localities = list(catalog.localities(conn))
    scopes = [Scope(), Scope(sector="independent"), Scope(sector="nhs")]
    if localities:
        scopes.append(Scope(locality=localities[0]))
    return scopes


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_portfolio_overview_icons_and_showcase_agree_on_improving(any_demo, scenario):
    engine = any_demo(scenario)
    with engine.connect() as conn:
        latest = measures.default_as_of(conn)
        for scope in _scopes(conn):
            for as_of in (latest, measures.year_before(latest), dt.date(latest.year - 2, 6, 30)):
                report = portfolio.portfolio_report(conn, scope, as_of)
                marked = {p["code"] for p in report["projects"] if p["improving"]}
                for p in report["projects"]:  # a project improves exactly when one of its measures does
                    assert p["improving"] == any(
                        mm["variation"] == "improvement" or mm["improved_since_baseline"]
                        for mm in p["measures"]
                    ), p["code"]
                counted = measures.report(conn, scope, as_of, ["projects_improving"])["projects_improving"]
                assert counted == len(marked), (scope, as_of)
                page = portfolio.portfolio_data(conn, scope, as_of)
                assert set(page.projects.loc[page.projects["improving"], "code"]) == marked
                # The icon grid says why each improving measure is: never a grey icon left unexplained.
                rows = page.measures
                for r in rows.itertuples():
                    icon_says = (
                        (r.variation_icon or "").startswith("improvement")
                        if isinstance(r.variation_icon, str)
                        else False
                    )
                    assert r.improving == (icon_says or r.improved_since_baseline)
                    assert isinstance(r.improving_reason, str) == r.improving
                choices = showcase_view.project_choices(conn, scope, as_of)
                assert {c.code for c in choices if c.sustained} == marked
            view = overview.overview_data(conn, scope, latest)
            assert view.now["projects_improving"] == len(
                [p for p in portfolio.portfolio_report(conn, scope, latest)["projects"] if p["improving"]]
            )
            assert view.now["projects_improving"] <= view.now["projects_started"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_measure_with_a_direction_has_a_no_direction_point(any_demo, scenario):
    engine = any_demo(scenario)
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.Measure.improvement, m.MeasureAnalysis.result).join(
                m.MeasureAnalysis, m.MeasureAnalysis.measure_id == m.Measure.id
            )
        ).all()
    assert rows
    for improvement, result in rows:
        if improvement in ("increase", "decrease"):
            assert not any(t and "neutral" in t for t in spc.point_types(result))


def test_the_portfolio_command_prints_the_designed_json(any_demo, capsys):
    engine = any_demo("cornwall")
    url = engine.url.render_as_string(hide_password=False)
    assert cli.main(["portfolio", "--db", url, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"projects"} and out["projects"]
    for p in out["projects"]:
        assert set(p) == {"code", "title", "status", "improving", "measures"}
        for mm in p["measures"]:
            assert set(mm) == {"code", "chart", "variation", "assurance", "improved_since_baseline"}
            assert mm["variation"] in ("improvement", "concern", "common_cause", "neither", None)
            assert mm["assurance"] in ("pass", "fail", "hit_or_miss", None)
    assert cli.main(["measures", "--db", url]) == 0
    counted = json.loads(capsys.readouterr().out)["projects_improving"]
    assert counted == sum(p["improving"] for p in out["projects"])
    # CW-QI021: its single centre line ran across a move from about 45% to 80%; the team recalculated.
    qi021 = next(p for p in out["projects"] if p["code"] == "CW-QI021")
    assert qi021["improving"] and any(mm["improved_since_baseline"] for mm in qi021["measures"])
    assert cli.main(["portfolio", "--db", url, "--format", "table", "--locality", "NOWHERE"]) == 2
    assert "Unknown locality" in capsys.readouterr().err


# --- accepting and dismissing a suggestion ------------------------------------------------------------


def _without_the_demo_rebase(engine, project_code: str, measure_code: str) -> int:
    """Take back the rebase the demo team made on a measure, so its suggestion is offered again; returns
    the measure's id."""
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        mid, pid = session.execute(
            select(m.Measure.id, m.Measure.project_id)
            .join(m.Project, m.Project.id == m.Measure.project_id)
            .where(m.Project.code == project_code, m.Measure.code == measure_code)
        ).one()
        session.execute(
            delete(m.Change).where(
                m.Change.project_id == pid,
                m.Change.kind == "rebase",
                m.Change.title.like("Sustained shift after%"),
            )
        )
        analysis.rebuild_measure_analysis(session, [mid])
        db.bump_data_version(session)  # as any change to the data: pages read it afresh
    return mid


def _suggestion(engine, code: str, measure_code: str):
    with engine.connect() as conn:
        view = project.project_data(conn, code, measures.default_as_of(conn))
    return next(mm for mm in view.measures if mm["code"] == measure_code)


@pytest.fixture
def cornwall_copy(backend, databases):
    engine = databases.copy(databases.demo_snapshot(backend, "cornwall"))
    yield engine
    databases.drop(engine)


def test_accepting_a_suggestion_stores_a_rebase_and_analyses_again(cornwall_copy):
    from qidash import recalculation

    engine = cornwall_copy
    mid = _without_the_demo_rebase(engine, "CW-QI021", "HYD_MET")
    before = _suggestion(engine, "CW-QI021", "HYD_MET")
    s = before["suggestion"]
    assert s is not None and s["improvement"] and s["change"].startswith("Adopted:")
    assert len(set(before["result"]["phases"] or [0])) == 1  # one centre line across the step
    recalculation.accept(engine, "admin@example.org", mid, s["starts_on"], s["change"])
    after = _suggestion(engine, "CW-QI021", "HYD_MET")
    assert after["suggestion"] is None
    assert after["result"]["periods"][
        spc.phase_bounds(after["result"]["phases"], len(after["result"]["y"]))[-1][0]
    ] == (s["starts_on"].isoformat())
    assert after["improving"] and after["improved_since_baseline"]
    assert after["improving_reason"].endswith(
        f"improved since baseline (recalculated at \u201cSustained shift after '{s['change']}'\u201d on "
        f"{s['starts_on']:%-d %b %Y})"
    )
    with engine.connect() as conn:
        events = auth.audit_events(conn, action="recalculation_accepted")
    assert (
        events and events[0]["detail"]["measure"] == "HYD_MET" and events[0]["actor"] == "admin@example.org"
    )


def test_a_dismissed_suggestion_is_not_offered_again(cornwall_copy):
    from qidash import recalculation

    engine = cornwall_copy
    mid = _without_the_demo_rebase(engine, "CW-QI021", "HYD_MET")
    s = _suggestion(engine, "CW-QI021", "HYD_MET")["suggestion"]
    recalculation.dismiss(engine, "admin@example.org", mid, s["starts_on"], s["change"])
    recalculation.dismiss(engine, "admin@example.org", mid, s["starts_on"], s["change"])  # twice: no error
    assert _suggestion(engine, "CW-QI021", "HYD_MET")["suggestion"] is None
    with engine.connect() as conn:
        assert len(conn.execute(select(m.DismissedRecalculation)).all()) == 1
        events = auth.audit_events(conn, action="recalculation_dismissed")
        rebases = conn.execute(
            select(m.Change).where(m.Change.kind == "rebase", m.Change.measure_id == mid)
        ).all()
    assert len(events) == 1 and not rebases  # nothing recalculated


# --- the Project page -------------------------------------------------------------------------------------


def test_an_admin_accepts_a_suggestion_on_the_project_page_and_others_only_read_it():
    from tests.support import demo_engine, no_exceptions, open_page

    engine = demo_engine("cornwall")  # the run's private demo file, which the app then opens
    _without_the_demo_rebase(engine, "CW-QI021", "HYD_MET")
    viewer = open_page("project", "cornwall", demo_role="faculty", project="CW-QI021")
    no_exceptions(viewer)
    assert any("Suggested recalculation" in md.value for md in viewer.markdown)
    assert not [b for b in viewer.button if b.key.startswith(("accept_", "dismiss_"))]
    assert any("An admin can accept it" in c.value for c in viewer.caption)

    at = open_page("project", "cornwall", demo_role="admin", project="CW-QI021")
    no_exceptions(at)
    charts = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    assert any(
        a.get("text") == "Suggested new phase"
        for spec in charts
        for a in spec["layout"].get("annotations", [])
    )
    at.button(key="accept_CW-QI021_HYD_MET").click().run()
    no_exceptions(at)
    assert not any("Suggested recalculation" in md.value for md in at.markdown)
    assert any(md.value.startswith(":green[**Improving:**] improved since baseline") for md in at.markdown)
    with engine.connect() as conn:
        rebases = conn.execute(
            select(m.Change.title).where(
                m.Change.kind == "rebase", m.Change.title.like("Sustained shift after%")
            )
        ).scalars().all()
        assert any(t.startswith("Sustained shift after 'Adopted:") for t in rebases)
        assert auth.audit_events(conn, action="recalculation_accepted")


def test_0011_works_out_every_stored_analysis_again(backend, databases):
    from alembic import command
    from sqlalchemy import update

    engine = databases.copy(databases.demo_snapshot(backend, "cornwall"))
    try:
        ma = m.MeasureAnalysis
        columns = (ma.measure_id, ma.improving, ma.concern, ma.improved_since_baseline, ma.baseline_change,
                   ma.baseline_changed_on, ma.chart_variation_icon)
        with engine.connect() as conn:
            as_loaded = sorted(conn.execute(select(*columns)).all())
        assert any(r.improved_since_baseline for r in as_loaded)
        cfg = db.alembic_config(engine)
        command.downgrade(cfg, "0009")
        with engine.begin() as conn:  # as analysed before: "any signal in the latest phase" was looser
            conn.execute(update(ma.__table__).values(improving=True, concern=True))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert sorted(conn.execute(select(*columns)).all()) == as_loaded
    finally:
        databases.drop(engine)


def test_slides_and_the_board_summary_say_which_meaning_of_improving_applies(any_demo):
    engine = any_demo("cornwall")
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        report = portfolio.portfolio_report(conn, Scope(), as_of)
        improving = [p["code"] for p in report["projects"] if p["improving"]]
        assert improving
        data = showcase_view.showcase_data(conn, Scope(), as_of, projects=tuple(improving))
        pages = {code: project.project_data(conn, code, as_of) for code in improving}
    reasons = {
        (code, mm["name"]): mm["improving_reason"] or ""
        for code, page in pages.items()
        for mm in page.measures
    }
    assert data.board and all(r.improving == reasons[(r.project, r.measure)] for r in data.board)
    assert {r.project for r in data.board if r.improving} == set(improving)
    for slide in (s for s in data.projects if s.chart is not None):
        assert slide.chart.improving_reason == reasons[(slide.code, slide.chart.name)]
    from qidash.exports import html_report

    page = html_report.render(data, False)
    first = next(r for r in data.board if r.improving)
    assert f"Improving: {first.improving}".replace("'", "&#x27;") in page
