"""Who is looking: roles, the area a user may see, and the audit trail (no Streamlit here).

Roles (issue "Sign-in, roles, scoped data and audit"):
- ``executive``: the whole system, aggregates and organisation-level rows; no person-level detail.
- ``locality_lead``: only their localities / PCNs, aggregates and organisation-level rows.
- ``faculty``: the whole system (or their area), person-level detail (names where consented).
- ``admin``: everything, plus imports, targets, tiers, priorities and users.

The area is enforced where data is read: :meth:`Viewer.restrict` puts it into the
:class:`~qidash.scope.Scope` every query takes, so no filter, URL or export can reach past it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from qidash import models as m
from qidash.models import ROLES
from qidash.scope import Scope

ROLE_LABELS = {
    "executive": "ICS executive",
    "locality_lead": "Locality / PCN lead",
    "faculty": "QI faculty",
    "admin": "Programme admin",
}


LOG = logging.getLogger("qidash.auth")

# Roles that see only part of the system, and so cannot exist without an area.
ROLES_NEEDING_AREA = ("locality_lead",)


class AccessError(ValueError):
    """A user-management request that cannot be honoured (unknown role, bad email), in plain words."""


def _codes(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in (text or "").split(";") if c.strip())


@dataclass(frozen=True)
class Viewer:
    email: str
    role: str
    name: str | None = None
    localities: tuple[str, ...] = ()
    pcns: tuple[str, ...] = ()
    demo: bool = False

    def __post_init__(self):
        # A lead without an area would see the whole system: such a viewer must never exist.
        if self.role in ROLES_NEEDING_AREA and not (self.localities or self.pcns):
            raise AccessError(f"A {ROLE_LABELS[self.role]} needs an area (at least one locality or PCN).")

    @property
    def can_see_people(self) -> bool:
        """Person-level detail (names, individual records): faculty and admins only."""
        return self.role in ("faculty", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def has_area(self) -> bool:
        """True when the user is limited to some localities or PCNs."""
        return self.role != "admin" and bool(self.localities or self.pcns)

    def restrict(self, scope: Scope) -> Scope:
        """``scope`` limited to what this user may see."""
        if not self.has_area:
            return scope
        return scope.with_(within_localities=self.localities, within_pcns=self.pcns)

    def describe(self) -> str:
        area = ", ".join((*self.localities, *self.pcns)) or "whole system"
        return f"{ROLE_LABELS[self.role]} · {area}"


USER_COLUMNS = (m.User.email, m.User.name, m.User.role, m.User.localities, m.User.pcns, m.User.active)


def normal_email(email: str) -> str:
    """An email as compared: trimmed and in lower case."""
    return email.strip().lower()


def _viewer_of(user: Mapping) -> Viewer:
    return Viewer(
        email=user["email"], role=user["role"], name=user["name"],
        localities=_codes(user["localities"]), pcns=_codes(user["pcns"]),
    )


def viewer_for(conn: Connection, email: str) -> Viewer | None:
    """The active user with this email (trimmed, case-insensitive), or None when unknown or deactivated.

    For looking users up, not for signing in: a sign-in is matched by :func:`identify`."""
    user = conn.execute(
        select(*USER_COLUMNS).where(
            func.lower(func.trim(m.User.email)) == normal_email(email), m.User.active.is_(True)
        )
    ).mappings().first()
    if user is None or not _has_needed_area(user):
        return None
    return _viewer_of(user)


def _has_needed_area(user: Mapping) -> bool:
    return user["role"] not in ROLES_NEEDING_AREA or bool(_codes(user["localities"]) or _codes(user["pcns"]))


def list_users(conn: Connection) -> list[dict]:
    """Every user, active or not, by email."""
    return [dict(r) for r in conn.execute(select(*USER_COLUMNS).order_by(m.User.email)).mappings()]


# One address, no spaces or control characters (so it can never read as another kind of actor).
EMAIL = re.compile(r"[^@\s:]+@[^@\s:]+")


def save_user(engine: Engine, actor: str, email: str, role: str, name: str | None = None,
              localities: tuple[str, ...] = (), pcns: tuple[str, ...] = (), active: bool = True) -> None:
    """Create or update a user and record who did it. Codes are checked against the database, and a
    role that sees only part of the system (a locality lead) needs at least one locality or PCN to be
    active."""
    email = email.strip()
    if not EMAIL.fullmatch(email):
        raise AccessError(f"{email!r} is not an email address.")
    if role not in ROLES:
        raise AccessError(f"Unknown role {role!r}. Use one of: {', '.join(ROLES)}.")
    # A deactivated one may lack it: deactivating a lead saved before this rule must stay possible.
    if role in ROLES_NEEDING_AREA and active and not (localities or pcns):
        raise AccessError(
            f"A {ROLE_LABELS[role]} needs an area: choose at least one locality or PCN for {email}."
        )
    with Session(engine) as session, session.begin():
        known_loc = set(session.scalars(select(m.Locality.code)))
        known_pcn = set(session.scalars(select(m.Pcn.code)))
        bad = [c for c in localities if c not in known_loc] + [c for c in pcns if c not in known_pcn]
        if bad:
            raise AccessError(f"Unknown locality or PCN code(s): {', '.join(bad)}.")
        values = {"email": email, "name": name, "role": role, "localities": ";".join(localities),
                  "pcns": ";".join(pcns), "active": active}
        existing = session.scalars(
            select(m.User).where(func.lower(func.trim(m.User.email)) == normal_email(email))
        ).first()
        if existing is None:
            session.execute(insert(m.User).values(**values))
        else:
            session.execute(update(m.User).where(m.User.id == existing.id).values(**values))
        record(session, actor, "user_change", {"email": email, "role": role, "localities": list(localities),
                                                 "pcns": list(pcns), "active": active})


# --- who the command line is ------------------------------------------------------------------------------


def cli_actor(note: str | None = None) -> str:
    """The audit actor of this command-line run: ``cli:<OS user>``, with any free-text ``note`` (from
    ``--by`` or ``--user``) after it in brackets. It always starts with ``cli:``, which no signed-in
    user's actor does (an email has no colon), so a note can never pass for someone signed in."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        who = f"uid{os.getuid()}"
    actor = f"cli:{_printable(who, 60)}"
    note = _printable(note or "", 200 - len(actor) - len(" (note: )"))
    return f"{actor} (note: {note})" if note else actor


