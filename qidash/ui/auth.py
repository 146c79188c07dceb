"""Sign-in (OpenID Connect through ``st.login``) and the role switcher of demo mode and ``QIDASH_AUTH=off``.

Fails closed (DESIGN.md section 8): with a database configured, either sign-in is configured and works,
or the operator has set ``QIDASH_AUTH=off``; anything else stops the app with a message naming the
problem. See :func:`qidash.auth.sign_in_setup`.
"""

from __future__ import annotations

import logging
import os
import re

import streamlit as st
from sqlalchemy import Engine
from streamlit.errors import StreamlitSecretNotFoundError

from qidash import auth, catalog
from qidash.auth import ROLE_LABELS, SignInSetup, SignInSetupError, Viewer
from qidash.models import ROLES
from qidash.text import markdown_literal
from qidash.ui import data

LOG = logging.getLogger("qidash.auth")

# How long a check that the identity provider answers holds (seconds): long enough that visitors do
# not each wait on it, short enough that a provider back up is noticed soon.
PROVIDER_CHECK_TTL = 60


def _read_secrets() -> tuple[dict | None, str | None]:
    """The parsed secrets (None when there is no secrets file) and why they could not be read, if so."""
    try:
        return st.secrets.to_dict(), None
    except StreamlitSecretNotFoundError as exc:
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return None, None
        LOG.error("The secrets cannot be read: %s", exc)
        # The page says what is wrong in the file; where the file lives stays in the log.
        return None, re.sub(r"^Error parsing secrets file at .*?: ", "", str(exc)) if (
            getattr(exc, "error_id", None) == "failed-parsing-secrets-file"
        ) else "a secrets path is neither a .toml file nor a folder of secrets"


def sign_in_setup() -> SignInSetup:
    """How this run identifies people. Stops the run with a message when sign-in is required but not
    usable (the message names the problem, never a secret value)."""
    secrets, problem = _read_secrets()
    try:
        return auth.sign_in_setup(not data.demo_mode(), os.environ.get("QIDASH_AUTH"), secrets, problem)
    except SignInSetupError as exc:
        LOG.error("qidash will not start: %s", exc)
        _stop_with("qidash cannot start: sign-in is not set up correctly", str(exc))
        raise  # not reached: st.stop() ends the run


@st.cache_data(ttl=PROVIDER_CHECK_TTL, show_spinner=False)
def _provider_problem(metadata_url: str) -> str | None:
    problem = auth.provider_problem(metadata_url)
    if problem:
        LOG.error("The identity provider at %s cannot be used: %s", metadata_url, problem)
    return problem


def _stop_with(title: str, message: str) -> None:
    st.title("qidash")
    st.error(f"**{title}.** {message}", icon=":material/block:")
    st.stop()


def current_viewer(engine: Engine, setup: SignInSetup) -> Viewer:
    """The signed-in user, or the role chosen in the sidebar where sign-in is off. Stops the run on the
    sign-in page, or with a plain message when the person may not come in."""
    if setup.switcher:
        return _switcher_viewer(engine, off=setup.mode == "off")
    if not st.user.is_logged_in:
        problem = _provider_problem(setup.metadata_url)
        if problem:
            _stop_with(
                "qidash cannot start: the sign-in provider cannot be used",
                "The provider named in the secrets file ([auth] server_metadata_url) does not work: "
                f"{problem}. "
                "Your admin has details in the server log.",
            )
        st.title("qidash")
        st.write("QI capability across the system. Please sign in with your organisation account.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    result = auth.identify(engine, st.user.to_dict())
    # One audit entry per sign-in (or refusal), not one per rerun.
    seen = (result.identity.get("issuer"), result.identity.get("subject"), result.refusal)
    if st.session_state.get("_sign_in_recorded") != seen:
        auth.audit_sign_in(engine, result)
        st.session_state["_sign_in_recorded"] = seen
    if result.viewer is None:
        st.title("You cannot use qidash yet")
        who = result.identity.get("email") or "an account without an email"
        st.write(f"You are signed in as {markdown_literal(who)}.")  # the provider's words, as text
        st.warning(result.message(), icon=":material/person_off:")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    viewer = result.viewer
    with st.sidebar:
        st.caption(markdown_literal(f"Signed in as {viewer.name or viewer.email} · {viewer.describe()}"))
        st.button("Sign out", on_click=st.logout, key="sign_out")
    return viewer


SIGN_IN_OFF = (
    "Sign-in is off (QIDASH_AUTH=off): anyone who can open this address sees this database, as any role. "
    "Use this only on a single-user machine."
)


def show_sign_in_off_banner() -> None:
    """The banner every page shows while sign-in is off on a configured database."""
    st.warning(SIGN_IN_OFF, icon=":material/lock_open:")


def _switcher_viewer(engine: Engine, off: bool) -> Viewer:
    """No sign-in: a clearly labelled switcher to see what each role sees. A locality lead always has
    an area; where the data has no localities, the role is not offered."""
    localities = data.query(engine, catalog.localities)
    roles = [r for r in ROLES if r not in auth.ROLES_NEEDING_AREA or localities]
    with st.sidebar:
        if off:
            st.warning("Sign-in is off. Choose a role to see what it would see.", icon=":material/lock_open:")
        else:
            st.info("Demo mode: no sign-in is configured. Choose a role to see what it would see.",
                    icon=":material/lock_open:")
        role = st.selectbox("View as", roles, index=roles.index("admin"), key="demo_role",
                            format_func=ROLE_LABELS.get)
        area: tuple[str, ...] = ()
        if role in auth.ROLES_NEEDING_AREA:
            chosen = st.selectbox(
                "Lead for locality", list(localities), key="demo_area", format_func=localities.get
            )
            area = (chosen or next(iter(localities)),)
    email = "sign-in-off@qidash.local" if off else "demo@qidash.local"
    return Viewer(email=email, role=role, name=ROLE_LABELS[role], localities=area, demo=True)
