"""The Showcase: its story model (public mode's suppression and naming, before and after medians, the
suggested projects), the PowerPoint deck (slides, titles, chart series equal to the model's), the HTML
report (nothing to fetch), chart images, the ``showcase`` command and the page on every programme."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from html import escape
from pathlib import Path
from types import SimpleNamespace

import pytest
from pptx import Presentation
from sqlalchemy import update

from qidash import auth, chart_geometry, db, icons, ingest, measures, scenarios, spc
from qidash import models as m
from qidash.cli import main
from qidash.exports import html_report, images, pptx_deck, svg
from qidash.palette import label
from qidash.scope import Scope
from qidash.text import markdown_literal
from qidash.views import showcase as sv
from tests.support import engine_url, no_exceptions, open_page

BASE = Path(__file__).parent / "fixtures" / "import" / "base"
AS_OF = dt.date(2024, 12, 31)
EVERYONE = Scope()


# --- a small programme: four people, two projects -----------------------------------------------------------


def load_base(engine) -> None:
    """fixtures/import/base, with a name recorded for someone who did NOT consent to be named."""
    assert ingest.commit(engine, ingest.read_paths([str(BASE)]), user="fixture").outcome == "loaded"
    with engine.begin() as conn:  # P0002 leads QI-001 and has a name on record, but no consent
        conn.execute(
            update(m.Person).where(m.Person.person_ref == "P0002").values(display_name="Nina Nightly")
        )
        conn.execute(
            update(m.Project)
            .where(m.Project.code == "QI-001")
            .values(story="Night checks every hour cut falls.", lessons="Ask the night staff first.")
        )


@pytest.fixture(scope="module")
def base_db(backend, databases):
    """The small programme (:func:`load_base`) on each database, loaded once and copied per test."""
    engine = databases.new(backend)
    load_base(engine)
    snapshot = databases.snapshot(engine)
    databases.drop(engine)
    return snapshot


@pytest.fixture
def base(base_db, databases):
    engine = databases.copy(base_db)
    yield engine
    databases.drop(engine)


def model(engine, public=False, can_see_people=True, projects=("QI-001", "QI-002")) -> sv.Showcase:
    with engine.connect() as conn:
        return sv.showcase_data(conn, EVERYONE, AS_OF, projects, public, can_see_people)


def test_people_counts_under_the_threshold_are_hidden_only_in_public_mode():
    assert sv.people_count(3, public=True) == "<5"
    assert sv.people_count(4, public=True) == "<5"
    assert sv.people_count(5, public=True) == "5"
    assert sv.people_count(0, public=True) == "0"  # nobody is nobody: nothing to protect
    assert sv.people_count(1234, public=True) == "1,234"
    assert sv.people_count(3, public=False) == "3"
    assert sv.people_count(7, public=True, threshold=10) == "<10"
    assert sv.person_name("Alex Moss", True, True) == "Alex Moss"
    assert sv.person_name("Nina Nightly", False, True) is None  # no consent, no name
    assert sv.person_name("Alex Moss", True, False) is None  # a viewer without person-level access


def test_public_mode_hides_small_counts_everywhere_they_are_shown(base):
    open_, public = model(base), model(base, public=True)
    numbers = {n.key: n for n in open_.numbers}
    hidden = {n.key: n for n in public.numbers}
    assert numbers["people_trained"].text == "2" and numbers["people_trained"].value == 2
    assert hidden["people_trained"].text == "<5" and hidden["people_trained"].value is None
    assert hidden["reach_vs_target"].text == "<5 / 50"
    assert "projected" not in hidden["reach_vs_target"].note  # the projection would give the count away
    # Organisations and projects are not people: shown as they are.
    assert hidden["orgs_trained"].text == numbers["orgs_trained"].text == "2 of 3"
    assert hidden["projects"].text == "2"
    stages = [(s.name, s.value, s.text, s.conversion) for s in open_.funnels[0].stages]
    assert stages == [
        ("Learn", 2, "2", ""),
        ("Live", 2, "2", "100% of Learn"),
        ("Lead", 1, "1", "50% of Live"),
    ]
    assert [(s.value, s.text, s.conversion) for s in public.funnels[0].stages] == [(None, "<5", "")] * 3
    assert public.map.tips["PCN-N1"][1] == "People trained <5"
    assert set(public.map.orgs["trained_in_post"]) <= {None, 0}
    assert public.public_note.startswith("Public mode")


def test_nobody_is_named_without_consent_and_small_teams_are_counted_not_listed(base):
    open_, public = model(base), model(base, public=True)
    falls, handovers = open_.project("QI-001"), open_.project("QI-002")
    assert falls.team.named == ()  # Nina Nightly did not consent
    assert falls.team.others == ("Nurse", "Care worker", "Patient partner")
    assert falls.team.size == "3" and falls.team.patient_partners == "1 patient partner"
    assert handovers.team.named == (("Alex Moss", "lead"),)
    quiet = public.project("QI-001").team
    assert quiet.others == () and quiet.others_count == "<5"
    assert quiet.size == ""  # with named people listed, a size would give the rest away
    assert quiet.patient_partners == "<5 patient partners"
    assert public.project("QI-002").team.named == (("Alex Moss", "lead"),)
    assert model(base, can_see_people=False).project("QI-002").team.named == ()
    # Nor in any export, in either mode.
    for sc in (open_, public):
        text = html_report.render(sc) + deck_text(pptx_deck.build(sc))
        assert "Nina Nightly" not in text
        assert "Alex Moss" in text


def test_suggestions_put_sustained_improvement_first_and_quiet_wins_need_a_story(base):
    with base.connect() as conn:
        choices = sv.project_choices(conn, EVERYONE, AS_OF)
    assert [(c.code, c.sustained, c.quiet_win) for c in choices] == [
        ("QI-001", True, False),
        ("QI-002", False, False),
    ]
    assert sv.suggested_codes(choices) == ("QI-001",)
    sc = model(base)
    falls = sc.project("QI-001")
    assert not falls.quiet_win and falls.chart.measure_code == "DAYS"  # the improving measure tells the story
    assert falls.other_measures[0][0] == "Residents who fell at night"
    assert sc.project("QI-002").chart is None and not sc.project("QI-002").quiet_win  # no story: no quiet win


def _measure(values, periods, chart="xmr", improvement="increase", phases=None, changes=(), target=None):
    result = spc.analyse(
        values,
        kind=chart,
        ruleset="nhs" if chart == "xmr" else "anhoej",
        phases=phases,
        improvement_direction=improvement,
    ).to_dict()
    result["periods"] = [p.isoformat() for p in periods]
    return {
        "code": "M",
        "name": "Measure",
        "chart": chart,
        "unit": "days",
        "improvement": improvement,
        "target": target,
        "result": result,
        "changes": list(changes),
        "variation_icon": None,
        "assurance_icon": None,
        "improving": False,
        "kind": "outcome",
    }


MONTHS = [dt.date(2023, k, 1) for k in range(1, 13)]


def test_before_and_after_compares_phases_then_a_change_then_the_first_and_latest_points():
    values = [10, 12, 11, 13, 12, 11, 20, 21, 19, 22, 20, 21]
    phased = _measure(values, MONTHS, phases=[1] * 6 + [2] * 6)
    ba = sv.before_after(sv.chart_series(phased), phased["changes"])
    assert (ba.basis, ba.before, ba.after) == ("phases", 11.5, 20.5)
    assert (ba.before_label, ba.after_label, ba.before_period) == (
        "First phase",
        "Latest phase",
        "Jan 2023 – Jun 2023",
    )
    assert ba.better is True and ba.moved == "78% higher"

    change = {"day": "2023-05-10", "title": "Adopted: huddles", "kind": "change"}
    pdsa = {"day": "2023-02-01", "title": "PDSA 1", "kind": "pdsa"}
    split = _measure(values, MONTHS, improvement="decrease", changes=[pdsa, change])
    ba = sv.before_after(sv.chart_series(split), split["changes"])
    # The first period on or after the change (June) starts "after": Jan–May against Jun–Dec.
    assert (ba.basis, ba.change, ba.before, ba.after) == ("change", "Adopted: huddles", 12, 20)
    assert ba.better is False and ba.verdict == "worse"

    late = {"day": "2023-11-20", "title": "Too late to judge", "kind": "change"}
    plain = _measure(values[:10], MONTHS[:10], changes=[late])
    ba = sv.before_after(sv.chart_series(plain), plain["changes"])
    assert (ba.basis, ba.before_label, ba.before, ba.after) == ("baseline", "First 5 points", 12, 20)


def test_chart_series_are_the_stored_result_on_the_chart_scale_with_numbered_pdsa_cycles():
    changes = [
        {"day": "2023-03-05", "title": "PDSA 1", "kind": "pdsa"},
        {"day": "2023-03-20", "title": "PDSA 2", "kind": "pdsa"},
        {"day": "2023-06-01", "title": "Adopted", "kind": "change"},
        {"day": "2023-07-01", "title": "New phase", "kind": "rebase"},
    ]
    p = _measure(
        [0.5, 0.4, 0.6, 0.5, 0.7, 0.8, 0.8, 0.9, 0.85, 0.9, 0.8, 0.9],
        MONTHS,
        chart="run",
        phases=[1] * 6 + [2] * 6,
        changes=changes,
    )
    ch = sv.chart_series(p)
    assert ch.values[0] == 0.5 and ch.centre_name == "Median" and ch.phase_starts == (6,)
    lines = ch.lines()
    assert list(lines) == ["Measure", "Median (phase 1)", "Median (phase 2)"]
    assert lines["Median (phase 1)"][:6] == (0.55,) * 6 and lines["Median (phase 1)"][6:] == (None,) * 6
    # Both March cycles fall in the April period (first on or after their day); the rebase is the phase.
    assert ch.marks("pdsa")[3] == "1, 2" and ch.marks("change")[5] == "1"
    assert [a.kind for a in ch.annotations] == ["pdsa", "pdsa", "change"]


# --- the PowerPoint deck ------------------------------------------------------------------------------------


def deck_text(prs) -> str:
    parts = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
        parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


def charts_of(slide):
    return [s.chart for s in slide.shapes if s.has_chart]


def close(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


def check_deck(path: Path, sc: sv.Showcase) -> None:
    """The deck at ``path`` holds ``sc``: a slide per slide with its title, and charts equal to the model."""
    prs = Presentation(str(path))
    assert len(prs.slides) == len(sc.slides)
    for slide, want in zip(prs.slides, sc.slides, strict=True):
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        assert want.title in texts, (want.title, texts[:3])
        if want.kind == sv.KIND_FUNNEL:
            charts = charts_of(slide)
            assert len(charts) == len(sc.funnels)
            for chart, funnel in zip(charts, sc.funnels, strict=True):
                series = chart.plots[0].series[0]
                assert series.name == pptx_deck.FUNNEL_SERIES
                assert list(series.values) == [s.value for s in funnel.stages]
        if want.kind == sv.KIND_PROJECT:
            p = sc.project(want.project)
            assert p.story in slide.notes_slide.notes_text_frame.text
            charts = charts_of(slide)
            if p.chart is None:
                assert charts == []
                continue
            (chart,) = charts
            expected = pptx_deck.chart_lines(p.chart)
            got = {s.name: s.values for s in chart.plots[0].series}
            assert list(got) == list(expected)
            for name, values in expected.items():
                assert all(close(a, b) for a, b in zip(got[name], values, strict=True)), name
            labels = [chart_geometry.period_label(d) for d in p.chart.periods]
            assert list(chart.plots[0].categories) == labels
            for name, kind in ((pptx_deck.PDSA_SERIES, "pdsa"), (pptx_deck.CHANGE_SERIES, "change")):
                if name in got:  # each marker is labelled with its cycles' numbers
                    series = next(s for s in chart.plots[0].series if s.name == name)
                    labels = [
                        series.points[j].data_label.text_frame.text if v is not None else None
                        for j, v in enumerate(p.chart.marks(kind))
                    ]
                    assert labels == list(p.chart.marks(kind))
        if want.kind == sv.KIND_BOARD:
            icons_drawn = [s for s in slide.shapes if s.shape_type == 6]  # groups: one per icon
            key = sv.board_key(sc.board)
            assert len(icons_drawn) == 2 * pptx_deck.board_rows_shown(sc) + len(key)
            texts = {s.text_frame.text for s in slide.shapes if s.has_text_frame}
            for kind, code in key:  # the key names every icon the board draws
                label_ = icons.variation_label(code) if kind == "variation" else icons.assurance_label(code)
                assert label_ in texts, (label_, key)


# OOXML positions and sizes are whole EMUs (ST_Coordinate, ST_PositiveCoordinate): a decimal makes
# PowerPoint offer a repair. The attributes that hold them, wherever they appear in a slide.
GEOMETRY = re.compile(r"<(a:off|a:ext|a:chOff|a:chExt|p:xfrm|a:pt|a:moveTo|a:lnTo|a:path)\b[^>]*>")
DECIMAL = re.compile(r'\b(x|y|cx|cy|w|h)="-?\d*\.\d*"')


def walk(shapes):
    for shape in shapes:
        yield shape
        if shape.shape_type == 6:  # a group: its own shapes too
            yield from walk(shape.shapes)


def check_whole_emus(data: bytes) -> None:
    """Every slide's geometry in ``data`` (a .pptx) is whole EMUs, and every shape reads back."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("ppt/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                bad = [m.group(0) for m in GEOMETRY.finditer(xml) if DECIMAL.search(m.group(0))]
                assert not bad, (name, bad[:3])
    prs = Presentation(io.BytesIO(data))
    assert isinstance(prs.slide_width, int) and isinstance(prs.slide_height, int)
    for number, slide in enumerate(prs.slides, start=1):
        for shape in walk(slide.shapes):
            box = (shape.left, shape.top, shape.width, shape.height)
            assert all(isinstance(v, int) for v in box), (number, shape.name, box)
            assert shape.width >= 0 and shape.height >= 0, (number, shape.name, box)
            if shape.has_chart:  # its parts read back too
                assert [s.values for p in shape.chart.plots for s in p.series]


