"""``users``: who may sign in (the first admin is added here; later ones from the Data page too)."""

from __future__ import annotations

import argparse

from qidash import auth
from qidash.cli import EXIT_OK, UserError, add_command, engine_for
from qidash.models import ROLES


def _users_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("list", "add", "deactivate", "audit"), help="what to do")
    p.add_argument("email", nargs="?", help="the user's sign-in email (add, deactivate)")
    p.add_argument("--role", choices=ROLES, help="executive, locality_lead, faculty or admin (add)")
    p.add_argument("--name", help="display name")
    p.add_argument("--localities", default="",
                   help="locality codes, ;-separated (a locality lead needs localities or PCNs)")
    p.add_argument("--pcns", default="", help="PCN codes, ;-separated (locality leads)")
    p.add_argument("--by", help="a note on who asked for the change; the audit records it as a note beside "
                                "cli:<your login name>, never as a signed-in user")


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(";") if c.strip())


def _users(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    if args.action == "list":
        with engine.connect() as conn:
            for u in auth.list_users(conn):
                area = ";".join(filter(None, (u["localities"], u["pcns"]))) or (
                    "no area: cannot sign in" if u["role"] in auth.ROLES_NEEDING_AREA else "whole system"
                )
                state = "" if u["active"] else " (deactivated)"
                print(f"{u['email']:<40} {u['role']:<14} {area}{state}")
        return EXIT_OK
    if args.action == "audit":
        with engine.connect() as conn:
            for e in auth.audit_events(conn, limit=100):
                print(f"{e['at']:%Y-%m-%d %H:%M:%S}  {e['actor']:<30} {e['action']:<16} {e['detail'] or ''}")
        return EXIT_OK
    if not args.email:
        raise UserError(f"users {args.action} needs the user's email.")
    try:
        if args.action == "add":
            if not args.role:
                raise UserError("users add needs --role (executive, locality_lead, faculty or admin).")
            auth.save_user(engine, auth.cli_actor(args.by), args.email, args.role, args.name,
                           _codes(args.localities), _codes(args.pcns))
            print(f"Saved {args.email} as {args.role}.")
        else:
            with engine.connect() as conn:
                current = next(
                    (u for u in auth.list_users(conn) if u["email"].lower() == args.email.lower()), None
                )
            if current is None:
                raise UserError(f"No user {args.email!r}.")
            auth.save_user(
                engine,
                auth.cli_actor(args.by),
                current["email"],
                current["role"],
                current["name"],
                _codes(current["localities"]),
                _codes(current["pcns"]),
                active=False,
            )
            print(f"Deactivated {args.email}.")
    except auth.AccessError as exc:
        raise UserError(str(exc)) from exc
    return EXIT_OK


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser's ``commands`` (see qidash.cli.build_parser)."""
    add_command(
        commands,
        "users",
        "list, add or deactivate the people who may sign in, with their role and area",
        _users_args,
        _users,
    )
