"""Demo data: the five programmes of DESIGN.md section 1, generated deterministically.

Each scenario is described by ``data/scenarios/NAME.toml`` (geography, organisations, tiers, courses,
priorities, targets and the rates that shape uptake) and project measures come from
``data/scenarios/measure_library.toml``. :func:`generate` turns a definition into section-3 shaped
rows; :func:`load_demo` writes them through :mod:`qidash.store`, then rebuilds the derived tables.

All data is synthetic. Town coordinates are real public facts; every site, person and project is
invented and organisation names carry "(demo)".

``scale`` makes that many copies of the system, with distinct codes and places side by side, for
performance work.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from qidash import db, store
from qidash.models import CARE_HOME_KINDS

SCENARIO_DIR = db.DATA_DIR / "scenarios"
NAMES = ("cornwall", "somerset", "fylde", "nw_surrey", "barnet")

FIRST_NAMES = (
    "Amelia Ben Chloe Daniel Ella Faisal Grace Harry Isla Jack Kate Liam Maya Noah Olivia Priya Quinn "
    "Ruby Sam Tom Uma Vikram Will Yasmin Zoe Aisha Bethan Callum Dev Erin Finn Gemma Hamza Imogen Josh "
    "Keira Luke Megan Nathan Orla Peter Rosie Sean Tara Usman Violet Wyn"
).split()
LAST_NAMES = (
    "Adams Bennett Carter Davies Evans Fisher Green Hughes Iqbal Jones Khan Lewis Morgan Nash Owen "
    "Patel Quick Roberts Smith Taylor Uddin Vaughan Walker Young Trelawny Penrose Rowe Hosking Jenkin "
    "Polglase Nancarrow Tremayne Angove Pascoe"
).split()
PLACE_WORDS = (
    "Oak Harbour Chapel Meadow Cliff Orchard Mill Rosewood Seaview Church Granite Moor Valley Bay "
    "Heather Willow Beacon Hillside Riverside Park Elm Cedar Lark Heron Kestrel Bluebell Primrose "
    "Foxglove Ash Holly Birch Laurel Maple Hawthorn Clover Juniper"
).split()


class ScenarioError(ValueError):
    """An unknown scenario name or a bad definition, worded for the user."""


def available() -> list[str]:
    """Scenario names that have a definition file, in the order of DESIGN.md section 1."""
    found = {p.stem for p in SCENARIO_DIR.glob("*.toml") if p.stem != "measure_library"}
    return [n for n in NAMES if n in found] + sorted(found - set(NAMES))


@cache
def definition(name: str) -> dict:
    """The parsed TOML definition of scenario ``name``."""
    path = SCENARIO_DIR / f"{name}.toml"
    if name == "measure_library" or not path.exists():
        raise ScenarioError(f"Unknown scenario {name!r}. Choose one of: {', '.join(available())}.")
    with path.open("rb") as fh:
        return tomllib.load(fh)


def fingerprint(name: str) -> str:
    """A hash of everything that shapes a scenario's data: its definition, the measure library and
    this generator's code. Demo databases made by an older version are regenerated (see qidash.ui.data)."""
    import hashlib

    digest = hashlib.sha256()
    for path in (SCENARIO_DIR / f"{name}.toml", SCENARIO_DIR / "measure_library.toml", Path(__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@cache
def measure_library() -> dict:
    with (SCENARIO_DIR / "measure_library.toml").open("rb") as fh:
        return tomllib.load(fh)


# --- small helpers ----------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    y, mth = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + y, mth + 1, min(day.day, 28))


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _weighted(rng: random.Random, pairs: list) -> str:
    names, weights = zip(*pairs, strict=True)
    return rng.choices(names, weights=weights)[0]


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method for small means, a rounded normal for large ones."""
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n > 200:
        return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))
    return sum(rng.random() < p for _ in range(n))


@dataclass
class Copy:
    """One copy of the system when ``scale`` > 1: a code suffix, a name suffix and a map offset."""

    index: int
    lat_offset: float
    lon_offset: float

    def code(self, code: str) -> str:
        return code if self.index == 0 else f"{code}~{self.index + 1}"

    def name(self, name: str) -> str:
        return name if self.index == 0 else f"{name} ({self.index + 1})"


@dataclass
class Frames:
    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))

    def add(self, entity: str, **row) -> dict:
        self.rows[entity].append(row)
        return row


@dataclass
class Org:
    ods_code: str
    kind: str
    sector: str
    locality: str | None
    pcn: str | None
    beds: int | None
    staff: int | None
    offered_on: dt.date | None
    engaged: bool
    people: list = field(default_factory=list)


@dataclass
class PersonState:
    ref: str
    org: Org
    completed: dict[str, dt.date] = field(default_factory=dict)  # course tier code -> date
    practitioner_on: dt.date | None = None


@dataclass
class CohortState:
    code: str
    course: dict
    locality: str | None
    start: dt.date
    end: dt.date
    sessions: int
    local_wanted: bool
    row: dict
    enrolled: int = 0


# --- the generator ----------------------------------------------------------------------------------


class Generator:
    def __init__(self, spec: dict, scale: int):
        self.spec = spec
        self.scale = scale
        self.f = Frames()
        self.start: dt.date = spec["start"]
        self.as_of: dt.date = spec["as_of"]
        self.lib = measure_library()
        towns = spec["towns"].values()
        lats = [t[0] for t in towns]
        lons = [t[1] for t in towns]
        self.span = (max(lats) - min(lats) + 0.25, max(lons) - min(lons) + 0.35)
        self.texts_used: set[str] = set()

    def unused(self, drafts: Iterator[str]) -> str:
        """The first of ``drafts`` no other project of this programme has been given (the drafts of
        one project differ in their wording; the last one is always new)."""
        for text in drafts:
            if text not in self.texts_used:
                self.texts_used.add(text)
                return text
        raise AssertionError("a project's drafts ran out")  # compose_* end with a draft that cannot clash

    def run(self) -> dict[str, list[dict]]:
        self._shared()
        for index in range(self.scale):
            cols = max(1, math.ceil(math.sqrt(self.scale)))
            copy = Copy(index, (index // cols) * self.span[0], (index % cols) * self.span[1])
            _CopyGenerator(self, copy, random.Random(self.spec["seed"] * 1000 + index)).run()
        return dict(self.f.rows)

    def _shared(self) -> None:
        """Tiers, courses and priorities are common to every copy."""
        fw = self.spec["framework"]
        for tier in fw["tiers"]:
            self.f.add(
                "tiers",
                framework=fw["code"],
                framework_name=fw["name"],
                code=tier["code"],
                name=tier["name"],
                rank=tier["rank"],
                attained_by=tier["attained_by"],
            )
        for course in self.spec["courses"]:
            self.f.add(
                "courses",
                code=course["code"],
                name=course["name"],
                tier_code=course["tier"],
                provider=course.get("provider"),
                hours=course.get("hours"),
            )
        for p in self.spec["priorities"]:
            self.f.add("priorities", code=p["code"], name=p["name"], parent_code=p.get("parent"))
        for t in self.spec.get("targets", []):
            self.f.add("targets", measure=t["measure"], value=t["value"], due_on=t["due_on"], scope="system")


class _CopyGenerator:
    """Generates one copy of the system: geography, people, cohorts, projects."""

    def __init__(self, parent: Generator, copy: Copy, rng: random.Random):
        self.p = parent
        self.spec = parent.spec
        self.f = parent.f
        self.copy = copy
        self.rng = rng
        self.start, self.as_of = parent.start, parent.as_of
        self.orgs: list[Org] = []
        self.people: list[PersonState] = []
        self.cohorts: list[CohortState] = []
        self.town_pcn: dict[str, tuple[str, str]] = {}
        self.person_seq = 0
        self.used_names: set[str] = set()
        self.teams: dict[str, list[PersonState]] = {}
        self.faculty_refs: set[str] = set()
        self.faculty_keys: set[tuple[str, str, str]] = set()

    def run(self) -> None:
        self._geography()
        self._organisations()
        self._cohorts()
        self._people_and_enrolments()
        self._projects()
        self._faculty()

    # geography and organisations

    def _coords(self, town: str, jitter: float) -> tuple[float, float]:
        lat, lon = self.spec["towns"][town]
        return (
            round(lat + self.copy.lat_offset + self.rng.gauss(0, jitter), 5),
            round(lon + self.copy.lon_offset + self.rng.gauss(0, jitter * 1.5), 5),
        )

    def _geography(self) -> None:
        for loc in self.spec["localities"]:
            self.f.add("localities", code=self.copy.code(loc["code"]), name=self.copy.name(loc["name"]))
            for pcn in loc["pcns"]:
                code = self.copy.code(pcn["code"])
                self.f.add(
                    "pcns", code=code, name=self.copy.name(pcn["name"] + " PCN"),
                    locality_code=self.copy.code(loc["code"]),
                )
                for town in pcn["towns"]:
                    self.town_pcn[town] = (self.copy.code(loc["code"]), code)
        self.localities = {self.copy.code(loc["code"]): loc for loc in self.spec["localities"]}

    def _offer_date(self, locality: str | None, share: float) -> dt.date | None:
        if self.rng.random() >= share:
            return None
        loc = self.localities.get(locality) if locality else None
        first = loc["offer_from"] if loc else self.start
        day = first + dt.timedelta(days=self.rng.randint(0, self.spec.get("offer_spread_days", 540)))
        return min(day, self.as_of)

    def _uptake(self, locality: str | None) -> float:
        return self.localities[locality].get("uptake", 1.0) if locality else 1.0

    def _unique_name(self, base: str) -> str:
        name, n = base, 2
        while name in self.used_names:
            name, n = f"{base} {n}", n + 1
        self.used_names.add(name)
        return name

    def _organisations(self) -> None:
        prefix = self.spec["ods_prefix"]
        towns = list(self.town_pcn)
        seq = 0
        for mix in self.spec.get("org_mix", []):
            for _ in range(mix["count"]):
                seq += 1
                town = self.rng.choice(towns)
                locality, pcn = self.town_pcn[town]
                beds = self.rng.randint(*mix["beds"]) if "beds" in mix else None
                if beds:
                    staff = round(beds * mix.get("staff_per_bed", 1.2) * self.rng.uniform(0.8, 1.2))
                else:
                    staff = self.rng.randint(*mix["staff"])
                word = self.rng.choice(PLACE_WORDS)
                name = self._unique_name(f"{word} {self.rng.choice(mix['names'])}, {town} (demo)")
                engaged_p = min(0.97, mix.get("engage", 0.7) * self._uptake(locality))
                self._add_org(
                    ods_code=self.copy.code(f"{prefix}{seq:04d}"), name=name, kind=mix["kind"],
                    sector=mix["sector"], locality=locality, pcn=pcn, town=town, beds=beds, staff=staff,
                    offered_on=self._offer_date(locality, mix.get("offered", 1.0)),
                    engaged=self.rng.random() < engaged_p, jitter=0.02,
                )
        for fixed in self.spec.get("fixed_orgs", []):
            town = fixed["town"]
            locality, pcn = self.town_pcn.get(town, (None, None))
            if not fixed.get("in_pcn", fixed["kind"] in {"hospice", "voluntary", "pharmacy", "other"}
                             or fixed["kind"] in CARE_HOME_KINDS or fixed["kind"] == "gp_practice"):
                locality, pcn = None, None
            self._add_org(
                ods_code=self.copy.code(f"{prefix}-{fixed['code']}"),
                name=self.copy.name(fixed["name"]),
                kind=fixed["kind"],
                sector=fixed["sector"],
                locality=locality,
                pcn=pcn,
                town=town,
                beds=fixed.get("beds"),
                staff=fixed.get("staff"),
                offered_on=fixed.get("offered_on", self.start),
                engaged=self.rng.random() < fixed.get("engage", 0.9),
                jitter=0.004,
                people=fixed.get("people"),
            )

    def _add_org(self, *, town, jitter, people=None, name, **kw) -> None:
        lat, lon = self._coords(town, jitter)
        org = Org(
            ods_code=kw["ods_code"], kind=kw["kind"], sector=kw["sector"], locality=kw["locality"],
            pcn=kw["pcn"], beds=kw["beds"], staff=kw["staff"], offered_on=kw["offered_on"],
            engaged=kw["engaged"],
        )
        org.fixed_people = people
        self.orgs.append(org)
        self.f.add(
            "organisations", ods_code=org.ods_code, name=name, kind=org.kind, sector=org.sector,
            pcn_code=org.pcn, postcode=None, latitude=lat, longitude=lon, beds=org.beds,
            staff_headcount=org.staff, offered_on=org.offered_on,
        )

    # cohorts

    def _cohorts(self) -> None:
        localities = list(self.localities)
        for course in self.spec["courses"]:
            explicit = course.get("cohorts")
            if explicit:
                for c in explicit:
                    self._add_cohort(course, c.get("locality") and self.copy.code(c["locality"]),
                                     c["start"], c["end"], c.get("code"), c.get("delivered_by"))
                continue
            first = course.get("start", self.start)
            day = first
            while day <= self.as_of + dt.timedelta(days=120):
                for loc in (localities if course.get("per_locality") else [None]):
                    jitter = dt.timedelta(days=self.rng.randint(0, 20))
                    start = day + jitter
                    end = start + dt.timedelta(weeks=course.get("weeks", 1))
                    self._add_cohort(course, loc, start, end)
                day = _add_months(day, course.get("every_months", 3))

    def _add_cohort(self, course, locality, start, end, code=None, delivered_by=None) -> None:
        loc_part = (locality or "ALL").split("~")[0]
        code = self.copy.code(code or f"{course['code']}-{loc_part}-{start:%Y%m}")
        local_from = course.get("local_faculty_from")
        if delivered_by:
            local_wanted = delivered_by == "local"
        elif local_from and start >= local_from:
            years = (start - local_from).days / 365
            local_wanted = self.rng.random() < min(0.92, 0.35 + 0.3 * years)
        else:
            local_wanted = False
        where = self.localities[locality]["name"] if locality else "system-wide"
        row = self.f.add(
            "cohorts", code=code, course_code=course["code"], start_date=start,
            name=f"{course['name']}, {start:%B %Y} ({where})", end_date=end,
            locality_code=locality, sessions=course.get("sessions", 1),
            delivered_by="local" if local_wanted else "external",
        )
        self.cohorts.append(CohortState(code, course, locality, start, end, course.get("sessions", 1),
                                        local_wanted, row))

    def _next_cohort(self, course_code: str, locality: str | None, after: dt.date) -> CohortState | None:
        places = None
        for c in self.cohorts:
            if c.course["code"] != course_code or c.start < after:
                continue
            if c.course.get("per_locality") and locality and c.locality != locality:
                continue
            places = c.course.get("places", 10_000)
            if c.enrolled < places:
                return c
        return None

    # people

    def _new_person(self, org: Org, role: str, patient: bool = False) -> PersonState:
        self.person_seq += 1
        ref = self.copy.code(f"{self.spec['ods_prefix']}P{self.person_seq:05d}")
        person = PersonState(ref, org)
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        person.row = self.f.add(
            "people", person_ref=ref, ods_code=org.ods_code, role=role, is_patient_partner=patient,
            display_name=f"{first} {last}", consents_to_be_named=self.rng.random() < 0.4, left_on=None,
        )
        org.people.append(person)
        self.people.append(person)
        return person

    def _role_for(self, org: Org) -> str:
        roles = self.spec["people"]["roles"]
        if org.kind in CARE_HOME_KINDS:
            return _weighted(self.rng, roles["care_home"])
        if org.kind == "gp_practice":
            return _weighted(self.rng, roles.get("gp_practice", roles["other"]))
        return _weighted(self.rng, roles["other"])

    def _participants(self) -> None:
        """A cohort listed person by person (Barnet): one practice per participant, in their team's area."""
        cohort = self.cohorts[0]
        teams = {loc["code"]: loc for loc in self.spec["localities"]}
        seq = 0
        for group in self.spec["participants"]:
            locality = self.copy.code(group["team"])
            towns = [t for pcn in teams[group["team"]]["pcns"] for t in pcn["towns"]]
            team = []
            for role in group["roles"]:
                seq += 1
                town = towns[seq % len(towns)]
                _, pcn = self.town_pcn[town]
                word = self.rng.choice(PLACE_WORDS)
                self._add_org(
                    ods_code=self.copy.code(f"{self.spec['ods_prefix']}{seq:04d}"),
                    name=self._unique_name(f"{word} Surgery, {town} (demo)"),
                    kind="gp_practice",
                    sector="nhs",
                    locality=locality,
                    pcn=pcn,
                    town=town,
                    beds=None,
                    staff=self.rng.randint(12, 35),
                    offered_on=teams[group["team"]]["offer_from"],
                    engaged=True,
                    jitter=0.008,
                )
                person = self._new_person(self.orgs[-1], role)
                team.append(person)
                self._enrol(person, cohort)
            self.teams[group["team"]] = team
        self._turnover()

    def _people_and_enrolments(self) -> None:
        if self.spec.get("participants"):
            self._participants()
            return
        cfg = self.spec["people"]
        first_course = self.spec["courses"][0]
        horizon = cfg.get("horizon_days", 1400)
        nhs_orgs = [o for o in self.orgs if o.sector == "nhs"]
        for org in self.orgs:
            if not org.engaged:
                continue
            if getattr(org, "fixed_people", None):
                mean = org.fixed_people
            elif org.beds and org.kind in CARE_HOME_KINDS:
                mean = org.beds / 10 * cfg["per_10_beds"]
            else:
                mean = (org.staff or 20) / 100 * cfg["per_100_staff"]
            n = max(1, min(_poisson(self.rng, mean), cfg.get("max_per_org", 10_000)))
            opened = max(org.offered_on or self.start, self.start)
            for _ in range(n):
                when = opened + dt.timedelta(days=self.rng.randint(0, horizon))
                if when > self.as_of:
                    continue
                course = self._entry_course(first_course)
                cohort = self._next_cohort(course["code"], org.locality or self._any_locality(), when)
                if cohort is None or cohort.start > self.as_of:
                    continue
                patient = self.rng.random() < cfg.get("patients", 0.0)
                host = self.rng.choice(nhs_orgs) if patient and nhs_orgs else org
                person = self._new_person(
                    host, "patient_partner" if patient else self._role_for(org), patient
                )
                self._enrol(person, cohort)
        self._progressions()
        self._turnover()

    def _any_locality(self) -> str:
        return self.rng.choice(list(self.localities))

    def _entry_course(self, default: dict) -> dict:
        entries = [c for c in self.spec["courses"] if c.get("entry_share")]
        if not entries:
            return default
        return self.rng.choices(entries, weights=[c["entry_share"] for c in entries])[0]

    def _enrol(self, person: PersonState, cohort: CohortState, force_complete: bool = False) -> None:
        cfg = self.spec["people"]
        cohort.enrolled += 1
        started = cohort.start <= self.as_of
        finished = cohort.end <= self.as_of
        r = self.rng.random()
        if not started:
            status = "enrolled"
        elif not finished:
            status = "attended"
        elif force_complete or r >= cfg["withdrawal"] + (1 - cfg["completion"] - cfg["withdrawal"]):
            status = "completed"
        elif r < cfg["withdrawal"]:
            status = "withdrawn"
        else:
            status = "attended"
        attend_p = {"completed": 0.93, "attended": 0.6, "withdrawn": 0.25, "enrolled": 0.0}[status]
        attended = 0
        for session_no in range(1, cohort.sessions + 1):
            held = cohort.start + (cohort.end - cohort.start) * (session_no - 1) / max(1, cohort.sessions - 1)
            if held > self.as_of:
                break
            went = self.rng.random() < attend_p
            if status == "withdrawn" and session_no > 2:
                went = False
            attended += went
            self.f.add("attendance", person_ref=person.ref, cohort_code=cohort.code, session=session_no,
                       held_on=held, attended=went)
        completed_on = None
        if status == "completed":
            completed_on = cohort.end + dt.timedelta(days=self.rng.randint(0, 10))
            completed_on = min(completed_on, self.as_of)
            tier = cohort.course["tier"]
            person.completed.setdefault(tier, completed_on)
        self.f.add(
            "enrolments", person_ref=person.ref, cohort_code=cohort.code, status=status,
            completed_on=completed_on, sessions_attended=attended if started else None,
        )
        # Some who did not finish come back to a later cohort; a few take the course twice.
        again = status in {"withdrawn", "attended"} and finished and self.rng.random() < 0.35
        again = again or (status == "completed" and self.rng.random() < cfg.get("retake", 0.0))
        if again:
            later = self._next_cohort(cohort.course["code"], cohort.locality,
                                      cohort.end + dt.timedelta(days=30))
            if later and later.start <= self.as_of:
                self._enrol(person, later, force_complete=later.end <= self.as_of)

    def _progressions(self) -> None:
        """People who finished one course go on to the next (``progress_from``)."""
        for course in self.spec["courses"]:
            src = course.get("progress_from")
            if not src:
                continue
            src_tier = next(c["tier"] for c in self.spec["courses"] if c["code"] == src)
            for person in list(self.people):
                done = person.completed.get(src_tier)
                if not done or self.rng.random() >= course.get("progress_share", 0.3):
                    continue
                after = done + dt.timedelta(days=self.rng.randint(30, 300))
                cohort = self._next_cohort(course["code"], person.org.locality or self._any_locality(), after)
                if cohort and cohort.start <= self.as_of:
                    self._enrol(person, cohort)

    def _turnover(self) -> None:
        rate = self.spec["people"].get("turnover_per_year", 0.1)
        for person in self.people:
            first = min(person.completed.values(), default=None)
            if first is None:
                continue
            years = (self.as_of - first).days / 365
            if self.rng.random() < min(0.6, rate * years):
                span = max(1, (self.as_of - first).days)
                person.row["left_on"] = first + dt.timedelta(days=self.rng.randint(1, span))

    # projects

    def _projects(self) -> None:
        cfg = self.spec["projects"]
        tiers = self.spec["framework"]["tiers"]
        # Leads come from people holding the tier just below the project tier (e.g. Foundation before
        # Practitioner), so the tier is attained on starting the project, as in real programmes.
        project_rank = next((t["rank"] for t in tiers if t["attained_by"] == "project"), None)
        below = next((t["code"] for t in tiers if project_rank and t["rank"] == project_rank - 1), None)
        trained = [p for p in self.people if p.completed and not p.row["is_patient_partner"]]
        n = round(len(trained) * cfg["per_100_trained"] / 100)
        if not trained or not (n or cfg.get("explicit")):
            return
        ready = [p for p in trained if below is None or below in p.completed] or trained
        lead_kinds = cfg.get("lead_kinds")
        candidates = [p for p in ready if not lead_kinds or p.org.kind in lead_kinds] or ready
        self.ready_tier = below
        priorities = [p["code"] for p in self.spec["priorities"] if p["code"] in self.p.lib]
        weights = [
            next(x.get("weight", 1) for x in self.spec["priorities"] if x["code"] == c) for c in priorities
        ]
        coaches: list[tuple[dt.date, PersonState]] = []
        explicit = cfg.get("explicit", [])
        for i in range(max(n, len(explicit))):
            fixed = explicit[i] if i < len(explicit) else {}
            lead = self.rng.choice(candidates)
            if fixed.get("team"):
                lead = self.teams[fixed["team"]][0]
            done = (lead.completed.get(self.ready_tier) or min(lead.completed.values(), default=None)
                    or self.cohorts[0].start + dt.timedelta(days=60))
            begin = done + dt.timedelta(days=self.rng.randint(20, 240))
            if fixed.get("team"):
                # Team projects start with the programme, after its second session.
                begin = self.cohorts[0].start + dt.timedelta(days=self.rng.randint(50, 70))
            if begin > self.as_of - dt.timedelta(days=45):
                continue
            priority = fixed.get("priority") or self.rng.choices(priorities, weights=weights)[0]
            self._project(i + 1, lead, begin, priority, trained, coaches, fixed)

    def _project(self, seq, lead, begin, priority, trained, coaches, fixed) -> None:
        cfg = self.spec["projects"]
        rng = self.rng
        code = self.copy.code(f"{self.spec['ods_prefix']}-QI{seq:03d}")
        lib = self.p.lib[priority]
        months = rng.randint(*cfg["months"])
        end = _add_months(begin, months)
        if end < self.as_of:
            status = "completed" if rng.random() < 0.8 else "stopped"
        else:
            status, end = "active", None
        success = fixed.get("success", rng.random() < cfg["success"] and status != "stopped")
        stale = status == "active" and rng.random() < cfg.get("stale", 0.1)
        data_end = end or self.as_of
        if stale:
            data_end = self.as_of - dt.timedelta(days=rng.randint(120, 270))
        # Partners: often a different kind of organisation nearby (a practice for a care home).
        partners: list[Org] = []
        if fixed.get("team"):
            partners = list(
                {p.org.ods_code: p.org for p in self.teams[fixed["team"]] if p.org is not lead.org}.values()
            )
        elif rng.random() < cfg.get("partner_share", 0.3):
            nearby = [
                o
                for o in self.orgs
                if o is not lead.org and o.pcn == lead.org.pcn and o.kind != lead.org.kind
            ]
            others = [o for o in self.orgs if o is not lead.org and o.pcn is None]
            for pool in (nearby, others):
                if pool and rng.random() < 0.75:
                    partners.append(rng.choice(pool))
        pcn = lead.org.pcn
        title = (
            fixed.get("title")
            or f"{lib['measures'][0]['name'].split(' per ')[0]} at {self._org_short(lead.org)}"
        )
        involve = rng.random() < cfg.get("patient_involvement", 0.2)
        measure_name = lib["measures"][0]["name"].lower()
        # The lesson's theme is drawn here, from the programme's own stream as it always was, so the rest
        # of the demo stays as it was; the words are composed once the project's changes are known.
        theme = None if fixed.get("lessons") else rng.randrange(len(LESSON_THEMES))
        project = self.f.add(
            "projects",
            code=code,
            title=title,
            priority_code=priority,
            lead_ods_code=lead.org.ods_code,
            aim=(
                f"Improve {measure_name} by {int(lib['measures'][0]['effect'] * 100)}% "
                f"within {months} months."
            ),
            lead_person_ref=lead.ref,
            partner_ods_codes=[o.ods_code for o in partners],
            pcn_code=pcn,
            cohort_code=None,
            start_date=begin,
            end_date=end,
            status=status,
            patient_involvement=involve,
            story=fixed.get("story"),
            lessons=fixed.get("lessons"),
        )
        first_change = len(self.f.rows["changes"])
        if lead.practitioner_on is None or begin < lead.practitioner_on:
            lead.practitioner_on = begin
        # Team: colleagues from the lead's organisation and the partners (or the named team).
        if fixed.get("team"):
            team = [p for p in self.teams[fixed["team"]] if p is not lead]
        else:
            team_pool = [p for o in [lead.org, *partners] for p in o.people if p is not lead]
            team = rng.sample(team_pool, min(len(team_pool), rng.randint(1, 4)))
        for person in team:
            self.f.add("project_members", project_code=code, person_ref=person.ref, role="member")
            if (
                person.completed
                and (person.practitioner_on is None or begin < person.practitioner_on)
                and min(person.completed.values()) <= (end or self.as_of)
            ):
                person.practitioner_on = max(begin, min(person.completed.values()))
        eligible = [p for d, p in coaches if d < begin and p is not lead]
        if eligible and rng.random() < 0.7:
            self.f.add(
                "project_members", project_code=code, person_ref=rng.choice(eligible).ref, role="coach"
            )
        if rng.random() < 0.4:
            self.f.add(
                "project_members", project_code=code, person_ref=self._sponsor(lead.org).ref, role="sponsor"
            )
        coaches.append((begin + dt.timedelta(days=180), lead))
        self._measures(code, lib, lead.org, begin, data_end, success, months)
        self._progress(code, begin, data_end, success, status)
        facts = StoryFacts(
            code=code, where=self._org_short(lead.org), kind=lead.org.kind,
            measure=_lower_first(lib["measures"][0]["name"]), begin=begin, months=months,
            status=status, success=success, stale=stale, patients=involve,
            partners=[self._org_short(o) for o in partners],
            changes=[c["title"] for c in self.f.rows["changes"][first_change:]],
        )
        # Words of their own, from a stream of their own (the seed and the project's code), so that
        # composing them leaves the rest of the demo as it was.
        words = random.Random(f"{self.spec['seed']}:{code}")
        if not project["story"]:
            project["story"] = self.p.unused(compose_story(facts, words))
        if not project["lessons"]:
            project["lessons"] = self.p.unused(compose_lessons(facts, theme, words))

    def _sponsor(self, org: Org) -> PersonState:
        managers = [p for p in org.people if p.row["role"] in {"home_manager", "practice_manager", "manager"}]
        return managers[0] if managers else self._new_person(org, "manager")

    def _org_short(self, org: Org) -> str:
        name = next(
            r["name"] for r in reversed(self.f.rows["organisations"]) if r["ods_code"] == org.ods_code
        )
        return name.replace(" (demo)", "")

    def _measures(self, code, lib, org, begin, data_end, success, months) -> None:
        rng = self.rng
        chosen = [lib["measures"][0]] + (
            [lib["measures"][1]] if len(lib["measures"]) > 1 and rng.random() < 0.55 else []
        )
        baseline_months = rng.randint(4, 12)
        first = _month_start(_add_months(begin, -baseline_months))
        change_month = rng.randint(2, max(3, min(8, months - 3)))
        change_on = _add_months(begin, change_month)
        ideas = list(lib["changes"])
        rng.shuffle(ideas)
        rebase = success and rng.random() < 0.15
        points: dict[str, list[dict]] = defaultdict(list)  # each measure's observations, for recalculation
        for m in chosen:
            self.f.add(
                "measures", project_code=code, code=m["code"], name=m["name"], chart=m["chart"],
                kind=m["kind"], unit=m.get("unit"), improvement=m["improvement"], target=m.get("target"),
            )
            level = m["baseline"] * rng.uniform(0.8, 1.2)
            if m["chart"] == "p":
                level = min(0.95, m["baseline"] * rng.uniform(0.85, 1.15))
            period = first
            while period <= data_end:
                ramp = 0.0
                if success and period >= change_on:
                    ramp = min(1.0, 0.5 + 0.5 * ((period - change_on).days // 28))
                row = self._observation(code, m, org, period, level, ramp * m["effect"])
                points[m["code"]].append(row)
                period = _add_months(period, 1)
        # PDSA cycles on the main measure, the main change, sometimes a rebase once embedded, and the
        # recalculation a team makes when the data shifts for good after a change.
        changes: list[dict] = []
        pdsa_day = begin + dt.timedelta(days=rng.randint(10, 40))
        for idea in ideas[: rng.randint(2, 5)]:
            if pdsa_day > data_end:
                break
            changes.append(self.f.add("changes", project_code=code, changed_on=pdsa_day,
                                      title=f"PDSA: {idea}", kind="pdsa", measure_code=chosen[0]["code"]))
            pdsa_day += dt.timedelta(days=rng.randint(25, 70))
        if success and change_on <= data_end:
            # The adopted change is the project's: it applies to every measure (no measure named).
            changes.append(self.f.add("changes", project_code=code, changed_on=change_on,
                                      title=f"Adopted: {ideas[0]}", kind="change", measure_code=None))
            embed_on = _add_months(change_on, 2)
            if rebase and _add_months(embed_on, 10) <= data_end:
                changes.append(self.f.add("changes", project_code=code, changed_on=embed_on,
                                          title="New process embedded (rebase)", kind="rebase",
                                          measure_code=chosen[0]["code"]))
        for m in chosen:
            applies = [c for c in changes if c["measure_code"] in (None, m["code"])]
            self._recalculate(code, m, points[m["code"]], applies)

    def _recalculate(self, code: str, m: dict, points: list[dict], changes: list[dict]) -> None:
        """Add the rebase a team would make on the suggestion qidash offers (docs/spc-rules.md, "When
        qidash suggests a recalculation"): where a change is followed by a sustained shift, a new phase
        from the shift's start."""
        from qidash import analysis

        rebases = [c["changed_on"] for c in changes if c["kind"] == "rebase"]
        result = analysis.analyse_series(
            m["chart"], [p["period"] for p in points], [p["value"] for p in points],
            [p["denominator"] for p in points], m["improvement"], m.get("target"), rebases,
        )
        if result is None:  # a project started too late for any point: nothing to suggest
            return
        stored = result.to_dict() | {"periods": [p["period"].isoformat() for p in points]}
        listed = [{"day": c["changed_on"], "title": c["title"], "kind": c["kind"]} for c in changes]
        suggestion = analysis.suggested_recalculation(stored, listed)
        if suggestion is not None:
            self.f.add("changes", project_code=code, changed_on=suggestion["starts_on"],
                       title=analysis.recalculation_title(suggestion["change"]), kind="rebase",
                       measure_code=m["code"])

    def _observation(self, code, m, org, period, level, effect) -> None:
        rng = self.rng
        improve = m["improvement"] == "increase"
        chart = m["chart"]
        den = None
        if chart == "p":
            p = level + (1 - level) * effect if improve else level * (1 - effect)
            den = rng.randint(*m.get("denominator", [20, 60]))
            value = _binomial(rng, den, min(max(p, 0.0), 1.0))
        elif chart == "u":
            rate = level * (1 + effect) if improve else level * (1 - effect)
            beds = org.beds or 40
            den = round(beds * 30.4 * rng.uniform(0.85, 0.97) / 1000, 3)
            value = _poisson(rng, rate * den)
        elif chart == "c":
            lam = level * (1 + effect) if improve else level * (1 - effect)
            value = _poisson(rng, lam)
        else:
            mean = level * (1 + effect) if improve else level * (1 - effect)
            sd = m.get("sd", mean * 0.12)
            value = round(max(0.0, rng.gauss(mean, sd)), 2 if mean < 20 else 1)
        return self.f.add("observations", project_code=code, measure_code=m["code"], period=period,
                          value=value, denominator=den)

    def _progress(self, code, begin, data_end, success, status) -> None:
        rng = self.rng
        top = rng.choice([4.0, 4.5, 5.0]) if success else rng.choice([1.5, 2.0, 2.5, 3.0])
        if status == "stopped":
            top = min(top, 2.0)
        score, day = 1.0, begin
        while day <= data_end:
            self.f.add("progress", project_code=code, scored_on=day, score=score)
            score = min(top, score + rng.choice([0.5, 0.5, 1.0]))
            day += dt.timedelta(days=rng.randint(45, 90))

    # faculty

    def _practising_since(self, person: PersonState) -> dt.date | None:
        """When a person first held the tier just below the faculty tier (a project, or the top course)."""
        tiers = self.spec["framework"]["tiers"]
        below = tiers[-2] if len(tiers) > 1 else tiers[0]
        if below["attained_by"] == "project":
            return person.practitioner_on
        return person.completed.get(below["code"])

    def _faculty(self) -> None:
        """Local cohorts are taught and coached by people already practising QI (who thus reach the top
        tier); named facilitators (``faculty_only``) teach every cohort."""
        staffed: set[str] = set()
        for extra in self.spec.get("faculty_only", []):
            org = self.orgs[[o.ods_code for o in self.orgs].index(
                self.copy.code(f"{self.spec['ods_prefix']}-{extra['org']}"))]
            person = self._new_person(org, extra["role"])
            for cohort in self.cohorts:
                self.f.add(
                    "faculty", person_ref=person.ref, cohort_code=cohort.code, role=extra["faculty_role"]
                )
                staffed.add(cohort.code)
        for cohort in self.cohorts:
            if not cohort.local_wanted or cohort.code in staffed:
                continue
            pool = [
                p
                for p in self.people
                if self._practising_since(p)
                and self._practising_since(p) < cohort.start
                and (not p.row["left_on"] or p.row["left_on"] > cohort.start)
            ]
            near = [p for p in pool if p.org.locality == cohort.locality] or pool
            if not near:
                cohort.row["delivered_by"] = "external"
                continue
            # Faculty mostly teach again and again; a few new people join each time.
            regulars = [p for p in near if p.ref in self.faculty_refs]
            for role, k in (("trainer", self.rng.randint(1, 2)), ("coach", self.rng.randint(0, 2)),
                            ("mentor", self.rng.randint(0, 1))):
                for _ in range(k):
                    pick_from = regulars if regulars and self.rng.random() < 0.75 else near
                    person = self.rng.choice(pick_from)
                    key = (person.ref, cohort.code, role)
                    if key in self.faculty_keys:
                        continue
                    self.faculty_keys.add(key)
                    self.faculty_refs.add(person.ref)
                    self.f.add("faculty", person_ref=person.ref, cohort_code=cohort.code, role=role)


# --- the projects' stories and lessons ---------------------------------------------------------------
#
# Composed per project from its own facts (where, what it measured, which ideas it tested and adopted,
# with whom, how it ended), in wordings varied by a stream seeded with the project's code: no two
# projects tell the same story. A story never says what the data shows: that is the chart analysis's
# word, shown beside it, and a story must never contradict its own chart.


@dataclass(frozen=True)
class StoryFacts:
    code: str  # the project's code: the last draft names it, and no two projects share one
    where: str  # the lead organisation's name without "(demo)"
    kind: str  # its kind
    measure: str  # the main measure, in lower case
    begin: dt.date
    months: int  # planned length
    status: str  # active, completed or stopped
    success: bool
    stale: bool  # active, but nothing recorded for months
    patients: bool  # patients or families involved
    partners: list[str]
    changes: list[str]  # the changes' titles, in date order ("PDSA: ...", "Adopted: ...")

    @property
    def tested(self) -> list[str]:
        return [_lower_first(t.removeprefix("PDSA: ")) for t in self.changes if t.startswith("PDSA: ")]

    @property
    def adopted(self) -> str | None:
        return next(
            (_lower_first(t.removeprefix("Adopted: ")) for t in self.changes if t.startswith("Adopted: ")),
            None,
        )

    @property
    def people(self) -> str:
        """Whom the work is for, as the lead organisation would say it."""
        return PEOPLE_SERVED.get(self.kind, "the people they support")

    @property
    def unit(self) -> str:
        """Where a small test happens first at this kind of organisation."""
        return TEST_UNIT.get(self.kind, "team")


PEOPLE_SERVED = {
    "care_home_residential": "residents and their families",
    "care_home_nursing": "residents and their families",
    "gp_practice": "patients",
    "acute_trust": "patients",
    "community_trust": "patients at home",
    "mental_health_trust": "service users",
    "local_authority": "people who use the service",
    "hospice": "patients and families",
}
TEST_UNIT = {
    "care_home_residential": "floor", "care_home_nursing": "unit", "gp_practice": "clinic session",
    "acute_trust": "ward", "community_trust": "team", "mental_health_trust": "ward", "hospice": "ward",
}


NAMES_KEPT = {f"{dt.date(2024, 1, d):%A}" for d in range(1, 8)} | {
    f"{dt.date(2024, m, 1):%B}" for m in range(1, 13)
}


def _lower_first(text: str) -> str:
    """ "Falls huddle at handover" -> "falls huddle at handover", within a sentence; acronyms
    ("COPD", "UTIs") and the names of days and months kept."""
    head = text.split(" ", 1)[0]
    if sum(c.isupper() for c in head) > 1 or head in NAMES_KEPT:  # "COPD", "UTIs"
        return text
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _pick(words: random.Random, options: list[str]) -> str:
    return options[words.randrange(len(options))]


def compose_story(f: StoryFacts, words: random.Random) -> Iterator[str]:
    """Drafts of a project's story, two or three sentences each, in varied wording: the first draft no
    other project has is the one told. The last draft names the month and the ideas in full."""
    month = f"{f.begin:%B %Y}"
    tested = f.tested or [f"a first change to {f.measure}"]
    partners = list(dict.fromkeys(f.partners))
    # One partner by name; more, by number (a list of names is a programme's, not a sentence's).
    if len(partners) > 1:
        with_whom = (
            f" with {len(partners)} partner {'practices' if f.kind == 'gp_practice' else 'organisations'}"
        )
    else:
        with_whom = f" with {partners[0]}" if partners else ""
    openings = [
        f"In {month} {f.where} set out to improve {f.measure}{with_whom}.",
        f"{f.where} began work on {f.measure} in {month}{with_whom}.",
        f"Staff at {f.where} began measuring {f.measure} in {month}{with_whom}.",
    ]
    cycles = f"{len(tested)} PDSA cycle{'s' if len(tested) != 1 else ''}"
    # An idea other than the one adopted, where there is one: the ending names that.
    tried = [t for t in tested if t != f.adopted] or tested
    trying = [
        f"They mapped the process and tested {tried[0]} first.",
        f"Their first PDSA cycle tried {tried[0]}.",
        f"They ran {cycles}; one tested {tried[0]}.",
        f"A process map led them to test {tried[-1]}.",
    ]
    if f.status == "stopped":
        endings = [
            "It paused when key staff moved on; the huddle carried on.",
            f"It stopped when the {f.unit} lost its lead; they mean to restart.",
            "Staffing pressures stopped it; the notes are kept for the next team.",
        ]
    elif f.success and f.adopted:
        endings = [
            f"{_upper_first(f.adopted)} is now routine, and {f.people} noticed.",
            f"The change that stuck was {f.adopted}.",
            f"They adopted {f.adopted} and check it monthly.",
        ]
    elif f.stale:
        endings = [
            "Measurement lapsed for a while; a simpler data sheet is restarting it.",
            f"The weekly count stopped for some months; the {f.unit} lead is restarting it.",
        ]
    elif f.status == "active":
        endings = [
            "They look at the run chart weekly and plan the next test.",
            "Staff say they feel more confident trying ideas.",
            f"The next test is on another {f.unit}.",
        ]
    else:
        endings = [
            f"It closed after {f.months} months; the weekly measurement carried on.",
            f"After {f.months} months they wrote up what they tried for the next {f.unit}.",
            f"It ended after {f.months} months, with {f.people} asked what had changed.",
        ]
    if f.patients:
        endings = [e if f.people in e else f"{e} {_upper_first(f.people)} sat on the team." for e in endings]
    for _ in range(6):
        yield " ".join((_pick(words, openings), _pick(words, trying), _pick(words, endings)))
    yield f"{openings[0]} {trying[2]} {endings[0]} (Project {f.code}.)"


# Seven themes, as many as the single lessons the demos once shared: a project's theme is drawn from the
# programme's stream (see _project), its wording from the project's own.
LESSON_THEMES = (
    "start small", "protected time", "ask the people served", "measure often", "define the measure",
    "a named person", "show the data",
)


def compose_lessons(f: StoryFacts, theme: int, words: random.Random) -> Iterator[str]:
    """Drafts of a project's lessons, on theme ``theme`` of LESSON_THEMES and in the project's own terms
    (its place, its ideas, the people it serves): the first draft no other project of the programme has
    is kept; naming the place keeps programmes apart, as their places differ."""
    tested = f.tested or [f"one change to {f.measure}"]
    idea = _pick(words, tested)
    at = f.where
    lessons = {
        "start small": [
            f"Start small: {at} tried {idea} on one {f.unit} first, then spread it.",
            f"Testing {idea} on a single {f.unit} at {at} showed the snags before anyone else met them.",
            f"One {f.unit}, one week: small tests of {idea} taught {at} more than a big launch would have.",
        ],
        "protected time": [
            f"Huddles about {f.measure} at {at} only worked when the manager protected the time.",
            f"Fifteen protected minutes a week kept {idea} going at {at} when the {f.unit} was busy.",
            f"Without time set aside at {at}, the tests of {idea} slipped; with it, they ran.",
        ],
        "ask the people served": [
            f"At {at}, {f.people} had the best ideas about {f.measure}: ask them first.",
            f"The idea to try {idea} came from {f.people} at {at}, not the project team.",
            f"Asking {f.people} what mattered changed what {at} chose to test.",
        ],
        "measure often": [
            f"Count weekly at first: at {at}, monthly figures hid what {idea} was doing.",
            f"Weekly data showed {at} within a month whether {idea} was helping.",
            f"Plot {f.measure} as you go: waiting for month-end slowed every decision at {at}.",
        ],
        "define the measure": [
            f"Agree what counts as {f.measure} before collecting any data, as {at} learned.",
            f"Two {f.unit}s at {at} counted {f.measure} differently until the definition was written down.",
            (
                f"At {at}, a one-line definition of {f.measure}, pinned up, ended weeks of arguing about the "
                "numbers."
            ),
        ],
        "a named person": [
            f"Spread needs a named person on every {f.unit}, not a policy: so {at} found.",
            f"At {at}, {idea} stuck where one person owned it and faded where nobody did.",
            f"Give each {f.unit} a champion for {f.measure}, and name them on the rota, as {at} did.",
        ],
        "show the data": [
            f"A run chart on the staff-room wall at {at} did more than any email.",
            f"Staff at {at} started suggesting tests once the chart hung where they took their breaks.",
            f"Sharing the chart at handover made {idea} everyone's project at {at}, not the lead's.",
        ],
    }[LESSON_THEMES[theme]]
    for _ in range(4):
        yield _pick(words, lessons)
    yield from lessons
    yield f"{lessons[0]} (Project {f.code}.)"

def generate(name: str, scale: int = 1) -> dict[str, list[dict]]:
    """Section-3 shaped rows for scenario ``name`` (``scale`` copies of the system)."""
    if scale < 1:
        raise ScenarioError("--scale must be a whole number of 1 or more.")
    return Generator(definition(name), scale).run()


def load_demo(
    engine: Engine,
    name: str,
    scale: int = 1,
    progress: Callable[[float, str], None] | None = None,
    replace: bool = False,
) -> store.WriteCounts:
    """Generate scenario ``name`` and write it into ``engine``'s database (migrated first).

    Refuses to write into a database that already holds data unless ``replace`` is set, in which case
    everything stored is deleted first (in the same transaction).
    """
    from sqlalchemy import delete

    from qidash import derive, models

    report = progress or (lambda _f, _msg: None)
    report(0.02, "Preparing the database")
    db.migrate(engine)
    if not db.is_empty(engine) and not replace:
        raise ScenarioError(
            "The database already holds data. Use --replace to delete it and load the demo instead."
        )
    report(0.1, f"Generating the {name} scenario")
    frames = generate(name, scale)
    spec = definition(name)
    with Session(engine) as session, session.begin():
        db.lock_for_writing(session)  # an import or another demo load waits, and is not half-replaced
        if replace:
            # Programme data goes; who may sign in and the audit trail stay.
            keep = {"app_user", "audit_event", "import_batch"}
            for table in reversed(models.Base.metadata.sorted_tables):
                if table.name not in keep:
                    session.execute(delete(table))
        report(0.35, "Writing organisations, people and projects")
        counts = store.write_frames(session, frames)
        db.set_setting(session, "data_as_of", spec["as_of"].isoformat())  # analysis reads it
        report(0.75, "Deriving tiers and analysing charts")
        derive.refresh_derived(session)
        db.set_setting(session, "scenario", name)
        db.set_setting(session, "scenario_title", spec["title"])
        db.set_setting(session, "scenario_scale", str(scale))
        db.set_setting(session, "demo", "yes")
        db.set_setting(session, "scenario_fingerprint", fingerprint(name))
        db.bump_data_version(session)
    report(1.0, "Ready")
    return counts
