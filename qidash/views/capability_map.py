"""The Capability map page's data: every organisation in scope with its stage, the measures per PCN
that colour the areas, and the gaps (homes with nobody trained) with the nearest coach.

Areas themselves come from :func:`qidash.geo.pcn_areas` (cached separately: they change only with
the data, not with the filters).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from qidash import catalog, maps, measures
from qidash.models import CARE_HOME_KINDS
from qidash.palette import fmt_int, fmt_num, fmt_pct, label
from qidash.scope import Scope

# The measures a user may colour PCN areas by: key -> (label, explanation, whole numbers?).
COLOUR_MEASURES = {
    "coverage_pct": (
        "Coverage",
        ("Organisations with at least one trained person in post, as a percentage of the PCN's "
         "organisations in scope."),
        False,
    ),
    "trained_per_10_beds": (
        "Trained per 10 beds",
        "People in post who reached a tier, per 10 beds, over organisations with beds recorded.",
        False,
    ),
    "people_trained": (
        "People trained",
        "People who reached a tier by the date (leavers included), counted through their organisation.",
        True,
    ),
    "projects_active": (
        "Projects active",
        ("Active projects led by or partnered with an organisation in the PCN (a project spanning PCNs "
         "counts in each)."),
        True,
    ),
}
SIZE_BY = {"beds": "Beds", "staff_headcount": "Staff headcount"}
GAPS_AMONG = {"care_home": "Care homes", "all": "All organisations"}
EARTH_RADIUS_KM = 6371.0088
ORG_TEXT = ("ods_code", "name", "kind", "sector", "pcn", "stage")  # text columns of measures.org_stage_columns
GAP_COLUMNS = [
    "Organisation", "PCN", "Beds", "Staff", "Stage", "Nearest coach or Lead", "Their organisation",
    "Distance (km)", "Kind", "Locality", "ODS code",
]


@dataclass(frozen=True)
class CapabilityMapData:
    orgs: pd.DataFrame  # measures.org_stage_columns: one row per organisation in scope
    by_pcn: pd.DataFrame  # one row per PCN in scope: pcn, name, locality, locality_name + measures
    stage_counts: dict[str, int]  # stage -> organisations in scope at that stage
    gaps: dict[str, pd.DataFrame]  # GAPS_AMONG key -> gap rows (GAP_COLUMNS), largest first
    coaches: int  # coaches and Lead-tier people the gaps were matched against
    pcn_locality: dict[str, str]  # every PCN code -> its locality code (for click-to-filter)
    counts: dict[str, int]  # orgs, trained, care_homes, without_pcn, unlocated (in scope)

    @property
    def has_care_homes(self) -> bool:
        return self.counts["care_homes"] > 0

    @property
    def only_care_homes(self) -> bool:
        return self.counts["care_homes"] == self.counts["orgs"]

    @property
    def default_gaps_among(self) -> str:
        """Care homes when they are a real part of the scope (a tenth or more of its organisations),
        else every organisation (a lone home in a GP programme says little)."""
        return "care_home" if self.counts["care_homes"] * 10 >= max(self.counts["orgs"], 1) and self.has_care_homes else "all"

    def gap_total(self, among: str) -> int:
        """How many organisations the gaps are among: care homes in scope, or all in scope."""
        return self.counts["care_homes"] if among == "care_home" else self.counts["orgs"]


def capability_map_data(
    conn: Connection, scope: Scope, as_of: dt.date, can_see_people: bool = False, with_gaps: bool = True
) -> CapabilityMapData:
    """Everything the Capability map draws except the areas, for one scope and date. A gap's nearest
    coach is named only when ``can_see_people`` (faculty, admins) and they consented; otherwise the
    gaps list gives their role and organisation. ``with_gaps=False`` leaves the gaps out (empty
    tables, no coaches): a map alone, as the Showcase draws it, needs none of them."""
    stages = measures.org_stage_columns(conn, scope, as_of)
    # Text columns typed as such: inferring their type took as long as the rest (19,000 rows, scale 50).
    orgs = pd.DataFrame({k: pd.array(v, dtype="str") if k in ORG_TEXT else v for k, v in stages.items()})
    pcns = {p["pcn"]: p for p in catalog.pcn_localities(conn)}
    rows = []
    for r in measures.pcn_capability(conn, scope, as_of, stages):
        p = pcns[r["group"]]
        rows.append({"pcn": r["group"], "name": r["name"], "locality": p["locality"],
                     "locality_name": p["locality_name"], **r})
    by_pcn = pd.DataFrame(rows).drop(columns=["group"], errors="ignore")
    for ratio in ("coverage_pct", "trained_per_10_beds"):
        if ratio in by_pcn:
            by_pcn[ratio] = pd.to_numeric(by_pcn[ratio], errors="coerce").astype(float)  # None -> NaN
    # Coaches anywhere the viewer may see: a home's nearest coach may sit in the next PCN or locality.
    everyone = Scope(within_localities=scope.within_localities, within_pcns=scope.within_pcns)
    coach_rows = pd.DataFrame(measures.coaches(conn, everyone, as_of) if with_gaps else [])
    if not can_see_people and "display_name" in coach_rows:
        coach_rows["display_name"] = None
    names = {code: p["pcn_name"] for code, p in pcns.items()}
    localities = {code: p["locality_name"] for code, p in pcns.items()}
    if with_gaps:
        unreached = with_nearest_coach(orgs[orgs["trained_in_post"] == 0], coach_rows)
        gaps = {
            "care_home": gap_table(unreached[unreached["kind"].isin(CARE_HOME_KINDS)], names, localities),
            "all": gap_table(unreached, names, localities),
        }
    else:
        gaps = {among: pd.DataFrame(columns=GAP_COLUMNS) for among in GAPS_AMONG}
    return CapabilityMapData(
        orgs=orgs,
        by_pcn=by_pcn,
        stage_counts={s: int((orgs["stage"] == s).sum()) for s in measures.ORG_STAGES},
        gaps=gaps,
        coaches=len(coach_rows),
        pcn_locality={code: p["locality"] for code, p in pcns.items()},
        counts={
            "orgs": len(orgs),
            "trained": int(orgs["trained"].sum()),
            "care_homes": int(orgs["kind"].isin(CARE_HOME_KINDS).sum()),
            "without_pcn": int(orgs["pcn"].isna().sum()),
            "unlocated": int((orgs["latitude"].isna() | orgs["longitude"].isna()).sum()),
        },
    )


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distances in km; arrays broadcast (gaps as a column against coaches as a row)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


# Distances per block of points: 2**19, 4 MB, so each block's passes run in the processor's cache
# (a 16 MB block took twice as long at scale 50: 9,400 homes against 1,000 coaches' places).
NEAREST_BLOCK = 1 << 19


def _unit_vectors(lat, lon) -> np.ndarray:
    lat, lon = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def nearest(lat, lon, to_lat, to_lon) -> tuple[np.ndarray, np.ndarray]:
    """For each point (``lat``, ``lon``), the position of the nearest of the ``to`` points by
    great-circle distance (the first listed on a tie) and that distance in km (:func:`haversine_km`).

    The nearest point has the largest dot product of unit vectors, so a block of points is matched
    against every place with one matrix product; only near-ties are settled by haversine. Targets
    sharing a place count once (its first), and points go in blocks, so memory stays bounded.
    """
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    to_lat, to_lon = np.asarray(to_lat, dtype=float), np.asarray(to_lon, dtype=float)
    _places, first = np.unique(np.column_stack((to_lat, to_lon)), axis=0, return_index=True)
    first = np.sort(first)  # each place by its first target, in the targets' order
    targets = np.ascontiguousarray(_unit_vectors(to_lat[first], to_lon[first]).T)  # einsum's fast path
    best = np.empty(len(lat), dtype=np.intp)
    chunk = max(NEAREST_BLOCK // len(first), 16)
    for start in range(0, len(lat), chunk):
        block = slice(start, start + chunk)
        # einsum, not @: a product over three coordinates gains nothing from BLAS, whose threads
        # cost more to start and to share two processors with than the sums themselves.
        closeness = np.einsum("ij,jk->ik", _unit_vectors(lat[block], lon[block]), targets)
        rows = np.arange(len(closeness))
        top_at = closeness.argmax(axis=1)  # the nearest (the first, on a tie)
        top = closeness[rows, top_at]
        best[block] = first[top_at]
        # Near-ties: another place within rounding of the nearest (found by the runner-up, which
        # takes one pass over the block where marking every tie took three).
        closeness[rows, top_at] = -np.inf
        for row in np.flatnonzero(closeness.max(axis=1) >= top - 1e-12):
            i = start + row
            candidates = first[np.union1d(np.flatnonzero(closeness[row] >= top[row] - 1e-12), top_at[row])]
            best[i] = candidates[haversine_km(lat[i], lon[i], to_lat[candidates], to_lon[candidates]).argmin()]
    return best, haversine_km(lat, lon, to_lat[best], to_lon[best])


def coach_label(coach) -> str:
    """A coach's name when they consent to be named, else their role (never a pseudonymous id)."""
    if isinstance(coach.get("display_name"), str) and coach["display_name"]:
        return coach["display_name"]
    role = coach.get("role")
    if not isinstance(role, str) or not role:
        return "A coach"
    words = label(role)
    return "QI" + words[2:] if words.lower().startswith("qi ") else words


