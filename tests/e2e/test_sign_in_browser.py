"""A real OpenID Connect round trip: st.login against a local mock provider, then role and area.

The provider (oidc-provider-mock, the ``signed_app`` fixture in conftest.py) runs on this machine; its
sign-in form asks for a subject, and the users it knows carry the claims given there (email, and whether
the provider verified it). Requests leaving the machine (the mock's own stylesheet CDN) are blocked.
"""

from __future__ import annotations

from qidash import auth
from tests.e2e.conftest import sign_in, wait_idle


def test_known_user_signs_in_and_sees_only_their_area(signed_app, browser):
    base, engine = signed_app
    context, page = sign_in(browser, base, "lee-subject")
    try:
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Signed in as Lee Lead" in sidebar and "Locality / PCN lead" in sidebar
        caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
        assert "North Barnet" in caption  # the lead's area by its name
        # A link that asks for another area gives nothing beyond the lead's own.
        page.goto(f"{base}/?locality=WEST")
        wait_idle(page)
        caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
        assert "WEST" not in caption
        # No Data page for a locality lead, not even by typing its address.
        assert page.get_by_role("link", name="Data").count() == 0
    finally:
        context.close()
    with engine.connect() as conn:
        events = auth.audit_events(conn, action="sign_in")
    event = next(e for e in events if e["actor"] == "lead@example.nhs.uk")  # one per browser session
    # Who really signed in: the provider's issuer and subject, and the email it gave.
    assert event["detail"]["subject"] == "lee-subject" and event["detail"]["issuer"].startswith("http://localhost:")
    assert event["detail"]["email"] == "Lead@Example.NHS.uk"


def test_unknown_user_is_asked_to_contact_the_admin(signed_app, browser):
    base, engine = signed_app
    context, page = sign_in(browser, base, "stranger-subject")
    try:
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert "ask your programme admin" in text
        assert page.get_by_role("link", name="Overview").count() == 0
    finally:
        context.close()
    with engine.connect() as conn:
        assert auth.audit_events(conn, action="sign_in_refused")


def test_the_admins_email_unverified_does_not_make_an_admin(signed_app, browser):
    base, engine = signed_app
    context, page = sign_in(browser, base, "mallory")
    try:
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert "has not confirmed that the email address admin@example.nhs.uk is yours" in text
        assert page.get_by_role("link", name="Data").count() == 0
        assert page.get_by_role("link", name="Overview").count() == 0
        assert "Signed in as" not in page.locator("body").inner_text()
    finally:
        context.close()
    with engine.connect() as conn:
        refused = [
            e
            for e in auth.audit_events(conn, action="sign_in_refused")
            if e["detail"]["subject"] == "mallory"
        ]
        # Mallory's own sign-ins: the server is shared, so the real admin may have signed in already.
        mallory_sign_ins = [
            e for e in auth.audit_events(conn, action="sign_in") if e["detail"].get("subject") == "mallory"
        ]
    assert refused and refused[0]["detail"]["reason"] == "unverified_email"
    assert not mallory_sign_ins


def test_the_real_admin_is_bound_at_first_sign_in(signed_app, browser):
    base, engine = signed_app
    context, page = sign_in(browser, base, "ada-subject")
    try:
        assert page.get_by_role("link", name="Data").count() == 1
        assert "Signed in as Ada Admin" in page.locator('[data-testid="stSidebar"]').inner_text()
    finally:
        context.close()
    with engine.connect() as conn:
        [bound] = [
            e
            for e in auth.audit_events(conn, action="identity_bound")
            if e["actor"] == "admin@example.nhs.uk"
        ]
    assert bound["detail"]["subject"] == "ada-subject"
