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

COMMANDS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {}


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


DB_HELP = "database URL (default: $QIDASH_DB_URL or data/qidash.db)"


def command(name: str, help_text: str, db_help: str = DB_HELP):
    """Register a sub-command: the decorated function adds arguments; ``run`` is attached after.
    ``db_help`` is what ``--db`` means for it, when not the configured database."""

    def wrap(add_args):
        add_args.help_text = help_text
        add_args.db_help = db_help
        COMMANDS[name] = (add_args, None)
        return add_args

    return wrap


def runs(name: str):
    def wrap(fn):
        COMMANDS[name] = (COMMANDS[name][0], fn)
        return fn

    return wrap


def add_scope_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--locality", metavar="CODE", help="only this locality (code)")
    parser.add_argument("--pcn", metavar="CODE", help="only this PCN (code)")
    parser.add_argument(
        "--kind", metavar="KIND", help="only organisations of this kind, e.g. care_home_nursing"
    )
    parser.add_argument(
        "--sector", metavar="SECTOR", help="only this sector: nhs, independent, local_authority, vcse"
    )


def engine_for(args: argparse.Namespace, migrate: bool = True):
    """The engine for ``--db`` or the configured URL, migrated to the newest schema."""
    engine = db.make_engine(args.db)
    db.check_connection(engine)
    if migrate:
        db.migrate(engine)
    return engine


# --- entry point --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    # Importing the modules of qidash.commands registers their sub-commands.
    import importlib
    import pkgutil

    from qidash import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"qidash.commands.{info.name}")

    parser = argparse.ArgumentParser(
        prog="python -m qidash",
        description="qidash: QI capability across an Integrated Care System, from the command line.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_args, _run) in COMMANDS.items():
        p = sub.add_parser(name, help=add_args.help_text, description=add_args.help_text)
        p.add_argument("--db", metavar="URL", help=add_args.db_help)
        add_args(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _add_args, run = COMMANDS[args.command]
    try:
        return run(args)
    except (UserError, db.DatabaseError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OperationalError, InterfaceError) as exc:
        # The database went away or refused us part way: say so, with the driver's words (which name no
        # password) and the database without its password.
        where = db.redact(args.db or db.default_url())
        print(f"error: the database {where} cannot be reached: {str(exc.orig).strip()}", file=sys.stderr)
        return EXIT_USAGE
