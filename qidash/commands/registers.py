"""``registers``: load one ICB's organisations and PCNs from the public registers (DESIGN.md section 9)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qidash.cli import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, add_command, engine_for
from qidash.commands.data import outcome_line, print_problems

SHOWN_NAMES = 8  # names listed per change; the rest are counted


def _registers_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--icb", required=True, metavar="CODE", help="the ICB's ODS code, e.g. QT6 or QJK")
    p.add_argument("--cqc", metavar="FILE", help='CQC "HSCA Active Locations" (.ods, .xlsx or .csv)')
    p.add_argument("--practices", metavar="FILE", help="ODS epraccur.csv (GP practices)")
    p.add_argument("--pcns", metavar="FILE", help="ODS ePCN.xlsx (PCNs and their practices)")
    p.add_argument("--trusts", metavar="FILE", help="ODS etr.csv (NHS trusts)")
    p.add_argument(
        "--postcodes",
        metavar="FILE_OR_DIR",
        help="ONS postcode lookup (NSPL or ONSPD): a CSV or a folder of them",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument("--user", help="a note for the audit record, kept after your login name")


def _registers(args: argparse.Namespace) -> int:
    from qidash import auth, registers

    engine = engine_for(args)
    try:
        plan = registers.plan(
            engine,
            args.icb,
            cqc=args.cqc,
            practices=args.practices,
            pcns=args.pcns,
            trusts=args.trusts,
            postcodes=args.postcodes,
        )
    except registers.RegisterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("Nothing was loaded.", file=sys.stderr)
        if not args.dry_run:  # audited like an import of unusable files
            from qidash import ingest

            names = [
                Path(p).name for p in (args.cqc, args.practices, args.pcns, args.trusts, args.postcodes) if p
            ]
            ingest.record_unusable(engine, auth.cli_actor(args.user), names, [str(exc)], note=args.user)
        return EXIT_USAGE
    print(f"{plan.icb.name} ({plan.icb.code})")
    print_plan(plan, args.dry_run)
    if args.dry_run:
        report = registers.preview(engine, plan)
    else:
        from qidash import ingest

        try:
            report = registers.load(engine, plan, user=auth.cli_actor(args.user), note=args.user)
        except ingest.ImportFailed as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    print_problems("Rejected rows", report.messages())
    print_problems("Notes (these rows still load)", report.messages(report.notes))
    print(outcome_line(report, args.dry_run))
    return EXIT_REJECTED if report.has_rejections else EXIT_OK


def print_plan(plan, dry_run: bool) -> None:
    would = "would " if dry_run else ""
    print(f"\n{'':<14} {'add':>6} {'update':>7} {'close':>6} {'reopen':>7} {'leave':>6}")
    for k in plan.kinds.values():
        print(
            f"{k.label:<14} {len(k.add):>6,} {len(k.update):>7,} {len(k.close):>6,} {len(k.reopen):>7,} "
            f"{k.leave:>6,}"
        )
    for k in plan.kinds.values():
        for verb, names in (("add", k.add), ("update", k.update), ("close", k.close), ("reopen", k.reopen)):
            if names:
                shown = ", ".join(names[:SHOWN_NAMES]) + (
                    f" and {len(names) - SHOWN_NAMES:,} more" if len(names) > SHOWN_NAMES else ""
                )
                print(f"  {would}{verb} {len(names):,} {k.label}: {shown}")
    if plan.unplaced:
        without = (
            "their postcodes are not in the lookup"
            if plan.postcode_lookup
            else "no postcode lookup was given"
        )
        print(
            f"\n{len(plan.unplaced):,} without coordinates (not on the map; {without}): "
            + ", ".join(plan.unplaced[:SHOWN_NAMES])
            + (" ..." if len(plan.unplaced) > SHOWN_NAMES else "")
        )
    for note in plan.notes:
        print(f"\nNote: {note}")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser's ``commands`` (see qidash.cli.build_parser)."""
    add_command(
        commands,
        "registers",
        "load an ICB's care homes, GP practices, PCNs and trusts from the public registers",
        _registers_args,
        _registers,
    )
