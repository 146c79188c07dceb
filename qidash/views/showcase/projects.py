"""The project slides: aim, team and organisations, the chart, the story and what the team learned."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from qidash import spc_charts
from qidash.palette import in_sentence, label
from qidash.views import project as project_view
from qidash.views.showcase.privacy import people_count, person_name, suppressed
from qidash.views.showcase.project_chart import (
    BeforeAfter,
    ChartSeries,
    before_after,
    chart_series,
    story_measure,
)


@dataclass(frozen=True)
class Team:
    named: tuple[tuple[str, str], ...]  # (name, role in project) of those who may be named
    others: tuple[str, ...]  # roles of the rest (not public); empty in public mode
    others_count: str  # how many are not named ("3", "<5" in public mode, "" when none)
    size: str  # the team's size as it may be shown
    patient_partners: str  # "2 patient partners", "Patients involved", or ""

    def in_words(self) -> str:
        """The team in one line: names, then the rest by role (or counted, in public mode)."""
        parts = [f"{name} ({in_sentence(label(role))})" for name, role in self.named]
        if self.others:
            parts.append(", ".join(self.others))
        elif self.others_count:
            word = "colleague" if self.others_count == "1" else "colleagues"
            parts.append(f"{'and ' if self.named else ''}{self.others_count} {word}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Organisation:
    name: str
    role: str  # lead | partner
    kind: str
    sector: str


@dataclass(frozen=True)
class ProjectSlide:
    code: str
    title: str
    aim: str
    priority: str
    status: str
    lead_organisation: str
    organisations: tuple[Organisation, ...]
    sectors: tuple[str, ...]  # sector labels, lead's first
    cross_boundary: bool
    team: Team
    story: str
    lessons: str
    latest_score: float | None
    score_words: str
    pdsa_cycles: int
    quiet_win: bool  # celebrated for its story: it has one, and no measure shows sustained improvement
    chart: ChartSeries | None  # the measure that tells the story best
    before_after: BeforeAfter | None
    # (name, variation icon, assurance icon, which meaning of improving applies or "")
    other_measures: tuple[tuple[str, str | None, str | None, str], ...]

    @property
    def title_line(self) -> str:
        return f"{self.code} · {self.title}"


def slide_team(
    rows: list[tuple], public: bool, can_see_people: bool, threshold: int, patient_involvement: bool
) -> Team:
    """The team of a slide from :func:`qidash.views.project.team_rows_by_project` rows."""
    rows = [r[:5] for r in rows]
    order = {"lead": 0, "member": 1, "coach": 2, "sponsor": 3}
    rows = sorted(rows, key=lambda r: (order.get(r[0], 9), r[1] or "", r[3] or ""))
    named, others = [], []
    for project_role, display, consents, job, patient in rows:
        name = person_name(display, bool(consents), can_see_people)
        if name:
            named.append((name, project_role))
        else:
            others.append("Patient partner" if patient else label(job) if job else label(project_role))
    patients = sum(1 for r in rows if r[4])
    if patients:
        word = (
            "patient partner"
            if patients == 1 and not suppressed(patients, public, threshold)
            else "patient partners"
        )
        partners = f"{people_count(patients, public, threshold)} {word}"
    else:
        partners = "Patients involved" if patient_involvement else ""
    return Team(
        named=tuple(named),
        others=() if public else tuple(others),
        others_count=people_count(len(others), public, threshold) if others else "",
        # With the named people listed, the team's size would give away a suppressed count of the rest.
        size="" if suppressed(len(others), public, threshold) else people_count(len(rows), public, threshold),
        patient_partners=partners,
    )


def project_slides(
    conn: Connection,
    codes: tuple[str, ...],
    as_of: dt.date,
    public: bool,
    can_see_people: bool,
    threshold: int,
) -> tuple[ProjectSlide, ...]:
    """The slides of projects ``codes``, in that order (unknown codes left out), read for all of them
    at once: a few queries whatever the number of projects."""
    abouts = project_view.about_rows(conn, codes, as_of)
    ids = [a["id"] for a in abouts.values()]
    organisations = project_view.organisation_rows(conn, ids)
    teams = project_view.team_rows_by_project(conn, ids)
    scores = project_view.score_rows(conn, ids, as_of)
    changes = project_view.change_rows(conn, ids, as_of)
    charts = project_view.measure_charts_by_project(conn, ids, as_of, changes)
    slides = []
    for code in codes:
        about = abouts.get(code)
        if about is None:
            continue
        pid = about["id"]
        orgs = organisations[pid]
        measures_ = charts[pid]
        lead_measure = story_measure(measures_)
        chart = chart_series(lead_measure) if lead_measure else None
        story = (about["story"] or "").strip()
        quiet = bool(story) and not any(mm["improving"] for mm in measures_)
        shown = tuple(
            Organisation(name, role, label(kind), label(sector)) for role, name, _, kind, sector, _ in orgs
        )
        latest = float(scores[pid][-1][1]) if scores[pid] else None
        # Two or more sectors or kinds of organisation (unknown ones not counted), as the Project page.
        spans = any(len({o[i] for o in orgs if o[i] is not None}) > 1 for i in (3, 4))
        slides.append(
            ProjectSlide(
                code=about["code"],
                title=about["title"],
                aim=about["aim"] or "",
                priority=about["priority_name"],
                status=label(about["status"]),
                lead_organisation=about["lead_organisation"],
                organisations=shown,
                sectors=tuple(dict.fromkeys(o.sector for o in shown)),
                cross_boundary=spans,
                team=slide_team(
                    teams[pid], public, can_see_people, threshold, bool(about["patient_involvement"])
                ),
                story=story,
                lessons=(about["lessons"] or "").strip(),
                latest_score=latest,
                score_words=spc_charts.IHI_SCORES.get(latest, "") if latest is not None else "No score yet",
                pdsa_cycles=sum(1 for c in changes[pid] if c[2] == "pdsa"),
                quiet_win=quiet,
                chart=chart,
                before_after=before_after(chart, lead_measure["changes"]) if chart else None,
                other_measures=tuple(
                    (mm["name"], mm["variation_icon"], mm["assurance_icon"], mm["improving_reason"] or "")
                    for mm in measures_
                    if lead_measure is None or mm["code"] != lead_measure["code"]
                ),
            )
        )
    return tuple(slides)


def project_slide(
    conn: Connection, code: str, as_of: dt.date, public: bool, can_see_people: bool, threshold: int
) -> ProjectSlide | None:
    """One project's slide (None when the project is unknown)."""
    slides = project_slides(conn, (code,), as_of, public, can_see_people, threshold)
    return slides[0] if slides else None

