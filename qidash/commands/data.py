"""Loading and saving data in the section-3 format: ``import`` and ``export``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qidash.cli import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    UserError,
    add_command,
    add_scope_flags,
    engine_for,
    scope_from_flags,
)

SHOWN_PROBLEMS = 200  # a file with thousands of bad rows needs the first ones fixed, not a wall of text


# --- import -----------------------------------------------------------------------------------------


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="CSV or XLSX files, or folders of them")
    p.add_argument("--dry-run", action="store_true", help="check and report what would change; write nothing")
    p.add_argument(
        "--allow-partial", action="store_true", help="load the valid rows even when some rows are rejected"
    )
    p.add_argument(
        "--user",
        help="a note for the audit record, e.g. who asked for the load (recorded as cli:LOGIN (note: TEXT))",
    )


def _import(args: argparse.Namespace) -> int:
    from qidash import ingest

    try:
        batch = ingest.read_paths(args.paths)
    except ingest.UnusableInput as exc:
        for message in exc.messages:
            print(f"error: {message}", file=sys.stderr)
        print("Nothing was loaded.", file=sys.stderr)
        if not args.dry_run:
            _record_unusable(args, exc.messages)
        return EXIT_USAGE
    engine = engine_for(args)
    if args.dry_run:
        report = ingest.preview(engine, batch)
    else:
        from qidash import auth

        try:
            report = ingest.commit(
                engine,
                batch,
                user=auth.cli_actor(args.user),
                allow_partial=args.allow_partial,
                note=args.user,
            )
        except ingest.ImportFailed as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    _print_report(report)
    print(outcome_line(report, args.dry_run))
    return EXIT_REJECTED if report.has_rejections else EXIT_OK


def _record_unusable(args: argparse.Namespace, messages: list[str]) -> None:
    """Audit the attempt, when the database can be reached (the file's problem is the message either way)."""
    from qidash import auth, db, ingest

    try:
        engine = engine_for(args)
    except db.DatabaseError:
        return
    names = [Path(p).name for p in args.paths]
    ingest.record_unusable(engine, auth.cli_actor(args.user), names, messages, note=args.user)


def _print_report(report) -> None:
    counts = report.counts
    print(f"{'entity':<16} {'new':>8} {'updated':>8} {'unchanged':>10} {'rejected':>9}")
    for r in counts.itertuples(index=False):
        print(f"{r.entity:<16} {r.new:>8,} {r.updated:>8,} {r.unchanged:>10,} {r.rejected:>9,}")
    print_problems("Rejected rows", report.messages())
    print_problems("Notes (these rows still load)", report.messages(report.notes))


def print_problems(title: str, lines: list[str]) -> None:
    if not lines:
        return
    print(f"\n{title}:")
    for line in lines[:SHOWN_PROBLEMS]:
        print(f"  {line}")
    if len(lines) > SHOWN_PROBLEMS:
        print(f"  ... and {len(lines) - SHOWN_PROBLEMS:,} more.")


def outcome_line(report, dry_run: bool) -> str:
    rejected = report.rows_rejected
    rows = f"{rejected:,} row{'s' if rejected != 1 else ''}"
    if dry_run:
        if rejected:
            return (
                f"\nDry run: {rows} would be rejected, so nothing would be loaded (or use --allow-partial)."
            )
        return "\nDry run: every row is valid; nothing was written."
    outcome = report.outcome
    if outcome == "rejected":
        return (
            f"\nNothing was written: {rows} rejected. Fix them and load again, "
            "or use --allow-partial to load the valid rows."
        )
    if outcome == "loaded_partly":
        return f"\nLoaded the valid rows; {rows} rejected and not loaded (import {report.import_batch_id})."
    if outcome == "unchanged":
        return f"\nNothing changed: the database already holds these rows (import {report.import_batch_id})."
    charts = report.measures_analysed
    plural = "s" if charts != 1 else ""
    return f"\nLoaded (import {report.import_batch_id}); {charts:,} chart{plural} re-analysed."


# --- export -----------------------------------------------------------------------------------------


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    add_scope_flags(p)
    p.add_argument(
        "--user",
        help="a note for the audit record, e.g. who the export is for (recorded as cli:LOGIN (note: TEXT))",
    )


def _export(args: argparse.Namespace) -> int:
    from qidash import auth, export

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"--out must name an .xlsx file, not {args.out!r}.")
    if not out.parent.is_dir():
        raise UserError(f"The folder {str(out.parent)!r} does not exist.")
    engine = engine_for(args)
    scope = scope_from_flags(engine, args)
    data = export.export_workbook(engine, scope)
    out.write_bytes(data)
    detail = {"file": out.name, "scope": scope.label(), "bytes": len(data)}
    if args.user:
        detail["note"] = args.user[:200]
    auth.audit(engine, auth.cli_actor(args.user), "export", detail)  # a failure is logged, not raised
    print(f"Wrote {out} ({len(data) / 1024:,.0f} KB, {scope.label()}).")
    return EXIT_OK


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser's ``commands`` (see qidash.cli.build_parser)."""
    add_command(
        commands,
        "import",
        "load CSV or XLSX files in the import format; nothing is written if a row is rejected",
        _import_args,
        _import,
    )
    add_command(
        commands,
        "export",
        "save the database, or a scope of it, as an XLSX workbook in the import format",
        _export_args,
        _export,
    )
