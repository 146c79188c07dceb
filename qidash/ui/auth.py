"""Sign-in (OpenID Connect through ``st.login`` when ``[auth]`` is configured) and the demo role switcher."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from qidash import auth, catalog
from qidash.auth import ROLE_LABELS, Viewer
from qidash.models import ROLES
from qidash.ui import data


def auth_configured() -> bool:
    """True when secrets hold an ``[auth]`` section, so real sign-in is on."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all means no sign-in configured
        return False


def current_viewer(engine: Engine) -> Viewer:
    """The signed-in user, or the demo role chosen in the sidebar. Stops the run on the sign-in page."""
    if not auth_configured():
        return _demo_viewer(engine)
    if not st.user.is_logged_in:
        st.title("qidash")
        st.write("QI capability across the system. Please sign in with your organisation account.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    email = str(st.user.get("email") or "")
    with engine.connect() as conn:
        viewer = auth.viewer_for(conn, email) if email else None
    if viewer is None:
        if not st.session_state.get("_refused_logged"):
            auth.audit(engine, email or "(no email)", "sign_in_refused", {"reason": "unknown user"})
            st.session_state["_refused_logged"] = True
        st.title("Almost there")
        st.write(
            f"You are signed in as **{email or 'an account without an email'}**, but this dashboard does not "
            "know you yet. Please ask your programme admin to add you, with your role and area."
        )
        st.button("Sign out", on_click=st.logout)
        st.stop()
    if st.session_state.get("_signed_in_as") != viewer.email:
        auth.audit(engine, viewer.email, "sign_in", {"role": viewer.role})
        st.session_state["_signed_in_as"] = viewer.email
    with st.sidebar:
        st.caption(f"Signed in as {viewer.name or viewer.email} · {viewer.describe()}")
        st.button("Sign out", on_click=st.logout, key="sign_out")
    return viewer


def _demo_viewer(engine: Engine) -> Viewer:
    """No sign-in configured: a clearly labelled demo, with a switcher to see what each role sees."""
    with st.sidebar:
        st.info("Demo mode: no sign-in is configured. Choose a role to see what it would see.", icon=":material/lock_open:")
        role = st.selectbox("View as", ROLES, index=ROLES.index("admin"), key="demo_role",
                            format_func=ROLE_LABELS.get)
        localities: tuple[str, ...] = ()
        if role == "locality_lead":
            options = data.query(engine, catalog.localities)
            chosen = st.selectbox("Lead for locality", list(options), key="demo_area", format_func=options.get)
            localities = (chosen,) if chosen else ()
    return Viewer(email="demo@qidash.local", role=role, name=ROLE_LABELS[role], localities=localities, demo=True)
