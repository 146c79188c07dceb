"""The Project page's data: one project's facts, organisations, team, progress scores, changes and,
for each measure, its chart result as of the date with its Making Data Count icons.

Charts come from the analysis stored at load time (``measure_analysis.result``); a measure with
observations after the as-of date is analysed again on its data up to that date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, literal, select, union_all

from qidash import measures, spc_charts
from qidash import models as m
from qidash.palette import label
from qidash.scope import Scope
from qidash.views.portfolio import reanalysed

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


def organisations(conn: Connection, project_id: int) -> pd.DataFrame:
    """The lead organisation and partners of a project, lead first, partners by name."""
    lead = select(
        m.Project.lead_organisation_id.label("organisation_id"), literal(0).label("lead_first")
    ).where(m.Project.id == project_id)
    partners = select(m.ProjectPartner.organisation_id, literal(1)).where(
        m.ProjectPartner.project_id == project_id
    )
    orgs = union_all(lead, partners).subquery("orgs")
    rows = conn.execute(
        select(
            orgs.c.lead_first,
            m.Organisation.name,
            m.Organisation.ods_code,
            m.Organisation.kind,
            m.Organisation.sector,
            m.Pcn.name,
        )
        .join(m.Organisation, m.Organisation.id == orgs.c.organisation_id)
        .outerjoin(m.Pcn, m.Pcn.id == m.Organisation.pcn_id)
        .order_by(orgs.c.lead_first, m.Organisation.name)
    ).all()
    frame = pd.DataFrame(rows, columns=["lead_first", "name", "ods_code", "kind", "sector", "pcn"])
    frame.insert(0, "role", ["lead" if not f else "partner" for f in frame.pop("lead_first")])
    return frame.drop_duplicates(subset=["ods_code"], keep="first").reset_index(drop=True)


def team_rows(conn: Connection, project_id: int, lead_person_id: int | None) -> list[tuple]:
    """The project's lead person (listed once, as lead) and members: (project role, display name,
    consents to be named, job role, patient partner, organisation name) per person, unordered."""
    members = select(m.ProjectMember.person_id, m.ProjectMember.role).where(
        m.ProjectMember.project_id == project_id
    )
    if lead_person_id is not None:
        members = members.where(m.ProjectMember.person_id != lead_person_id)
    people = union_all(
        select(m.Project.lead_person_id.label("person_id"), literal("lead").label("role")).where(
            m.Project.id == project_id, m.Project.lead_person_id.is_not(None)
        ),
        members,
    ).subquery("people")
    return conn.execute(
        select(
            people.c.role,
            m.Person.display_name,
            m.Person.consents_to_be_named,
            m.Person.role,
            m.Person.is_patient_partner,
            m.Organisation.name,
        )
        .join(m.Person, m.Person.id == people.c.person_id)
        .join(m.Organisation, m.Organisation.id == m.Person.organisation_id)
    ).all()


def team(conn: Connection, project_id: int, lead_person_id: int | None, can_see_people: bool) -> pd.DataFrame:
    """The project's lead person and members (role, person as they may be shown, organisation)."""
    rows = team_rows(conn, project_id, lead_person_id)
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


def measure_charts(conn: Connection, project_id: int, as_of: dt.date, changes: pd.DataFrame) -> list[dict]:
    """One dict per measure of the project with data by ``as_of``, by measure code: ``measure_id``,
    ``code``, ``name``, ``kind``, ``chart``, ``unit``, ``improvement``, ``target``, ``result`` (the
    stored result with periods, cut at ``as_of``), ``variation_icon``, ``assurance_icon``,
    ``improving``, ``concern``, ``changes`` (the project's changes that apply to it: its own and those
    naming no measure) and ``reanalysed``."""
    ma = m.MeasureAnalysis
    rows = [
        dict(r)
        for r in conn.execute(
            select(
                m.Measure.id.label("measure_id"),
                m.Measure.project_id,
                m.Measure.code,
                m.Measure.name,
                m.Measure.kind,
                m.Measure.chart,
                m.Measure.unit,
                m.Measure.improvement,
                m.Measure.target,
                ma.last_period,
                ma.improving,
                ma.concern,
                ma.result,
            )
            .join(ma, ma.measure_id == m.Measure.id)
            .where(m.Measure.project_id == project_id)
            .order_by(m.Measure.code)
        ).mappings()
    ]
    later = reanalysed(conn, [r for r in rows if _day(r["last_period"]) > as_of], as_of)
    out = []
    for r in rows:
        if r["measure_id"] in later:
            again = later[r["measure_id"]]
            if again is None:
                continue
            r["result"], summary = again
            r["improving"], r["concern"] = summary["improving"], summary["concern"]
        r["reanalysed"] = r["measure_id"] in later
        r["improving"], r["concern"] = bool(r["improving"]), bool(r["concern"])
        r["variation_icon"] = spc_charts.variation_icon(r["result"])
        r["assurance_icon"] = spc_charts.assurance_icon(r["result"], r["target"])
        mine = changes[changes["measure"].isna() | (changes["measure"] == r["code"])]
        r["changes"] = [
            {"day": c.changed_on.isoformat(), "title": c.title, "kind": c.kind} for c in mine.itertuples()
        ]
        out.append(r)
    return out


def project_data(
    conn: Connection, code: str, as_of: dt.date, can_see_people: bool = False
) -> ProjectData | None:
    """Everything the Project page draws for project ``code`` as of a date (None when unknown). Team
    members are named only when ``can_see_people`` (faculty, admins) and they consented."""
    p = (
        conn.execute(
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
            .where(m.Project.code == code)
        )
        .mappings()
        .first()
    )
    if p is None:
        return None
    about = dict(p)
    for key in ("start_date", "end_date"):
        about[key] = about[key] and _day(about[key])
    if about["start_date"] and about["start_date"] > as_of:
        about["status"] = "not started"
    orgs = organisations(conn, p["id"])
    scores = pd.DataFrame(
        conn.execute(
            select(m.ProgressScore.scored_on, m.ProgressScore.score)
            .where(m.ProgressScore.project_id == p["id"], m.ProgressScore.scored_on <= as_of)
            .order_by(m.ProgressScore.scored_on)
        ).all(),
        columns=["scored_on", "score"],
    )
    scores["scored_on"] = [_day(d) for d in scores["scored_on"]]
    changes = pd.DataFrame(
        conn.execute(
            select(m.Change.changed_on, m.Change.title, m.Change.kind, m.Measure.code)
            .outerjoin(m.Measure, m.Measure.id == m.Change.measure_id)
            .where(m.Change.project_id == p["id"], m.Change.changed_on <= as_of)
            .order_by(m.Change.changed_on, m.Change.title)
        ).all(),
        columns=["changed_on", "title", "kind", "measure"],
    )
    changes["changed_on"] = [_day(d) for d in changes["changed_on"]]
    stale = about["status"] == "active" and p["id"] in measures.stale_project_ids(conn, Scope(), as_of)
    return ProjectData(
        about=about,
        organisations=orgs,
        cross_boundary=orgs["sector"].nunique() > 1 or orgs["kind"].nunique() > 1,
        team=team(conn, p["id"], p["lead_person_id"], can_see_people),
        scores=scores,
        changes=changes,
        measures=measure_charts(conn, p["id"], as_of, changes),
        stale=stale,
    )


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


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