def test_a_fractional_emu_is_caught_by_the_deck_check():
    # What a division of lengths used to leave in the funnel slide: <a:off x="457200.0" .../>.
    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[6]).shapes.add_textbox(0, 0, 100, 100)
    buf = io.BytesIO()
    prs.save(buf)
    check_whole_emus(buf.getvalue())
    broken = io.BytesIO()
    with zipfile.ZipFile(buf) as z, zipfile.ZipFile(broken, "w") as w:
        for item in z.infolist():
            xml = z.read(item.filename)
            if item.filename == "ppt/slides/slide1.xml":
                xml = xml.replace(b'<a:off x="0" y="0"/>', b'<a:off x="457200.0" y="0"/>')
            w.writestr(item, xml)
    with pytest.raises(AssertionError, match=r"457200\.0"):
        check_whole_emus(broken.getvalue())


def test_the_board_key_explains_every_icon_used_and_no_other():
    rows = (
        sv.BoardRow("A", "Falls", "Falls", "neutral_high", None, "", ""),
        sv.BoardRow("B", "Sepsis", "Screened", "improvement_low", "consistent_pass", "", ""),
        sv.BoardRow("B", "Sepsis", "Treated", None, "consistent_pass", "", ""),
    )
    key = sv.board_key(rows)
    assert key == (
        ("variation", "improvement_low"),
        ("variation", "neutral_high"),  # purple: special cause with no preferred direction
        ("variation", None),
        ("assurance", "consistent_pass"),
        ("assurance", None),
    )
    html = html_report.icons_key(SimpleNamespace(board=rows))
    assert html.count("<svg") == len(key)
    for words in ("Improvement (low)", "Special cause (high)", "Consistently passing", "Not assessed"):
        assert words in html
    assert "Concern" not in html and "Common cause" not in html


