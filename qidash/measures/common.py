"""What the measures share: the keys of DESIGN.md section 4, their windows, and the groupings the
pages break them down by.
"""

from __future__ import annotations

from qidash import models as m

REPORT_KEYS = (
    "people_trained",
    "people_by_tier",
    "tier_conversion",
    "orgs_in_scope",
    "orgs_offered",
    "orgs_engaged",
    "orgs_trained",
    "orgs_with_project",
    "coverage_pct",
    "trained_per_10_beds",
    "trained_per_100_staff",
    "reach_vs_target",
    "projects_active",
    "projects_completed",
    "projects_by_priority",
    "projects_cross_boundary",
    "projects_with_patient_partner",
    "projects_progress_ge_3",
    "projects_progress_ge_4",
    "projects_improving",
    "projects_stale",
    "local_faculty_share",
    "lead_per_live",
    "attendance_rate",
)
ORG_COUNT_KEYS = ("orgs_in_scope", "orgs_offered", "orgs_engaged", "orgs_trained", "orgs_with_project")
RATE_WINDOW_DAYS = 182
STALE_DAYS = 90


def ratio_or_none(num: float, den: float) -> float | None:
    """num / den, or None when the denominator is zero (never 0)."""
    return None if not den else num / den


# --- the groups the pages break measures down by (patients are a group of their own) ------------

GROUPINGS = ("locality", "pcn", "sector", "kind")
PATIENT_GROUP = "patients"


def grouping(by: str):
    """(group key, group name, joins) for organisations grouped by locality, PCN, sector or kind."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}")
    if by == "locality":
        return m.Locality.code, m.Locality.name, (
            (m.Pcn, m.Pcn.id == m.Organisation.pcn_id),
            (m.Locality, m.Locality.id == m.Pcn.locality_id),
        )
    if by == "pcn":
        return m.Pcn.code, m.Pcn.name, ((m.Pcn, m.Pcn.id == m.Organisation.pcn_id),)
    column = m.Organisation.sector if by == "sector" else m.Organisation.kind
    return column, column, ()
