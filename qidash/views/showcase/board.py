"""The board summary: one row per chosen measure with its Making Data Count icons, and the key to them."""

from __future__ import annotations

from dataclasses import dataclass

from qidash import icons
from qidash.views.showcase.projects import ProjectSlide


@dataclass(frozen=True)
class BoardRow:
    project: str
    title: str
    measure: str
    variation_icon: str | None
    assurance_icon: str | None
    before_after: str
    latest_score: str
    improving: str = ""  # which meaning of improving applies, in words ("" when not improving)


def board_key(board: tuple[BoardRow, ...]) -> tuple[tuple[str, str | None], ...]:
    """The icons a board uses, as ("variation" | "assurance", icon code or None for not assessed), in
    the order of :data:`icons.VARIATION` then :data:`icons.ASSURANCE`: what its key must explain."""
    used_v = {r.variation_icon for r in board}
    used_a = {r.assurance_icon for r in board}
    return tuple(
        [("variation", c) for c in (*icons.VARIATION, None) if c in used_v]
        + [("assurance", c) for c in (*icons.ASSURANCE, None) if c in used_a]
    )


def board_rows(projects: tuple[ProjectSlide, ...]) -> tuple[BoardRow, ...]:
    """The board's rows: each project's story measure (with its median before and after), then its other
    measures; a project with no measure gets one row saying so."""
    rows = []
    for p in projects:
        score = "–" if p.latest_score is None else f"{p.latest_score:.1f}"
        if p.chart:
            ba = p.before_after
            rows.append(
                BoardRow(
                    p.code,
                    p.title,
                    p.chart.name,
                    p.chart.variation_icon,
                    p.chart.assurance_icon,
                    f"{ba.before_text} → {ba.after_text}"
                    + (f" ({ba.verdict})" if ba.better is not None else "")
                    if ba
                    else "–",
                    score,
                    p.chart.improving_reason or "",
                )
            )
        for name, variation, assurance, improving in p.other_measures:
            rows.append(BoardRow(p.code, p.title, name, variation, assurance, "", score, improving))
        if not p.chart and not p.other_measures:
            rows.append(BoardRow(p.code, p.title, "No measure with data yet", None, None, "", score))
    return tuple(rows)

