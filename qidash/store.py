"""Writing section-3 shaped data into the database: upsert on natural keys, in one transaction.

Both the demo generator and the import pipeline hand over ``frames``: a dict from entity name
(``localities``, ``pcns``, ... as in DESIGN.md section 3) to a list of row dicts whose values are already
typed (``datetime.date``, ``bool``, numbers, ``None`` for blank) and valid. Validation belongs to
``qidash.ingest``; this module only resolves codes to ids and writes.

Rows are written in dependency order so a single load may define a PCN and the organisations in it.

A row that leaves a column out (the key is absent from its dict, not ``None``) keeps what is stored in
that column when it updates an existing record; ``None`` clears it. So a register with only the
required columns cannot wipe the optional ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from qidash import models as m

# The order entities are written in: every reference points to an entity earlier in the list.
ENTITY_ORDER = (
    "localities",
    "pcns",
    "organisations",
    "people",
    "tiers",
    "courses",
    "cohorts",
    "enrolments",
    "attendance",
    "faculty",
    "priorities",
    "projects",
    "project_members",
    "progress",
    "measures",
    "observations",
    "changes",
    "targets",
)


@dataclass
class WriteCounts:
    """Rows inserted, updated and left unchanged per entity."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values())


# The column of a table whose value names a row to the rows that refer to it (Lookups' keys).
LOOKUP_KEYS = {
    "locality": "code",
    "pcn": "code",
    "organisation": "ods_code",
    "person": "person_ref",
    "tier": "code",
    "course": "code",
    "cohort": "code",
    "priority": "code",
    "project": "code",
}


class Lookups:
    """Natural key -> id maps, loaded lazily (two columns per table) and kept current as rows are added.

    In a dry run (``dry_run=True``) rows that would be inserted get stand-in ids (negative, so never a
    stored one) instead of being written, so the rows that refer to them are planned as they would be.
    """

    def __init__(self, session: Session, dry_run: bool = False):
        self.session = session
        self.dry_run = dry_run
        self._maps: dict[str, dict] = {}
        self._last_stand_in = 0

    def stand_in_id(self) -> int:
        """An id for a row a dry run would insert."""
        self._last_stand_in -= 1
        return self._last_stand_in

    def add(self, name: str, row: dict, row_id: int) -> None:
        """Record that ``row`` (model column values) of lookup ``name`` has ``row_id``."""
        key = (row["project_id"], row["code"]) if name == "measure" else row[LOOKUP_KEYS[name]]
        self.get(name)[key] = row_id

    def get(self, name: str) -> dict:
        if name not in self._maps:
            self._maps[name] = self._load(name)
        return self._maps[name]

    def _load(self, name: str) -> dict:
        s = self.session
        simple = {
            "locality": m.Locality.code,
            "pcn": m.Pcn.code,
            "organisation": m.Organisation.ods_code,
            "person": m.Person.person_ref,
            "framework": m.Framework.code,
            "tier": m.Tier.code,
            "course": m.Course.code,
            "cohort": m.Cohort.code,
            "priority": m.Priority.code,
            "project": m.Project.code,
        }
        if name in simple:
            col = simple[name]
            return dict(s.execute(select(col, col.class_.id)).all())
        if name == "measure":
            return {
                (p, c): i for p, c, i in s.execute(select(m.Measure.project_id, m.Measure.code, m.Measure.id))
            }
        raise KeyError(name)

    def forget(self, name: str) -> None:
        self._maps.pop(name, None)


def _resolved(lookups: Lookups, name: str, key) -> int | None:
    if key is None:
        return None
    return lookups.get(name).get(key)


@dataclass(frozen=True)
class EntitySpec:
    """How one entity's rows map onto a table."""

    model: type
    key: tuple[str, ...]  # model columns that form the natural key (after resolution)
    to_row: Callable[[dict, Lookups], dict]  # frame row -> model column values
    lookup: str | None = None  # Lookups name to refresh after writing


def _org_row(r, lk):
    return {
        "ods_code": r["ods_code"],
        "name": r["name"],
        "kind": r["kind"],
        "sector": r["sector"],
        "pcn_id": _resolved(lk, "pcn", r.get("pcn_code")),
        "postcode": r.get("postcode"),
        "latitude": r.get("latitude"),
        "longitude": r.get("longitude"),
        "beds": r.get("beds"),
        "staff_headcount": r.get("staff_headcount"),
        "offered_on": r.get("offered_on"),
        "cqc_location_id": r.get("cqc_location_id"),
        "closed_on": r.get("closed_on"),
    }


def _person_row(r, lk):
    return {
        "person_ref": r["person_ref"],
        "organisation_id": _resolved(lk, "organisation", r["ods_code"]),
        "role": r.get("role"),
        "is_patient_partner": bool(r.get("is_patient_partner") or False),
        "display_name": r.get("display_name"),
        "consents_to_be_named": bool(r.get("consents_to_be_named") or False),
        "left_on": r.get("left_on"),
    }


