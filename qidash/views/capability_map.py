"""The Capability map page's data: every organisation in scope with its stage, the measures per PCN
that colour the areas, and the gaps (homes with nobody trained) with the nearest coach.

Areas themselves come from :func:`qidash.geo.pcn_areas` (cached separately: they change only with
the data, not with the filters).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from qidash import catalog, maps, measures
from qidash.map_fast_paths import nearest
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
ORG_TEXT = (
    "ods_code",
    "name",
    "kind",
    "sector",
    "pcn",
    "stage",
)  # text columns of measures.org_stage_columns
ORG_FLAGS = ("offered", "engaged", "trained", "with_project")  # its flags
GAP_COLUMNS = [
    "Organisation", "Beds", "Staff", "Stage", "Nearest coach or Lead", "Distance (km)", "PCN",
    "Their organisation", "Kind", "Locality", "ODS code",
]
# What the page shows of a gap (the rest is in the download): the nearest coach's words carry their
# organisation, so the table fits a 1440-pixel screen beside the sidebar without scrolling sideways.
GAP_COLUMNS_SHOWN = [
    "Organisation",
    "Beds",
    "Staff",
    "Stage",
    "Nearest coach or Lead",
    "Distance (km)",
    "PCN",
]
# Their widths in pixels: 960 in all, inside the 978 the main column has at 1440 pixels with the
# sidebar open. Rows are tall enough for two lines (GAP_ROW_HEIGHT): long names wrap, not cut off.
GAP_WIDTHS = {
    "Organisation": 220,
    "Beds": 50,
    "Staff": 50,
    "Stage": 110,
    "Nearest coach or Lead": 300,
    "Distance (km)": 90,
    "PCN": 140,
}
GAP_ROW_HEIGHT = 66  # Streamlit wraps text in rows taller than 64 pixels
# Every organisation the map draws, with its stage in words: the points, for a keyboard or a screen reader.
# Its stage straight after its name: the columns past the page's width scroll.
ORG_LIST_COLUMNS = [
    "Organisation", "Stage", "People trained in post", "Active project", "Kind", "PCN", "Locality",
    "ODS code",
]
ORG_LIST_SHOWN = 200  # rows on the page; the download holds them all
# The page lists the largest this many gaps (the download has them all): at national scale there are
# thousands, and the whole table is over a megabyte sent for every view of the map.
GAP_ROWS = 200


@dataclass(frozen=True)
class CapabilityMapData:
    orgs: pd.DataFrame  # measures.org_stage_columns: one row per organisation in scope
    by_pcn: pd.DataFrame  # one row per PCN in scope: pcn, name, locality, locality_name + measures
    stage_counts: dict[str, int]  # stage -> organisations in scope at that stage
    gaps: dict[str, pd.DataFrame]  # GAPS_AMONG key -> gap rows (GAP_COLUMNS), largest first
    coaches: int  # coaches and Lead-tier people the gaps were matched against
    pcn_locality: dict[str, str]  # every PCN code -> its locality code (for click-to-filter)
    pcn_places: dict[str, tuple[str, str]]  # every PCN code -> (its name, its locality's name)
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
        return (
            "care_home"
            if self.counts["care_homes"] * 10 >= max(self.counts["orgs"], 1) and self.has_care_homes
            else "all"
        )

    def gap_total(self, among: str) -> int:
        """How many organisations the gaps are among: care homes in scope, or all in scope."""
        return self.counts["care_homes"] if among == "care_home" else self.counts["orgs"]


def capability_map_data(
    conn: Connection, scope: Scope, as_of: dt.date, can_see_people: bool = False, with_gaps: bool = True
) -> CapabilityMapData:
    """Everything the Capability map draws except the areas, for one scope and date. A gap's nearest
    coach is named only when ``can_see_people`` (faculty, admins) and they consented; otherwise the
    gaps list says "a coach" at their organisation. ``with_gaps=False`` leaves the gaps out (empty
    tables, no coaches): a map alone, as the Showcase draws it, needs none of them."""
    stages = measures.org_stage_columns(conn, scope, as_of)
    arrays = org_arrays(stages)
    pcns = {p["pcn"]: p for p in catalog.pcn_localities(conn)}
    by_pcn = _by_pcn(measures.pcn_capability(conn, scope, as_of, stages), pcns)
    # Coaches anywhere the viewer may see: a home's nearest coach may sit in the next PCN or locality.
    everyone = Scope(within_localities=scope.within_localities, within_pcns=scope.within_pcns)
    coach_rows = measures.coaches(conn, everyone, as_of) if with_gaps else []
    if with_gaps:
        names = {code: p["pcn_name"] for code, p in pcns.items()}
        localities = {code: p["locality_name"] for code, p in pcns.items()}
        gaps = gap_tables(arrays, coach_rows, names, localities, can_see_people)
    else:
        gaps = {among: pd.DataFrame(columns=GAP_COLUMNS) for among in GAPS_AMONG}
    # Counted from the columns as read: 19,000 organisations at scale 50.
    stage_count = Counter(stages["stage"])
    return CapabilityMapData(
        orgs=org_frame(arrays),
        by_pcn=by_pcn,
        stage_counts={s: stage_count[s] for s in measures.ORG_STAGES},
        gaps=gaps,
        coaches=len(coach_rows),
        pcn_locality={code: p["locality"] for code, p in pcns.items()},
        pcn_places={code: (p["pcn_name"], p["locality_name"]) for code, p in pcns.items()},
        counts={
            "orgs": len(stages["ods_code"]),
            "trained": int(arrays["trained"].sum()),
            "care_homes": int(np.isin(arrays["kind"], CARE_HOME_KINDS).sum()),
            "without_pcn": stages["pcn"].count(None),
            "unlocated": int((np.isnan(arrays["latitude"]) | np.isnan(arrays["longitude"])).sum()),
        },
    )


def org_arrays(stages: dict[str, list]) -> dict[str, np.ndarray]:
    """:func:`measures.org_stage_columns` as NumPy arrays, each typed as it is known to be: text as
    Python strings (object), locations as floats (NaN where missing), beds and headcount as int64
    (float64, NaN where missing, when some are), flags as bool and counts as int64. Inferring the
    types took as long as the rest (19,000 organisations at scale 50)."""
    arrays = {}
    for key, values in stages.items():
        if key in ORG_TEXT:
            arrays[key] = np.array(values, dtype=object)
        elif key in ORG_FLAGS:
            arrays[key] = np.array(values, dtype=bool)
        elif key in ("latitude", "longitude"):
            arrays[key] = np.array(values, dtype=float)
        else:
            try:
                arrays[key] = np.array(values, dtype=np.int64)
            except TypeError:  # some missing (None)
                arrays[key] = np.array(values, dtype=float)
    return arrays


def org_frame(arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """The organisations (:func:`org_arrays`) as a DataFrame, the text as strings."""
    return pd.DataFrame(
        {k: pd.array(a, dtype="str") if k in ORG_TEXT else a for k, a in arrays.items()}, copy=False
    )


def _by_pcn(rows: list[dict], pcns: dict[str, dict]) -> pd.DataFrame:
    """One row per PCN of :func:`measures.pcn_capability` with its locality: ``pcn``, ``name``,
    ``locality``, ``locality_name`` and the measures (the ratios as floats, NaN where undefined)."""
    if not rows:
        return pd.DataFrame()
    columns = {
        "pcn": [r["group"] for r in rows],
        "name": [r["name"] for r in rows],
        "locality": [pcns[r["group"]]["locality"] for r in rows],
        "locality_name": [pcns[r["group"]]["locality_name"] for r in rows],
    }
    for key in rows[0]:
        if key not in columns and key != "group":
            values = [r[key] for r in rows]
            columns[key] = (
                np.array(values, dtype=float) if key in ("coverage_pct", "trained_per_10_beds") else values
            )
    return pd.DataFrame(columns)


def _consented_name(coach) -> str | None:
    """The name a coach consented to be shown by, or None."""
    name = coach.get("display_name")
    return name if isinstance(name, str) and name else None


def coach_in_words(name: str | None, organisation: str, km: float) -> str:
    """Who a gap's nearest coach is, where and how far: "Ann Lead at Practice one, 2.4 km", or "A
    coach at Practice one, 2.4 km" when they are not named (a job title alone reads as if the home
    should ask any nurse)."""
    return f"{name or 'A coach'} at {organisation}, {km:.1f} km"


def gap_tables(
    orgs: dict[str, np.ndarray], coach_rows: list[dict], pcn_names: dict, locality_names: dict,
    can_see_people: bool = False,
) -> dict[str, pd.DataFrame]:
    """GAPS_AMONG key -> the organisations of ``orgs`` (:func:`org_arrays`) with nobody trained in
    post, largest first (beds, then staff, then name; missing sizes last), as GAP_COLUMNS: each with
    the nearest of ``coach_rows`` (:func:`measures.coaches`) by straight-line distance from its
    location, in words (:func:`coach_in_words`: named only when ``can_see_people`` and they
    consented), that coach's organisation and the distance rounded to 0.1 km (none without a
    location or a coach). Beds or
    staff recorded for none of a table's organisations (a GP programme has no beds): that column is
    left out.

    Worked on arrays and built column by column: thousands of rows at scale 50, where sorting and
    joining DataFrames of text took as long as the query."""
    rows = np.flatnonzero(orgs["trained_in_post"] == 0)
    if not len(rows):
        return {among: pd.DataFrame(columns=GAP_COLUMNS) for among in GAPS_AMONG}
    beds, staff = orgs["beds"][rows].astype(float), orgs["staff_headcount"][rows].astype(float)
    names = orgs["name"][rows]
    # Largest first: descending numbers sort ascending negated, NaN (missing) last; names ascending.
    order = np.lexsort((np.array(names.tolist(), dtype=str), -staff, -beds))  # stable: ties keep ODS order
    rows, names, beds, staff = rows[order], names[order], beds[order], staff[order]

    lat, lon = orgs["latitude"][rows], orgs["longitude"][rows]
    located = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    coach = np.full(len(rows), None, dtype=object)
    where, km = coach.copy(), coach.copy()
    if coach_rows and len(located):
        best, dist = nearest(
            lat[located], lon[located],
            [c["latitude"] for c in coach_rows], [c["longitude"] for c in coach_rows],
        )
        chosen = np.unique(best)  # named once each, and only those someone is nearest
        named = np.full(len(coach_rows), None, dtype=object)
        if can_see_people:
            named[chosen] = [_consented_name(coach_rows[i]) for i in chosen.tolist()]
        where[located] = np.array([c["organisation"] for c in coach_rows], dtype=object)[best]
        km[located] = round_tenths(dist).tolist()
        coach[located] = list(
            map(coach_in_words, named[best].tolist(), where[located].tolist(), km[located].tolist())
        )

    pcn, kinds = orgs["pcn"][rows].tolist(), orgs["kind"][rows]
    kind_label = {k: label(k) for k in set(kinds.tolist())}
    columns = {
        "Organisation": names,
        "PCN": np.array(list(map(pcn_names.get, pcn, repeat(""))), dtype=object),
        "Beds": beds,
        "Staff": staff,
        "Stage": np.array(
            list(map(maps.STAGE_LABELS.__getitem__, orgs["stage"][rows].tolist())), dtype=object
        ),
        "Nearest coach or Lead": coach,
        "Their organisation": where,
        "Distance (km)": km,
        "Kind": np.array(list(map(kind_label.__getitem__, kinds.tolist())), dtype=object),
        "Locality": np.array(list(map(locality_names.get, pcn, repeat(""))), dtype=object),
        "ODS code": orgs["ods_code"][rows],
    }
    table = pd.DataFrame({
        name: (
            _whole(values) if name in ("Beds", "Staff")
            else pd.array(values.tolist(), dtype="Float64") if name == "Distance (km)"
            else pd.array(values, dtype="str")
        )
        for name, values in ((name, columns[name]) for name in GAP_COLUMNS)
    })
    # The care homes' rows of the same table, their sizes typed on their own (all recorded: whole).
    homes = np.flatnonzero(np.isin(kinds, CARE_HOME_KINDS))
    home_table = table.take(homes).reset_index(drop=True)
    home_table["Beds"], home_table["Staff"] = _whole(beds[homes]), _whole(staff[homes])
    return {"care_home": _drop_unrecorded(home_table), "all": _drop_unrecorded(table)}


def _whole(values: np.ndarray) -> np.ndarray:
    """Sizes as whole numbers (int64), or as floats with NaN when some are not recorded."""
    return values if np.isnan(values).any() else values.astype(np.int64)


def _drop_unrecorded(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without Beds or Staff where none of its organisations records them (a GP programme
    has no beds); an empty table with every column."""
    if table.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    return table.drop(columns=[c for c in ("Beds", "Staff") if table[c].isna().all()])


