"""The Tiers page's data: the progression funnel and its conversions, the funnel across areas, reach
over time per tier, cohorts and their registers, self-sustainability and patients trained.

Every number comes from :mod:`qidash.measures`; this module only arranges them into frames.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise

import pandas as pd
from sqlalchemy import Connection

from qidash import catalog, measures
from qidash.palette import in_sentence, label
from qidash.scope import Scope

COMPARE_BY = ("locality", "sector", "pcn", "kind")
COMPARE_LABELS = {"locality": "Locality", "sector": "Sector", "pcn": "PCN", "kind": "Organisation kind"}
# The page's cohort table lists the newest this many; its download holds every cohort. At national scale
# a system has thousands, and the whole table would be megabytes sent on every view.
COHORT_ROWS = 100
PERIOD_MONTHS = 6  # local-faculty share by half-year: quarters hold too few cohorts to read a share
ATTAINED_BY = {"course": "a course", "project": "applying QI on a project", "faculty": "teaching or coaching"}


@dataclass(frozen=True)
class TiersData:
    ladders: list[dict]  # catalog.frameworks: each framework's tiers, lowest first
    funnel: dict[str, int]  # measures.people_by_tier
    funnel_year_ago: dict[str, int]
    conversion: dict[str, dict]  # measures.tier_conversion
    reach: pd.DataFrame  # tier, day, new, cumulative
    target: dict  # measures.reach_vs_target
    cohorts: pd.DataFrame  # measures.cohort_summary (attendance_rate included) and ended, newest first
    cohort_totals: dict  # cohorts, local, completed, took_place (ended cohorts), completion_rate, withdrawn
    roles: pd.DataFrame  # role, people (participants of cohorts started by the date)
    local_share: pd.DataFrame  # period_start, cohorts, local, share
    sustainability: dict  # see self_sustainability()
    sustainability_year_ago: dict  # local_faculty_share and lead_per_live a year earlier
    patients: dict  # trained, share_of_trained, by_tier, enrolled, projects_with_patient_partner

    @property
    def has_tiers(self) -> bool:
        return bool(self.ladders)


@dataclass(frozen=True)
class ComparisonData:
    by: str
    groups: pd.DataFrame  # group, name, one column per tier code (reached at least), in ladder order
    outside: dict[str, int]  # per tier: people in scope who belong to no group (no PCN), else 0


@dataclass(frozen=True)
class CohortDetail:
    sessions: pd.DataFrame  # session_no, held_on, on_register, attended
    roles: pd.DataFrame  # role, people


def tier_pairs(ladders: list[dict]) -> list[tuple[dict, dict]]:
    """Adjacent tiers of each framework (lower, higher), the pairs ``tier_conversion`` reports."""
    return [(a, b) for ladder in ladders for a, b in zip(ladder["tiers"], ladder["tiers"][1:], strict=False)]


def reach_by_tier(conn: Connection, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """Per tier, by day: people newly reaching at least that tier and the running total up to ``as_of``."""
    return reach_frame(measures.people_reaching_tier_by_day(conn, scope, as_of))


def reach_frame(reaching: list[tuple[str, dt.date, int]]) -> pd.DataFrame:
    """measures.people_reaching_tier_by_day rows as a frame: tier, day, new and cumulative (per tier)."""
    frame = pd.DataFrame(reaching, columns=["tier", "day", "new"])
    frame["new"] = frame["new"].astype("int64")  # whole numbers even with no rows (a new database)
    frame["cumulative"] = frame.groupby("tier", sort=False)["new"].cumsum()
    return frame


def self_sustainability(
    conn: Connection, scope: Scope, as_of: dt.date, reached: dict[str, int] | None = None
) -> dict:
    """local_faculty_share, lead_per_live, coaches (coaches_per_active_project), led
    (projects_led_by_trained). ``reached``: measures.people_by_tier on ``as_of``, when known."""
    return {
        "local_faculty_share": measures.local_faculty_share(conn, scope, as_of),
        "lead_per_live": measures.lead_per_live(conn, scope, as_of, reached),
        "coaches": measures.coaches_per_active_project(conn, scope, as_of),
        "led": measures.projects_led_by_trained(conn, scope, as_of),
    }


def cohort_table(conn: Connection, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """measures.cohort_summary (which carries each cohort's measures.attendance_rate) and whether the
    cohort has ended, newest first."""
    columns = [
        "code",
        "name",
        "course",
        "course_name",
        "tier",
        "locality",
        "start_date",
        "end_date",
        "sessions",
        "delivered_by",
        "enrolled",
        "withdrawn",
        "completed",
        "completion_rate",
        "attendance_rate",
    ]
    # Newest first, column by column: a frame built from 4,600 dicts costs half as much again, and a
    # tuple per row only feeds the garbage collector.
    rows = measures.cohort_summary(conn, scope, as_of)[::-1]
    frame = pd.DataFrame({c: [r[c] for r in rows] for c in columns} if rows else [], columns=columns)
    frame["ended"] = [bool((r["end_date"] or r["start_date"]) <= as_of) for r in rows]
    return frame


def tiers_data(conn: Connection, scope: Scope, as_of: dt.date) -> TiersData:
    """Everything the Tiers page draws that does not depend on the page's own controls."""
    year_ago = as_of - dt.timedelta(days=365)
    split = measures.people_trained_split(conn, scope, as_of)
    roles = pd.DataFrame(measures.participants_by_role(conn, scope, as_of), columns=["role", "people"])
    enrolled_patients = int(roles.loc[roles["role"] == measures.PATIENT_GROUP, "people"].sum())
    trained = split["staff"] + split["patients"]
    cohorts = cohort_table(conn, scope, as_of)
    # One query gives the reach over time, and from it the funnel now and a year ago, and the
    # highest-tier counts behind lead_per_live on both dates.
    all_tiers = measures.tiers(conn)
    reaching = measures.people_reaching_tier_by_day(conn, scope, as_of)
    funnel = measures.people_by_tier_on(reaching, all_tiers, as_of)
    funnel_year_ago = measures.people_by_tier_on(reaching, all_tiers, year_ago)
    return TiersData(
        ladders=catalog.frameworks(conn),
        funnel=funnel,
        funnel_year_ago=funnel_year_ago,
        conversion=measures.tier_conversion(conn, scope, as_of, funnel),
        reach=reach_frame(reaching),
        target=measures.reach_vs_target(conn, scope, as_of, trained),
        cohorts=cohorts,
        cohort_totals=cohort_totals(cohorts),
        roles=roles,
        local_share=pd.DataFrame(
            measures.local_faculty_share_by_period(conn, scope, as_of, PERIOD_MONTHS),
            columns=["period_start", "cohorts", "local", "share"],
        ),
        sustainability=self_sustainability(conn, scope, as_of, funnel),
        # The page compares these two with a year earlier.
        sustainability_year_ago={
            "local_faculty_share": measures.local_faculty_share(conn, scope, year_ago),
            "lead_per_live": measures.lead_per_live(conn, scope, year_ago, funnel_year_ago),
        },
        patients={
            "trained": split["patients"],
            "share_of_trained": split["patients"] / trained if trained else None,
            "by_tier": measures.patients_by_tier(conn, scope, as_of),
            "enrolled": enrolled_patients,
            "projects_with_patient_partner": measures.projects_with_patient_partner(conn, scope, as_of),
        },
    )


def tier_comparison(conn: Connection, scope: Scope, as_of: dt.date, by: str) -> ComparisonData:
    """The funnel per locality, PCN, sector or kind (measures.people_by_tier_by), largest first tier first;
    ``outside`` counts the people in scope in no group."""
    order = [t["code"] for t in measures.tiers(conn)]
    outside = dict.fromkeys(order, 0)
    per_group: dict[tuple, dict[str, int]] = {}
    for row in measures.people_by_tier_by(conn, scope, as_of, by, outside=True):
        if row["group"] is None:
            outside[row["tier"]] += row["people"]
        else:
            per_group.setdefault((row["group"], row["name"]), {})[row["tier"]] = row["people"]
    groups = pd.DataFrame(
        [{"group": g, "name": n, **counts} for (g, n), counts in sorted(per_group.items())],
        columns=["group", "name", *order],
    )
    if order and not groups.empty:
        groups = groups.sort_values([order[0], "name"], ascending=[False, True], kind="stable")
    return ComparisonData(by=by, groups=groups.reset_index(drop=True), outside=outside)


def cohort_detail(conn: Connection, scope: Scope, as_of: dt.date, cohort_code: str) -> CohortDetail:
    """One cohort's register session by session and its participants' roles."""
    return CohortDetail(
        sessions=pd.DataFrame(
            measures.attendance_by_session(conn, scope, as_of, cohort_code),
            columns=["session_no", "held_on", "on_register", "attended"],
        ),
        roles=pd.DataFrame(
            measures.participants_by_role(conn, scope, as_of, cohort_code), columns=["role", "people"]
        ),
    )


def default_cohort(cohorts: pd.DataFrame) -> str | None:
    """The cohort the attendance chart opens on: the latest to have ended with the most sessions
    (a full register), else the latest started."""
    if cohorts.empty:
        return None
    ended = cohorts[cohorts["ended"]]
    pool = ended if not ended.empty else cohorts
    most = pool["sessions"].fillna(0).max()
    return pool[pool["sessions"].fillna(0) == most].iloc[0]["code"]


def cohort_totals(cohorts: pd.DataFrame) -> dict:
    """Totals over the cohort table: ``cohorts``, ``local`` (delivered by local faculty), ``withdrawn``,
    and over cohorts that have ended ``completed``, ``took_place`` (enrolled + withdrawn) and
    ``completion_rate`` (completed ÷ took_place, None when nobody took a place)."""
    ended = cohorts[cohorts["ended"]] if not cohorts.empty else cohorts
    completed = int(ended["completed"].sum())
    took_place = int(ended["enrolled"].sum() + ended["withdrawn"].sum())
    return {
        "cohorts": len(cohorts),
        "local": int((cohorts["delivered_by"] == "local").sum()),
        "withdrawn": int(cohorts["withdrawn"].sum()),
        "completed": completed,
        "took_place": took_place,
        "completion_rate": completed / took_place if took_place else None,
    }


def ladder_in_words(ladder: dict) -> str:
    """ "Learn (a course) → Live (applying QI on a project) → Lead (teaching or coaching)"."""
    return " → ".join(
        f"{t['name']} ({ATTAINED_BY.get(t['attained_by'], t['attained_by'])})" for t in ladder["tiers"]
    )


def conversion_rows(ladder: dict, funnel: dict[str, int], conversion: dict[str, dict]) -> list[dict]:
    """One row per adjacent pair of a framework's tiers: From, To, Reached ("n of m"), Conversion and
    Median time, as the page's table shows them."""
    rows = []
    for lower, higher in tier_pairs([ladder]):
        step = conversion.get(f"{lower['code']}->{higher['code']}") or {}
        median, ratio = step.get("median_days"), step.get("ratio")
        rows.append(
            {
                "From": lower["name"],
                "To": higher["name"],
                "Reached": f"{funnel.get(higher['code'], 0):,} of {funnel.get(lower['code'], 0):,}",
                "Conversion": "–" if ratio is None else f"{ratio:.0%}",
                "Median time": "–" if median is None else f"{median:,.0f} days",
            }
        )
    return rows


def area_names(comparison: ComparisonData) -> list[str]:
    """The groups' names in words (sector and kind codes spelled out)."""
    if comparison.by in ("sector", "kind"):
        return [label(n) for n in comparison.groups["name"]]
    return list(comparison.groups["name"])


def outside_name(comparison: ComparisonData) -> str:
    """What the people in no group are called in the chart and the table: "No locality", "No PCN"."""
    return f"No {in_sentence(COMPARE_LABELS[comparison.by])}"


def comparison_table(comparison: ComparisonData, tiers: list[dict]) -> pd.DataFrame:
    """The comparison as the page's table: area name, people per tier (tier names as headers) and the
    conversion between adjacent tiers within each area; the people in no area last, as a row of their
    own (:func:`outside_name`), when anyone reached the first tier there."""
    groups = comparison.groups
    names = area_names(comparison)
    first = tiers[0]["code"] if tiers else None
    if first and comparison.outside.get(first, 0):
        nowhere = {
            "name": outside_name(comparison),
            **{t["code"]: comparison.outside.get(t["code"], 0) for t in tiers},
        }
        groups = pd.concat([groups, pd.DataFrame([nowhere])], ignore_index=True)
        names = [*names, nowhere["name"]]
    table = pd.DataFrame({COMPARE_LABELS[comparison.by]: names})
    for tier in tiers:
        table[tier["name"]] = (
            groups[tier["code"]].fillna(0).astype(int).to_numpy() if tier["code"] in groups else 0
        )
    for lower, higher in pairwise(tiers):
        pairs = zip(table[higher["name"]], table[lower["name"]], strict=True)
        table[f"{higher['name']} ÷ {lower['name']}"] = [f"{h / lo:.0%}" if lo else "–" for h, lo in pairs]
    return table


# The longest metric label a tile holds whole at 1440 pixels, four tiles to a row (Streamlit cuts
# longer ones short with an ellipsis).
TILE_LABEL_CHARS = 28


def capacity_label(top: str, below: str) -> str:
    """The label of the tile "people at the top tier per person at the tier below": "Lead per Live"
    where the tiers' names are short enough to be read whole, else "Coaches per practitioner" (the
    tiers' own names then go in the tile's caption)."""
    words = f"{top} per {below}"
    return words if len(words) <= TILE_LABEL_CHARS else "Coaches per practitioner"


ROLE_WORDS = {"gp": "GP", "qi_facilitator": "QI facilitator", measures.PATIENT_GROUP: "Patient partner"}


def role_label(role: str | None) -> str:
    """A role code in words: "GP", "Practice manager", "Patient partner"."""
    if role is None:
        return "Role not recorded"
    return ROLE_WORDS.get(role) or label(role)


def roles_in_words(roles: pd.DataFrame) -> str:
    """ "8 practice managers, 3 GPs, 1 nurse" from a role frame."""
    parts = []
    for role, n in zip(roles["role"], roles["people"], strict=True):
        words = role_label(role)
        words = words if words[:2].isupper() else words[0].lower() + words[1:]
        parts.append(f"{n:,} {words}{'' if n == 1 else 's'}")
    return ", ".join(parts)
