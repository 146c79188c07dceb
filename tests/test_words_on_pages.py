"""What pages say in words: a locality lead's area by its name, filters as users name them ("PCN",
never the field name "pcn"), on every page registered in app.py."""

from __future__ import annotations

import re

import pytest

from qidash.auth import Viewer
from qidash.scope import Scope
from qidash.ui.filters import area_in_words
from tests.support import no_exceptions, open_page
from tests.test_roles_on_every_page import PAGES

FIELD_NAMES = re.compile(r"\bpcns?\b(?!\.csv)|\bPcn|your area")  # a file name (pcns.csv) is its name


def _words(at) -> str:
    """Every piece of text the page shows a reader (not chart or map specs, whose keys are field names)."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "success",
                 "error"):
        parts += [str(el.value) for el in at.get(kind)]
    parts += [f"{el.label} {el.value}" for el in at.metric]
    for kind in ("dataframe", "table"):
        parts += [" ".join(map(str, el.value.columns)) for el in at.get(kind)]
    for kind in ("selectbox", "multiselect", "radio", "segmented_control", "pills"):
        for el in at.get(kind):
            parts.append(str(el.label))
            parts += [str(o) for o in (getattr(el, "options", None) or [])]
    parts += [str(e.label) for e in at.expander]
    return "\n".join(parts)


def test_scope_label_names_filters_in_words():
    names = {"WEST": "West Cornwall", "W-PEN": "Penwith PCN"}
    assert Scope(locality="WEST", pcn="W-PEN").label(names) == "locality West Cornwall, PCN Penwith PCN"
    lead = Scope(within_localities=("WEST",))
    assert lead.label(names, "West Cornwall") == "West Cornwall"
    assert lead.with_(sector="nhs").label({"nhs": "NHS"}, "West Cornwall") == "West Cornwall, sector NHS"


def test_area_in_words():
    localities, pcns = {"WEST": "West Cornwall", "MID": "Mid Cornwall"}, {"E-LIS": "Liskeard PCN"}
    one = Viewer("a@x", "locality_lead", localities=("WEST",))
    assert area_in_words(one, localities, pcns) == "West Cornwall"
    more = Viewer("a@x", "locality_lead", localities=("WEST", "MID"), pcns=("E-LIS",))
    assert area_in_words(more, localities, pcns) == "West Cornwall, Mid Cornwall and Liskeard PCN"


def test_a_locality_lead_sees_their_area_by_name_in_the_caption_and_the_filter():
    at = open_page(None, "cornwall", demo_role="locality_lead", demo_area="WEST")
    no_exceptions(at)
    assert " · West Cornwall · " in at.caption[0].value
    locality = next(s for s in at.selectbox if s.label == "Locality")
    assert locality.options == ["West Cornwall"]
    assert "your area" not in _words(at)


# Only the pages each role may open: a page not registered for a role is test_roles_on_every_page's case.
@pytest.mark.parametrize(
    ("role", "page"),
    [(role, name) for role in ("locality_lead", "admin") for name, roles in PAGES
     if not roles or role in roles],
)
def test_no_page_shows_a_field_name_for_a_filter(page, role):
    """A PCN chosen, so every caption that names the scope names it; as a lead and as an admin."""
    area = {"demo_area": "WEST"} if role == "locality_lead" else {}
    at = open_page(page, "cornwall", demo_role=role, pcn="W-PEN", **area)
    no_exceptions(at)
    words = _words(at)
    assert "PCN Penwith PCN" in at.caption[0].value
    assert not FIELD_NAMES.findall(words), sorted(set(FIELD_NAMES.findall(words)))
    if role == "locality_lead":
        assert "All localities" not in words


def test_codes_in_words_keep_their_acronyms_wherever_they_come():
    from qidash.palette import label

    assert label("pcn") == "PCN"
    assert label("qi_facilitator") == "QI facilitator"  # was "Qi facilitator"
    assert label("care_home_nursing") == "Care home nursing"
    assert label("local_authority") == "Local authority"


def test_tiers_compared_by_pcn_say_pcn_in_the_chart_table_and_caption():
    """Fylde's trusts belong to no PCN: the chart's grey bar, the table's last row and the caption
    call them "No PCN", never "no pcn"."""
    import json

    at = open_page("tiers", "fylde", compare="pcn", tiers_tab="Compared across areas")
    no_exceptions(at)
    words = _words(at)
    assert not FIELD_NAMES.findall(words), sorted(set(FIELD_NAMES.findall(words)))
    assert any("in no PCN" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "PCN" in d.value.columns)
    assert list(table["PCN"])[-1] == "No PCN"
    comparison = next(json.loads(el.proto.spec) for el in at.get("plotly_chart")
                      if "People who reached at least this tier" in el.proto.spec)
    texts = [t for trace in comparison["data"] for t in trace.get("text", [])]
    assert any(t.startswith("no PCN: ") for t in texts), texts


def test_in_sentence_keeps_acronyms():
    from qidash.palette import in_sentence

    assert in_sentence("PCN") == "PCN" and in_sentence("QI facilitator") == "QI facilitator"
    assert in_sentence("Locality") == "locality" and in_sentence("Organisation kind") == "organisation kind"