def round_tenths(km: np.ndarray) -> np.ndarray:
    """``round(x, 1)`` of each distance, as Python rounds (the decimal nearest the float's exact
    value), in one pass: NumPy's rounding (tenfold, to the nearest whole, back) agrees except within
    rounding of a half tenth (0.35 is 0.34999... as a float: Python gives 0.3, NumPy 0.4), and those
    few are rounded one by one."""
    km = np.asarray(km, dtype=float)
    out = np.round(km, 1)
    tenfold = km * 10
    near_half = np.flatnonzero(np.abs(tenfold - np.floor(tenfold) - 0.5) < 1e-6)
    out[near_half] = [round(x, 1) for x in km[near_half].tolist()]
    return out


def organisation_list(view: CapabilityMapData) -> pd.DataFrame:
    """Every organisation the map holds (``view.orgs``: the scope the map is drawn for, so a locality
    lead's area only), located or not, as ORG_LIST_COLUMNS sorted by name: its kind, PCN and locality
    by name (blank outside every PCN), its stage in the map's words (maps.STAGE_LABELS), people trained
    still in post (as the point's tooltip gives them) and whether it has an active project."""
    orgs = view.orgs
    if orgs.empty:
        return pd.DataFrame(columns=ORG_LIST_COLUMNS)
    places = [view.pcn_places.get(code, ("", "")) if isinstance(code, str) else ("", "")
              for code in orgs["pcn"].tolist()]
    kinds = {k: label(k) for k in set(orgs["kind"].tolist())}
    table = pd.DataFrame({
        "Organisation": orgs["name"].tolist(),
        "Stage": [maps.STAGE_LABELS[s] for s in orgs["stage"].tolist()],
        "People trained in post": orgs["trained_in_post"].astype("int64").tolist(),
        "Active project": ["Yes" if p else "No" for p in orgs["with_project"].tolist()],
        "Kind": [kinds[k] for k in orgs["kind"].tolist()],
        "PCN": [p[0] for p in places],
        "Locality": [p[1] for p in places],
        "ODS code": orgs["ods_code"].tolist(),
    })
    table = table.sort_values(["Organisation", "ODS code"], key=lambda column: column.str.casefold())
    return table.reset_index(drop=True)


