"""The measures of DESIGN.md section 4, as SQL aggregates over a scope and an "as of" date.

Every function takes a connection, a :class:`~qidash.scope.Scope` and ``as_of`` and returns plain
Python values. :func:`report` returns them all under exactly the keys of section 4. The counting
rules of section 4 are implemented here and nowhere else; pages call these functions.

Conventions fixed here where section 4 leaves a choice (each pinned by a test):
- A project is *active on D* when it started on or before D and either ends after D, or has no end
  date and the status ``active``. It is *completed by D* when its status is ``completed`` and its end
  date (or start date, when no end is recorded) is on or before D.
- A cohort is in a filtered scope when someone in scope holds a non-withdrawn enrolment in it;
  ``attendance_rate`` then counts only those people's enrolments.
- ``tier_conversion`` medians count people who attained the lower tier on or before the higher one.
- ``reach_vs_target`` projects forward at the rate of the last 182 days (people newly trained per
  day), from ``people_trained`` on the as-of date to the due date.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from qidash.measures.cohorts import (
    attendance_by_session,
    attendance_rate,
    cohort_summary,
    cohorts_in_scope,
    local_faculty_share,
    local_faculty_share_by_period,
    participants_by_role,
)
from qidash.measures.common import (
    GROUPINGS,
    ORG_COUNT_KEYS,
    PATIENT_GROUP,
    RATE_WINDOW_DAYS,
    REPORT_KEYS,
    STALE_DAYS,
)
from qidash.measures.organisations import (
    ORG_STAGES,
    active_project_condition,
    coaches,
    coverage_pct,
    engaged_condition,
    open_on,
    org_counts,
    org_counts_by,
    org_stage,
    org_stage_columns,
    org_stages,
    pcn_capability,
    pcn_people_and_projects,
    trained_in_post_condition,
    training_density,
    with_project_condition,
)
from qidash.measures.people import (
    first_trained_by_day,
    highest_from_reached,
    lead_per_live,
    patients_by_tier,
    people_by_highest_tier,
    people_by_tier,
    people_by_tier_by,
    people_by_tier_on,
    people_reaching_tier_by_day,
    people_trained,
    people_trained_split,
    reach_vs_target,
    recent_rate,
    target_for,
    tier_conversion,
    tiers,
)
from qidash.measures.projects import (
    analysis_results,
    coaches_per_active_project,
    improving_by_priority,
    improving_project_ids,
    is_stale,
    latest_scores,
    measure_analyses,
    measure_analyses_query,
    portfolio_projects,
    portfolio_projects_query,
    progress_counts,
    project_status_counts,
    project_status_on,
    projects_by_priority,
    projects_cross_boundary,
    projects_led_by_trained,
    projects_stale,
    projects_started,
    projects_with_patient_partner,
    stale_project_ids,
)
from qidash.rules import default_as_of, year_before
from qidash.scope import Scope

# --- the report --------------------------------------------------------------------------------------


def report(conn: Connection, scope: Scope, as_of: dt.date, keys=REPORT_KEYS) -> dict:
    """Every measure of DESIGN.md section 4, under exactly its keys; or only ``keys`` (in
    REPORT_KEYS order), running only the queries those need (a page that shows a few measures for
    several scopes or dates need not compute them all)."""
    wanted = set(keys)
    unknown = wanted - set(REPORT_KEYS)
    if unknown:
        raise ValueError(f"Unknown measure {', '.join(sorted(unknown))}. Measures: {', '.join(REPORT_KEYS)}.")
    out: dict = {}
    if wanted & {"people_trained", "reach_vs_target"}:
        out["people_trained"] = people_trained(conn, scope, as_of)
    if "people_by_tier" in wanted:
        out["people_by_tier"] = people_by_tier(conn, scope, as_of)
    if "tier_conversion" in wanted:
        out["tier_conversion"] = tier_conversion(conn, scope, as_of, out.get("people_by_tier"))
    if wanted & {*ORG_COUNT_KEYS, "coverage_pct"}:
        counted = wanted | ({"orgs_in_scope", "orgs_trained"} if "coverage_pct" in wanted else set())
        counts = org_counts(conn, scope, as_of, counted)
        out.update(counts)
        if "coverage_pct" in wanted:
            out["coverage_pct"] = coverage_pct(counts)
    if wanted & {"trained_per_10_beds", "trained_per_100_staff"}:
        out.update(training_density(conn, scope, as_of))
    if "reach_vs_target" in wanted:
        out["reach_vs_target"] = reach_vs_target(conn, scope, as_of, trained=out["people_trained"])
    if wanted & {"projects_active", "projects_completed"}:
        out.update(project_status_counts(conn, scope, as_of))
    if "projects_by_priority" in wanted:
        out["projects_by_priority"] = projects_by_priority(conn, scope, as_of)
    if "projects_cross_boundary" in wanted:
        out["projects_cross_boundary"] = projects_cross_boundary(conn, scope, as_of)
    if "projects_with_patient_partner" in wanted:
        out["projects_with_patient_partner"] = projects_with_patient_partner(conn, scope, as_of)
    if wanted & {"projects_progress_ge_3", "projects_progress_ge_4"}:
        out.update(progress_counts(conn, scope, as_of))
    if "projects_improving" in wanted:
        out["projects_improving"] = len(improving_project_ids(conn, scope, as_of))
    if "projects_stale" in wanted:
        out["projects_stale"] = projects_stale(conn, scope, as_of)
    if "local_faculty_share" in wanted:
        out["local_faculty_share"] = local_faculty_share(conn, scope, as_of)
    if "lead_per_live" in wanted:
        out["lead_per_live"] = lead_per_live(conn, scope, as_of)
    if "attendance_rate" in wanted:
        out["attendance_rate"] = attendance_rate(conn, scope, as_of)
    return {k: out[k] for k in REPORT_KEYS if k in wanted}


__all__ = [
    "GROUPINGS",
    "ORG_COUNT_KEYS",
    "ORG_STAGES",
    "PATIENT_GROUP",
    "RATE_WINDOW_DAYS",
    "REPORT_KEYS",
    "STALE_DAYS",
    "active_project_condition",
    "analysis_results",
    "attendance_by_session",
    "attendance_rate",
    "coaches",
    "coaches_per_active_project",
    "cohort_summary",
    "cohorts_in_scope",
    "coverage_pct",
    "default_as_of",
    "engaged_condition",
    "first_trained_by_day",
    "highest_from_reached",
    "improving_by_priority",
    "improving_project_ids",
    "is_stale",
    "latest_scores",
    "lead_per_live",
    "local_faculty_share",
    "local_faculty_share_by_period",
    "measure_analyses",
    "measure_analyses_query",
    "open_on",
    "org_counts",
    "org_counts_by",
    "org_stage",
    "org_stage_columns",
    "org_stages",
    "participants_by_role",
    "patients_by_tier",
    "pcn_capability",
    "pcn_people_and_projects",
    "people_by_highest_tier",
    "people_by_tier",
    "people_by_tier_by",
    "people_by_tier_on",
    "people_reaching_tier_by_day",
    "people_trained",
    "people_trained_split",
    "portfolio_projects",
    "portfolio_projects_query",
    "progress_counts",
    "project_status_counts",
    "project_status_on",
    "projects_by_priority",
    "projects_cross_boundary",
    "projects_led_by_trained",
    "projects_stale",
    "projects_started",
    "projects_with_patient_partner",
    "reach_vs_target",
    "recent_rate",
    "report",
    "stale_project_ids",
    "target_for",
    "tier_conversion",
    "tiers",
    "trained_in_post_condition",
    "training_density",
    "with_project_condition",
    "year_before",
]