def test_presenting_cuts_the_board_into_screens_that_each_fit():
    rows = tuple(sv.BoardRow(f"P{i}", "Title", "Measure", None, None, "", "–") for i in range(13))
    sc = sv.Showcase("QI", "whole system", dt.date(2024, 1, 1), False, 5, False, (), (), None, (), rows)
    screens = sc.screens(6)
    boards = [s for s in screens if s.kind == sv.KIND_BOARD]
    # 13 measures, six a screen: 6 + 6 + 1, each screen titled with its place.
    assert [s.rows for s in boards] == [(0, 6), (6, 12), (12, 13)]
    assert [s.title for s in boards] == [f"Board summary: Making Data Count ({k} of 3)" for k in (1, 2, 3)]
    assert screens[: -len(boards)] == sc.slides[:-1]
    assert sc.screens(13) == sc.slides and sc.slides[-1].rows is None  # a board that fits is one slide


def test_the_printed_board_lists_what_fits_a_page_and_says_how_many_more():
    row = sv.BoardRow("A", "Falls", "Falls", "common_cause", None, "", "")
    many = SimpleNamespace(board=(row,) * (html_report.PRINT_BOARD_ROWS + 2))
    html = html_report.board_table(many)
    assert html.count("<tr>") == 1 + html_report.PRINT_BOARD_ROWS  # the heading and the rows printed
    assert html.count('<tr class="more">') == 2 and "and 2 more measures" in html
    assert "more measure" not in html_report.board_table(SimpleNamespace(board=(row,) * 3))


