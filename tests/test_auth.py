"""Roles and areas: a locality lead gets nothing outside their area, however they ask."""

import pytest
from sqlalchemy import func, select

from qidash import auth, measures, scenarios
from qidash import models as m
from qidash.auth import AccessError, Viewer
from qidash.scope import Scope
from tests.support import engine_url, no_exceptions, open_page, viewer_of


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
    auth.save_user(
        cornwall, "admin@x", "lead@example.nhs.uk", "locality_lead", active=False, localities=("EAST",)
    )
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
    assert (
        main(
            ["users", "add", "east@x.nhs.uk", "--role", "locality_lead", "--localities", "EAST", "--db", url]
        )
        == 0
    )
    assert (
        main(["users", "add", "bad@x.nhs.uk", "--role", "locality_lead", "--localities", "NOPE", "--db", url])
        == 2
    )
    assert "Unknown locality or PCN" in capsys.readouterr().err
    assert main(["users", "list", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "boss@x.nhs.uk" in out and "EAST" in out
    assert main(["users", "deactivate", "east@x.nhs.uk", "--db", url]) == 0
    assert main(["users", "audit", "--db", url]) == 0
    assert "user_change" in capsys.readouterr().out


def free_port() -> int:
    """A port nothing listens on (bound and released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- sign-in fails closed -----------------------------------------------------------------------------------

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "cookie-secret-value-never-shown",
    "client_id": "qidash",
    "client_secret": "client-secret-value-never-shown",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
SECRET_VALUES = (AUTH["cookie_secret"], AUTH["client_secret"])


@pytest.mark.parametrize(
    ("database", "setting", "secrets", "problem", "mode"),
    [
        (False, None, None, None, "demo"),  # demo mode keeps its switcher
        (False, None, {"other": {"x": 1}}, None, "demo"),
        (False, None, {"auth": AUTH}, None, "oidc"),
        (True, None, {"auth": AUTH}, None, "oidc"),
        (True, "off", None, None, "off"),
        (True, " OFF ", {"auth": {"redirect_uri": "x"}}, None, "off"),  # the operator's word wins
        (False, "off", None, None, "demo"),
    ],
)
def test_sign_in_setup_modes(database, setting, secrets, problem, mode):
    assert auth.sign_in_setup(database, setting, secrets, problem).mode == mode


@pytest.mark.parametrize(
    ("database", "setting", "secrets", "problem", "says"),
    [
        (True, None, None, None, "Sign-in is not configured"),
        (True, None, {"other": {}}, None, "QIDASH_AUTH=off"),
        (True, "yes please", None, None, "QIDASH_AUTH is set to 'yes please'"),
        (True, None, None, "Error parsing secrets file at /x/secrets.toml", "cannot be read"),
        # An unreadable secrets file never means "demo", even with no database: refuse.
        (False, None, None, "Error parsing secrets file at /x/secrets.toml", "cannot be read"),
        (False, "on", None, None, "Sign-in is not configured"),
        (True, None, {"auth": {k: v for k, v in AUTH.items() if k != "client_secret"}}, None,
         "missing client_secret"),
        (False, None, {"auth": {**AUTH, "cookie_secret": "  "}}, None, "missing cookie_secret"),
        (True, None, {"auth": {**AUTH, "redirect_uri": "http://localhost:8501/"}}, None, "oauth2callback"),
        (True, None, {"auth": {**AUTH, "server_metadata_url": "provider"}}, None, "server_metadata_url"),
        (True, None, {"auth": "on"}, None, "[auth] section"),
    ],
)
def test_sign_in_setup_refuses_what_cannot_work_and_shows_no_secret(
    database, setting, secrets, problem, says
):
    with pytest.raises(auth.SignInSetupError) as raised:
        auth.sign_in_setup(database, setting, secrets, problem)
    assert says in str(raised.value)
    assert not any(secret in str(raised.value) for secret in SECRET_VALUES)


def page_text(at) -> str:
    """Everything the visitor can read on the page, sidebar included."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "error", "warning", "info", "success",
             "exception", "text", "metric", "button", "selectbox")
    return "\n".join(
        str(getattr(e, "value", None) or getattr(e, "label", "")) for k in kinds for e in at.get(k)
    )


def run_frame(monkeypatch, url: str | None, setting: str | None = None, secrets: dict | None = None,
              user: dict | None = None, **state):
    from streamlit.testing.v1 import AppTest

    from tests.support import ROOT, TIMEOUT

    if url:
        monkeypatch.setenv("QIDASH_DB_URL", url)
    if setting:
        monkeypatch.setenv("QIDASH_AUTH", setting)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.secrets.update(secrets or {})
    if user is not None:
        at.user = user
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at


def served_data(at) -> bool:
    """True when the run showed any programme data or a way to choose a role."""
    return bool(at.metric) or any(s.label == "View as" for s in at.selectbox) or bool(at.get("plotly_chart"))


def test_a_configured_database_without_sign_in_serves_nothing(cornwall, monkeypatch):
    at = run_frame(monkeypatch, engine_url(cornwall))
    assert not at.exception
    assert not served_data(at)
    assert "Sign-in is not configured" in at.error[0].value and "QIDASH_AUTH=off" in at.error[0].value


def test_half_configured_sign_in_stops_the_app_naming_the_key_not_its_value(cornwall, monkeypatch):
    partial = {k: v for k, v in AUTH.items() if k not in ("client_id", "server_metadata_url")}
    at = run_frame(monkeypatch, engine_url(cornwall), secrets={"auth": partial})
    assert not served_data(at)
    text = page_text(at)
    assert "missing client_id, server_metadata_url" in text
    assert not any(secret in text for secret in SECRET_VALUES)


def test_sign_in_off_shows_the_switcher_and_says_so_on_every_page(cornwall, monkeypatch):
    from qidash.ui.auth import SIGN_IN_OFF
    from qidash.ui.pages import PAGES  # the frame's list of pages

    at = run_frame(monkeypatch, engine_url(cornwall), setting="off")
    no_exceptions(at)
    assert any(s.label == "View as" for s in at.selectbox)
    assert viewer_of(at).email == "sign-in-off@qidash.local"
    for page in PAGES:
        at.switch_page(page.path).run()
        assert not at.exception, page.name
        assert SIGN_IN_OFF in [w.value for w in at.main.warning], page.name


def test_demo_mode_keeps_its_switcher_without_a_banner(monkeypatch):
    from qidash.ui.auth import SIGN_IN_OFF

    at = run_frame(monkeypatch, None)
    no_exceptions(at)
    assert any(s.label == "View as" for s in at.selectbox)
    assert SIGN_IN_OFF not in page_text(at)


def test_an_unreachable_provider_stops_the_app_before_sign_in(cornwall, monkeypatch):
    at = run_frame(monkeypatch, engine_url(cornwall), secrets={"auth": AUTH}, user={"is_logged_in": False})
    assert not served_data(at) and not any(b.label == "Sign in" for b in at.button)
    text = page_text(at)
    assert "sign-in provider cannot be used" in text and "cannot be reached" in text
    assert "127.0.0.1" not in text and not any(secret in text for secret in SECRET_VALUES)


def test_a_working_provider_gets_the_sign_in_button_and_nothing_else(cornwall, monkeypatch):
    import oidc_provider_mock as mock  # a pinned development requirement: missing is an error, not a skip

    with mock.run_server_in_thread(port=0) as provider:
        metadata = f"http://localhost:{provider.server_port}/.well-known/openid-configuration"
        assert auth.provider_problem(metadata) is None
        at = run_frame(
            monkeypatch,
            engine_url(cornwall),
            secrets={"auth": {**AUTH, "server_metadata_url": metadata}},
            user={"is_logged_in": False},
        )
    assert [b.label for b in at.button] == ["Sign in"]
    assert not served_data(at)


# --- identity is verified -----------------------------------------------------------------------------------

ISSUER = "https://login.example.nhs.uk"


def claims(sub: str, email: str, verified=True, iss: str = ISSUER) -> dict:
    return {"is_logged_in": True, "iss": iss, "sub": sub, "email": email, "email_verified": verified}


def test_an_unverified_email_never_becomes_its_owner(cornwall):
    auth.save_user(cornwall, "test", "chief@example.nhs.uk", "admin", "Chief")
    for verified in (False, "false", None):
        result = auth.identify(cornwall, claims("mallory", "chief@example.nhs.uk", verified))
        assert result.viewer is None and result.refusal == "unverified_email"
        assert "has not confirmed" in result.message()
    no_claim = {k: v for k, v in claims("mallory", "chief@example.nhs.uk").items() if k != "email_verified"}
    assert auth.identify(cornwall, no_claim).refusal == "unverified_email"
    with cornwall.connect() as conn:
        bound = conn.execute(
            select(m.User.oidc_subject).where(m.User.email == "chief@example.nhs.uk")
        ).scalar_one()
    assert bound is None  # nothing was bound to the attacker


def test_first_verified_sign_in_binds_issuer_and_subject_and_later_ones_match_by_them(cornwall):
    auth.save_user(cornwall, "test", "Faye.Faculty@Example.NHS.uk", "faculty", "Faye")
    # Compared trimmed and case-insensitively; the text "true" counts as verified (some providers send it).
    first = auth.identify(cornwall, claims("faye-1", "  faye.faculty@example.nhs.uk ", "true"))
    assert first.viewer.role == "faculty" and first.bound
    # The provider later changes her email: still her, by issuer and subject.
    again = auth.identify(cornwall, claims("faye-1", "faye@elsewhere.org", False))
    assert again.viewer.email == "Faye.Faculty@Example.NHS.uk" and not again.bound
    # Someone else with her (verified) email, or her subject at another issuer, is not her.
    assert (
        auth.identify(cornwall, claims("faye-2", "faye.faculty@example.nhs.uk")).refusal == "bound_elsewhere"
    )
    other_issuer = auth.identify(cornwall, claims("faye-1", "faye@elsewhere.org", iss="https://evil.example"))
    assert other_issuer.viewer is None
    assert auth.identify(cornwall, {"email": "x@y", "email_verified": True}).refusal == "no_subject"
    with cornwall.connect() as conn:
        row = conn.execute(select(m.User.oidc_issuer, m.User.oidc_subject)
                           .where(m.User.email == "Faye.Faculty@Example.NHS.uk")).one()
        bound_events = auth.audit_events(conn, action="identity_bound")
    assert tuple(row) == (ISSUER, "faye-1")
    assert bound_events[0]["detail"]["subject"] == "faye-1"


def test_the_audit_records_who_really_signed_in(cornwall):
    auth.save_user(cornwall, "test", "exec@example.nhs.uk", "executive")
    auth.audit_sign_in(cornwall, auth.identify(cornwall, claims("exec-1", "exec@example.nhs.uk")))
    auth.audit_sign_in(cornwall, auth.identify(cornwall, claims("eve", "exec@example.nhs.uk", False)))
    with cornwall.connect() as conn:
        [signed] = [
            e for e in auth.audit_events(conn, action="sign_in") if e["detail"]["subject"] == "exec-1"
        ]
        [refused] = [
            e for e in auth.audit_events(conn, action="sign_in_refused") if e["detail"]["subject"] == "eve"
        ]
    assert signed["actor"] == "exec@example.nhs.uk"
    assert signed["detail"] == {"issuer": ISSUER, "subject": "exec-1", "email": "exec@example.nhs.uk",
                                "email_verified": True, "role": "executive"}
    assert refused["detail"]["reason"] == "unverified_email" and refused["detail"]["issuer"] == ISSUER


def test_deactivated_users_are_refused_even_when_bound(cornwall):
    auth.save_user(cornwall, "test", "gone@example.nhs.uk", "executive")
    assert auth.identify(cornwall, claims("gone-1", "gone@example.nhs.uk")).viewer
    auth.save_user(cornwall, "test", "gone@example.nhs.uk", "executive", active=False)
    assert auth.identify(cornwall, claims("gone-1", "gone@example.nhs.uk")).refusal == "deactivated"


def test_an_unverified_admin_email_gets_a_clear_page_not_the_admin(cornwall, monkeypatch):
    auth.save_user(cornwall, "test", "boss@example.nhs.uk", "admin", "Boss")
    at = run_frame(monkeypatch, engine_url(cornwall), secrets={"auth": AUTH},
                   user=claims("mallory", "boss@example.nhs.uk", False))
    assert not at.exception and not served_data(at)
    text = page_text(at)
    assert "has not confirmed that the email address boss@example.nhs.uk is yours" in text
    signed = run_frame(monkeypatch, engine_url(cornwall), secrets={"auth": AUTH},
                       user=claims("boss-1", "boss@example.nhs.uk", True))
    no_exceptions(signed)
    assert viewer_of(signed).is_admin
    assert any("Signed in as Boss" in c.value for c in signed.sidebar.caption)


# --- every role has what it needs ---------------------------------------------------------------------------


def test_a_locality_lead_needs_an_area(cornwall):
    with pytest.raises(AccessError, match="needs an area"):
        auth.save_user(cornwall, "test", "nowhere@example.nhs.uk", "locality_lead")
    with pytest.raises(AccessError, match="needs an area"):
        Viewer("nowhere@example.nhs.uk", "locality_lead")
    # One saved before the rule: refused at sign-in with a clear message, not shown the whole system.
    with cornwall.begin() as conn:
        conn.execute(m.User.__table__.insert().values(email="old.lead@example.nhs.uk", role="locality_lead",
                                                      localities="", pcns="", active=True))
    result = auth.identify(cornwall, claims("old-lead", "old.lead@example.nhs.uk"))
    assert result.viewer is None and result.refusal == "no_area"
    assert "no area" in result.message()
    with cornwall.connect() as conn:
        assert auth.viewer_for(conn, "old.lead@example.nhs.uk") is None
    # It can still be deactivated, and given an area.
    auth.save_user(cornwall, "test", "old.lead@example.nhs.uk", "locality_lead", active=False)
    auth.save_user(cornwall, "test", "old.lead@example.nhs.uk", "locality_lead", localities=("EAST",))
    assert auth.identify(cornwall, claims("old-lead", "old.lead@example.nhs.uk")).viewer.localities == (
        "EAST",
    )


def test_the_data_page_refuses_a_lead_without_an_area(cornwall, monkeypatch):
    at = run_frame(monkeypatch, engine_url(cornwall), setting="off")
    at.switch_page("app_pages/data.py").run()
    next(t for t in at.text_input if t.label == "Email").input("arealess@example.nhs.uk")
    next(s for s in at.selectbox if s.label == "Role").set_value("locality_lead")
    next(b for b in at.button if b.label == "Save user").click().run()
    assert not at.exception
    assert any("needs an area" in e.value for e in at.error)
    with cornwall.connect() as conn:
        assert not conn.execute(select(m.User.id).where(m.User.email == "arealess@example.nhs.uk")).first()


def test_the_demo_switcher_always_gives_a_lead_an_area(monkeypatch):
    at = run_frame(monkeypatch, None, demo_role="locality_lead")
    no_exceptions(at)
    viewer = viewer_of(at)
    assert viewer.role == "locality_lead" and viewer.localities


# --- errors never leak --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://app:hunter2@127.0.0.1:{port}/qidash",  # nothing listens there
    "nosuchdb://app:hunter2@db.internal.example/qidash",  # misconfigured
])
@pytest.mark.parametrize("signed_in", [None, False, True])
def test_an_unreachable_database_says_so_plainly_before_and_after_sign_in(url, signed_in, monkeypatch):
    url = url.format(port=free_port())
    if signed_in is None:
        at = run_frame(monkeypatch, url, setting="off")
    else:
        at = run_frame(monkeypatch, url, secrets={"auth": AUTH},
                       user=claims("boss-1", "boss@example.nhs.uk") if signed_in else {"is_logged_in": False})
    assert not at.exception and not served_data(at)
    [error] = at.error
    assert error.value.startswith("The database cannot be reached; your admin has details. Reference: ")
    text = page_text(at)
    for leak in ("hunter2", "127.0.0.1", "db.internal", "app@", "Traceback"):
        assert leak not in text