def with_nearest_coach(orgs: pd.DataFrame, coach_rows: pd.DataFrame) -> pd.DataFrame:
    """``orgs`` with the nearest coach or Lead-tier person (``measures.coaches`` rows) by straight-line
    distance from each located organisation: ``coach`` (:func:`coach_label`), ``coach_organisation``
    and ``coach_km`` (rounded to 0.1 km); None where the organisation has no location or there is no
    coach."""
    coach = np.full(len(orgs), None, dtype=object)
    where, km = coach.copy(), [None] * len(orgs)
    located = (orgs["latitude"].notna() & orgs["longitude"].notna()).to_numpy()
    if len(coach_rows) and located.any():
        best, dist = nearest(
            orgs["latitude"].to_numpy()[located], orgs["longitude"].to_numpy()[located],
            coach_rows["latitude"].to_numpy(), coach_rows["longitude"].to_numpy(),
        )
        chosen = np.unique(best)  # labelled once each, and only those someone is nearest
        labels = np.full(len(coach_rows), None, dtype=object)
        labels[chosen] = [coach_label(c) for c in coach_rows.iloc[chosen].to_dict("records")]
        coach[located] = labels[best]
        where[located] = coach_rows["organisation"].to_numpy(dtype=object)[best]
        for pos, d in zip(np.flatnonzero(located), dist.tolist(), strict=True):
            km[pos] = round(d, 1)
    return orgs.assign(coach=list(coach), coach_organisation=list(where), coach_km=pd.array(km, dtype="Float64"))


