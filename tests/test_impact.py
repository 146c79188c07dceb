"""Cumulative impact (issue 21, docs/impact.md): hand-worked estimates for each chart kind, their ranges,
totals that add only like with like, scope and as-of dates on SQLite and PostgreSQL, the ``impact``
command, and the same numbers on the pages for every demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import pytest
from sqlalchemy.orm import Session

from qidash import analysis, cli, impact, spc, store
from qidash.scope import Scope
from qidash.text import markdown_literal

D = dt.date


def stored(values, kind, phases=None, denominators=None, direction="decrease") -> dict:
    """An engine result as measure_analysis keeps it, monthly from January 2022."""
    out = spc.analyse(values, kind=kind, phases=phases, denominators=denominators,
                      improvement_direction=direction).to_dict()
    out["periods"] = [D(2022 + i // 12, i % 12 + 1, 1).isoformat() for i in range(len(values))]
    return out


def two(n_before=12, n_after=12):
    return [0] * n_before + [1] * n_after


# --- each chart kind, by hand ---------------------------------------------------------------------------


def test_a_c_chart_sums_the_baseline_mean_minus_each_later_count():
    # Baseline mean 10 over 12 months; the 12 later months sum to 72: 12 x 10 - 72 = 48 avoided.
    result = stored([9, 11] * 6 + [6] * 12, "c", two())
    b = impact.benefit(result)
    assert b.baseline == 10 and b.value == pytest.approx(48)
    half = 2 * math.sqrt(10 / 12) * 12  # 2 standard errors of the baseline mean, for each of 12 months
    assert (b.low, b.high) == pytest.approx((48 - half, 48 + half))
    assert [s for _, s in b.steps] == pytest.approx([4] * 12) and b.steps[0][0] == "2023-01-01"


def test_a_u_chart_weighs_the_rate_difference_by_each_periods_exposure():
    # 5 per unit of exposure before (10 over 2), 3 after (6 over 2): (5 - 3) x 2 = 4 a month, 48 in all.
    result = stored([10] * 12 + [6] * 12, "u", two(), denominators=[2] * 24)
    b = impact.benefit(result)
    assert b.value == pytest.approx(48)
    half = 2 * math.sqrt(5 / 24) * 24  # standard error of the pooled rate, times the later exposure
    assert (b.low, b.high) == pytest.approx((48 - half, 48 + half))
    # More exposure in one later month counts for more: 6 events over 4 units against 5 x 4 expected.
    heavier = impact.benefit(stored([10] * 12 + [6] * 11 + [6], "u", two(), denominators=[2] * 23 + [4]))
    assert heavier.value == pytest.approx(44 + (20 - 6))


def test_a_p_chart_counts_numerators_against_the_baseline_proportion():
    # Half of 20 before; 15 of 20 after, wanted higher: 15 - 0.5 x 20 = 5 more a month, 60 in all.
    up = impact.benefit(stored([10] * 12 + [15] * 12, "p", two(), [20] * 24, direction="increase"))
    assert up.value == pytest.approx(60)
    half = 2 * math.sqrt(0.25 / 240) * 240
    assert (up.low, up.high) == pytest.approx((60 - half, 60 + half))
    # Wanted lower (e.g. appointments missed): 10 of 20 down to 4 of 20 is 6 fewer a month.
    down = impact.benefit(stored([10] * 12 + [4] * 12, "p", two(), [20] * 24, direction="decrease"))
    assert down.value == pytest.approx(72)


def test_xmr_and_run_charts_give_the_shift_of_the_centre_line_never_a_sum():
    before, after = [45, 47] * 6, [40, 42] * 6
    short = impact.benefit(stored(before + after, "xmr", two()))
    long = impact.benefit(stored(before + after * 2, "xmr", two(12, 24)))
    assert short.value == pytest.approx(5) and long.value == pytest.approx(5) and not short.steps
    sigma = 2.66 * 2 / 3  # the chart's own: 2.66 average moving ranges is 3 sigma
    assert short.high - short.value == pytest.approx(2 * sigma / math.sqrt(12))
    run = impact.benefit(stored([10, 12, 14] * 4 + [15, 16, 17] * 4, "run", two(), direction="increase"))
    assert run.value == pytest.approx(16 - 12)
    import statistics

    half = 2 * math.sqrt(math.pi / 2) * statistics.stdev([10, 12, 14] * 4) / math.sqrt(12)
    assert (run.low, run.high) == pytest.approx((4 - half, 4 + half))


@pytest.mark.parametrize("kind, values, dens", [
    ("c", [9, 11] * 6 + [6] * 12, None),
    ("u", [10, 12] * 6 + [6, 5] * 6, [2, 2.5] * 12),
    ("p", [10, 11] * 6 + [4, 5] * 6, [20, 22] * 12),
    ("xmr", [45, 47] * 6 + [40, 42] * 6, None),
    ("run", [45, 47, 46] * 4 + [40, 42, 41] * 4, None),
])
def test_every_range_contains_its_estimate(kind, values, dens):
    b = impact.benefit(stored(values, kind, two(), dens))
    assert b.low < b.value < b.high and b.value > 0


def test_what_is_not_estimated_says_why():
    flat = [10, 11] * 12
    assert impact.benefit(stored(flat, "c")) == impact.NOTHING_YET  # one phase: no change yet
    worse = stored([6] * 12 + [9, 11] * 6, "c", two())
    assert impact.benefit(worse) == impact.NOT_BETTER
    few = impact.benefit(stored([9, 11, 10] * 3 + [9, 11] + [6] * 12, "c", two(11, 12)))
    assert few == impact.few_baseline(11) and "only 11 baseline points" in few and "12" in few
    neutral = stored([9, 11] * 6 + [6] * 12, "c", two(), direction="neutral")
    assert impact.benefit(neutral) == impact.NO_DIRECTION


# --- totals: like with like ----------------------------------------------------------------------------


JAN_2023 = D(2023, 1, 1)


def est(project, unit, direction, value, half, chart="c", since=JAN_2023):
    return impact.Estimate(
        project_id=0, project_code=project, project_title=project, priority="P", measure_code="M",
        measure_name=unit, chart=chart, unit=unit, direction=direction, since=since, value=value,
        low=value - half, high=value + half, reason=None,
    )


def test_totals_never_mix_units_or_directions_and_never_add_shifts():
    estimates = [
        est("A", "falls", "decrease", 30, 3), est("B", "falls", "decrease", 40, 4, since=D(2022, 5, 1)),
        est("C", "minutes", "decrease", 12, 2, chart="xmr"), est("D", "falls", "increase", 5, 1),
        est("E", "ulcers", "decrease", 8, 2),
    ]
    totals = {(t.unit, t.direction): t for t in impact.totals(estimates)}
    assert set(totals) == {("falls", "decrease"), ("falls", "increase"), ("ulcers", "decrease")}
    falls = totals[("falls", "decrease")]
    assert (falls.value, falls.projects, falls.since) == (70, 2, D(2022, 5, 1))
    assert falls.high - falls.value == pytest.approx(5)  # independent baselines: sqrt(3^2 + 4^2)
    assert impact.total_words(falls) == "about 70 falls avoided (65 to 75) since 2022 across 2 projects"


def test_the_note_counts_what_was_and_was_not_estimated():
    from qidash.views import impact as impact_view

    short = impact.few_baseline(9)
    left = [est(code, "falls", "decrease", 0, 0) for code in ("F", "G")]
    left = [dataclasses.replace(e, value=None, low=None, high=None, reason=r)
            for e, r in zip(left, (impact.NOTHING_YET, short), strict=True)]
    report = impact.ImpactReport(JAN_2023, (est("A", "falls", "decrease", 30, 3),
                                            est("C", "days", "decrease", 2, 1, chart="xmr"), *left), ())
    assert impact_view.not_estimated_note(report) == (
        "2 measures estimated (1 a shift in measurement data, shown per measure and never added up); "
        "2 not estimated (no sustained improvement yet, no direction or no data), 1 of them improved but "
        "with fewer than 12 baseline points."
    )


def test_small_totals_are_suppressed_in_public_mode():
    small = impact.totals([est("A", "falls", "decrease", 3.2, 1)])[0]
    assert impact.total_words(small, public=True, threshold=5).startswith("fewer than 5 falls avoided")
    assert "3.2" in impact.total_words(small)


# --- from the database, on SQLite and PostgreSQL --------------------------------------------------------

MONTHS = [D(2022 + i // 12, i % 12 + 1, 1) for i in range(24)]


def _frames() -> dict:
    def obs(project, measure, values, dens=None):
        return [{"project_code": project, "measure_code": measure, "period": p, "value": v,
                 "denominator": None if dens is None else dens[i]}
                for i, (p, v) in enumerate(zip(MONTHS, values, strict=False))]

    return {
        "localities": [{"code": "L1", "name": "West"}, {"code": "L2", "name": "East"}],
        "pcns": [{"code": "P1", "name": "Harbour", "locality_code": "L1"},
                 {"code": "P2", "name": "Valley", "locality_code": "L2"}],
        "organisations": [
            {"ods_code": "H1", "name": "Home one", "kind": "care_home_residential", "sector": "independent",
             "pcn_code": "P1"},
            {"ods_code": "G2", "name": "Practice two", "kind": "gp_practice", "sector": "nhs", "pcn_code": "P2"},
        ],
        "priorities": [{"code": "FALLS", "name": "Falls"}, {"code": "FLOW", "name": "Flow"}],
        "projects": [
            {"code": "A", "title": "Falls at home one", "priority_code": "FALLS", "lead_ods_code": "H1",
             "start_date": D(2022, 1, 1), "status": "active"},
            {"code": "B", "title": "Falls at practice two", "priority_code": "FALLS", "lead_ods_code": "G2",
             "start_date": D(2022, 1, 1), "status": "active"},
            {"code": "C", "title": "Waiting", "priority_code": "FLOW", "lead_ods_code": "G2",
             "start_date": D(2022, 1, 1), "status": "active"},
        ],
        "measures": [
            {"project_code": "A", "code": "FALLS", "name": "Falls", "chart": "c", "kind": "outcome",
             "unit": "falls", "improvement": "decrease"},
            {"project_code": "B", "code": "FALLS", "name": "Falls", "chart": "c", "kind": "outcome",
             "unit": "falls", "improvement": "decrease"},
            {"project_code": "B", "code": "SHORT", "name": "Falls, short baseline", "chart": "c",
             "kind": "outcome", "unit": "falls", "improvement": "decrease"},
            {"project_code": "C", "code": "WAIT", "name": "Wait", "chart": "xmr", "kind": "outcome",
             "unit": "days", "improvement": "decrease"},
        ],
        "observations": (
            obs("A", "FALLS", [9, 11] * 6 + [6] * 12)  # 48 avoided from January 2023
            + obs("B", "FALLS", [19, 21] * 6 + [15] * 12)  # 60 avoided
            + obs("B", "SHORT", [9, 11] * 5 + [6] * 14)  # 10 baseline points
            + obs("C", "WAIT", [45, 47] * 6 + [40, 42] * 6)  # 5 days lower
        ),
        "changes": [
            {"project_code": p, "changed_on": D(2023, 1, 1), "title": "New process", "kind": "rebase",
             "measure_code": None}
            for p in ("A", "C")
        ] + [{"project_code": "B", "changed_on": D(2023, 1, 1), "title": "New process", "kind": "rebase",
              "measure_code": "FALLS"},
             {"project_code": "B", "changed_on": D(2022, 11, 1), "title": "Early", "kind": "rebase",
              "measure_code": "SHORT"}],
    }


@pytest.fixture(scope="module")
def system(backend, databases):
    engine = databases.new(backend)
    with Session(engine) as session, session.begin():
        store.write_frames(session, _frames())
        session.flush()
        analysis.rebuild_measure_analysis(session)
    yield engine
    databases.drop(engine)


def _by_code(report):
    return {(e.project_code, e.measure_code): e for e in report.estimates}


def test_the_report_estimates_each_measure_and_totals_like_with_like(system):
    with system.connect() as conn:
        report = impact.impact_report(conn, Scope(), D(2023, 12, 31))
    got = _by_code(report)
    assert got[("A", "FALLS")].value == pytest.approx(48) and got[("A", "FALLS")].since == D(2023, 1, 1)
    assert got[("B", "FALLS")].value == pytest.approx(60)
    assert got[("B", "SHORT")].estimated is False and "only 10 baseline points" in got[("B", "SHORT")].reason
    assert got[("C", "WAIT")].value == pytest.approx(5) and got[("C", "WAIT")].unit == "days"
    assert [(t.unit, t.direction, t.projects) for t in report.totals] == [("falls", "decrease", 2)]
    assert report.totals[0].value == pytest.approx(108)
    assert set(report.by_priority) == {"FALLS", "FLOW"} and report.by_priority["FLOW"] == ()


def test_scope_filters_keep_to_the_projects_in_scope(system):
    with system.connect() as conn:
        west = impact.impact_report(conn, Scope(locality="L1"), D(2023, 12, 31))
        east = impact.impact_report(conn, Scope(within_pcns=("P2",)), D(2023, 12, 31))
    assert {e.project_code for e in west.estimates} == {"A"}
    assert west.totals[0].value == pytest.approx(48) and west.totals[0].projects == 1
    assert {e.project_code for e in east.estimates} == {"B", "C"}
    assert east.totals[0].value == pytest.approx(60)


def test_an_as_of_date_before_the_change_has_nothing_yet_and_one_part_way_counts_part(system):
    with system.connect() as conn:
        before = impact.impact_report(conn, Scope(), D(2022, 12, 15))
        partway = impact.impact_report(conn, Scope(), D(2023, 6, 30))
    assert before.totals == ()
    assert all(not e.estimated for e in before.estimates)
    assert _by_code(before)[("A", "FALLS")].reason == impact.NOTHING_YET
    assert _by_code(partway)[("A", "FALLS")].value == pytest.approx(6 * 4)  # January to June 2023


def test_the_impact_command_prints_the_designed_json(system, capsys):
    url = system.url.render_as_string(hide_password=False)
    assert cli.main(["impact", "--db", url, "--format", "json", "--as-of", "2023-12-31"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"measures", "totals"}
    for row in out["measures"]:
        assert set(row) == {"project_code", "measure_code", "unit", "direction", "since", "value", "low",
                            "high", "estimated", "reason"}
        if not row["estimated"]:
            assert row["value"] is None and row["low"] is None and row["high"] is None and row["reason"]
    a = next(r for r in out["measures"] if r["project_code"] == "A")
    assert (a["value"], a["since"], a["unit"], a["direction"]) == (48, "2023-01-01", "falls", "decrease")
    assert out["totals"] == [{"unit": "falls", "direction": "decrease", "value": 108.0,
                              "low": out["totals"][0]["low"], "high": out["totals"][0]["high"], "projects": 2}]
    assert out["totals"][0]["low"] < 108 < out["totals"][0]["high"]
    assert cli.main(["impact", "--db", url, "--format", "table", "--as-of", "2023-12-31"]) == 0
    table = capsys.readouterr().out
    assert "about 108 falls avoided" in table and "only 10 baseline points" in table
    assert cli.main(["impact", "--db", url, "--format", "json", "--pcn", "NOWHERE"]) == 2
    assert "Unknown PCN code 'NOWHERE'" in capsys.readouterr().err


# --- the command, the pages and the slide agree, for every demo and two scopes --------------------------

SCENARIOS = ("cornwall", "somerset", "fylde", "nw_surrey", "barnet")


def _first_locality(conn) -> str:
    from sqlalchemy import select

    from qidash import models as m

    return conn.execute(select(m.Locality.code).order_by(m.Locality.code)).scalars().first()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_command_the_pages_and_the_slide_show_the_same_numbers(any_demo, scenario, capsys):
    from qidash import measures
    from qidash.views import impact as impact_view
    from qidash.views import portfolio, project
    from qidash.views import showcase as sv

    engine = any_demo(scenario)
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        locality = _first_locality(conn)
    for scope, flags in ((Scope(), []), (Scope(locality=locality), ["--locality", locality])):
        assert cli.main(["impact", "--db", url, "--format", "json", *flags]) == 0
        said = json.loads(capsys.readouterr().out)
        with engine.connect() as conn:
            report = impact.impact_report(conn, scope, as_of)
            slide = sv.showcase_data(conn, scope, as_of, projects=(), with_map=False, with_funnels=False)
            listed = portfolio.portfolio_data(conn, scope, as_of).projects
            pages = {
                code: project.project_data(conn, code, as_of)
                for code in {e.project_code for e in report.estimates if e.estimated}
            }
        # The command prints what the report holds.
        assert said == report.as_json()
        # The Overview and the slide show the largest totals, in the same words and numbers.
        overview = impact_view.lines(report.totals)
        assert slide.impact == overview
        assert [(ln.value, ln.low, ln.high, ln.projects) for ln in overview] == [
            (t["value"], t["low"], t["high"], t["projects"]) for t in said["totals"][: len(overview)]
        ]
        # The Portfolio's Impact tab, unfiltered, adds up the same.
        assert impact.narrowed(report, set(listed["code"])).totals == report.totals
        # Each Project page shades the same estimate.
        for e in report.estimates:
            if not e.estimated:
                continue
            shown = next(mm for mm in pages[e.project_code].measures if mm["code"] == e.measure_code)
            b = impact.benefit(shown["result"])
            assert (b.value, b.low, b.high) == pytest.approx((e.value, e.low, e.high))
            shading, words = impact_view.measure_impact(shown)
            assert shading["baseline"] == e.baseline and words.startswith("Impact so far:")
        for t in report.totals:  # never mixed units, ranges that hold the estimate
            assert t.low <= t.value <= t.high
            members = [e for e in report.estimates if e.estimated and e.counted and e.unit == t.unit
                       and e.direction == t.direction]
            assert t.value == pytest.approx(sum(e.value for e in members))


def test_the_overview_shows_the_impact_so_far(app_database):
    from qidash import measures
    from tests.support import no_exceptions, open_page

    engine = app_database("cornwall")
    at = open_page(None, "cornwall")
    no_exceptions(at)
    with engine.connect() as conn:
        report = impact.impact_report(conn, Scope(), measures.default_as_of(conn))
    assert report.totals, "the Cornwall demo has sustained improvements to add up"
    shown = [md.value for md in at.markdown]
    for t in report.totals[:3]:
        assert f"- {markdown_literal(impact.total_words(t))}" in shown


def test_imported_words_in_the_impact_are_shown_as_written():
    from qidash import charts, spc_charts

    name = "<b>Falls</b> {x} per 1,000 bed days"
    unit = impact.counted_unit("u", name, "per 1,000 bed days")
    assert unit == "<b>Falls</b> {x}"
    fig = charts.cumulative_impact(
        __import__("pandas").DataFrame({"period": [D(2023, 1, 1)], "cumulative": [4.0]}), unit, 1, 7
    )
    assert "<b>" not in fig.data[0].name and "&lt;b&gt;" in fig.data[0].name and "{x}" not in fig.data[0].name
    result = stored([9, 11] * 6 + [6] * 12, "c", two())
    shaded = spc_charts.spc_chart(result, impact={"start": 12, "baseline": 10, "later": 6, "words": unit})
    assert any("&lt;b&gt;Falls" in (a.text or "") for a in shaded.layout.annotations)


def test_public_mode_hides_small_totals_on_the_slide(any_demo):
    from qidash import measures
    from qidash.views import showcase as sv

    engine = any_demo("cornwall")
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        public = sv.showcase_data(conn, Scope(), as_of, projects=(), public=True, threshold=1000,
                                  with_map=False, with_funnels=False)
    assert public.impact and all(ln.value is None and ln.words.startswith("fewer than 1000")
                                 for ln in public.impact)
