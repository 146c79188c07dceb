"""AppTest of the Overview page: its numbers are the measures engine's, under several filters."""

import datetime as dt

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