def gap_table(gaps: pd.DataFrame, pcn_names: dict, locality_names: dict) -> pd.DataFrame:
    """Organisations with nobody trained in post (:func:`with_nearest_coach` rows), largest first
    (beds, then staff, then name), each with the nearest coach or Lead-tier person."""
    if gaps.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    gaps = gaps.sort_values(["beds", "staff_headcount", "name"], ascending=[False, False, True], na_position="last")
    # Column by column through lookups (thousands of rows at scale 50), each kind's label made once.
    kinds = {k: label(k) for k in gaps["kind"].unique()}
    table = pd.DataFrame({
        "Organisation": gaps["name"].to_numpy(),
        "PCN": gaps["pcn"].map(pcn_names).fillna("").tolist(),
        "Beds": gaps["beds"].astype("Int64").to_numpy(),
        "Staff": gaps["staff_headcount"].astype("Int64").to_numpy(),
        "Stage": gaps["stage"].map(maps.STAGE_LABELS).tolist(),
        "Nearest coach or Lead": gaps["coach"].tolist(),
        "Their organisation": gaps["coach_organisation"].tolist(),
        "Distance (km)": gaps["coach_km"].array,
        "Kind": gaps["kind"].map(kinds).tolist(),
        "Locality": gaps["pcn"].map(locality_names).fillna("").tolist(),
        "ODS code": gaps["ods_code"].to_numpy(),
    })
    # Beds or headcount recorded for none of these (a GP programme has no beds): leave the column out.
    return table.drop(columns=[c for c in ("Beds", "Staff") if table[c].isna().all()])