def _tier_row(r, lk):
    frameworks = lk.get("framework")
    code = r["framework"]
    if code not in frameworks:
        if lk.dry_run:
            frameworks[code] = lk.stand_in_id()
        else:
            frameworks[code] = lk.session.execute(
                insert(m.Framework)
                .values(code=code, name=r.get("framework_name") or code)
                .returning(m.Framework.id)
            ).scalar_one()
    return {
        "framework_id": frameworks[code],
        "code": r["code"],
        "name": r["name"],
        "rank": int(r["rank"]),
        "attained_by": r.get("attained_by") or "course",
    }


def _project_row(r, lk):
    return {
        "code": r["code"],
        "title": r["title"],
        "aim": r.get("aim"),
        "priority_id": _resolved(lk, "priority", r["priority_code"]),
        "lead_person_id": _resolved(lk, "person", r.get("lead_person_ref")),
        "lead_organisation_id": _resolved(lk, "organisation", r["lead_ods_code"]),
        "pcn_id": _resolved(lk, "pcn", r.get("pcn_code")),
        "cohort_id": _resolved(lk, "cohort", r.get("cohort_code")),
        "start_date": r.get("start_date"),
        "end_date": r.get("end_date"),
        "status": r.get("status") or "active",
        "patient_involvement": bool(r.get("patient_involvement") or False),
        "story": r.get("story"),
        "lessons": r.get("lessons"),
    }


def _measure_id(lk, r):
    project_id = _resolved(lk, "project", r["project_code"])
    return lk.get("measure").get((project_id, r["measure_code"])) if r.get("measure_code") else None


def _target_scope(scope: str | None) -> tuple[str, str]:
    """``system`` | ``locality:CODE`` | ``pcn:CODE`` -> (scope_type, scope_code)."""
    if not scope or scope == "system":
        return "system", ""
    kind, _, code = scope.partition(":")
    return kind, code


SPECS: dict[str, EntitySpec] = {
    "localities": EntitySpec(
        m.Locality, ("code",), lambda r, lk: {"code": r["code"], "name": r["name"]}, "locality"
    ),
    "pcns": EntitySpec(
        m.Pcn,
        ("code",),
        lambda r, lk: {
            "code": r["code"],
            "name": r["name"],
            "locality_id": _resolved(lk, "locality", r["locality_code"]),
        },
        "pcn",
    ),
    "organisations": EntitySpec(m.Organisation, ("ods_code",), _org_row, "organisation"),
    "people": EntitySpec(m.Person, ("person_ref",), _person_row, "person"),
    "tiers": EntitySpec(m.Tier, ("code",), _tier_row, "tier"),
    "courses": EntitySpec(
        m.Course,
        ("code",),
        lambda r, lk: {
            "code": r["code"],
            "name": r["name"],
            "tier_id": _resolved(lk, "tier", r["tier_code"]),
            "provider": r.get("provider"),
            "hours": r.get("hours"),
        },
        "course",
    ),
    "cohorts": EntitySpec(
        m.Cohort,
        ("code",),
        lambda r, lk: {
            "code": r["code"],
            "course_id": _resolved(lk, "course", r["course_code"]),
            "name": r.get("name"),
            "start_date": r["start_date"],
            "end_date": r.get("end_date"),
            "locality_id": _resolved(lk, "locality", r.get("locality_code")),
            "sessions": r.get("sessions"),
            "delivered_by": r.get("delivered_by") or "external",
        },
        "cohort",
    ),
    "enrolments": EntitySpec(
        m.Enrolment,
        ("person_id", "cohort_id"),
        lambda r, lk: {
            "person_id": _resolved(lk, "person", r["person_ref"]),
            "cohort_id": _resolved(lk, "cohort", r["cohort_code"]),
            "status": r["status"],
            "completed_on": r.get("completed_on"),
            "sessions_attended": r.get("sessions_attended"),
        },
    ),
    "attendance": EntitySpec(
        m.SessionAttendance,
        ("person_id", "cohort_id", "session_no"),
        lambda r, lk: {
            "person_id": _resolved(lk, "person", r["person_ref"]),
            "cohort_id": _resolved(lk, "cohort", r["cohort_code"]),
            "session_no": int(r["session"]),
            "held_on": r.get("held_on"),
            "attended": bool(r.get("attended", True)),
        },
    ),
    "faculty": EntitySpec(
        m.FacultyRole,
        ("person_id", "cohort_id", "role"),
        lambda r, lk: {
            "person_id": _resolved(lk, "person", r["person_ref"]),
            "cohort_id": _resolved(lk, "cohort", r["cohort_code"]),
            "role": r["role"],
        },
    ),
    # Parents are linked in a second pass (see write_frames), so a child may precede its parent.
    "priorities": EntitySpec(
        m.Priority, ("code",), lambda r, lk: {"code": r["code"], "name": r["name"]}, "priority"
    ),
    "projects": EntitySpec(m.Project, ("code",), _project_row, "project"),
    "project_members": EntitySpec(
        m.ProjectMember,
        ("project_id", "person_id"),
        lambda r, lk: {
            "project_id": _resolved(lk, "project", r["project_code"]),
            "person_id": _resolved(lk, "person", r["person_ref"]),
            "role": r.get("role") or "member",
        },
    ),
    "progress": EntitySpec(
        m.ProgressScore,
        ("project_id", "scored_on"),
        lambda r, lk: {
            "project_id": _resolved(lk, "project", r["project_code"]),
            "scored_on": r["scored_on"],
            "score": float(r["score"]),
        },
    ),
    "measures": EntitySpec(
        m.Measure,
        ("project_id", "code"),
        lambda r, lk: {
            "project_id": _resolved(lk, "project", r["project_code"]),
            "code": r["code"],
            "name": r["name"],
            "kind": r.get("kind") or "outcome",
            "chart": r["chart"],
            "unit": r.get("unit"),
            "improvement": r.get("improvement") or "increase",
            "target": r.get("target"),
        },
        "measure",
    ),
    "observations": EntitySpec(
        m.Observation,
        ("measure_id", "period"),
        lambda r, lk: {
            "measure_id": _measure_id(lk, r),
            "period": r["period"],
            "value": float(r["value"]),
            "denominator": r.get("denominator"),
        },
    ),
    "changes": EntitySpec(
        m.Change,
        ("project_id", "changed_on", "title"),
        lambda r, lk: {
            "project_id": _resolved(lk, "project", r["project_code"]),
            "changed_on": r["changed_on"],
            "title": r["title"],
            "kind": r.get("kind") or "pdsa",
            "measure_id": _measure_id(lk, r),
        },
    ),
    "targets": EntitySpec(
        m.Target,
        ("measure", "scope_type", "scope_code", "due_on"),
        lambda r, lk: dict(
            zip(("scope_type", "scope_code"), _target_scope(r.get("scope")), strict=True),
            measure=r["measure"],
            value=float(r["value"]),
            due_on=r["due_on"],
        ),
    ),
}

