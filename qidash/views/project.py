"""The Project page's data: one project's facts, organisations, team, progress scores, changes and,
for each measure, its chart result as of the date with its Making Data Count icons.

Charts come from the analysis stored at load time (``measure_analysis.result``); a measure with
observations after the as-of date is analysed again on its data up to that date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, literal, or_, select, union_all

from qidash import analysis, catalog, db, measures, recalculation, spc, spc_charts
from qidash import models as m
from qidash.analysis import REANALYSIS_COLUMNS, reanalysed
from qidash.palette import label

MEMBER_ORDER = {"lead": 0, "member": 1, "coach": 2, "sponsor": 3}
CHART_NAMES = {
    "run": "Run chart: median and Anhøj runs rules",
    "xmr": "XmR chart: Making Data Count rules",
    "p": "p chart: proportion with 3-sigma limits",
    "u": "u chart: rate with 3-sigma limits",
    "c": "c chart: count with 3-sigma limits",
}
DIRECTION_WORDS = {"increase": "higher is better", "decrease": "lower is better"}


@dataclass(frozen=True)
class ProjectData:
    about: dict  # code, title, aim, priority, priority_name, status, start_date, end_date, pcn_name,
    #              cohort, patient_involvement, story, lessons, lead_organisation
    organisations: pd.DataFrame  # role (lead / partner), name, ods_code, kind, sector, pcn
    cross_boundary: bool  # organisations span two or more sectors or kinds (projects_cross_boundary)
    team: pd.DataFrame  # role, person (name only with consent), organisation, patient_partner
    scores: pd.DataFrame  # scored_on, score (by as_of)
    changes: pd.DataFrame  # changed_on, title, kind, measure (code or None), by as_of
    measures: list[dict]  # one per measure with data by as_of; see measure_charts()
    stale: bool


def person_shown(
    display_name: str | None, consents: bool, role: str | None, patient: bool, can_see_people: bool
) -> str:
    """A team member as the page may show them: their name only when the viewer may see person-level
    detail (faculty, admins) and the person consented to be named; otherwise their role (a patient
    partner as "Patient partner")."""
    if consents and display_name and can_see_people:
        return display_name
    if patient:
        return "Patient partner"
    return label(role) if role else "Team member"


def organisation_rows(conn: Connection, project_ids: list[int]) -> dict[int, list[tuple]]:
    """Project id -> its lead organisation and partners as (role lead | partner, name, ods_code, kind,
    sector, pcn name): lead first, partners by name, each organisation once. One query for all."""
    ids = list(project_ids)
    lead = select(
        m.Project.id.label("project_id"),
        m.Project.lead_organisation_id.label("organisation_id"),
        literal(0).label("lead_first"),
    ).where(m.Project.id.in_(ids))
    partners = select(m.ProjectPartner.project_id, m.ProjectPartner.organisation_id, literal(1)).where(
        m.ProjectPartner.project_id.in_(ids)
    )
    orgs = union_all(lead, partners).subquery("orgs")
    rows = conn.execute(
        select(
            orgs.c.project_id,
            orgs.c.lead_first,
            m.Organisation.name,
            m.Organisation.ods_code,
            m.Organisation.kind,
            m.Organisation.sector,
            m.Pcn.name,
        )
        .join(m.Organisation, m.Organisation.id == orgs.c.organisation_id)
        .outerjoin(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
        .order_by(orgs.c.project_id, orgs.c.lead_first, m.Organisation.name)
    )
    out: dict[int, list[tuple]] = {pid: [] for pid in ids}
    seen: dict[int, set] = {pid: set() for pid in ids}
    for pid, lead_first, name, ods_code, kind, sector, pcn in rows:
        if ods_code in seen[pid]:  # a partner that is also the lead is listed once, as lead
            continue
        seen[pid].add(ods_code)
        out[pid].append(("partner" if lead_first else "lead", name, ods_code, kind, sector, pcn))
    return out


def organisations(conn: Connection, project_id: int) -> pd.DataFrame:
    """The lead organisation and partners of a project, lead first, partners by name."""
    return pd.DataFrame(
        organisation_rows(conn, [project_id])[project_id],
        columns=["role", "name", "ods_code", "kind", "sector", "pcn"],
    )


def team_rows_by_project(conn: Connection, project_ids: list[int]) -> dict[int, list[tuple]]:
    """Project id -> its lead person (listed once, as lead) and members: (project role, display name,
    consents to be named, job role, patient partner, organisation name) per person, unordered. One
    query for all."""
    ids = list(project_ids)
    members = (
        select(m.ProjectMember.project_id, m.ProjectMember.person_id, m.ProjectMember.role)
        .join(m.Project, m.Project.id == m.ProjectMember.project_id)
        .where(
            m.ProjectMember.project_id.in_(ids),
            or_(m.Project.lead_person_id.is_(None), m.ProjectMember.person_id != m.Project.lead_person_id),
        )
    )
    people = union_all(
        select(
            m.Project.id.label("project_id"),
            m.Project.lead_person_id.label("person_id"),
            literal("lead").label("role"),
        ).where(m.Project.id.in_(ids), m.Project.lead_person_id.is_not(None)),
        members,
    ).subquery("people")
    rows = conn.execute(
        select(
            people.c.project_id,
            people.c.role,
            m.Person.display_name,
            m.Person.consents_to_be_named,
            m.Person.role,
            m.Person.is_patient_partner,
            m.Organisation.name,
        )
        .join(m.Person, m.Person.id == people.c.person_id)
        .join(m.Organisation, m.Organisation.id == m.Person.organisation_id)
    )
    out: dict[int, list[tuple]] = {pid: [] for pid in ids}
    for pid, *row in rows:
        out[pid].append(tuple(row))
    return out


def team_rows(conn: Connection, project_id: int) -> list[tuple]:
    """:func:`team_rows_by_project` of one project."""
    return team_rows_by_project(conn, [project_id])[project_id]


def team(conn: Connection, project_id: int, can_see_people: bool) -> pd.DataFrame:
    """The project's lead person and members (role, person as they may be shown, organisation)."""
    rows = team_rows(conn, project_id)
    out = [
        {
            "role": project_role,
            "person": person_shown(name, bool(consents), job, bool(patient), can_see_people),
            "organisation": org,
            "patient_partner": bool(patient),
        }
        for project_role, name, consents, job, patient, org in rows
    ]
    frame = pd.DataFrame(out, columns=["role", "person", "organisation", "patient_partner"])
    order = frame["role"].map(MEMBER_ORDER).fillna(9)
    return (
        frame.assign(_o=order)
        .sort_values(["_o", "person"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def about_rows(conn: Connection, codes, as_of: dt.date) -> dict[str, dict]:
    """Project code -> :attr:`ProjectData.about` (with ``id`` and ``lead_person_id``) for those of
    ``codes`` that exist: one query for all."""
    rows = conn.execute(
        select(
            m.Project.id,
            m.Project.code,
            m.Project.title,
            m.Project.aim,
            m.Priority.code.label("priority"),
            m.Priority.name.label("priority_name"),
            measures.project_status_on(as_of).label("status"),
            m.Project.status.label("recorded_status"),
            m.Project.start_date,
            m.Project.end_date,
            m.Pcn.name.label("pcn_name"),
            m.Cohort.code.label("cohort"),
            m.Project.patient_involvement,
            m.Project.story,
            m.Project.lessons,
            m.Organisation.name.label("lead_organisation"),
            m.Project.lead_person_id,
        )
        .join(m.Priority, m.Priority.id == m.Project.priority_id)
        .join(m.Organisation, m.Organisation.id == m.Project.lead_organisation_id)
        .outerjoin(m.Pcn, m.Pcn.id == m.Project.pcn_id)
        .outerjoin(m.Cohort, m.Cohort.id == m.Project.cohort_id)
        .where(m.Project.code.in_(list(codes)))
    ).mappings()
    out = {}
    for r in rows:
        about = dict(r)
        for key in ("start_date", "end_date"):
            about[key] = about[key] and db.as_date(about[key])
        if about["start_date"] and about["start_date"] > as_of:
            about["status"] = "not started"
        out[about["code"]] = about
    return out


def score_rows(conn: Connection, project_ids: list[int], as_of: dt.date) -> dict[int, list[tuple]]:
    """Project id -> its progress scores dated by ``as_of`` as (scored_on, score), oldest first."""
    out: dict[int, list[tuple]] = {pid: [] for pid in project_ids}
    rows = conn.execute(
        select(m.ProgressScore.project_id, m.ProgressScore.scored_on, m.ProgressScore.score)
        .where(m.ProgressScore.project_id.in_(list(project_ids)), m.ProgressScore.scored_on <= as_of)
        .order_by(m.ProgressScore.project_id, m.ProgressScore.scored_on)
    )
    for pid, day, score in rows:
        out[pid].append((db.as_date(day), score))
    return out


def change_rows(conn: Connection, project_ids: list[int], as_of: dt.date) -> dict[int, list[tuple]]:
    """Project id -> its changes dated by ``as_of`` as (changed_on, title, kind, measure code or None),
    by day then title."""
    out: dict[int, list[tuple]] = {pid: [] for pid in project_ids}
    rows = conn.execute(
        select(m.Change.project_id, m.Change.changed_on, m.Change.title, m.Change.kind, m.Measure.code)
        .outerjoin(m.Measure, m.Measure.id == m.Change.measure_id)
        .where(m.Change.project_id.in_(list(project_ids)), m.Change.changed_on <= as_of)
        .order_by(m.Change.project_id, m.Change.changed_on, m.Change.title)
    )
    for pid, day, title, kind, measure in rows:
        out[pid].append((db.as_date(day), title, kind, measure))
    return out


def measure_charts_by_project(
    conn: Connection, project_ids: list[int], as_of: dt.date, changes: dict[int, list[tuple]]
) -> dict[int, list[dict]]:
    """Project id -> one dict per measure of the project with data by ``as_of``, by measure code:
    ``measure_id``, ``project_id``, ``code``, ``name``, ``kind``, ``chart``, ``unit``, ``improvement``,
    ``target``, ``result`` (the stored result with periods, cut at ``as_of``), ``variation_icon``,
    ``assurance_icon``, ``improving``, ``concern``, ``improved_since_baseline``, ``improving_reason``
    (which meaning of improving applies, in words; None when not improving), ``changes`` (the
    project's changes that apply to it: its own and those naming no measure; ``changes`` as
    :func:`change_rows` gives them) and ``reanalysed``. One query for all the projects' stored results."""
    ma = m.MeasureAnalysis
    rows = [
        dict(r)
        for r in conn.execute(
            select(
                *REANALYSIS_COLUMNS,
                m.Measure.code,
                m.Measure.name,
                m.Measure.kind,
                m.Measure.unit,
                ma.last_period,
                ma.improving,
                ma.concern,
                ma.improved_since_baseline,
                ma.baseline_change,
                ma.baseline_changed_on,
                ma.result,
            )
            .join(ma, ma.measure_id == m.Measure.id)
            .where(m.Measure.project_id.in_(list(project_ids)))
            .order_by(m.Measure.project_id, m.Measure.code)
        ).mappings()
    ]
    later = reanalysed(conn, [r for r in rows if db.as_date(r["last_period"]) > as_of], as_of)
    out: dict[int, list[dict]] = {pid: [] for pid in project_ids}
    for r in rows:
        if r["measure_id"] in later:
            again = later[r["measure_id"]]
            if again is None:
                continue
            r["result"], summary = again
            for key in ("improving", "concern", "improved_since_baseline", "baseline_change",
                        "baseline_changed_on"):
                r[key] = summary[key]
        r["reanalysed"] = r["measure_id"] in later
        r["improving"], r["concern"] = bool(r["improving"]), bool(r["concern"])
        r["improved_since_baseline"] = bool(r["improved_since_baseline"])
        r["variation_icon"] = spc.chart_variation_icon(r["result"])
        r["assurance_icon"] = spc.chart_assurance_icon(r["result"], r["target"])
        r["improving_reason"] = analysis.improving_words(
            (r["variation_icon"] or "").startswith("improvement"), r["improved_since_baseline"],
            r["baseline_change"], db.as_date(r["baseline_changed_on"]) if r["baseline_changed_on"] else None,
        )
        r["changes"] = [
            {"day": day.isoformat(), "title": title, "kind": kind}
            for day, title, kind, measure in changes.get(r["project_id"], ())
            if measure is None or measure == r["code"]
        ]
        out[r["project_id"]].append(r)
    return out


def with_suggestions(conn: Connection, measures_: list[dict]) -> list[dict]:
    """The measures with ``suggestion``: the recalculation their chart calls for and nobody dismissed
    (:func:`qidash.analysis.suggested_recalculation`), or None."""
    dismissed = recalculation.dismissed_starts(conn, [mm["measure_id"] for mm in measures_])
    for mm in measures_:
        mm["suggestion"] = analysis.suggested_recalculation(
            mm["result"], mm["changes"], dismissed.get(mm["measure_id"], ())
        )
    return measures_


def project_data(
    conn: Connection, code: str, as_of: dt.date, can_see_people: bool = False
) -> ProjectData | None:
    """Everything the Project page draws for project ``code`` as of a date (None when unknown). Team
    members are named only when ``can_see_people`` (faculty, admins) and they consented."""
    about = about_rows(conn, [code], as_of).get(code)
    if about is None:
        return None
    pid = about["id"]
    orgs = organisations(conn, pid)
    scores = pd.DataFrame(score_rows(conn, [pid], as_of)[pid], columns=["scored_on", "score"])
    changed = change_rows(conn, [pid], as_of)
    changes = pd.DataFrame(changed[pid], columns=["changed_on", "title", "kind", "measure"])
    return ProjectData(
        about=about,
        organisations=orgs,
        cross_boundary=orgs["sector"].nunique() > 1 or orgs["kind"].nunique() > 1,
        team=team(conn, pid, can_see_people),
        scores=scores,
        changes=changes,
        measures=with_suggestions(conn, measure_charts_by_project(conn, [pid], as_of, changed)[pid]),
        stale=about["status"] == "active" and measures.is_stale(conn, pid, as_of),
    )


# The most projects the picker lists at once: more is a list nobody reads, and every option is sent to
# the browser (4,920 titles were 335 KB of the page at scale 50).
PICKER_LIMIT = 200
STATUS_ORDER = ["active", "ended", "completed", "stopped"]  # the statuses project_status_on gives


@dataclass(frozen=True)
class ProjectChoice:
    code: str
    title: str
    priority: str  # priority code
    priority_name: str
    status: str  # as of the date (measures.project_status_on)

    @property
    def label(self) -> str:
        return f"{self.code} · {self.title}"


def project_choices(conn: Connection, scope, as_of: dt.date) -> dict[str, ProjectChoice]:
    """Project code -> :class:`ProjectChoice`, by code: the projects the picker chooses from, those
    :func:`qidash.catalog.projects` lists (started by ``as_of``, in ``scope``), with their priority and
    status on the date to narrow by. One query."""
    q = catalog.projects_query(
        scope, as_of, m.Priority.code, m.Priority.name, measures.project_status_on(as_of)
    ).join(m.Priority, m.Priority.id == m.Project.priority_id)
    return {row[0]: ProjectChoice(*row) for row in conn.execute(q)}


def narrow_projects(
    choices: dict[str, ProjectChoice],
    text: str = "",
    priority: str | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> tuple[list[str], int]:
    """The codes of the projects that match, by code, at most ``limit`` of them (:data:`PICKER_LIMIT`
    when None), and how many match in all. A project matches when every word of ``text`` is part of
    its code or title (any case) and it has ``priority`` (a code) and ``status`` when they are given."""
    limit = PICKER_LIMIT if limit is None else limit
    words = text.casefold().split()
    shown: list[str] = []
    matched = 0
    for code, choice in choices.items():
        if priority is not None and choice.priority != priority:
            continue
        if status is not None and choice.status != status:
            continue
        if words:
            haystack = f"{code} {choice.title}".casefold()
            if not all(w in haystack for w in words):
                continue
        matched += 1
        if len(shown) < limit:
            shown.append(code)
    return shown, matched


def picker_count(shown: int, matched: int, total: int) -> str | None:
    """What the picker says about its list: how many match out of how many, and how to narrow when
    not all are listed; None when every project is listed."""
    if matched == total and shown == total:
        return None
    if matched == 0:
        return f"No project of the {total:,} in this view matches."
    said = (
        f"{total:,} projects in this view" if matched == total else f"{matched:,} of {total:,} projects match"
    )
    if shown < matched:
        return f"{said}; the first {shown:,} are listed. Type part of a code or title to narrow."
    return f"{said}."


def download_table(result: dict) -> pd.DataFrame:
    """The data behind one chart, for download: period, value, denominator, y, cl, lcl, ucl, point type."""
    return spc_charts.chart_data(result).rename(columns={"point_type": "point type"})


def measure_summary(measure: dict) -> str:
    """One line about a measure's chart: kind, chart and rules, direction, points and target."""
    chart = measure["chart"]
    parts = [
        f"{label(measure['kind'])} measure",
        CHART_NAMES.get(chart, chart),
        DIRECTION_WORDS.get(measure["improvement"], "no preferred direction"),
        f"{len(measure['result']['y'])} points",
    ]
    if measure["target"] is not None:
        parts.append(
            f"target {spc_charts.format_value(spc_charts.shown_target(chart, measure['target']), chart)}"
        )
    return " · ".join(parts)


def phase_note(measure: dict) -> str | None:
    """After a rebase, how the centre line moved from the first phase to the last, in words (Markdown),
    so a success the new phase no longer signals is still said; None for a chart with one phase."""
    moved = spc_charts.phase_change(measure["result"])
    if moved is None:
        return None
    chart = measure["chart"]
    verdict = {True: ":green[**better**]", False: ":orange[**worse**]", None: "no change"}[moved["better"]]
    return (
        f"The centre line moved from {spc_charts.format_value(moved['first'], chart)} in the first phase to "
        f"{spc_charts.format_value(moved['last'], chart)} in phase {moved['phases']}: {verdict}."
    )
