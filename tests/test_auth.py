"""Roles and areas: a locality lead gets nothing outside their area, however they ask."""

import pytest
from sqlalchemy import func, select

from qidash import auth, measures, scenarios
from qidash import models as m
from qidash.auth import AccessError, Viewer
from qidash.scope import Scope
from tests.support import engine_url, no_exceptions, open_page


@pytest.fixture(scope="module")
def cornwall(backend, databases):
    """The cornwall demo on each database, this module's own copy (its tests add users)."""
    engine = databases.copy(databases.demo_snapshot(backend, "cornwall"))
    yield engine
    databases.drop(engine)


def test_restricted_scope_equals_the_area_and_cannot_widen(cornwall):
    lead = Viewer(email="lead@x.nhs.uk", role="locality_lead", localities=("EAST",))
    with cornwall.connect() as conn:
        as_of = measures.default_as_of(conn)
        area = measures.report(conn, lead.restrict(Scope()), as_of)
        east = measures.report(conn, Scope(locality="EAST"), as_of)
        # Asking for another locality, a PCN elsewhere, or everything gives nothing beyond the area.
        west = measures.report(conn, lead.restrict(Scope(locality="WEST")), as_of)
        elsewhere = measures.report(conn, lead.restrict(Scope(pcn="W-PEN")), as_of)
    for key in ("people_trained", "orgs_in_scope", "orgs_trained", "projects_active"):
        assert area[key] == east[key]
    assert west["people_trained"] == 0 and west["orgs_in_scope"] == 0
    assert elsewhere["orgs_in_scope"] == 0 and elsewhere["projects_active"] == 0
    # The system target is not shown to someone who sees only part of the system.
    assert area["reach_vs_target"]["target_value"] is None


def test_pcn_lead_sees_only_their_pcn(cornwall):
    lead = Viewer(email="pcn@x.nhs.uk", role="locality_lead", pcns=("E-LIS",))
    with cornwall.connect() as conn:
        as_of = measures.default_as_of(conn)
        mine = measures.report(conn, lead.restrict(Scope()), as_of)
        pcn = measures.report(conn, Scope(pcn="E-LIS"), as_of)
    assert mine["orgs_in_scope"] == pcn["orgs_in_scope"] > 0


def test_roles_and_person_detail():
    assert Viewer("a@b", "faculty").can_see_people and Viewer("a@b", "admin").can_see_people
    assert not Viewer("a@b", "executive").can_see_people
    assert not Viewer("a@b", "locality_lead", localities=("X",)).can_see_people
    # An admin is never limited to an area, even if one is recorded.
    admin = Viewer("a@b", "admin", localities=("X",))
    assert admin.restrict(Scope()) == Scope()


def test_users_are_saved_checked_and_audited(cornwall):
    auth.save_user(cornwall, "admin@x", "Lead@Example.NHS.uk", "locality_lead", "Lee", localities=("EAST",))
    with cornwall.connect() as conn:
        viewer = auth.viewer_for(conn, "lead@example.nhs.uk")
        events = auth.audit_events(conn, action="user_change")
    assert viewer.role == "locality_lead" and viewer.localities == ("EAST",)
    assert events[0]["actor"] == "admin@x" and events[0]["detail"]["email"] == "Lead@Example.NHS.uk"
    with pytest.raises(AccessError, match="Unknown role"):
        auth.save_user(cornwall, "admin@x", "z@x", "overlord")
    with pytest.raises(AccessError, match="Unknown locality or PCN"):
        auth.save_user(cornwall, "admin@x", "z@x", "locality_lead", localities=("ATLANTIS",))
    auth.save_user(cornwall, "admin@x", "lead@example.nhs.uk", "locality_lead", active=False, localities=("EAST",))
    with cornwall.connect() as conn:
        assert auth.viewer_for(conn, "lead@example.nhs.uk") is None
        assert conn.execute(select(func.count()).select_from(m.User)).scalar_one() == 1


def test_demo_replace_keeps_users_and_audit(any_engine):
    engine = any_engine
    scenarios.load_demo(engine, "barnet")
    auth.save_user(engine, "admin@x", "f@x", "faculty")
    scenarios.load_demo(engine, "barnet", replace=True)
    with engine.connect() as conn:
        assert auth.viewer_for(conn, "f@x") is not None
        assert auth.audit_events(conn)


def metric(at, label):
    return next(x for x in at.metric if x.label == label).value


def test_demo_locality_lead_cannot_filter_outside_their_area(app_database):
    engine = app_database("cornwall")
    lead = open_page(None, "cornwall", demo_role="locality_lead", demo_area="EAST")
    no_exceptions(lead)
    tried = open_page(None, "cornwall", demo_role="locality_lead", demo_area="EAST", locality="WEST")
    no_exceptions(tried)
    east = open_page(None, "cornwall", locality="EAST")
    assert metric(lead, "People trained") == metric(east, "People trained")
    assert metric(tried, "People trained") == metric(east, "People trained")
    with engine.connect() as conn:
        report = measures.report(conn, Scope(locality="EAST"), measures.default_as_of(conn))
    assert metric(east, "People trained") == f"{report['people_trained']:,}"
    locality_box = next(s for s in tried.selectbox if s.label == "Locality")
    assert locality_box.options == ["East Cornwall"]  # their area by name, once: not "All localities"


def test_users_command(cornwall, capsys):
    from qidash.cli import main

    url = engine_url(cornwall)
    assert main(["users", "add", "boss@x.nhs.uk", "--role", "admin", "--db", url]) == 0
    assert main(["users", "add", "east@x.nhs.uk", "--role", "locality_lead", "--localities", "EAST", "--db", url]) == 0
    assert main(["users", "add", "bad@x.nhs.uk", "--role", "locality_lead", "--localities", "NOPE", "--db", url]) == 2
    assert "Unknown locality or PCN" in capsys.readouterr().err
    assert main(["users", "list", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "boss@x.nhs.uk" in out and "EAST" in out
    assert main(["users", "deactivate", "east@x.nhs.uk", "--db", url]) == 0
    assert main(["users", "audit", "--db", url]) == 0
    assert "user_change" in capsys.readouterr().out