BATCH = 5000


def _chunks(rows: list, size: int = BATCH) -> Iterable[list]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _existing(session: Session, spec: EntitySpec, keys: list[tuple]) -> dict[tuple, dict]:
    """Existing rows (as dicts of every column) for the natural keys given, keyed by natural key."""
    model = spec.model
    cols = list(model.__table__.columns)
    key_cols = [getattr(model, k) for k in spec.key]
    found: dict[tuple, dict] = {}
    if len(spec.key) == 1:
        values = [k[0] for k in keys]
        for chunk in _chunks(values, 900):
            for row in session.execute(select(*cols).where(key_cols[0].in_(chunk))).mappings():
                found[(row[spec.key[0]],)] = dict(row)
    else:
        # Composite keys: narrow by the first key column, then match in Python.
        first = sorted({k[0] for k in keys if k[0] is not None})
        wanted = set(keys)
        for chunk in _chunks(first, 900):
            for row in session.execute(select(*cols).where(key_cols[0].in_(chunk))).mappings():
                key = tuple(row[k] for k in spec.key)
                if key in wanted:
                    found[key] = dict(row)
    return found


# Model columns filled from a frame column of another name (all others share the name).
SOURCES = {
    "pcn_id": "pcn_code",
    "locality_id": "locality_code",
    "organisation_id": "ods_code",
    "framework_id": "framework",
    "tier_id": "tier_code",
    "course_id": "course_code",
    "priority_id": "priority_code",
    "lead_person_id": "lead_person_ref",
    "lead_organisation_id": "lead_ods_code",
    "cohort_id": "cohort_code",
    "measure_id": "measure_code",
}


def _left_out(spec: EntitySpec, frame_row: dict, row: dict, cache: dict) -> tuple[str, ...]:
    """Model columns whose frame column the row leaves out (kept as stored on update)."""
    present = frozenset(frame_row)
    if present not in cache:
        cache[present] = tuple(c for c in row if c not in spec.key and SOURCES.get(c, c) not in present)
    return cache[present]


