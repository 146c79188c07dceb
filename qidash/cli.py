"""``python -m qidash``: everything a page can produce, from the command line (DESIGN.md section 7).

Every command takes ``--db URL`` (overrides ``QIDASH_DB_URL``). Problems a user can cause print a
plain message and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sqlalchemy.exc import InterfaceError, OperationalError

from qidash import db
from qidash.scenarios import ScenarioError

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


DB_HELP = "database URL (default: $QIDASH_DB_URL or data/qidash.db)"


def add_command(
    commands: argparse._SubParsersAction,
    name: str,
    help_text: str,
    add_args: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
    db_help: str = DB_HELP,
) -> argparse.ArgumentParser:
    """Add the sub-command ``name``: ``add_args`` adds its arguments, ``run(args)`` carries it out and
    returns the exit status. ``db_help`` is what ``--db`` means for it, when not the configured database."""
    p = commands.add_parser(name, help=help_text, description=help_text)
    p.add_argument("--db", metavar="URL", help=db_help)
    add_args(p)
    p.set_defaults(func=run)
    return p


def add_scope_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--locality", metavar="CODE", help="only this locality (code)")
    parser.add_argument("--pcn", metavar="CODE", help="only this PCN (code)")
    parser.add_argument(
        "--kind", metavar="KIND", help="only organisations of this kind, e.g. care_home_nursing"
    )
    parser.add_argument(
        "--sector", metavar="SECTOR", help="only this sector: nhs, independent, local_authority, vcse"
    )


def scope_from_flags(engine, args: argparse.Namespace):
    """The :class:`~qidash.scope.Scope` that ``add_scope_flags``' options name, checked against the
    database: an unknown code is a UserError naming it (exit status 2), never a traceback."""
    from qidash.scope import Scope, UnknownCode

    scope = Scope(locality=args.locality, pcn=args.pcn, kind=args.kind, sector=args.sector)
    try:
        scope.validate(engine)
    except UnknownCode as exc:
        raise UserError(str(exc)) from exc
    return scope


def engine_for(args: argparse.Namespace, migrate: bool = True):
    """The engine for ``--db`` or the configured URL, migrated to the newest schema."""
    engine = db.make_engine(args.db)
    db.check_connection(engine)
    if migrate:
        db.migrate(engine)
    return engine


# --- entry point --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    # Each module of qidash.commands adds its sub-commands, in the order of the modules' names.
    import importlib
    import pkgutil

    from qidash import commands

    parser = argparse.ArgumentParser(
        prog="python -m qidash",
        description="qidash: QI capability across an Integrated Care System, from the command line.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"qidash.commands.{info.name}").add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UserError, db.DatabaseError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OperationalError, InterfaceError) as exc:
        # The database went away or refused us part way: say so, with the driver's words (which name no
        # password) and the database without its password.
        where = db.redact(args.db or db.default_url())
        print(f"error: the database {where} cannot be reached: {str(exc.orig).strip()}", file=sys.stderr)
        return EXIT_USAGE