def test_a_failing_page_shows_a_reference_that_the_log_explains(monkeypatch, caplog):
    from qidash.ui import components

    def broken(*_args, **_kwargs):
        raise RuntimeError("connection to secret-host.internal as user qi_admin failed")

    monkeypatch.setattr(components, "page_header", broken)
    at = run_frame(monkeypatch, None)
    assert not at.exception
    [error] = at.error
    assert error.value.startswith(
        "Something went wrong showing this page; your admin has details. Reference: "
    )
    reference = error.value.rsplit(" ", 1)[1]
    assert "secret-host" not in page_text(at)
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and "secret-host.internal" in str(logged[0].exc_info[1])


def test_streamlit_shows_visitors_no_error_details():
    import tomllib

    from tests.support import ROOT

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


# --- the command line ---------------------------------------------------------------------------------------


def test_cli_changes_are_audited_as_the_cli_and_by_cannot_impersonate(cornwall):
    import getpass

    from qidash.cli import main

    url = engine_url(cornwall)
    assert main(["users", "add", "new.exec@example.nhs.uk", "--role", "executive", "--db", url,
                 "--by", "chief@example.nhs.uk"]) == 0
    with cornwall.connect() as conn:
        event = next(e for e in auth.audit_events(conn, action="user_change")
                     if e["detail"]["email"] == "new.exec@example.nhs.uk")
    assert event["actor"] == f"cli:{getpass.getuser()} (note: chief@example.nhs.uk)"
    assert auth.cli_actor() == f"cli:{getpass.getuser()}"
    assert auth.cli_actor("line\nbreak\x00") == f"cli:{getpass.getuser()} (note: line break)"
    assert len(auth.cli_actor("x" * 500)) <= 200


