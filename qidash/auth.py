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
import logging
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, insert, select, update
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


def viewer_for(conn: Connection, email: str) -> Viewer | None:
    """The active user with this email (case-insensitive), or None when unknown or deactivated."""
    user = conn.execute(
        select(*USER_COLUMNS).where(func.lower(m.User.email) == email.strip().lower(), m.User.active.is_(True))
    ).mappings().first()
    if user is None:
        return None
    return Viewer(
        email=user["email"], role=user["role"], name=user["name"],
        localities=_codes(user["localities"]), pcns=_codes(user["pcns"]),
    )


def list_users(conn: Connection) -> list[dict]:
    """Every user, active or not, by email."""
    return [dict(r) for r in conn.execute(select(*USER_COLUMNS).order_by(m.User.email)).mappings()]


def save_user(engine: Engine, actor: str, email: str, role: str, name: str | None = None,
              localities: tuple[str, ...] = (), pcns: tuple[str, ...] = (), active: bool = True) -> None:
    """Create or update a user and record who did it. Codes are checked against the database."""
    email = email.strip()
    if "@" not in email:
        raise AccessError(f"{email!r} is not an email address.")
    if role not in ROLES:
        raise AccessError(f"Unknown role {role!r}. Use one of: {', '.join(ROLES)}.")
    with Session(engine) as session, session.begin():
        known_loc = set(session.scalars(select(m.Locality.code)))
        known_pcn = set(session.scalars(select(m.Pcn.code)))
        bad = [c for c in localities if c not in known_loc] + [c for c in pcns if c not in known_pcn]
        if bad:
            raise AccessError(f"Unknown locality or PCN code(s): {', '.join(bad)}.")
        values = dict(email=email, name=name, role=role, localities=";".join(localities), pcns=";".join(pcns),
                      active=active)
        existing = session.scalars(select(m.User).where(func.lower(m.User.email) == email.lower())).first()
        if existing is None:
            session.execute(insert(m.User).values(**values))
        else:
            session.execute(update(m.User).where(m.User.id == existing.id).values(**values))
        record(session, actor, "user_change", {"email": email, "role": role, "localities": list(localities),
                                                 "pcns": list(pcns), "active": active})


def record(session_or_conn, actor: str, action: str, detail: dict | None = None) -> None:
    """Append an audit event (the caller's transaction commits it)."""
    session_or_conn.execute(
        insert(m.AuditEvent).values(at=dt.datetime.now(dt.UTC).replace(tzinfo=None), actor=actor,
                                    action=action, detail=detail)
    )


def cli_actor(note: str | None = None) -> str:
    """Who acts from the command line, for the audit: ``cli:<operating-system user>``. Free text a
    command is given (``--user``) is only a note the caller keeps in the detail, never the actor, so
    it cannot pass for a signed-in user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        user = "unknown"
    return f"cli:{user}"


def audit(engine: Engine, actor: str, action: str, detail: dict | None = None) -> bool:
    """Record an audit event in its own transaction; returns whether it was written.

    A failure to write it is logged, never raised: the audit must not stop a sign-in, a download or an
    export that has already happened (the log keeps what the table could not).
    """
    try:
        with engine.begin() as conn:
            record(conn, actor, action, detail)
    except Exception:
        logging.getLogger(__name__).exception("Audit event %r by %r could not be recorded", action, actor)
        return False
    return True


def audit_events(conn: Connection, limit: int = 500, action: str | None = None) -> list[dict]:
    """The most recent audit events, newest first."""
    q = select(m.AuditEvent.at, m.AuditEvent.actor, m.AuditEvent.action, m.AuditEvent.detail)
    if action:
        q = q.where(m.AuditEvent.action == action)
    rows = conn.execute(q.order_by(m.AuditEvent.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
