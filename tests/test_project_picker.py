"""The Project page's picker at scale: narrow first (search on code or title, priority, status), list at
most a bounded number of matches and say how many there are, while a link still opens any project in
view and a locality lead is offered only their own area's projects."""

from __future__ import annotations

import pytest

from qidash import catalog, measures
from qidash.scope import Scope
from qidash.views import project as pj
from qidash.views.project import ProjectChoice, narrow_projects, picker_count
from tests.support import demo_engine, no_exceptions, open_page

CHOICES = {
    "A1": ProjectChoice("A1", "Falls in care homes", "P1", "Frailty", "active"),
    "A2": ProjectChoice("A2", "Hydration rounds", "P1", "Frailty", "completed"),
    "B1": ProjectChoice("B1", "Care home falls huddle", "P2", "Urgent care", "active"),
    "B2": ProjectChoice("B2", "Discharge to assess", "P2", "Urgent care", "stopped"),
}


def test_narrowing_by_words_priority_and_status():
    assert narrow_projects(CHOICES, "") == (["A1", "A2", "B1", "B2"], 4)
    # Every word must be part of the code or title, in any case and order.
    assert narrow_projects(CHOICES, "FALLS care") == (["A1", "B1"], 2)
    assert narrow_projects(CHOICES, "b2") == (["B2"], 1)
    assert narrow_projects(CHOICES, "falls", priority="P2") == (["B1"], 1)
    assert narrow_projects(CHOICES, status="active") == (["A1", "B1"], 2)
    assert narrow_projects(CHOICES, "nothing like it") == ([], 0)
    # The list is bounded; the count is of every match.
    assert narrow_projects(CHOICES, "", limit=3) == (["A1", "A2", "B1"], 4)


def test_the_count_is_said_only_when_not_everything_is_listed():
    assert picker_count(4, 4, 4) is None
    assert picker_count(2, 2, 4) == "2 of 4 projects match."
    assert picker_count(200, 312, 4920) == (
        "312 of 4,920 projects match; the first 200 are listed. Type part of a code or title to narrow."
    )
    assert picker_count(200, 4920, 4920) == (
        "4,920 projects in this view; the first 200 are listed. Type part of a code or title to narrow."
    )
    assert picker_count(0, 0, 4920) == "No project of the 4,920 in this view matches."


def test_choices_are_the_catalog_with_priority_and_status(any_demo):
    with any_demo("cornwall").connect() as conn:
        as_of = measures.default_as_of(conn)
        scope = Scope(locality="EAST")
        choices = pj.project_choices(conn, scope, as_of)
        listed = catalog.projects(conn, scope, as_of)
        statuses = {r["code"]: r["status"] for r in measures.portfolio_projects(conn, scope, as_of)}
    assert list(choices) == list(listed)
    assert {c: ch.label for c, ch in choices.items()} == listed
    assert {c: ch.status for c, ch in choices.items()} == statuses
    assert {ch.status for ch in choices.values()} <= set(pj.STATUS_ORDER)


@pytest.fixture
def small_limit(monkeypatch):
    """A picker limit the cornwall demo's hundred-odd projects exceed, as thousands exceed 200."""
    monkeypatch.setattr(pj, "PICKER_LIMIT", 10)
    with demo_engine("cornwall").connect() as conn:
        return pj.project_choices(conn, Scope(), measures.default_as_of(conn))


def _caption(at) -> str:
    return " ".join(c.value for c in at.caption if "are listed" in c.value or "match" in c.value)


def test_the_picker_lists_the_first_matches_and_says_how_many(small_limit):
    choices = small_limit
    at = open_page("project", "cornwall")
    no_exceptions(at)
    picker = at.selectbox(key="project")
    assert picker.options == [choices[c].label for c in list(choices)[:10]]
    assert _caption(at) == (
        f"{len(choices)} projects in this view; the first 10 are listed. "
        "Type part of a code or title to narrow."
    )


def test_typing_narrows_and_moves_to_the_first_match(small_limit):
    choices = small_limit
    at = open_page("project", "cornwall")
    first = at.selectbox(key="project").value
    # A word from a title far down the list, not in the first project's.
    target = list(choices.values())[-1]
    word = max((w for w in target.title.split() if w.lower() not in choices[first].title.lower()), key=len)
    at.text_input(key="project_search").input(word).run()
    no_exceptions(at)
    expected, matched = narrow_projects(choices, word)
    assert at.selectbox(key="project").options == [choices[c].label for c in expected]
    assert at.selectbox(key="project").value == expected[0]
    assert at.query_params["project"] == expected[0]
    assert at.header[0].value == choices[expected[0]].title
    assert f"{matched} of {len(choices)} projects match" in _caption(at)
    # A priority narrows further.
    priority = choices[expected[0]].priority
    at.selectbox(key="project_priority").set_value(priority).run()
    no_exceptions(at)
    narrower, _ = narrow_projects(choices, word, priority=priority)
    assert at.selectbox(key="project").options == [choices[c].label for c in narrower]


def test_a_link_to_a_project_beyond_the_first_matches_opens_it(small_limit):
    choices = small_limit
    wanted = list(choices)[-1]
    at = open_page("project", "cornwall", project=wanted)
    at.query_params["project"] = wanted
    at.run()
    no_exceptions(at)
    picker = at.selectbox(key="project")
    assert picker.value == wanted
    assert at.header[0].value == choices[wanted].title
    assert choices[wanted].label in picker.options and len(picker.options) == 11
    # Choosing a listed project from there moves to it.
    other = list(choices)[3]
    picker.set_value(other).run()
    no_exceptions(at)
    assert at.selectbox(key="project").value == other and at.query_params["project"] == other


def test_a_locality_lead_is_offered_only_their_area(small_limit):
    with demo_engine("cornwall").connect() as conn:
        as_of = measures.default_as_of(conn)
        own = pj.project_choices(conn, Scope(locality="EAST"), as_of)
    outside = next(c for c in small_limit if c not in own)
    at = open_page("project", "cornwall", demo_role="locality_lead", demo_area="EAST", locality="WEST")
    at.query_params["project"] = outside
    at.run()
    no_exceptions(at)
    assert any(outside in w.value for w in at.warning)
    picker = at.selectbox(key="project")
    assert picker.value in own and picker.value != outside
    assert set(picker.options) <= {ch.label for ch in own.values()}
    # Searching for the outside project's code finds nothing for the lead.
    at.text_input(key="project_search").input(outside).run()
    no_exceptions(at)
    assert _caption(at) == f"No project of the {len(own)} in this view matches."