def test_the_deck_opens_with_a_slide_per_slide_and_the_models_chart_series(base, tmp_path):
    sc = model(base)
    path = tmp_path / "deck.pptx"
    path.write_bytes(pptx_deck.to_bytes(sc))
    check_whole_emus(path.read_bytes())
    assert [s.kind for s in sc.slides] == ["numbers", "funnel", "map", "project", "project", "board"]
    check_deck(path, sc)
    prs = Presentation(str(path))
    numbers = [s.text_frame.text for s in prs.slides[0].shapes if s.has_text_frame]
    assert any(t.startswith("2 of 3\nOrganisations trained") for t in numbers)
    falls = prs.slides[3]
    names = {s.name for c in charts_of(falls) for s in c.plots[0].series}
    # no cycle on DAYS; its special-cause points are a series of their own, named in the legend
    assert names == {"Days between falls", "Mean", "Upper limit", "Lower limit", "Target",
                     "Special cause: improvement"}
    board = pptx_deck.build(sc, board_only=True)
    assert len(board.slides) == 1


# --- the HTML report ----------------------------------------------------------------------------------------


def check_self_contained(html: str) -> None:
    """Nothing in the page can make a request: no URL, script, stylesheet link, import or url()."""
    assert not re.search(r"https?:|//[a-z0-9]", html, re.IGNORECASE), re.search(
        r".{40}(https?:|//[a-z0-9]).{40}", html, re.IGNORECASE
    )
    assert not re.search(r"<(script|link|iframe|img|object|embed)\b", html, re.IGNORECASE)
    assert "url(" not in html and "@import" not in html and " src=" not in html and " href=" not in html