def colour_measures(view: CapabilityMapData) -> dict[str, str]:
    """The colour measures worth drawing for this scope: key -> label. Every measure with a value
    somewhere, except trained per 10 beds, which needs beds recorded in most PCNs in scope."""
    out = {}
    for key, (name, _help, _integer) in COLOUR_MEASURES.items():
        # Per-bed density only where most PCNs record beds: otherwise the map would be nearly all "no data".
        needed = len(view.by_pcn) / 2 if key == "trained_per_10_beds" else 0
        if key in view.by_pcn and view.by_pcn[key].notna().sum() > needed:
            out[key] = name
    return out


def size_options(view: CapabilityMapData) -> dict[str, str]:
    """What points can be sized by: beds and headcount, where some organisation in scope records it."""
    return {k: name for k, name in SIZE_BY.items() if len(view.orgs) and view.orgs[k].notna().any()}


def default_size_by(view: CapabilityMapData) -> str:
    """Beds when most organisations in scope record them (care-home programmes), else headcount."""
    with_beds = view.orgs["beds"].notna().sum() if len(view.orgs) else 0
    return "beds" if with_beds * 2 > len(view.orgs) else "staff_headcount"


@dataclass(frozen=True)
class ColourScale:
    values: dict[str, float | None]  # PCN code -> value (every PCN in scope)
    edges: list[float]
    legend: list[tuple[str, str]]  # (colour, label) per class, lowest first


def colour_scale(view: CapabilityMapData, measure: str) -> ColourScale:
    """The chosen measure per PCN in scope, its class edges and the legend the deck's colours follow."""
    _name, _help, integer = COLOUR_MEASURES[measure]
    values = {}
    for row in view.by_pcn.to_dict("records") if len(view.by_pcn) else []:
        v = row.get(measure)
        values[row["pcn"]] = None if v is None or pd.isna(v) else float(v)
    edges = maps.legend_breaks(values.values(), percent=measure == "coverage_pct", integer=integer)
    items = maps.legend(edges, integer, fmt_int if integer else maps.fmt_edge)
    if measure == "coverage_pct":
        items = [(c, f"{t}%") for c, t in items]
    return ColourScale(values, edges, items)


def pcn_tips(view: CapabilityMapData) -> dict[str, tuple[str, str, str]]:
    """Three tooltip lines per PCN in scope."""
    tips = {}
    for r in view.by_pcn.to_dict("records") if len(view.by_pcn) else []:
        per_bed = _defined(r.get("trained_per_10_beds"))
        tips[r["pcn"]] = (
            (
                f"Coverage {fmt_pct(_defined(r['coverage_pct']))}: {fmt_int(r['orgs_trained'])} of "
                f"{fmt_int(r['orgs_in_scope'])} organisations trained"
            ),
            f"People trained {fmt_int(r['people_trained'])}"
            + ("" if per_bed is None else f" · {fmt_num(per_bed, 2)} per 10 beds"),
            f"Projects active {fmt_int(r['projects_active'])} · click to filter to this PCN",
        )
    return tips


def _defined(value):
    """None for a missing or NaN value (pandas turns None into NaN in float columns)."""
    return None if value is None or pd.isna(value) else value


def pcn_table(view: CapabilityMapData) -> pd.DataFrame:
    """The PCN measures as a table (the map's numbers for reading and screen readers)."""
    if view.by_pcn.empty:
        return pd.DataFrame()
    t = view.by_pcn.sort_values(["locality_name", "name"])
    return pd.DataFrame({
        "PCN": t["name"], "Locality": t["locality_name"], "Organisations": t["orgs_in_scope"],
        "Offered": t["orgs_offered"], "Engaged": t["orgs_engaged"], "Trained": t["orgs_trained"],
        "With a project": t["orgs_with_project"], "Coverage %": t["coverage_pct"].round(0),
        "People trained": t["people_trained"], "Trained per 10 beds": t["trained_per_10_beds"].round(2),
        "Projects active": t["projects_active"],
    })
