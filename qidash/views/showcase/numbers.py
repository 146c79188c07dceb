"""The programme in numbers: the headline tiles of the first slide (and the board's summary line)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from qidash.palette import fmt_int, fmt_pct
from qidash.views.showcase.funnel import FUNNEL_KEYS
from qidash.views.showcase.privacy import people_count, suppressed

# The measures the numbers and funnel slides show (only these are computed).
REPORT_KEYS = (
    "people_trained",
    "people_by_tier",
    "tier_conversion",
    "orgs_in_scope",
    "orgs_trained",
    "coverage_pct",
    "reach_vs_target",
    "projects_active",
    "projects_completed",
    "projects_by_priority",
    "projects_cross_boundary",
    "projects_with_patient_partner",
    "projects_progress_ge_4",
    "projects_improving",
    "local_faculty_share",
)
# Those the funnel slide alone needs: the page computes them when that slide is reached.
NUMBER_KEYS = tuple(k for k in REPORT_KEYS if k not in FUNNEL_KEYS)


@dataclass(frozen=True)
class Number:
    """One headline number: ``value`` is None when suppressed or undefined; ``text`` is what is shown."""

    key: str
    label: str
    value: float | None
    text: str
    note: str = ""


def headline_numbers(report: dict, split: dict, public: bool, threshold: int) -> tuple[Number, ...]:
    def count(key, name, n, note=""):
        shown = people_count(n, public, threshold)
        return Number(key, name, None if suppressed(n, public, threshold) else n, shown, note)

    trained = report["people_trained"]
    parts_hidden = any(suppressed(split[k], public, threshold) for k in ("staff", "patients"))
    if split["patients"] and not parts_hidden:
        split_note = (
            f"{people_count(split['staff'], public, threshold)} staff · "
            f"{people_count(split['patients'], public, threshold)} patients"
        )
    elif split["patients"]:
        split_note = "staff and patients"
    else:
        split_note = "staff"
    orgs = f"{fmt_int(report['orgs_trained'])} of {fmt_int(report['orgs_in_scope'])}"
    projects = sum(report["projects_by_priority"].values())
    reach = report["reach_vs_target"]
    out = [
        count("people_trained", "People trained in QI", trained, split_note),
        Number(
            "orgs_trained",
            "Organisations trained",
            report["orgs_trained"],
            orgs,
            f"with someone trained in post · coverage {fmt_pct(report['coverage_pct'])}",
        ),
        Number(
            "projects",
            "QI projects",
            projects,
            fmt_int(projects),
            f"{fmt_int(report['projects_active'])} active · {fmt_int(report['projects_completed'])} "
            "completed",
        ),
        Number(
            "projects_improving",
            "Projects showing improvement",
            report["projects_improving"],
            fmt_int(report["projects_improving"]),
            "improvement at the latest point, or since the baseline",
        ),
        Number(
            "projects_cross_boundary",
            "Projects across organisations",
            report["projects_cross_boundary"],
            fmt_int(report["projects_cross_boundary"]),
            "spanning sectors or kinds of organisation",
        ),
        Number(
            "projects_with_patient_partner",
            "Projects with patients involved",
            report["projects_with_patient_partner"],
            fmt_int(report["projects_with_patient_partner"]),
        ),
        Number(
            "projects_progress_ge_4",
            "Projects scoring 4.0 or more",
            report["projects_progress_ge_4"],
            fmt_int(report["projects_progress_ge_4"]),
            "significant or sustained improvement (IHI scale)",
        ),
    ]
    if reach.get("target_value") is not None:
        hidden = suppressed(reach["people_trained"], public, threshold)
        verdict = "on track" if reach["on_track"] else "behind the target"
        due = dt.date.fromisoformat(reach["due_on"])
        note = f"by {due:%d %b %Y}" + (
            "" if hidden else f": projected {fmt_int(reach['projected_at_due'])}, {verdict}"
        )
        out.append(
            Number(
                "reach_vs_target",
                "Reach against target",
                None if hidden else reach["people_trained"],
                f"{people_count(reach['people_trained'], public, threshold)} / "
                f"{fmt_int(reach['target_value'])}",
                note,
            )
        )
    else:
        share = report["local_faculty_share"]
        out.append(
            Number(
                "local_faculty_share",
                "Cohorts taught by local faculty",
                None if share is None else share * 100,
                "–" if share is None else f"{share * 100:.0f}%",
                "self-sustainability",
            )
        )
    return tuple(out)

