"""Imported text is data, never markup (issue 15): hostile names, titles and stories loaded through the
real import reach every page, figure, map, slide, report and download as text, and every table the app
writes neutralises formulas. A locality lead's maps draw and name nothing outside their area.

The browser's view of the same data (links, images, outside requests) is
tests/e2e/test_imported_text_browser.py.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from qidash import auth, export, geo, measures, tabular
from qidash import models as m
from qidash.scope import Scope
from qidash.views import showcase as sv
from qidash.views.capability_map import capability_map_data
from tests.hostile import EVIL_HOST, ORGANISATION, RAW_MARKUP, hostile_database
from tests.support import deck_specs, engine_url, no_exceptions, open_page, plotly_specs

# Markup the hostile data carries, as plotly would read it (its own templates use <br>, <b>, %{y}).
PLOTLY_MARKUP = ('<a href="https://evil', "<img src", "<i>Measure", "<b>aim", "</a> %{y}")


@pytest.fixture(scope="module")
def hostile(backend, databases):
    """A database on each backend holding the hostile programme, loaded through the import."""
    engine = databases.new(backend)
    hostile_database(engine)
    yield engine
    databases.drop(engine)


@pytest.fixture
def on_hostile(hostile, monkeypatch):
    """Point the app (AppTest) at the hostile database, without sign-in, as an operator's laptop would."""
    monkeypatch.setenv("QIDASH_DB_URL", engine_url(hostile))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    return hostile


def _markdown_shown(at) -> list[str]:
    """Every string the run hands to Streamlit's Markdown renderer: text, labels, metrics, table cells."""
    texts = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "success",
        "error",
    ):
        texts += [str(el.value) for el in at.get(kind)]
    for el in at.metric:
        texts += [el.label, str(el.value), str(el.proto.delta)]
    for el in at.table:
        texts += [str(v) for v in el.value.to_numpy().ravel()]
    texts += [el.label for el in at.expander] + [el.label for el in at.tabs]
    for kind in ("radio", "segmented_control"):
        for el in at.get(kind):
            texts += [el.label, *map(str, el.options)]
    return texts


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _assert_literal(at, page: str) -> None:
    no_exceptions(at)
    shown = _markdown_shown(at)
    everything = shown + _strings([json.loads(el.proto.spec) for el in at.get("plotly_chart")]) + [
        el.proto.json for el in at.get("deck_gl_json_chart")
    ]
    # The control: the hostile names are on the page somewhere.
    assert any(w in s for s in everything for w in ("Locality", "PCN", "Project", "Tier", "Measure")), page
    for text in shown:
        unescaped = re.sub(r"\\.", "", text)  # what is left once backslash-escaped characters are taken out
        raw = [f for f in RAW_MARKUP if f in unescaped]
        assert not raw, f"{page} hands Markdown {raw} to Streamlit: {text[:160]!r}"
    for spec in plotly_specs(at):
        for text in _strings(spec["data"]) + _strings(spec["layout"]):
            raw = [f for f in PLOTLY_MARKUP if f in text]
            assert not raw, f"{page}: a chart holds markup {raw}: {text[:160]!r}"
    for el in at.get("deck_gl_json_chart"):
        tooltip = json.loads(el.proto.tooltip)
        assert "text" in tooltip and "html" not in tooltip, f"{page}: a map tooltip reads HTML"


@pytest.mark.parametrize("page", ["overview", "capability_map", "tiers", "portfolio", "project"])
def test_every_page_shows_imported_text_as_text(on_hostile, page):
    _assert_literal(open_page(page), page)
    # Filtered to a locality, every page's header names it.
    with on_hostile.connect() as conn:
        locality = conn.execute(select(m.Locality.code).order_by(m.Locality.code)).scalars().first()
    _assert_literal(open_page(page, locality=locality), f"{page} of one locality")


def test_the_charts_hold_the_names_as_plotly_text(on_hostile):
    """The control for the chart check above: the names are there, escaped, not left out."""
    at = open_page("overview")
    texts = [t for spec in plotly_specs(at) for t in _strings(spec["data"])]
    assert any(t.startswith("&lt;a href=") and "Locality 1&lt;/a&gt;" in t for t in texts)
    at = open_page("project")
    texts = [t for spec in plotly_specs(at) for t in _strings(spec["data"])]
    assert any("&lt;a href=" in t and "Change" in t and "%&#123;y}" in t for t in texts)