def find_organisations(table: pd.DataFrame, words: str = "", stages: Iterable[str] = ()) -> pd.DataFrame:
    """The rows of :func:`organisation_list` whose name or ODS code holds ``words`` (any case) and whose
    stage is one of ``stages`` (stage names as listed; none chosen: every stage)."""
    keep = pd.Series(True, index=table.index)
    words = words.strip().casefold()
    if words:
        keep &= (table["Organisation"].str.casefold().str.contains(words, regex=False)
                 | table["ODS code"].str.casefold().str.contains(words, regex=False))
    stages = list(stages)
    if stages:
        keep &= table["Stage"].isin(stages)
    return table[keep]


def organisations_shown(matching: int, total: int, shown: int = ORG_LIST_SHOWN) -> str:
    """What the list on the page holds, in words: how many rows of how many matching, and that the
    download holds every organisation in scope."""
    which = f"{fmt_int(matching)} matching organisations" if matching < total else (
        f"{fmt_int(matching)} organisations in scope")
    rows = f"The first {fmt_int(shown)} of the {which}" if matching > shown else f"All {which}"
    return f"{rows}, by name. The download holds every organisation in scope ({fmt_int(total)})."


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
    if len(view.by_pcn):
        for code, v in zip(view.by_pcn["pcn"].tolist(), view.by_pcn[measure].tolist(), strict=True):
            values[code] = None if v is None or pd.isna(v) else float(v)
    edges = maps.legend_breaks(values.values(), percent=measure == "coverage_pct", integer=integer)
    items = maps.legend(edges, integer, fmt_int if integer else maps.fmt_edge)
    if measure == "coverage_pct":
        items = [(c, f"{t}%") for c, t in items]
    return ColourScale(values, edges, items)


def pcn_tips(view: CapabilityMapData) -> dict[str, tuple[str, str, str]]:
    """Three tooltip lines per PCN in scope."""
    if not len(view.by_pcn):
        return {}
    columns = (
        "pcn",
        "coverage_pct",
        "orgs_trained",
        "orgs_in_scope",
        "people_trained",
        "trained_per_10_beds",
        "projects_active",
    )
    tips = {}
    for code, coverage, trained, orgs, people, per_bed, projects in zip(
        *(view.by_pcn[c].tolist() for c in columns), strict=True
    ):
        per_bed = _defined(per_bed)
        tips[code] = (
            (
                f"Coverage {fmt_pct(_defined(coverage))}: {fmt_int(trained)} of {fmt_int(orgs)} "
                "organisations "
                "trained"
            ),
            f"People trained {fmt_int(people)}"
            + ("" if per_bed is None else f" · {fmt_num(per_bed, 2)} per 10 beds"),
            f"Projects active {fmt_int(projects)} · click to filter to this PCN",
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
