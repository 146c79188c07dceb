"""Checks against the database and the rest of the load: every reference resolves, no row repeats
another, and the rules a set of rows must keep together (tier ranks, priority loops, people moving).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from qidash import models as m
from qidash import store
from qidash.ingest.batch import Batch, Problem
from qidash.ingest.coerce import clip
from qidash.ingest.formats import FORMATS, LOOKUP_NAMES, NOUNS, num_text

# --- checks against the database and the rest of the load ------------------------------------------------


@dataclass
class Checked:
    """The rows ready for :func:`store.write_frames` and every problem found."""

    frames: dict[str, list[dict]]
    problems: list[Problem]
    files: dict[str, list[str]]  # entity -> files it came from

    @property
    def rejected_rows(self) -> dict[str, int]:
        rows = {(p.entity, p.file, p.row) for p in self.problems if p.rejects}
        return dict(Counter(e for e, _, _ in rows))


class _Known:
    """Codes the database holds (one query per table, on first use) and those this load adds or rejects."""

    def __init__(self, session: Session):
        self.session = session
        self.lookups = store.Lookups(session)
        self.loaded: dict[str, set] = defaultdict(set)
        self.rejected: dict[str, set] = defaultdict(set)
        self.charts: dict[tuple[str, str], str] = {}  # (project, measure) -> chart, this load's
        self._stored_charts: dict | None = None
        self._lowered: dict[str, dict] = {}

    def stored(self, entity: str):
        if entity == "measures":
            if self._stored_charts is None:
                query = select(m.Project.code, m.Measure.code, m.Measure.chart).join(
                    m.Project, m.Project.id == m.Measure.project_id
                )
                self._stored_charts = {(p, c): chart for p, c, chart in self.session.execute(query)}
            return self._stored_charts
        return self.lookups.get(LOOKUP_NAMES[entity])

    def has(self, entity: str, code) -> bool:
        return code in self.loaded[entity] or code in self.stored(entity)

    def chart(self, project: str, measure: str) -> str | None:
        return self.charts.get((project, measure)) or self.stored("measures").get((project, measure))

    def unknown(self, entity: str, code) -> str:
        """Why ``code`` cannot be used: not known, or its own row was rejected."""
        noun = NOUNS[entity]
        if code in self.rejected[entity]:
            return (
                f'The {noun} "{clip(str(code))}" is in this load, but its own row was rejected '
                f"(see {entity})."
            )
        reason = f'There is no {noun} with the code "{clip(str(code))}", in the database or in this load.'
        if isinstance(code, str):
            if entity not in self._lowered:
                codes = [*self.stored(entity), *self.loaded[entity]]
                self._lowered[entity] = {k.lower(): k for k in codes if isinstance(k, str)}
            lowered = self._lowered[entity]
            if code.lower() in lowered:
                reason += f' Codes are case-sensitive: did you mean "{lowered[code.lower()]}"?'
            elif "," in code:
                reason += " Separate several codes with ; not a comma."
        return reason


@dataclass
class _Item:
    file: str
    row: int
    values: dict


def validate(session: Session, batch: Batch) -> Checked:
    """Check ``batch`` against the database and itself; returns the rows that can be written and all
    problems."""
    problems = list(batch.problems)
    known = _Known(session)
    frames: dict[str, list[dict]] = {}
    files: dict[str, list[str]] = defaultdict(list)
    for table in batch.tables:
        files[table.entity].append(table.file)
        key = FORMATS[table.entity].key
        for _, values in table.rejected:
            if all(values.get(k) is not None for k in key):
                known.rejected[table.entity].add(_ref_key(table.entity, values))
    for entity in store.ENTITY_ORDER:
        items = [_Item(t.file, rowno, v) for t in batch.tables if t.entity == entity for rowno, v in t.rows]
        # Rows already rejected for a value that cannot be read: their codes are checked too, so the
        # admin learns every problem of a row from one upload, not one per attempt.
        for t in batch.tables:
            if t.entity == entity:
                for rowno, values in t.rejected:
                    problems.extend(_reference_problems(entity, _Item(t.file, rowno, values), known))
        if not items:
            continue
        items = _without_duplicates(entity, items, problems, known)
        if entity == "priorities":
            known.loaded[entity] = {i.values["code"] for i in items}
        bad: set[int] = set()
        for i, item in enumerate(items):
            found = list(_reference_problems(entity, item, known))
            found += _row_problems(entity, item, known)
            problems.extend(found)
            if any(p.rejects for p in found):
                bad.add(i)
        bad |= _set_problems(session, entity, items, bad, problems)
        good = [item for i, item in enumerate(items) if i not in bad]
        frames[entity] = [item.values for item in good]
        known.loaded[entity] = {_ref_key(entity, i.values) for i in good}
        known.rejected[entity] |= {_ref_key(entity, items[i].values) for i in bad}
        if entity == "measures":
            known.charts = {(v["project_code"], v["code"]): v["chart"] for v in frames[entity]}
    return Checked(frames, problems, dict(files))


def _ref_key(entity: str, values: dict):
    """What other rows use to refer to this one (a code, or project and code for a measure)."""
    key = FORMATS[entity].key
    return tuple(values[k] for k in key) if len(key) > 1 else values[key[0]]


def _without_duplicates(
    entity: str, items: list[_Item], problems: list[Problem], known: _Known
) -> list[_Item]:
    """The rows to keep: exact repeats are dropped (with a note); when rows give one natural key different
    values, all of them are rejected, since there is no telling which is right."""
    key_cols = FORMATS[entity].key
    groups: dict[tuple, list[_Item]] = defaultdict(list)
    for item in items:
        groups[tuple(item.values[k] for k in key_cols)].append(item)
    keep: list[_Item] = []
    for key, group in groups.items():
        first = group[0]
        if len(group) == 1:
            keep.append(first)
            continue
        differs = [(item, _first_difference(first.values, item.values)) for item in group[1:]]
        if all(d is None for _, d in differs):
            keep.append(first)
            for item, _ in differs:
                problems.append(
                    Problem(
                        entity,
                        item.file,
                        item.row,
                        None,
                        None,
                        f"This row repeats {_where(item, first)} exactly; it is loaded once.",
                        False,
                    )
                )
            continue
        known.rejected[entity].add(_ref_key(entity, first.values))
        shown_key = ", ".join(f'{k} "{_plain(v)}"' for k, v in zip(key_cols, key, strict=True))
        for item in group:
            others = [o for o in group if o is not item]
            column = next((d for o in others if (d := _first_difference(item.values, o.values))), key_cols[0])
            problems.append(
                Problem(
                    entity,
                    item.file,
                    item.row,
                    column,
                    _plain(item.values.get(column)),
                    f"{shown_key} also appears in {', '.join(_where(item, o) for o in others)} with a "
                    "different "
                    f"{column}; keep the right row and delete the other.",
                )
            )
    return keep


def _where(item: _Item, other: _Item) -> str:
    return f"row {other.row}" if other.file == item.file else f"row {other.row} of {other.file}"


def _first_difference(a: dict, b: dict) -> str | None:
    return next((k for k in a if k in b and a[k] != b[k]), None)


def _plain(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, float):
        return num_text(value)
    return str(value)


def _reference_problems(entity: str, item: _Item, known: _Known):
    """Problems with the codes a row refers to."""
    fmt, values = FORMATS[entity], item.values
    for col in fmt.columns:
        code = values.get(col.name)
        if col.refers_to is None or code is None or col.refers_to == "measures":
            continue
        codes = code if isinstance(code, list) else [code]
        for one in codes:
            if not known.has(col.refers_to, one):
                shown = clip(one if not isinstance(code, list) else ";".join(code))
                yield Problem(entity, item.file, item.row, col.name, shown, known.unknown(col.refers_to, one))
    measure = values.get("measure_code")
    project = values.get("project_code")
    if (
        measure
        and project
        and known.has("projects", project)
        and not known.has("measures", (project, measure))
    ):
        if (project, measure) in known.rejected["measures"]:
            reason = (
                f'The measure "{measure}" of project "{project}" is in this load, '
                "but its own row was rejected."
            )
        else:
            reason = f'Project "{project}" has no measure "{measure}", in the database or in this load.'
        yield Problem(entity, item.file, item.row, "measure_code", measure, reason)
    scope = values.get("scope")
    if entity == "targets" and scope and scope != "system":
        kind, _, code = scope.partition(":")
        target = "localities" if kind == "locality" else "pcns"
        if not known.has(target, code):
            yield Problem(entity, item.file, item.row, "scope", scope, known.unknown(target, code))


def _row_problems(entity: str, item: _Item, known: _Known) -> list[Problem]:
    """Checks of one row that need the rest of the load or the database."""
    if entity != "observations":
        return []
    v = item.values
    chart = known.chart(v["project_code"], v["measure_code"])
    value, den = v["value"], v.get("denominator")

    def fail(column, shown, reason):
        return [Problem(entity, item.file, item.row, column, shown, reason)]

    if chart in ("p", "u", "c") and value < 0:
        return fail(
            "value",
            num_text(value),
            f"{num_text(value)} is negative; a {chart} chart counts, so values are 0 or more.",
        )
    if chart in ("p", "u") and den is None:
        return fail(
            "denominator",
            None,
            f"A {chart} chart needs a denominator (the number of cases, or the exposure) in every row; "
            "this one is blank.",
        )
    if chart == "p" and value > den:
        return fail(
            "value",
            num_text(value),
            f"{num_text(value)} is more than its denominator {num_text(den)}; on a p chart the value counts "
            "cases out of the denominator, so it cannot be larger.",
        )
    if chart == "u" and den == 0 and value > 0:
        return fail(
            "denominator",
            "0",
            "A rate over a denominator of 0 is undefined; the denominator must be more than 0.",
        )
    if chart == "c" and den is not None:
        return fail(
            "denominator",
            num_text(den),
            "A c chart counts events and takes no denominator; leave it blank or make the measure a u chart.",
        )
    return []


def _set_problems(session, entity: str, items: list[_Item], bad: set[int], problems) -> set[int]:
    """Checks across rows: tier ranks within a framework, loops of priorities. Returns more bad indexes."""
    if entity == "tiers":
        return _tier_rank_clashes(session, items, bad, problems)
    if entity == "priorities":
        return _priority_loops(session, items, bad, problems)
    if entity == "people":
        _people_moving(session, items, bad, problems)
    return set()


def _tier_rank_clashes(session, items, bad, problems) -> set[int]:
    framework = aliased(m.Framework)
    state = {
        code: (fw, rank)
        for code, fw, rank in session.execute(
            select(m.Tier.code, framework.code, m.Tier.rank).join(
                framework, framework.id == m.Tier.framework_id
            )
        )
    }
    for i, item in enumerate(items):
        if i not in bad:
            state[item.values["code"]] = (item.values["framework"], item.values["rank"])
    holders: dict[tuple, list[str]] = defaultdict(list)
    for code, place in state.items():
        holders[place].append(code)
    more = set()
    for i, item in enumerate(items):
        v = item.values
        others = [c for c in holders[(v["framework"], v["rank"])] if c != v["code"]]
        if i not in bad and others:
            more.add(i)
            problems.append(
                Problem(
                    "tiers",
                    item.file,
                    item.row,
                    "rank",
                    str(v["rank"]),
                    f'Framework "{v["framework"]}" already has the tier "{others[0]}" at rank {v["rank"]}; '
                    'each '
                    "tier of a framework needs its own rank.",
                )
            )
    return more


def _priority_loops(session, items, bad, problems) -> set[int]:
    parent = aliased(m.Priority)
    parents = dict(
        session.execute(
            select(m.Priority.code, parent.code).join(parent, parent.id == m.Priority.parent_id)
        ).all()
    )
    for i, item in enumerate(items):
        if i not in bad and "parent_code" in item.values:
            parents[item.values["code"]] = item.values["parent_code"]
    more = set()
    for i, item in enumerate(items):
        code, path = item.values["code"], [item.values["code"]]
        while (nxt := parents.get(path[-1])) and nxt not in path:
            path.append(nxt)
        if i not in bad and parents.get(path[-1]) == code and len(path) > 1:
            more.add(i)
            loop = " -> ".join([*path, code])
            problems.append(
                Problem(
                    "priorities",
                    item.file,
                    item.row,
                    "parent_code",
                    item.values.get("parent_code"),
                    f"These parents make a loop ({loop}); a priority cannot sit under itself.",
                )
            )
    return more


def _people_moving(session, items, bad, problems) -> None:
    """A note when a person_ref already stored at one organisation arrives at another (a clash of refs?)."""
    stored = dict(
        session.execute(
            select(m.Person.person_ref, m.Organisation.ods_code).join(
                m.Organisation, m.Organisation.id == m.Person.organisation_id
            )
        ).all()
    )
    for i, item in enumerate(items):
        ref, org = item.values["person_ref"], item.values["ods_code"]
        if i not in bad and stored.get(ref) not in (None, org):
            problems.append(
                Problem(
                    "people",
                    item.file,
                    item.row,
                    "ods_code",
                    org,
                    f'person_ref "{ref}" is stored at organisation "{stored[ref]}"; this row moves them to '
                    f'"{org}". '
                    "If they are two different people, give one of them another reference.",
                    False,
                )
            )