def test_the_html_report_is_self_contained_and_holds_every_slide(base):
    sc = model(base, public=True)
    html = html_report.render(sc)
    check_self_contained(html)
    for i, s in enumerate(sc.slides, start=1):
        assert f'id="slide-{i}" data-kind="{s.kind}"' in html
        assert s.title in html
    assert "&lt;5" in html and escape(sc.public_note) in html
    assert html.count("<svg") >= 3 + 2 * len(sc.board)  # funnel, map, chart; the board's icons
    board = html_report.render(sc, board_only=True)
    assert board.count('<section class="slide"') == 1
    check_self_contained(board)


# --- every demo programme -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_every_programme_tells_its_story_in_the_model_deck_and_report(any_demo, scenario, tmp_path):
    engine = any_demo(scenario)
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        report = measures.report(conn, EVERYONE, as_of)
        choices = sv.project_choices(conn, EVERYONE, as_of)
        sc = sv.showcase_data(conn, EVERYONE, as_of)
        # The page opens without the map and the funnels and draws them when their slide is reached:
        # the same slides, the same numbers, the same map and funnels.
        deferred = sv.showcase_data(conn, EVERYONE, as_of, with_map=False, with_funnels=False)
        assert deferred.map is None and deferred.map_deferred == (sc.map is not None)
        assert deferred.funnels == () and deferred.funnels_deferred == bool(sc.funnels)
        assert deferred.slides == sc.slides and deferred.numbers == sc.numbers
        assert sv.showcase_funnels(conn, EVERYONE, as_of, False) == sc.funnels
        public = sv.showcase_data(conn, EVERYONE, as_of, public=True)
        assert sv.showcase_funnels(conn, EVERYONE, as_of, True) == public.funnels
        alone = sv.showcase_map(conn, EVERYONE, as_of, False)
        assert (alone is None) == (sc.map is None)
        if alone is not None:
            assert (alone.headline, alone.values, alone.stages) == (
                sc.map.headline,
                sc.map.values,
                sc.map.stages,
            )
            assert alone.orgs.equals(sc.map.orgs)
        nowhere = Scope(kind="no_such_kind")
        empty = sv.showcase_data(conn, nowhere, as_of, with_map=False, with_funnels=False)
        assert not empty.map_deferred and not empty.funnels_deferred
        assert sv.showcase_funnels(conn, nowhere, as_of, False) == ()
        assert empty.slides == sv.showcase_data(conn, nowhere, as_of).slides
    # The numbers are the measures engine's.
    numbers = {n.key: n.value for n in sc.numbers}
    assert numbers["people_trained"] == report["people_trained"]
    assert numbers["projects_improving"] == report["projects_improving"]
    assert numbers["projects"] == sum(report["projects_by_priority"].values())
    for funnel in sc.funnels:
        assert [s.value for s in funnel.stages] == [report["people_by_tier"][s.code] for s in funnel.stages]
    # Suggestions: sustained improvement first, best latest score first; then quiet wins.
    chosen = [c for c in choices if c.code in {p.code for p in sc.projects}]
    assert sc.projects, "every programme has something to celebrate"
    kept = [c for c in chosen if c.sustained]
    assert [c.code for c in kept] == [p.code for p in sc.projects if not p.quiet_win][: len(kept)]
    scores = [c.latest_score or 0 for c in kept]
    assert scores == sorted(scores, reverse=True)
    assert all(c.has_story for c in chosen if not c.sustained)
    assert all(p.chart is not None and p.before_after is not None for p in sc.projects if not p.quiet_win)
    path = tmp_path / f"{scenario}.pptx"
    path.write_bytes(pptx_deck.to_bytes(sc))
    check_deck(path, sc)
    check_whole_emus(path.read_bytes())
    check_whole_emus(pptx_deck.to_bytes(public))
    check_self_contained(html_report.render(sc))


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_choices_and_slides_read_in_bulk_agree_with_each_projects_own_page(any_demo, scenario):
    # project_choices reads plain rows, not every stored result, and project_slides reads all the chosen
    # projects at once: each must still say what the Project page says of each project, on the latest
    # date and a year earlier (when stored analyses run past the date and are analysed again).
    from qidash.views import project as pj

    with any_demo(scenario).connect() as conn:
        latest = measures.default_as_of(conn)
        for as_of in (latest, latest - dt.timedelta(days=365)):
            choices = sv.project_choices(conn, EVERYONE, as_of)
            sample = choices[:12] + choices[-6:]  # the best to celebrate, and the rest
            for public in (False, True):
                slides = sv.project_slides(conn, tuple(c.code for c in sample), as_of, public, True, 5)
                assert [p.code for p in slides] == [c.code for c in sample]
                for choice, slide in zip(sample, slides, strict=True):
                    alone = sv.project_slide(conn, choice.code, as_of, public, True, 5)
                    assert slide == alone
                    page = pj.project_data(conn, choice.code, as_of)
                    kept = [mm["improving"] for mm in page.measures]  # one meaning of improving
                    assert choice.improving == sum(mm["improving"] for mm in page.measures), choice.code
                    assert choice.sustained == any(kept), choice.code
                    assert choice.latest_score == slide.latest_score
                    assert slide.latest_score == (
                        None if page.scores.empty else page.scores["score"].iloc[-1]
                    )
                    assert [o.name for o in slide.organisations] == list(page.organisations["name"])
                    assert slide.cross_boundary == page.cross_boundary
                    assert slide.pdsa_cycles == int((page.changes["kind"] == "pdsa").sum())
                    assert len(slide.other_measures) + (slide.chart is not None) == len(page.measures)
                    assert slide.status == label(page.about["status"])
                    team = 0 if slide.team.size in ("", "<5") else int(slide.team.size)
                    assert team in (0, len(page.team))
        assert sv.project_slides(conn, ("NO-SUCH",), latest, False, True, 5) == ()


