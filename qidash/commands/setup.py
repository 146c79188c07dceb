"""Setting up a database: ``init``, ``demo`` and ``info``."""

from __future__ import annotations

import argparse
import sys

from qidash import db
from qidash.cli import EXIT_OK, add_command, engine_for

# --- init -------------------------------------------------------------------------------------------


def _init_args(p: argparse.ArgumentParser) -> None:
    pass


def _init(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    print(f"Database ready at {db.redact(str(engine.url))} (schema up to date).")
    return EXIT_OK


# --- demo -------------------------------------------------------------------------------------------


def _demo_args(p: argparse.ArgumentParser) -> None:
    from qidash import scenarios

    p.add_argument("--scenario", required=True, help=f"one of: {', '.join(scenarios.available())}")
    p.add_argument(
        "--scale", type=int, default=1, help="copies of the system, for performance work (default 1)"
    )
    p.add_argument("--replace", action="store_true", help="delete what the database holds first")


def _demo(args: argparse.Namespace) -> int:
    import time

    from qidash import scenarios

    scenarios.definition(args.scenario)  # fail fast on an unknown name
    engine = db.make_engine(args.db)
    db.check_connection(engine)
    started = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    from qidash import auth

    actor = auth.cli_actor()
    detail = {"scenario": args.scenario, "scale": args.scale, "replace": args.replace}
    try:
        counts = scenarios.load_demo(engine, args.scenario, args.scale, progress, replace=args.replace)
    except Exception as exc:
        # A refused --replace-less load or a failure: recorded too, so the audit shows every attempt.
        auth.audit(engine, actor, "demo_load", {**detail, "outcome": "failed", "error": type(exc).__name__})
        raise
    auth.audit(engine, actor, "demo_load", {**detail, "outcome": "loaded", "rows": counts.total()})
    print(
        f"Loaded the {args.scenario} demo (scale {args.scale}) into {db.redact(str(engine.url))}: "
        f"{counts.total():,} rows in {time.perf_counter() - started:.1f} s."
    )
    return EXIT_OK


# --- info -------------------------------------------------------------------------------------------


def _info_args(p: argparse.ArgumentParser) -> None:
    pass


def _info(args: argparse.Namespace) -> int:
    engine = db.make_engine(args.db)
    db.check_connection(engine)
    print(f"Database: {db.redact(str(engine.url))} ({engine.dialect.name})")
    if not db.has_schema(engine):
        print(
            "No qidash schema yet: run `python -m qidash init` or `python -m qidash demo --scenario "
            "cornwall`."
        )
        return EXIT_OK
    print(f"Schema:   {'up to date' if db.is_current(engine) else 'needs migrating (run init)'}")
    with engine.connect() as conn:
        scenario = db.get_setting(conn, "scenario")
        title = db.get_setting(conn, "scenario_title")
        scale = db.get_setting(conn, "scenario_scale")
        as_of = db.get_setting(conn, "data_as_of")
    if scenario:
        print(f"Scenario: {scenario} ({title}), scale {scale}, synthetic demo data as of {as_of}")
    else:
        print("Scenario: none (imported data)")
    print("Rows:")
    for table, n in db.row_counts(engine).items():
        print(f"  {table:<20} {n:>10,}")
    return EXIT_OK


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser's ``commands`` (see qidash.cli.build_parser)."""
    add_command(commands, "init", "create the database or migrate it to the newest schema", _init_args, _init)
    add_command(
        commands,
        "demo",
        "load a demo scenario (synthetic data for one of the five programmes)",
        _demo_args,
        _demo,
    )
    add_command(
        commands,
        "info",
        "show the database, the scenario it holds and its row counts",
        _info_args,
        _info,
    )