def test_cli_refuses_a_lead_without_an_area(cornwall, capsys):
    from qidash.cli import main

    assert (
        main(["users", "add", "lost@example.nhs.uk", "--role", "locality_lead", "--db", engine_url(cornwall)])
        == 2
    )
    assert "needs an area" in capsys.readouterr().err


def test_cli_never_prints_the_database_password(pg_url, capsys):
    from sqlalchemy.engine import make_url

    from qidash.cli import main

    # The throwaway server trusts every connection, so any password opens it.
    with_password = make_url(pg_url).set(password="hunter2").render_as_string(hide_password=False)
    assert main(["info", "--db", with_password]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "app:***@" in out
    closed = make_url(pg_url).set(password="hunter2", port=free_port()).render_as_string(hide_password=False)
    assert main(["users", "list", "--db", closed]) == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err and "Cannot open the database" in err


def test_0010_adds_the_sign_in_identity_and_can_be_undone(backend, databases):
    from sqlalchemy import inspect

    from tests.support import migrate_again_from

    engine = databases.new(backend)
    try:
        auth.save_user(engine, "test", "a@example.nhs.uk", "executive")
        migrate_again_from(engine, "0009")
        columns = {c["name"] for c in inspect(engine).get_columns("app_user")}
        assert {"oidc_issuer", "oidc_subject"} <= columns
        assert auth.identify(engine, claims("a-1", "a@example.nhs.uk")).bound
    finally:
        databases.drop(engine)