# --- images through Chromium --------------------------------------------------------------------------------


def test_chart_images_and_the_report_pdf_come_from_chromium_when_it_is_there(
    databases, tmp_path, monkeypatch
):
    """Chromium draws what the model holds, whichever database it came from: SQLite only."""
    engine = databases.new("sqlite")
    load_base(engine)
    sc = model(engine)
    databases.drop(engine)
    if images.chromium() is None:
        with pytest.raises(images.NoChromium, match="Chromium"):
            images.report_pdf(sc)
        if os.environ.get("QIDASH_REQUIRE_E2E") == "1":
            pytest.fail("no Chromium, and QIDASH_REQUIRE_E2E=1 says the images must be drawn")
        pytest.skip("no Chromium: the clear message is all there is")
    drawing = svg.funnel(sc.funnels[0])
    png = images.svg_to_png(drawing)
    assert png.startswith(b"\x89PNG")
    width = int.from_bytes(png[16:20], "big")
    assert width == int(re.search(r'viewBox="0 0 (\d+)', drawing).group(1))
    assert images.svg_to_pdf(drawing).startswith(b"%PDF")
    assert images.report_pdf(sc, board_only=True).startswith(b"%PDF")
    monkeypatch.setenv("QIDASH_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert images.chromium() is None
    with pytest.raises(images.NoChromium):
        images.svg_to_png(drawing)


# --- the command --------------------------------------------------------------------------------------------


def test_the_command_writes_the_deck_and_the_report_and_refuses_what_it_cannot_do(
    base, tmp_path, capsys, monkeypatch
):
    url = engine_url(base)
    deck = tmp_path / "deck.pptx"
    assert (
        main(
            [
                "showcase",
                "--db",
                url,
                "--out",
                str(deck),
                "--projects",
                "QI-002,QI-001",
                "--as-of",
                AS_OF.isoformat(),
            ]
        )
        == 0
    )
    assert "6 slides, 2 projects" in capsys.readouterr().out
    check_deck(deck, model(base, projects=("QI-002", "QI-001")))
    report = tmp_path / "report.html"
    assert (
        main(
            [
                "showcase",
                "--db",
                url,
                "--out",
                str(report),
                "--public",
                "--as-of",
                "31/12/2024",
                "--locality",
                "NORTH",
            ]
        )
        == 0
    )
    html = report.read_text()
    check_self_contained(html)
    assert "&lt;5" in html and "QI-001" in html
    assert main(["showcase", "--db", url, "--out", str(tmp_path / "board.pptx"), "--board"]) == 0
    assert len(Presentation(str(tmp_path / "board.pptx")).slides) == 1
    capsys.readouterr()

    def refused(*args, says: str):
        assert main(["showcase", "--db", url, *args]) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err, err

    refused("--out", str(deck), "--projects", "QI-001,NOPE", says="unknown project code(s): NOPE")
    refused(
        "--out",
        str(deck),
        "--projects",
        "QI-002",
        "--locality",
        "SOUTH",
        says="not in this scope or not started by",
    )
    refused("--out", str(deck), "--locality", "NOWHERE", says="Unknown locality code 'NOWHERE'")
    refused("--out", str(deck), "--as-of", "31/31/2024", says="--as-of")
    refused("--out", str(tmp_path / "deck.key"), says="--out must name a .pptx, .html or .pdf file")
    refused("--out", str(tmp_path / "missing" / "deck.pptx"), says="does not exist")
    monkeypatch.setenv("QIDASH_CHROMIUM", str(tmp_path / "no-such-browser"))
    refused("--out", str(tmp_path / "report.pdf"), says="need Chromium")
    refused("--out", str(deck), "--images", str(tmp_path / "charts"), says="need Chromium")
    assert not (tmp_path / "report.pdf").exists()
    with base.connect() as conn:
        exports = auth.audit_events(conn, action="export")
    assert {e["detail"]["kind"] for e in exports} == {"showcase"} and len(exports) == 3
    assert all(e["actor"].startswith("cli:") for e in exports), [e["actor"] for e in exports]


# --- the page -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_page_steps_through_every_slide_of_every_programme(scenario):
    from tests.support import no_exceptions, open_page

    at = open_page("showcase", scenario)
    no_exceptions(at)
    engine = db.make_engine(db.demo_url(scenario))
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        sc = sv.showcase_data(conn, EVERYONE, as_of)
    engine.dispose()
    assert at.query_params["projects"] == ",".join(p.code for p in sc.projects)
    tiles = {mt.label: mt.value for mt in at.metric}
    assert tiles == {n.label: n.text for n in sc.numbers}
    seen = []
    for number, slide in enumerate(sc.slides, start=1):
        assert at.session_state["slide"] == number and at.query_params["slide"] == str(number)
        titles = [t.value for t in at.title]
        assert markdown_literal(slide.title) in titles, (number, slide.title, titles)  # shown as written
        seen.append(slide.kind)
        if slide.kind == sv.KIND_PROJECT and sc.project(slide.project).chart:
            assert any(el.proto.spec for el in at.get("plotly_chart"))
        # Every chart and the map has its text alternative: the summary in words and the numbers behind it.
        p = sc.project(slide.project) if slide.kind == sv.KIND_PROJECT else None
        alternative = {
            sv.KIND_FUNNEL: [sv.alternatives.funnel(f) for f in sc.funnels],
            sv.KIND_MAP: [sv.alternatives.map_slide(sc.map)] if sc.map else [],
            sv.KIND_PROJECT: [sv.alternatives.project_chart(p.chart, p.before_after)] if p and p.chart
            else [],
        }.get(slide.kind, [])
        captions = [c.value for c in at.caption]
        for summary, _table in alternative:
            assert markdown_literal(summary) in captions, (number, summary, captions)
        what = "map" if slide.kind == sv.KIND_MAP else "chart"
        numbers = [e for e in at.expander if e.label == f"Numbers behind this {what}"]
        assert len(numbers) == len(alternative), (number, slide.kind, [e.label for e in at.expander])
        if number < len(sc.slides):
            at.button(key="next").click().run()
            no_exceptions(at)
    assert at.button(key="next").disabled and not at.button(key="previous").disabled
    at.button(key="previous").click().run()
    assert at.session_state["slide"] == len(sc.slides) - 1
    assert seen[0] == "numbers" and seen[-1] == "board" and "project" in seen


def test_page_public_mode_and_presenting_from_a_link(app_database):
    from tests.support import no_exceptions, open_page, plotly_specs

    app_database("barnet")
    at = open_page("showcase", "barnet", public=True, slide=2)
    no_exceptions(at)
    funnel = next(t for spec in plotly_specs(at) for t in spec["data"] if t["type"] == "funnel")
    # Barnet has fewer than five people at its top tier: "<5", as plotly text (shown as written).
    assert funnel["text"][-1] == "&lt;5"
    assert at.query_params["public"] == "1"
    assert any("Public mode" in c.value for c in at.caption)
    at.session_state["present"] = True
    at.run()
    no_exceptions(at)
    assert at.query_params["present"] == "1"
    assert "Showcase" not in [t.value for t in at.title]  # no page header while presenting
    assert not at.multiselect and not at.get("download_button")
    at.button(key="exit").click().run()
    assert "Showcase" in [t.value for t in at.title] and at.multiselect
    assert "present" not in at.query_params


def test_the_slides_name_the_filters_not_their_codes():
    at = open_page("showcase", "cornwall", locality="EAST")
    no_exceptions(at)
    captions = [c.value for c in at.caption]
    assert any("locality East Cornwall" in c for c in captions)
    assert not any("locality EAST" in c for c in captions)