def test_every_showcase_slide_shows_imported_text_as_text(on_hostile):
    at = open_page("showcase")
    while True:
        _assert_literal(at, f"showcase slide {at.session_state['slide']}")
        if at.button(key="next").disabled:
            break
        at.button(key="next").click().run()
    assert at.session_state["slide"] > 3


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.handlers, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on") or name in ("href", "src")]

    def handle_data(self, data):
        self.text.append(data)


def _showcase(engine) -> sv.Showcase:
    with engine.connect() as conn:
        as_of = measures.default_as_of(conn)
        return sv.showcase_data(conn, Scope(), as_of)


def test_the_html_report_escapes_everything_and_forbids_scripts_and_fetches(hostile):
    from qidash.exports import html_report

    for report in (
        html_report.render(_showcase(hostile)),
        html_report.render(_showcase(hostile), board_only=True),
    ):
        parsed = _Tags()
        parsed.feed(report)
        assert not {"a", "img", "script", "iframe", "i"} & set(parsed.tags)
        assert not parsed.handlers, parsed.handlers
        assert "default-src 'none'" in report and "Content-Security-Policy" in report
    # The names are in it, as text.
    shown = "".join(parsed.text)
    assert "![x](https://evil.example/p.png) **bold** :red[x] $x$ Project" in shown


def test_the_deck_holds_imported_text_as_plain_text_without_links(hostile):
    from qidash.exports import pptx_deck

    deck = pptx_deck.to_bytes(_showcase(hostile))
    with zipfile.ZipFile(io.BytesIO(deck)) as z:
        slides = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("ppt/slides/slide"))
        rels = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".rels"))
    assert "hlinkClick" not in slides and EVIL_HOST not in rels
    assert "![x](https://evil.example/p.png) **bold**" in slides  # the title, as text


def test_the_gaps_list_and_the_workbook_neutralise_formulas(hostile):
    with hostile.connect() as conn:
        as_of = measures.default_as_of(conn)
        view = capability_map_data(conn, Scope(), as_of, False)
    gaps = view.gaps[view.default_gaps_among]
    assert len(gaps), "the hostile programme has organisations with nobody trained"
    text = tabular.frame_csv(gaps).decode("utf-8-sig")
    assert '\'=HYPERLINK(""http://evil.example""' in text and '\n=HYPERLINK' not in text.replace(",=", "\n=")
    book = load_workbook(io.BytesIO(export.export_workbook(hostile)))
    names = [row[1].value for row in book["organisations"].iter_rows(min_row=2)]
    assert names and all(n.startswith("'=HYPERLINK(") for n in names)
    assert ORGANISATION.format(n=1) == names[0][1:]


def test_a_leads_maps_draw_and_name_no_pcn_outside_their_area(demos_cornwall):
    """The Capability map (the page, as a lead) and the Showcase map (its view) hold only the lead's PCNs."""
    engine, inside, outside = demos_cornwall
    at = open_page("capability_map", "cornwall", demo_role="locality_lead", demo_area="EAST")
    no_exceptions(at)
    shown = json.dumps(deck_specs(at))
    assert [n for n in inside if n in shown], "the lead's own PCNs are drawn"
    assert not [n for n in outside if n in shown]
    assert not [c for c in outside.values() if f'"{c}"' in shown]
    lead = auth.Viewer(email="lead@example.nhs.uk", role="locality_lead", localities=("EAST",))
    with engine.connect() as conn:
        mv = sv.showcase_map(conn, lead.restrict(Scope()), measures.default_as_of(conn), public=False)
    names = {a.name for a in mv.areas.pcns}
    assert names and names <= set(inside) and {a.code for a in mv.areas.localities} <= {"EAST"}
    # The control: with no area, the whole system is drawn.
    assert geo.within_area(mv.areas, Scope()) is mv.areas


@pytest.fixture
def demos_cornwall():
    """The Cornwall demo (as the app's demo mode reads it): (engine, PCN names inside EAST, outside
    EAST as name -> code)."""
    from tests.support import demo_engine

    engine = demo_engine("cornwall")
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.Pcn.name, m.Pcn.code, m.Locality.code).join(
                m.Locality, m.Locality.id == m.Pcn.locality_id
            )
        ).all()
    inside = {name: code for name, code, loc in rows if loc == "EAST"}
    outside = {name: code for name, code, loc in rows if loc != "EAST"}
    return engine, inside, outside
