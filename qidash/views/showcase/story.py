"""The story: the slides in the order they are presented, and :func:`showcase_data`, which builds the
whole :class:`Showcase` for a scope and date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select

from qidash import db, impact, measures
from qidash import models as m
from qidash.scope import Scope
from qidash.views import impact as impact_view
from qidash.views.showcase.board import BoardRow, board_rows
from qidash.views.showcase.choices import project_choices, suggested_codes
from qidash.views.showcase.funnel import Funnel, funnels
from qidash.views.showcase.map_slide import MapView, map_to_draw, showcase_map
from qidash.views.showcase.numbers import NUMBER_KEYS, REPORT_KEYS, Number, headline_numbers
from qidash.views.showcase.privacy import SUPPRESS_BELOW
from qidash.views.showcase.projects import ProjectSlide, project_slides

KIND_NUMBERS = "numbers"
KIND_FUNNEL = "funnel"
KIND_MAP = "map"
KIND_PROJECT = "project"
KIND_BOARD = "board"
KIND_IMPACT = "impact"
# The board's measures on one screen while presenting: at 24 px on a 1920 x 1080 screen, with the title,
# the headline numbers, the icons' key and its note, six rows of wrapped titles fit.
BOARD_SCREEN_ROWS = 6
IMPACT_TITLE = "What the improvements added up to"


@dataclass(frozen=True)
class Slide:
    kind: str  # numbers | funnel | map | project | board
    title: str
    project: str | None = None
    rows: tuple[int, int] | None = None  # a board screen's (first, end) rows; None: the whole board


@dataclass(frozen=True)
class Showcase:
    programme: str
    scope_label: str
    as_of: dt.date
    public: bool
    threshold: int
    synthetic: bool
    numbers: tuple[Number, ...]
    funnels: tuple[Funnel, ...]
    map: MapView | None
    projects: tuple[ProjectSlide, ...]
    board: tuple[BoardRow, ...]
    # Built without its map (``with_map=False``) but with one to show: the page draws the map slide
    # from :func:`showcase_map` when it is reached, so opening the showcase does not wait for it.
    map_deferred: bool = False
    # Likewise built without its funnels (``with_funnels=False``) but with someone trained to show
    # on them: :func:`showcase_funnels` draws them when their slide is reached.
    funnels_deferred: bool = False
    # The largest like-for-like impact totals (qidash.views.impact.lines, public mode applied) and how
    # many measures were and were not estimated (docs/impact.md); no slide when there is none.
    impact: tuple = ()
    impact_note: str = ""

    @property
    def subtitle(self) -> str:
        parts = [self.scope_label, f"as of {self.as_of:%d %B %Y}"]
        if self.synthetic:
            parts.append("synthetic demo data")
        return " · ".join(parts)

    @property
    def slides(self) -> list[Slide]:
        """The presentation in order: numbers, funnel, map, one per project, board summary."""
        out = [Slide(KIND_NUMBERS, "The programme in numbers")]
        if self.funnels or self.funnels_deferred:
            out.append(Slide(KIND_FUNNEL, "From learning to leading: the tier funnel"))
        if self.map is not None or self.map_deferred:
            out.append(Slide(KIND_MAP, "Where QI capability has reached"))
        if self.impact:
            out.append(Slide(KIND_IMPACT, IMPACT_TITLE))
        for p in self.projects:
            out.append(Slide(KIND_PROJECT, p.title, p.code))
        out.append(Slide(KIND_BOARD, "Board summary: Making Data Count"))
        return out

    def screens(self, board_rows: int) -> list[Slide]:
        """The slides as presented: the board cut into screens of at most ``board_rows`` measures, titled
        "(1 of 3)", so it is read at full size without scrolling (one board slide when it fits)."""
        out = self.slides
        if len(self.board) <= board_rows:
            return out
        board = out.pop()
        n = len(self.board)
        starts = range(0, n, board_rows)
        out += [
            Slide(KIND_BOARD, f"{board.title} ({k} of {len(starts)})", rows=(a, min(a + board_rows, n)))
            for k, a in enumerate(starts, start=1)
        ]
        return out

    def project(self, code: str) -> ProjectSlide:
        return next(p for p in self.projects if p.code == code)

    @property
    def public_note(self) -> str:
        if not self.public:
            return ""
        return (
            f"Public mode: counts of fewer than {self.threshold} people are shown as "
            f"<{self.threshold}; people are named only with their consent."
        )


def showcase_data(
    conn: Connection,
    scope: Scope,
    as_of: dt.date,
    projects: tuple[str, ...] | None = None,
    public: bool = False,
    can_see_people: bool = True,
    threshold: int = SUPPRESS_BELOW,
    with_map: bool = True,
    with_funnels: bool = True,
) -> Showcase:
    """The whole showcase for a scope and date. ``projects``: codes in the order to present them (None:
    the suggestions of :func:`suggested_codes`); codes not in :func:`project_choices` are skipped (the
    page and the command check them first and say so). ``with_map=False`` leaves the map to
    :func:`showcase_map` (``map_deferred`` says whether there is one), ``with_funnels=False`` the
    funnels to :func:`showcase_funnels` (``funnels_deferred`` says whether there are any)."""
    if projects is None:
        codes = suggested_codes(project_choices(conn, scope, as_of))
    else:
        # project_choices lists the projects started by as_of in scope; checking a code needs no ranking.
        known = set(
            conn.scalars(
                select(m.Project.code).where(
                    m.Project.code.in_(list(projects)),
                    m.Project.id.in_(measures.projects_started(scope, as_of)),
                )
            )
        )
        codes = tuple(c for c in projects if c in known)
    report = measures.report(conn, scope, as_of, REPORT_KEYS if with_funnels else NUMBER_KEYS)
    split = measures.people_trained_split(conn, scope, as_of)
    slides = project_slides(conn, codes, as_of, public, can_see_people, threshold)
    estimated = impact.impact_report(conn, scope, as_of)
    return Showcase(
        programme=db.get_setting(conn, "scenario_title") or "QI capability",
        scope_label=scope.label(),
        as_of=as_of,
        public=public,
        threshold=threshold,
        synthetic=db.get_setting(conn, "demo") == "yes",
        numbers=headline_numbers(report, split, public, threshold),
        funnels=funnels(conn, report, public, threshold) if with_funnels else (),
        map=showcase_map(conn, scope, as_of, public, threshold) if with_map else None,
        projects=slides,
        board=board_rows(slides),
        map_deferred=not with_map and map_to_draw(conn, scope),
        # A framework's funnel shows when someone reached one of its tiers: someone was trained.
        funnels_deferred=not with_funnels and report["people_trained"] > 0,
        impact=impact_view.lines(estimated.totals, public, threshold),
        impact_note=impact_view.not_estimated_note(estimated),
    )
