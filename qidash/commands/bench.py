"""``bench``: page timings and memory at several data scales, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qidash.cli import EXIT_OK, EXIT_REJECTED, UserError, add_command

KINDS = ("sqlite", "postgresql")


def _scales(value: str) -> list[int]:
    try:
        scales = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        scales = []
    if not scales or any(s < 1 for s in scales):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a list of whole numbers of 1 or more, e.g. 1,10,50"
        )
    return scales


def _kinds(value: str) -> tuple[str, ...]:
    """``sqlite``, ``postgresql``, ``both`` or a comma-separated list of the first two."""
    if value.strip() == "both":
        return KINDS
    kinds = tuple(part.strip() for part in value.split(",") if part.strip())
    if not kinds or any(k not in KINDS for k in kinds):
        raise argparse.ArgumentTypeError(f"{value!r}: use sqlite, postgresql or both")
    return kinds


def _at_least_one(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a whole number, 1 or more")
    return n


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Builds the cornwall demo at each scale in a scratch database of each kind (a temp SQLite file; "
        "a throwaway local PostgreSQL server, or the PostgreSQL database given with --db, whose contents "
        "are REPLACED) and times every page, plus an empty page for comparison. "
        "QIDASH_DB_URL is never used, so the bench cannot overwrite the configured database by accident. "
        "With --browser it instead opens every page in headless Chromium and compares each with a bare "
        "Streamlit app: on the database given with --db (read, not changed), or on the demo built at each "
        "--scale in scratch databases of the --dbs kinds."
    )
    p.add_argument("--scale", type=_scales, default=None, metavar="N,N,...",
                   help="copies of the system to measure (default 1,10,50; with --browser 1)")
    p.add_argument("--dbs", type=_kinds, default=KINDS, metavar="KINDS",
                   help="database kinds: sqlite, postgresql or both (default both)")
    p.add_argument("--pages", metavar="NAMES",
                   help="only these pages (file names without .py, comma-separated); default every page")
    p.add_argument("--cold-runs", type=_at_least_one, default=5, metavar="N",
                   help="fresh processes per page, in rounds of every page (median cold time kept; "
                   "default 5)")
    p.add_argument("--warm-runs", type=_at_least_one, default=3, metavar="N",
                   help="warm runs per process (median kept; default 3)")
    p.add_argument("--out", metavar="FILE.json", help="also write the results as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when a page misses the targets")
    p.add_argument("--browser", action="store_true",
                   help="instead: time each page in headless Chromium, opened in a fresh tab until every "
                   "chart and map is drawn and reached by the menu, against a bare two-page Streamlit app "
                   "in the same run; reads the database given with --db (a demo, say), which it does not "
                   "change, or without --db builds the cornwall demo at each --scale in a scratch database "
                   "of each of --dbs kinds (a temp SQLite file, a throwaway PostgreSQL server)")
    p.add_argument("--runs", type=_at_least_one, default=None, metavar="N",
                   help="with --browser: fresh tabs and menu moves per page (median kept; default 3); "
                   "with --paths: runs of each path (default 7)")
    p.add_argument("--paths", action="store_true",
                   help="instead: time the Capability map's hand-tuned hot paths (qidash/map_fast_paths.py: "
                   "its deck's JSON and size, the stored areas, the nearest coach) in one process, on the "
                   "database given with --db (read, not changed) or on the cornwall demo built at each "
                   "--scale in a temp SQLite file")


def _say(msg: str) -> None:
    """Progress to standard error, so the tables on standard output stay clean."""
    print(msg, file=sys.stderr, flush=True)


def _checked_db(args: argparse.Namespace) -> str | None:
    """The --db URL, refused unless it names a database the bench can build in or read."""
    if args.db and not args.db.startswith(("sqlite", "postgresql")):
        raise UserError("--db must be a sqlite:// or postgresql+psycopg:// URL.")
    return args.db


def _write_json(out: str | None, result: dict) -> None:
    if out:
        Path(out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"Wrote {out}")


def _browser(args: argparse.Namespace) -> int:
    from qidash import bench

    try:
        pages = bench.browser_pages(
            [n.strip() for n in args.pages.split(",") if n.strip()] if args.pages else None
        )
        if args.db:
            result = bench.run_browser(args.db, args.runs or 3, pages, say=_say)
            print(bench.browser_table(result))
        else:
            result = bench.run_browser_built(args.scale or [1], args.dbs, args.runs or 3, pages, say=_say)
            for run in result["results"]:
                print(f"{run['kind']}, {result['scenario']} x{run['scale']} ({run['build']['rows']:,} rows)")
                print(bench.browser_table(run) + "\n")
    except bench.BenchError as exc:
        raise UserError(str(exc)) from exc
    _write_json(args.out, result)
    return EXIT_OK


def _paths(args: argparse.Namespace) -> int:
    from qidash import bench

    try:
        result = bench.run_paths(
            args.scale or [1, 10, 50], _checked_db(args), args.runs or bench.PATH_RUNS, say=_say
        )
    except bench.BenchError as exc:
        raise UserError(str(exc)) from exc
    print(bench.paths_table(result))
    _write_json(args.out, result)
    return EXIT_OK


def _bench(args: argparse.Namespace) -> int:
    from qidash import bench

    if args.browser:
        return _browser(args)
    if args.paths:
        return _paths(args)
    pages = bench.app_pages()
    if args.pages:
        wanted = [name.strip() for name in args.pages.split(",") if name.strip()]
        known = {bench.page_name(p): p for p in pages}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise UserError(f"Unknown page {', '.join(unknown)}. Pages present: {', '.join(known)}.")
        pages = [known[w] for w in wanted]
    try:
        result = bench.run(args.scale or [1, 10, 50], _checked_db(args), args.dbs, pages, args.warm_runs,
                           say=_say, cold_runs=args.cold_runs)
    except bench.BenchError as exc:
        raise UserError(str(exc)) from exc
    print(bench.table(result))
    _write_json(args.out, result)
    failed = [r for r in result["runs"] if r.get("error")]
    missed = [r for r in result["runs"] if r.get("meets_targets") is False and not r.get("error")]
    for r in failed:
        print(f"error: {r['db']} scale {r['scale']} {r['page']}: {r['error']}", file=sys.stderr)
    if failed or (args.strict and missed):
        return EXIT_REJECTED
    return EXIT_OK


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser's ``commands`` (see qidash.cli.build_parser)."""
    add_command(
        commands,
        "bench",
        "time every page cold and warm, with peak memory, at several data scales",
        _bench_args,
        _bench,
        db_help="a scratch database to build in, its contents REPLACED (default: a temp SQLite file and a "
        "throwaway PostgreSQL server; never $QIDASH_DB_URL)",
    )