def plan_entity(session: Session, name: str, rows: list[dict], lookups: Lookups):
    """Split one entity's rows into (inserts, updates, unchanged count) against what is stored."""
    spec = SPECS[name]
    # The last row wins when a file repeats a key.
    by_key: dict[tuple, tuple[dict, tuple]] = {}
    cache: dict = {}
    for r in rows:
        row = spec.to_row(r, lookups)
        by_key[tuple(row[k] for k in spec.key)] = (row, _left_out(spec, r, row, cache))
    existing = _existing(session, spec, list(by_key))
    inserts, updates, unchanged = [], [], 0
    for key, (row, left_out) in by_key.items():
        old = existing.get(key)
        if old is None:
            inserts.append(row)
            continue
        if left_out:
            row = {**row, **{c: old[c] for c in left_out}}
        if any(old.get(c) != v for c, v in row.items()):
            updates.append({"id": old["id"], **row})
        else:
            unchanged += 1
    return inserts, updates, unchanged


def write_frames(session: Session, frames: dict[str, list[dict]], *, dry_run: bool = False) -> WriteCounts:
    """Upsert every entity in ``frames`` on its natural key. The caller commits or rolls back.

    With ``dry_run`` nothing is written and no row is locked: the counts are what writing would give.
    A preview runs this way, so it never waits for, or holds up, a load of the same rows.
    """
    counts = WriteCounts()
    lookups = Lookups(session, dry_run=dry_run)
    for name in ENTITY_ORDER:
        rows = frames.get(name)
        if not rows:
            continue
        spec = SPECS[name]
        inserts, updates, unchanged = plan_entity(session, name, rows, lookups)
        if dry_run:
            if spec.lookup:
                for row in inserts:
                    lookups.add(spec.lookup, row, lookups.stand_in_id())
        else:
            for chunk in _chunks(inserts):
                session.execute(insert(spec.model), chunk)
            for chunk in _chunks(updates):
                session.execute(update(spec.model), chunk)
            if spec.lookup:
                lookups.forget(spec.lookup)
        moved: set[str] = set()
        if name == "priorities":
            moved = _link_priority_parents(session, rows, lookups)
        if name == "projects":
            moved = _replace_partners(session, rows, lookups)
        # A new parent or partner set is a change the column comparison above cannot see.
        if moved:
            moved -= {r["code"] for r in inserts} | {r["code"] for r in updates}
        counts.inserted[name] = len(inserts)
        counts.updated[name] = len(updates) + len(moved)
        counts.unchanged[name] = unchanged - len(moved)
    session.flush()
    return counts


def _link_priority_parents(session: Session, rows: list[dict], lookups: Lookups) -> set[str]:
    """Set each priority's parent (rows leaving ``parent_code`` out keep theirs); returns codes changed."""
    ids = lookups.get("priority")
    rows = [r for r in rows if "parent_code" in r]
    wanted = {ids[r["code"]]: ids.get(r["parent_code"]) if r["parent_code"] else None for r in rows}
    before: dict[int, int | None] = {}
    for chunk in _chunks(list(wanted), 900):
        query = select(m.Priority.id, m.Priority.parent_id).where(m.Priority.id.in_(chunk))
        before.update(session.execute(query).all())
    params = [{"id": i, "parent_id": p} for i, p in wanted.items() if before.get(i) != p]
    for chunk in _chunks([] if lookups.dry_run else params):
        session.execute(update(m.Priority), chunk)
    changed = {p["id"] for p in params}
    return {r["code"] for r in rows if ids[r["code"]] in changed}


def _replace_partners(session: Session, rows: list[dict], lookups: Lookups) -> set[str]:
    """A project row's ``partner_ods_codes`` list is the whole partner set: replace what was stored.

    Returns the codes of the projects whose partner set changed.
    """
    projects = lookups.get("project")
    orgs = lookups.get("organisation")
    rows = [r for r in rows if r.get("partner_ods_codes") is not None]
    wanted = {
        projects[r["code"]]: {orgs[c] for c in r["partner_ods_codes"] if c != r["lead_ods_code"]}
        for r in rows
    }
    before: dict[int, set[int]] = {i: set() for i in wanted}
    for chunk in _chunks(list(wanted), 900):
        query = select(m.ProjectPartner.project_id, m.ProjectPartner.organisation_id).where(
            m.ProjectPartner.project_id.in_(chunk)
        )
        for project_id, org_id in session.execute(query):
            before[project_id].add(org_id)
    changed = [i for i, partners in wanted.items() if before[i] != partners]
    if lookups.dry_run:
        changed_ids = set(changed)
        return {r["code"] for r in rows if projects[r["code"]] in changed_ids}
    for chunk in _chunks(changed, 900):
        session.execute(delete(m.ProjectPartner).where(m.ProjectPartner.project_id.in_(chunk)))
    links = [{"project_id": i, "organisation_id": o} for i in changed for o in sorted(wanted[i])]
    for chunk in _chunks(links):
        session.execute(insert(m.ProjectPartner), chunk)
    changed_ids = set(changed)
    return {r["code"] for r in rows if projects[r["code"]] in changed_ids}
