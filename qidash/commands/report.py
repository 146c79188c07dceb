"""``measures``: the DESIGN.md section 4 report for a scope and an "as of" date, as JSON or a table."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from qidash.cli import EXIT_OK, UserError, add_command, add_scope_flags, scope_from_flags

# One line per key of the report, for --help (the measures' definitions are DESIGN.md section 4).
KEY_HELP = {
    "people_trained": "people who attained any tier by the date (patients and leavers included)",
    "people_by_tier": "per tier: people who reached at least that tier",
    "tier_conversion": "per adjacent pair of tiers: reached the higher / the lower, median days between",
    "orgs_in_scope": "organisations in the scope",
    "orgs_offered": "organisations offered QI training by the date",
    "orgs_engaged": "organisations with someone enrolled (not withdrawn) in a cohort started by the date",
    "orgs_trained": "organisations with someone in post who attained a tier",
    "orgs_with_project": "organisations leading or partnering a project active on the date",
    "coverage_pct": "orgs_trained / orgs_in_scope x 100",
    "trained_per_10_beds": "people in post trained / beds x 10 (organisations with beds recorded)",
    "trained_per_100_staff": "people in post trained / staff headcount x 100 (headcount recorded)",
    "reach_vs_target": "people_trained against the scope's target, projected to the due date at the last "
                       "182 days' rate",
    "projects_active": "projects active on the date",
    "projects_completed": "projects completed by the date",
    "projects_by_priority": "per priority: projects started by the date, any status",
    "projects_cross_boundary": "projects whose organisations span different sectors or kinds",
    "projects_with_patient_partner": "projects with patient involvement or a patient partner in the team",
    "projects_progress_ge_3": "projects whose latest IHI progress score is 3.0 or more",
    "projects_progress_ge_4": "projects whose latest IHI progress score is 4.0 or more",
    "projects_improving": "projects with an improving measure: special-cause improvement at its latest "
                          "point, or improved since its baseline (a later phase's centre line is better)",
    "projects_stale": "active projects with no observation and no score in the 90 days to the date",
    "local_faculty_share": "cohorts started by the date delivered by local faculty / all of them",
    "lead_per_live": "people whose highest tier is the top tier / those whose highest is the one below",
    "attendance_rate": "per cohort: sessions attended / (sessions x places not withdrawn)",
}
NONE_SHOWN = "-"  # a ratio with nothing to divide by


def _epilog() -> str:
    width = max(map(len, KEY_HELP)) + 1
    lines = [f"  {key:<{width}} {text}" for key, text in KEY_HELP.items()]
    return (
        "The report's keys (JSON prints exactly these; a ratio with a zero denominator is null;\n"
        "coverage_pct is 0-100, other ratios are fractions; dates are ISO):\n" + "\n".join(lines)
    )


def _measures_args(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _epilog()
    add_scope_flags(p)
    p.add_argument(
        "--as-of", metavar="DATE",
        help="count what is dated on or before DATE (2024-06-30 or 30/06/2024); "
             "default: the date the data describes (a demo's snapshot date), else today",
    )
    p.add_argument("--format", choices=("json", "table"), default="json", help="output format (default json)")


def parse_as_of(text: str) -> dt.date:
    """The --as-of date, in the import format's forms (ISO or day/month/year); UserError if not a date."""
    from qidash.ingest.coerce import BadValue, parse_date_text

    try:
        return parse_date_text(text.strip())
    except BadValue as exc:
        raise UserError(f"--as-of: {exc}") from None


def scoped_report(args: argparse.Namespace, build):
    """``(scope, as_of, build(conn, scope, as_of))`` for a report command: its ``--db`` (an existing
    database), scope flags and ``--as-of`` (the data's own date when not given; checked before the
    database is opened)."""
    from qidash import measures

    as_of = parse_as_of(args.as_of) if args.as_of is not None else None
    engine = existing_database(args.db)
    scope = scope_from_flags(engine, args)
    with engine.connect() as conn:
        as_of = as_of or measures.default_as_of(conn)
        return scope, as_of, build(conn, scope, as_of)


def _measures(args: argparse.Namespace) -> int:
    from qidash import measures

    scope, as_of, result = scoped_report(args, measures.report)
    if args.format == "json":
        print(json.dumps(result, indent=2, default=_iso))
    else:
        print(f"Measures for {scope.label()}, as of {as_of.isoformat()}")
        print(table(result))
    return EXIT_OK


def existing_database(url: str | None):
    """An engine on a database that already holds the qidash schema (migrated if older); asking for
    measures must not create an empty database where a path was mistyped."""
    from qidash import db

    url = url or db.default_url()
    if url.startswith("sqlite") and "///" in url:
        path = url.split("///", 1)[1]
        if path and path != ":memory:" and not Path(path).exists():
            raise UserError(f"There is no database at {path}. Check --db, or create one with init or demo.")
    engine = db.make_engine(url)
    db.check_connection(engine)
    if not db.has_schema(engine):
        raise UserError(
            f"The database {db.redact(url)} holds no qidash data: run `python -m qidash init` and load data."
        )
    if not db.is_current(engine):
        db.migrate(engine)
    return engine