def _printable(text: str, limit: int) -> str:
    """``text`` on one line without control characters, at most ``limit`` characters."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[: max(limit, 0)]


# --- sign-in settings -------------------------------------------------------------------------------------

# What st.login needs in the secrets file's [auth] section (one provider, the default).
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


class SignInSetupError(Exception):
    """Sign-in is configured wrongly or not at all where it must be: the app must not start. The
    message names the problem (a setting, a key, a file) and never a secret value."""


@dataclass(frozen=True)
class SignInSetup:
    """How this process decides who is looking.

    ``mode``: ``"oidc"`` (sign-in through the identity provider), ``"off"`` (a configured database with
    sign-in turned off by the operator: role switcher, and a banner on every page) or ``"demo"`` (demo
    data, no database configured: role switcher)."""

    mode: str
    metadata_url: str | None = None

    @property
    def switcher(self) -> bool:
        return self.mode in ("off", "demo")


def sign_in_setup(database_configured: bool, auth_setting: str | None, secrets: Mapping | None,
                  secrets_problem: str | None = None) -> SignInSetup:
    """Decide how people are identified, failing closed.

    ``auth_setting`` is ``QIDASH_AUTH``: unset (sign-in on wherever sign-in is configured, required with
    a database), or ``off``. ``secrets`` is the parsed secrets (None when there is no secrets file);
    ``secrets_problem`` says why the secrets could not be read, if they could not. Raises
    :class:`SignInSetupError` when sign-in is required or half-configured but not usable: a missing,
    unreadable or incomplete ``[auth]`` never falls back to the role switcher."""
    setting = (auth_setting or "").strip().lower()
    if setting not in ("", "on", "off"):
        raise SignInSetupError(
            f"QIDASH_AUTH is set to {auth_setting.strip()[:20]!r}. Leave it unset for sign-in, or set it to "
            "off to run without sign-in."
        )
    if setting == "off":
        return SignInSetup("off" if database_configured else "demo")
    if secrets_problem:
        raise SignInSetupError(
            f"The secrets file cannot be read ({secrets_problem}), so sign-in cannot be set up. Fix the "
            "file; "
            "qidash does not start without it."
        )
    section = (secrets or {}).get("auth")
    if section is None:
        if not database_configured and setting != "on":
            return SignInSetup("demo")
        raise SignInSetupError(
            "Sign-in is not configured: a database is set (QIDASH_DB_URL), so the secrets file "
            "(.streamlit/secrets.toml) needs an [auth] section with "
            f"{', '.join(AUTH_KEYS)}. To run on this database without sign-in (a single-user machine), "
            "set QIDASH_AUTH=off."
        )
    if not isinstance(section, Mapping):
        raise SignInSetupError(
            "The secrets file's auth entry must be an [auth] section with keys, not a value."
        )
    missing = [k for k in AUTH_KEYS if not isinstance(section.get(k), str) or not section.get(k).strip()]
    if missing:
        raise SignInSetupError(
            f"The secrets file's [auth] section is missing {', '.join(missing)} (each must be set, as text). "
            "Sign-in cannot work without them."
        )
    if not re.fullmatch(r"https?://[^/\s]+/(.*/)?oauth2callback", section["redirect_uri"].strip()):
        raise SignInSetupError(
            "The secrets file's [auth] redirect_uri must be this app's address ending in /oauth2callback."
        )
    if not re.fullmatch(r"https?://\S+", section["server_metadata_url"].strip()):
        raise SignInSetupError(
            "The secrets file's [auth] server_metadata_url must be the provider's http(s) address of its "
            "OpenID configuration."
        )
    return SignInSetup("oidc", metadata_url=section["server_metadata_url"].strip())


def provider_problem(metadata_url: str, timeout: float = 5.0) -> str | None:
    """Why the identity provider cannot be used (in words, without its address), or None when its
    OpenID configuration answers with an issuer and an authorization endpoint."""
    try:
        with urllib.request.urlopen(metadata_url, timeout=timeout) as response:
            body = response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        return f"the provider answered with HTTP status {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"the provider cannot be reached ({type(reason).__name__})"
    try:
        metadata = json.loads(body)
    except ValueError:
        return "the provider's address does not answer with an OpenID configuration (not JSON)"
    if (
        not isinstance(metadata, dict)
        or not metadata.get("issuer")
        or not metadata.get("authorization_endpoint")
    ):
        return "the provider's OpenID configuration has no issuer or authorization endpoint"
    return None


# --- who signed in ----------------------------------------------------------------------------------------

# Claims that say the provider checked the user owns the email: the standard one, and Microsoft Entra
# ID's "email domain owner verified" (Entra sends no email_verified).
VERIFIED_EMAIL_CLAIMS = ("email_verified", "xms_edov")

REFUSALS = {
    "no_subject": "Your sign-in provider did not say who you are (no issuer or subject), so qidash cannot "
                  "match you to an account.",
    "unverified_email": "Your sign-in provider has not confirmed that the email address {email} is yours, "
                        "so qidash cannot match you to an account by it. Please ask your programme admin.",
    "unknown_user": "This dashboard does not know you yet. Please ask your programme admin to add you, with "
                    "your role and area.",
    "deactivated": "Your account on this dashboard has been deactivated. Please ask your programme admin.",
    "no_area": "Your account is a Locality / PCN lead with no area (no locality or PCN) set, so there is "
               "nothing qidash may show you. Please ask your programme admin to set your area.",
    "bound_elsewhere": "The account for {email} is linked to a different sign-in. Please ask your programme "
                       "admin.",
}


def email_verified(claims: Mapping) -> bool:
    """True when the provider marks the email verified (a true boolean, or the text "true")."""
    for key in VERIFIED_EMAIL_CLAIMS:
        value = claims.get(key)
        if value is True or (isinstance(value, str) and value.strip().lower() == "true"):
            return True
    return False


@dataclass(frozen=True)
class SignIn:
    """The outcome of matching a provider's claims to a user: ``viewer`` when let in, else ``refusal``
    (a key of :data:`REFUSALS`). ``identity`` is who really signed in, for the audit."""

    viewer: Viewer | None
    refusal: str | None
    identity: dict = field(default_factory=dict)
    bound: bool = False

    def message(self) -> str:
        """Why the sign-in was refused, in plain words."""
        return REFUSALS[self.refusal].format(email=self.identity.get("email") or "(none)")


USER_IDENTITY_COLUMNS = (m.User.id, *USER_COLUMNS, m.User.oidc_issuer, m.User.oidc_subject)


def identify(engine: Engine, claims: Mapping) -> SignIn:
    """Match the provider's claims (``st.user``) to a user.

    A user already bound is matched by issuer and subject alone. Otherwise the email is used only when
    the provider marks it verified (compared trimmed and case-insensitively), and the user's row is then
    bound to this issuer and subject. A locality lead without an area is refused."""
    iss, sub = str(claims.get("iss") or "").strip(), str(claims.get("sub") or "").strip()
    email = str(claims.get("email") or "").strip()
    identity = {"issuer": iss, "subject": sub, "email": email, "email_verified": email_verified(claims)}
    if not iss or not sub:
        return SignIn(None, "no_subject", identity)
    with engine.begin() as conn:
        user = conn.execute(
            select(*USER_IDENTITY_COLUMNS).where(m.User.oidc_issuer == iss, m.User.oidc_subject == sub)
        ).mappings().first()
        bound = False
        if user is None:
            if not email:
                return SignIn(None, "unknown_user", identity)
            if not identity["email_verified"]:
                return SignIn(None, "unverified_email", identity)
            user = (
                conn.execute(
                    select(*USER_IDENTITY_COLUMNS).where(
                        func.lower(func.trim(m.User.email)) == normal_email(email)
                    )
                )
                .mappings()
                .first()
            )
            if user is None or not user["active"]:
                return SignIn(None, "unknown_user" if user is None else "deactivated", identity)
            if user["oidc_subject"] is not None:
                return SignIn(None, "bound_elsewhere", identity)
            if not _has_needed_area(user):
                return SignIn(None, "no_area", identity)
            # Bind only a row still unbound: two first sign-ins at once cannot both take it.
            taken = conn.execute(
                update(m.User).where(m.User.id == user["id"], m.User.oidc_subject.is_(None))
                .values(oidc_issuer=iss, oidc_subject=sub)
            ).rowcount
            if taken != 1:
                return SignIn(None, "bound_elsewhere", identity)
            record(conn, user["email"], "identity_bound", identity)
            bound = True
        if not user["active"]:
            return SignIn(None, "deactivated", identity)
        if not _has_needed_area(user):
            return SignIn(None, "no_area", identity)
    return SignIn(_viewer_of(user), None, identity, bound)


def audit_sign_in(engine: Engine, result: SignIn) -> None:
    """Record a sign-in or a refused one, with who really signed in. A failing audit write is logged and
    never stops the sign-in (the database may be busy with an import)."""
    try:
        if result.viewer is not None:
            audit(engine, result.viewer.email, "sign_in", {**result.identity, "role": result.viewer.role})
        else:
            audit(engine, result.identity.get("email") or "(no email)", "sign_in_refused",
                  {**result.identity, "reason": result.refusal})
    except SQLAlchemyError:
        LOG.warning("Could not record a sign-in in the audit trail", exc_info=True)


def record(session_or_conn, actor: str, action: str, detail: dict | None = None) -> None:
    """Append an audit event (the caller's transaction commits it)."""
    session_or_conn.execute(
        insert(m.AuditEvent).values(at=dt.datetime.now(dt.UTC).replace(tzinfo=None), actor=actor,
                                    action=action, detail=detail)
    )


def audit(engine: Engine, actor: str, action: str, detail: dict | None = None) -> bool:
    """Record an audit event in its own transaction; returns whether it was written.

    A failure to write it is logged, never raised: the audit must not stop a sign-in, a download or an
    export that has already happened (the log keeps what the table could not).
    """
    try:
        with engine.begin() as conn:
            record(conn, actor, action, detail)
    except Exception:
        LOG.exception("Audit event %r by %r could not be recorded", action, actor)
        return False
    return True


def audit_events(conn: Connection, limit: int = 500, action: str | None = None) -> list[dict]:
    """The most recent audit events, newest first."""
    q = select(m.AuditEvent.at, m.AuditEvent.actor, m.AuditEvent.action, m.AuditEvent.detail)
    if action:
        q = q.where(m.AuditEvent.action == action)
    rows = conn.execute(q.order_by(m.AuditEvent.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
