"""Choosing the projects to celebrate: every project in view, best first, and the few suggested."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select

from qidash import measures
from qidash import models as m
from qidash.analysis import REANALYSIS_COLUMNS, reanalysed
from qidash.scope import Scope

SUGGEST_IMPROVING = 5  # projects with sustained improvement chosen by default
SUGGEST_QUIET = 2  # quiet wins chosen by default


@dataclass(frozen=True)
class ProjectChoice:
    code: str
    title: str
    latest_score: float | None
    improving: int  # measures improving (DESIGN.md section 4)
    sustained: bool  # a measure improving (DESIGN.md section 4: latest point, or since baseline)
    has_story: bool

    @property
    def quiet_win(self) -> bool:
        return self.has_story and not self.sustained

    def label(self) -> str:
        """ "CODE · title (improving)", the title cut short, for a picker."""
        tag = "improving" if self.sustained else "quiet win" if self.has_story else "no story yet"
        title = self.title if len(self.title) <= 48 else self.title[:46].rstrip() + "…"
        return f"{self.code} · {title} ({tag})"


def _choice_projects(conn: Connection, scope: Scope, as_of: dt.date) -> list[tuple]:
    """(id, code, title, latest progress score or None, story) of every project started by ``as_of``
    in scope, by code. The latest score is :func:`qidash.measures.portfolio_projects`'s.

    The scores are read on their own: joined to the projects, SQLite scanned the whole table of
    latest scores once per project (0.6 s at scale 50, 4,900 projects)."""
    started = measures.projects_started(scope, as_of)
    last_score = measures.latest_scores(as_of, scope)
    scores = dict(conn.execute(select(last_score.c.project_id, last_score.c.score)).all())
    projects = conn.execute(
        select(m.Project.id, m.Project.code, m.Project.title, m.Project.story)
        .where(m.Project.id.in_(started))
        .order_by(m.Project.code)
    ).all()
    return [(pid, code, title, scores.get(pid), story) for pid, code, title, story in projects]


def _measures_by_project(conn: Connection, scope: Scope, as_of: dt.date) -> tuple[dict, dict]:
    """({project id: measures improving}, {project id: any measure improving}) over the measures of the
    projects started by ``as_of`` in scope with data by then, each cut at ``as_of`` (re-analysed when
    the stored analysis runs past it). "Improving" is DESIGN.md section 4's one meaning, stored at load
    (an improvement since the baseline included), so no stored result need be read.
    """
    ma = m.MeasureAnalysis
    started = measures.projects_started(scope, as_of)
    # (measure id, project id, improving, whether its stored analysis runs past as_of), as plain tuples.
    rows = [
        tuple(r)
        for r in conn.execute(
            select(m.Measure.id, m.Measure.project_id, ma.improving, ma.last_period > as_of)
            .join(ma, ma.measure_id == m.Measure.id)
            .where(m.Measure.project_id.in_(started))
        )
    ]
    past = (
        select(*REANALYSIS_COLUMNS)
        .join(ma, ma.measure_id == m.Measure.id)
        .where(m.Measure.project_id.in_(started), ma.last_period > as_of)
    )
    later = (
        reanalysed(conn, [dict(r) for r in conn.execute(past).mappings()], as_of)
        if any(runs_past for *_, runs_past in rows)
        else {}
    )
    improving: dict[int, int] = {}
    kept: dict[int, bool] = {}
    for mid, pid, imp, _ in rows:
        if mid in later:
            again = later[mid]
            if again is None:
                continue  # no observation by the date
            imp = again[1]["improving"]
        improving[pid] = improving.get(pid, 0) + bool(imp)
        kept[pid] = kept.get(pid, False) or bool(imp)
    return improving, kept


def project_choices(conn: Connection, scope: Scope, as_of: dt.date) -> list[ProjectChoice]:
    """Every project started by ``as_of`` in scope, best to celebrate first: those with sustained
    improvement by latest progress score (then measures improving), then quiet wins (a story but no
    improving measure) by score, then the rest."""
    improving, kept = _measures_by_project(conn, scope, as_of)
    choices = [
        ProjectChoice(
            code=code,
            title=title,
            latest_score=score,
            improving=improving.get(pid, 0),
            sustained=kept.get(pid, False),
            has_story=bool((story or "").strip()),
        )
        for pid, code, title, score, story in _choice_projects(conn, scope, as_of)
    ]

    def order(c: ProjectChoice):
        group = 0 if c.sustained else 1 if c.has_story else 2
        return (group, -(c.latest_score or 0), -c.improving, c.code)

    return sorted(choices, key=order)


def suggested_codes(choices: list[ProjectChoice]) -> tuple[str, ...]:
    """What the showcase starts with: the best few with sustained improvement and a couple of quiet wins."""
    best = [c.code for c in choices if c.sustained][:SUGGEST_IMPROVING]
    quiet = [c.code for c in choices if c.quiet_win][:SUGGEST_QUIET]
    return tuple(best + quiet)

