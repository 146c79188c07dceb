"""Every role on every page (issue 9): each page runs for each role; a page a role may not open stays
shut however it is reached; person-level detail reaches only faculty and admins, and then only the names
of people who agreed to be named; a locality lead sees no organisation outside their area.

The checks read everything a page puts in front of the user: text, metrics, tables, chart and map specs
(tooltips included), widget options and download file names.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from qidash import models as m
from qidash.models import ROLES
from qidash.ui import pages as app_pages
from tests.support import demo_engine, no_exceptions, open_page

SCENARIO = "cornwall"
AREA = "EAST"


# (page name, roles that may open it or None for everyone), as the frame registers them.
PAGES = [(page.name, page.roles) for page in app_pages.PAGES]


def _text(at) -> str:
    """Everything the run shows, as one string."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "code", "info", "warning",
                 "success", "error", "latex"):
        parts += [str(el.value) for el in at.get(kind)]
    parts += [f"{el.label} {el.value}" for el in at.metric]
    for kind in ("dataframe", "table"):
        parts += [el.value.to_csv() for el in at.get(kind)]
    parts += [el.proto.spec for el in at.get("plotly_chart")]
    parts += [el.proto.json for el in at.get("deck_gl_json_chart")]
    for kind in ("selectbox", "multiselect", "radio", "segmented_control", "pills"):
        for el in at.get(kind):
            options = getattr(el, "options", None) or []
            parts += [str(o) for o in options]
    parts += [json.dumps(el.proto.label) for el in at.get("download_button")]
    return "\n".join(parts)


def _open(role: str, page: str):
    area = {"demo_area": AREA} if role == "locality_lead" else {}
    return open_page(page, SCENARIO, demo_role=role, **area)


@pytest.fixture(scope="module")
def people():
    """Display names of the demo's people: (consenting, not consenting)."""
    with demo_engine(SCENARIO).connect() as conn:
        rows = conn.execute(select(m.Person.display_name, m.Person.consents_to_be_named)
                            .where(m.Person.display_name.is_not(None))).all()
    named = {n for n, ok in rows if ok}
    # A name shared by a consenting and a non-consenting person cannot tell them apart: leave it out.
    return named, {n for n, ok in rows if not ok} - named


@pytest.fixture(scope="module")
def organisations():
    """Organisation names inside and outside the area."""
    with demo_engine(SCENARIO).connect() as conn:
        rows = conn.execute(
            select(m.Organisation.name, m.Locality.code)
            .outerjoin(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
            .outerjoin(m.Locality, m.Locality.id == m.Pcn.locality_id)
        ).all()
    inside = {n for n, loc in rows if loc == AREA}
    return inside, {n for n, loc in rows if loc != AREA} - inside


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", [p for p, _roles in PAGES])
def test_every_role_on_every_page(role, page, people, organisations):
    allowed = dict(PAGES)[page]
    if allowed is not None and role not in allowed:
        # Not registered for this role, so neither the menu, a page switch nor a typed address reaches it.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            _open(role, page)
        return
    at = _open(role, page)
    shown = _text(at)
    no_exceptions(at)
    assert shown.strip(), f"{page} showed nothing to {role}"
    named, unnamed = people
    leaked = sorted(n for n in unnamed if n in shown)
    assert not leaked, f"{page} names people who did not agree to be named, to {role}: {leaked[:5]}"
    if role in ("executive", "locality_lead"):
        leaked = sorted(n for n in named if n in shown)
        assert not leaked, f"{page} shows person-level names to {role}: {leaked[:5]}"
    if role == "locality_lead" and page in ("capability_map", "overview", "tiers"):
        # Organisation-level pages list only the lead's own area.
        outside = organisations[1]
        leaked = sorted(n for n in outside if n in shown)
        assert not leaked, f"{page} shows organisations outside {AREA} to a locality lead: {leaked[:5]}"


def test_faculty_see_consenting_names_somewhere(people):
    """The name check above can fail: the gaps list names consenting coaches to faculty."""
    named, _unnamed = people
    shown = _text(_open("faculty", "capability_map"))
    assert any(n in shown for n in named)
    executive = _text(_open("executive", "capability_map"))
    assert not any(n in executive for n in named)


def test_a_locality_lead_asking_for_another_area_by_the_url_still_sees_only_their_own(organisations):
    inside, outside = organisations
    at = open_page("capability_map", SCENARIO, demo_role="locality_lead",
                   demo_area=AREA, locality="WEST")
    no_exceptions(at)
    shown = _text(at)
    assert not [n for n in outside if n in shown]
    assert [n for n in inside if n in shown], "the lead's own area is shown"
