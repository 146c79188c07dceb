"""``showcase``: the celebration deck (PowerPoint), report (HTML) or its PDF, from the command line.

The same story as the Showcase page (:func:`qidash.views.showcase.showcase_data`): the programme in
numbers, the tier funnel, the map, one slide per project and the board summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qidash.cli import EXIT_OK, UserError, add_command, add_scope_flags, scope_from_flags

FORMATS = (".pptx", ".html", ".pdf")


def _showcase_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="FILE.pptx (native, editable charts; needs no browser), FILE.html (one standalone file, "
        "no outside requests) or FILE.pdf (the report printed by Chromium)",
    )
    p.add_argument(
        "--projects",
        metavar="CODES",
        help="project codes to present, comma-separated, in order (default: those with sustained "
        "improvement, best progress score first, and a couple of quiet wins)",
    )
    p.add_argument(
        "--public",
        action="store_true",
        help="for an audience: counts of fewer than --suppress-below people shown as <N, and nobody "
        "named unless they consented",
    )
    p.add_argument(
        "--suppress-below",
        type=int,
        default=5,
        metavar="N",
        help="public mode hides counts of people under N (default 5)",
    )
    p.add_argument("--board", action="store_true", help="only the one-page board summary with the MDC icons")
    p.add_argument(
        "--images", metavar="DIR", help="also write every chart as PNG and PDF into DIR (needs Chromium)"
    )
    add_scope_flags(p)
    p.add_argument(
        "--as-of",
        metavar="DATE",
        help="as of DATE (2024-06-30 or 30/06/2024); default: the date the data describes",
    )
    p.add_argument("--user", help="a note for the audit record, kept after your login name")


def _codes(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    codes = tuple(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    if not codes:
        raise UserError("--projects names no project code.")
    return codes


def check_projects(conn, codes: tuple[str, ...], available: set[str], as_of) -> None:
    """UserError naming codes that are unknown, or outside the scope / not started by the date."""
    from sqlalchemy import select

    from qidash import models as m

    missing = [c for c in codes if c not in available]
    if not missing:
        return
    known = set(conn.scalars(select(m.Project.code).where(m.Project.code.in_(missing))))
    unknown = [c for c in missing if c not in known]
    elsewhere = [c for c in missing if c in known]
    parts = []
    if unknown:
        parts.append(f"unknown project code(s): {', '.join(unknown)}")
    if elsewhere:
        parts.append(f"not in this scope or not started by {as_of.isoformat()}: {', '.join(elsewhere)}")
    raise UserError("--projects: " + "; ".join(parts) + ".")


def _showcase(args: argparse.Namespace) -> int:
    from qidash import auth, measures
    from qidash.commands.report import existing_database, parse_as_of
    from qidash.exports import html_report, images, pptx_deck
    from qidash.views.showcase import project_choices, showcase_data

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"--out must name a .pptx, .html or .pdf file, not {args.out!r}.")
    if not out.parent.is_dir():
        raise UserError(f"The folder {str(out.parent)!r} does not exist.")
    if args.suppress_below < 1:
        raise UserError("--suppress-below must be 1 or more.")
    if (suffix == ".pdf" or args.images) and images.chromium() is None:
        raise UserError(str(images.NoChromium()))
    as_of = parse_as_of(args.as_of) if args.as_of is not None else None
    codes = _codes(args.projects)
    engine = existing_database(args.db)
    scope = scope_from_flags(engine, args)
    with engine.connect() as conn:
        as_of = as_of or measures.default_as_of(conn)
        if codes is not None:
            check_projects(conn, codes, {c.code for c in project_choices(conn, scope, as_of)}, as_of)
        # The command line is trusted like an admin: names appear where people consented.
        sc = showcase_data(conn, scope, as_of, codes, args.public, True, args.suppress_below)
    if suffix == ".pptx":
        data = pptx_deck.to_bytes(sc, args.board)
    elif suffix == ".html":
        data = html_report.render(sc, args.board).encode("utf-8")
    else:
        data = images.report_pdf(sc, args.board)
    out.write_bytes(data)
    written = [out]
    if args.images:
        written += images.write_chart_images(sc, Path(args.images))
    auth.audit(
        engine,
        auth.cli_actor(args.user),
        "export",
        {
            "file": out.name,
            "kind": "showcase",
            "scope": scope.label(),
            "as_of": as_of.isoformat(),
            "projects": [p.code for p in sc.projects],
            "public": sc.public,
            "bytes": len(data),
        },
    )
    slides = 1 if args.board else len(sc.slides)
    print(
        f"Wrote {out} ({slides} slide{'s' if slides != 1 else ''}, {len(sc.projects)} project"
        f"{'s' if len(sc.projects) != 1 else ''}, {scope.label()}, as of {as_of.isoformat()}"
        f"{', public mode' if sc.public else ''})."
    )
    if args.images:
        print(f"Wrote {len(written) - 1} chart images into {args.images}.")
    return EXIT_OK


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser's ``commands`` (see qidash.cli.build_parser)."""
    add_command(
        commands,
        "showcase",
        "the celebration deck (.pptx), report (.html) or its PDF (.pdf) for a scope and date",
        _showcase_args,
        _showcase,
    )