def _iso(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _shown(value) -> str:
    if value is None:
        return NONE_SHOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(result: dict, indent: int = 0) -> str:
    """The report as a two-column table: key, value; nested keys indented under theirs."""
    rows: list[tuple[str, str]] = []

    def walk(d: dict, depth: int) -> None:
        for key, value in d.items():
            label = "  " * depth + str(key)
            if isinstance(value, dict):
                rows.append((label, "" if value else "(none)"))
                walk(value, depth + 1)
            else:
                rows.append((label, _shown(value)))

    walk(result, indent)
    width = max((len(label) for label, _ in rows), default=0) + 2
    return "\n".join(f"{label:<{width}}{value}".rstrip() for label, value in rows)


def _portfolio_args(p: argparse.ArgumentParser) -> None:
    p.epilog = (
        "A project is improving when one of its measures is: special-cause improvement at its latest point "
        "(variation 'improvement'), or improved since its baseline (its latest phase, begun at a rebase, has "
        "a better centre line than the first). variation: improvement, concern, common_cause, neither "
        "(special cause, no direction set) or null (no data by the date); assurance: pass, fail, "
        "hit_or_miss or null."
    )
    add_scope_flags(p)
    p.add_argument("--as-of", metavar="DATE", help="as for measures: what is dated on or before DATE")
    p.add_argument("--format", choices=("json", "table"), required=True, help="output format")


def _portfolio(args: argparse.Namespace) -> int:
    from qidash.views.portfolio import portfolio_report

    scope, as_of, result = scoped_report(args, portfolio_report)
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        print(f"Portfolio for {scope.label()}, as of {as_of.isoformat()}")
        print(portfolio_table(result))
    return EXIT_OK


def portfolio_table(result: dict) -> str:
    """One line per measure under a line per project: code, status, improving, title; then each
    measure's code, chart, variation, assurance and whether it improved since its baseline."""
    lines = []
    for p in result["projects"]:
        lines.append(f"{p['code']}  {p['status']}  {'improving' if p['improving'] else '-'}  {p['title']}")
        if not p["measures"]:
            lines.append("    (no measures)")
        for mm in p["measures"]:
            lines.append(
                f"    {mm['code']:<14} {mm['chart']:<4} variation {_shown(mm['variation']):<13} "
                f"assurance {_shown(mm['assurance']):<12} "
                f"{'improved since baseline' if mm['improved_since_baseline'] else ''}".rstrip()
            )
    return "\n".join(lines) or "(no project started by the date)"


def _impact_args(p: argparse.ArgumentParser) -> None:
    p.epilog = (
        "For each measure improved since its baseline (its latest phase, begun at a recorded change or "
        "recalculation, has a better centre line than the first), the benefit from that change to the "
        "date against the baseline, in the measure's own unit: c charts sum the baseline mean minus each "
        "later count, u charts (baseline rate - rate) x exposure, p charts numerator - baseline proportion "
        "x denominator; XmR and run charts give the shift of the centre line, never summed. low/high: the "
        "estimate with the baseline's mean, rate or proportion 2 standard errors either way. Totals add "
        "only counted estimates of the same unit and direction. Method: docs/impact.md."
    )
    add_scope_flags(p)
    p.add_argument("--as-of", metavar="DATE", help="as for measures: what is dated on or before DATE")
    p.add_argument("--format", choices=("json", "table"), required=True, help="output format")


def _impact(args: argparse.Namespace) -> int:
    from qidash import impact

    scope, as_of, report = scoped_report(args, impact.impact_report)
    if args.format == "json":
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(f"Impact for {scope.label()}, as of {as_of.isoformat()}")
        print(impact_table(report))
    return EXIT_OK


def impact_table(report) -> str:
    """The totals in words, then one line per measure: project, measure, estimate and range (or why
    there is none)."""
    from qidash import impact

    lines = ["Totals (like with like):"]
    lines += [f"  {impact.total_words(t)}" for t in report.totals] or ["  (nothing to add up yet)"]
    lines.append("Measures:")
    for e in report.estimates:
        if not e.estimated:
            said = f"not estimated: {e.reason}"
        elif e.counted:
            said = (f"{impact.range_words(e.value, e.low, e.high)} "
                    f"{impact.phrase(e.unit, e.direction, e.chart in ('c', 'u'))} since {e.since:%d %b %Y}")
        else:
            said = f"centre line {impact.shift_words(e)} since {e.since:%d %b %Y}"
        lines.append(f"  {e.project_code:<12} {e.measure_code:<14} {said}")
    if not report.estimates:
        lines.append("  (no project with measures started by the date)")
    return "\n".join(lines)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser's ``commands`` (see qidash.cli.build_parser)."""
    add_command(
        commands,
        "measures",
        "the section 4 measures for a scope and an as-of date, as JSON or a table",
        _measures_args,
        _measures,
    )
    add_command(
        commands,
        "portfolio",
        "every project in scope with its measures' Making Data Count icons, as JSON or a table",
        _portfolio_args,
        _portfolio,
    )
    add_command(
        commands,
        "impact",
        "the cumulative benefit of sustained improvements, per measure and totalled like with like",
        _impact_args,
        _impact,
    )
