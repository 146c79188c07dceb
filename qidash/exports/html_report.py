"""The Showcase as one standalone HTML file: every chart is inline SVG, the styles are in the file,
there is no script, font, image or link to fetch, so it opens offline and prints one slide per page
(A4 landscape). ``board_only`` gives the one-page board summary alone.
"""

from __future__ import annotations

from html import escape

from qidash import icons
from qidash.exports import svg
from qidash.palette import NHS_BLUE, NHS_DARK_BLUE, NHS_GREEN, NHS_GREY, NHS_ORANGE, NHS_PALE_GREY
from qidash.views.showcase import (
    KIND_BOARD,
    KIND_FUNNEL,
    KIND_IMPACT,
    KIND_MAP,
    KIND_NUMBERS,
    KIND_PROJECT,
    ProjectSlide,
    Showcase,
    board_key,
)

# Printed, each slide is one page: A4 landscape less the margins is 190 mm high, and a slide a little
# shorter than that can never spill onto a second page (what it holds is sized to fit; tests check that
# nothing is cut off). The printed board lists its first PRINT_BOARD_ROWS measures and says how many more
# the report holds.
PAGE_MARGIN_MM = 10
PAGE_HEIGHT_MM = 210 - 2 * PAGE_MARGIN_MM - 2
LONG_STORY = 500  # characters of story and lessons together
PRINT_BOARD_ROWS = 12

STYLE = f"""
@page {{ size: A4 landscape; margin: {PAGE_MARGIN_MM}mm; }}
* {{ box-sizing: border-box; }}
body {{ font-family: Arial, Helvetica, sans-serif; color: #212B32; margin: 0; background: {NHS_PALE_GREY}; }}
header.report {{ background: {NHS_BLUE}; color: white; padding: 18px 32px; }}
header.report h1 {{ margin: 0; font-size: 30px; }}
header.report p {{ margin: 4px 0 0; font-size: 15px; }}
section.slide {{ background: white; margin: 18px auto; max-width: 1180px; padding: 26px 34px; border-radius: 4px;
  break-after: page; page-break-after: always; }}
section.slide:last-of-type {{ break-after: auto; page-break-after: auto; }}
h2 {{ color: {NHS_DARK_BLUE}; font-size: 30px; margin: 0 0 4px; }}
.sub {{ color: {NHS_GREY}; font-size: 15px; margin: 0 0 14px; }}
.aim {{ font-size: 20px; margin: 4px 0 14px; }}
.tiles {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; }}
.tile {{ background: #F0F4F5; border-radius: 4px; padding: 14px 16px; }}
.tile .value {{ font-size: 40px; font-weight: bold; color: {NHS_BLUE}; }}
.tile .label {{ font-size: 16px; font-weight: bold; margin-top: 4px; }}
.tile .note {{ font-size: 13px; color: {NHS_GREY}; margin-top: 4px; }}
.impact .tile {{ margin-bottom: 12px; }}
.impact .label {{ font-size: 22px; color: {NHS_DARK_BLUE}; }}
.cols {{ display: grid; grid-template-columns: 3fr 2fr; gap: 22px; }}
.cols.quiet {{ grid-template-columns: 3fr 2fr; }}
svg {{ max-width: 100%; height: auto; }}
.ba {{ display: flex; gap: 14px; align-items: stretch; margin-top: 8px; }}
.ba div {{ background: #F0F4F5; border-radius: 4px; padding: 8px 12px; font-size: 13px; color: {NHS_GREY}; }}
.ba b {{ display: block; font-size: 26px; color: #212B32; }}
.ba .better b {{ color: {NHS_GREEN}; }} .ba .worse b {{ color: {NHS_ORANGE}; }}
.story {{ font-size: 19px; line-height: 1.4; }}
.quiet .story {{ font-size: 24px; }}
h3 {{ font-size: 16px; color: {NHS_DARK_BLUE}; margin: 14px 0 4px; text-transform: uppercase; letter-spacing: .03em; }}
ul.orgs {{ margin: 0; padding-left: 18px; font-size: 14px; }}
.chip {{ display: inline-block; background: {NHS_PALE_GREY}; border-radius: 10px; padding: 2px 10px; margin: 2px 4px 2px 0;
  font-size: 13px; }}
.badge {{ display: inline-block; background: {NHS_GREEN}; color: white; border-radius: 3px; padding: 2px 8px; font-size: 13px;
  font-weight: bold; vertical-align: middle; }}
table.board {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
table.board th {{ text-align: left; border-bottom: 2px solid {NHS_DARK_BLUE}; padding: 4px 6px; }}
table.board td {{ border-bottom: 1px solid {NHS_PALE_GREY}; padding: 3px 6px; vertical-align: middle; }}
.icons-key {{ display: flex; flex-wrap: wrap; gap: 10px 18px; font-size: 12px; color: {NHS_GREY}; margin-top: 10px; }}
.icons-key span {{ display: inline-flex; align-items: center; gap: 4px; }}
footer {{ text-align: center; color: {NHS_GREY}; font-size: 12px; padding: 10px; }}
@media print {{ body {{ background: white; }} header.report {{ display: none; }}
  section.slide {{ margin: 0; max-width: none; padding: 0; }}
  section.slide {{ height: {PAGE_HEIGHT_MM}mm; overflow: hidden; }}
  footer {{ display: none; }} .story {{ font-size: 16px; }} .quiet .story {{ font-size: 20px; }}
  .story.long {{ font-size: 13px; }} .quiet .story.long {{ font-size: 16px; }} details {{ display: none; }}
  table.board {{ font-size: 11px; }} table.board td {{ padding: 1px 6px; }} table.board .sub {{ font-size: 9px; }}
  table.board svg {{ width: 22px; height: 22px; }} table.board tr.more {{ display: none; }}
  .print-only {{ display: block; }} }}
.print-only {{ display: none; }}
"""


# The report holds imported text, every piece escaped; should anything slip through, the browser still
# runs no script and fetches nothing: styles inline, images only as data, no form, no base, no frame.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _e(text) -> str:
    return escape(str(text))


def _numbers(sc: Showcase) -> str:
    tiles = "".join(
        f'<div class="tile"><div class="value">{_e(n.text)}</div><div class="label">{_e(n.label)}</div>'
        f'<div class="note">{_e(n.note)}</div></div>'
        for n in sc.numbers
    )
    return f'<div class="tiles">{tiles}</div>'


def _funnel(sc: Showcase) -> str:
    parts = []
    for f in sc.funnels:
        if len(sc.funnels) > 1:
            parts.append(f"<h3>{_e(f.framework)}</h3>")
        parts.append(svg.funnel(f))
    parts.append(
        '<p class="sub">People who reached at least each tier; the percentage is the share of the '
        "tier before who went on to this one.</p>"
    )
    return "".join(parts)


def _map(sc: Showcase) -> str:
    v = sc.map
    return f'<p class="aim">{_e(v.headline)}</p>{svg.capability_map(v)}' + (
        f'<p class="sub">{_e(v.note)}</p>' if v.note else ""
    )


def _before_after(p: ProjectSlide) -> str:
    ba = p.before_after
    if ba is None:
        return ""
    verdict = "" if ba.better is None else ba.verdict
    split = f'<p class="sub">Split at the change “{_e(ba.change)}”.</p>' if ba.change else ""
    return (
        f'<div class="ba"><div><b>{_e(ba.before_text)}</b>median, {_e(ba.before_label.lower())} '
        f"({_e(ba.before_period)})</div>"
        f'<div class="{verdict}"><b>{_e(ba.after_text)}</b>median, {_e(ba.after_label.lower())} '
        f"({_e(ba.after_period)})</div>"
        + (f'<div class="{verdict}"><b>{_e(ba.moved)}</b>{_e(ba.verdict)}</div>' if ba.moved else "")
        + "</div>"
        + split
    )


def _team_and_orgs(p: ProjectSlide) -> str:
    team = p.team.in_words() or "Not recorded"
    extra = f" · {_e(p.team.patient_partners)}" if p.team.patient_partners else ""
    chips = "".join(f'<span class="chip">{_e(s)}</span>' for s in p.sectors)
    orgs = "".join(
        f'<li>{_e(o.name)} <span class="sub">({_e(o.kind)}{", lead" if o.role == "lead" else ""})</span></li>'
        for o in p.organisations[:8]
    )
    more = f"<li>and {len(p.organisations) - 8} more</li>" if len(p.organisations) > 8 else ""
    cross = ' <span class="badge">Across boundaries</span>' if p.cross_boundary else ""
    size = f" · team of {_e(p.team.size)}" if p.team.size else ""
    return (
        f"<h3>Team</h3><p>{_e(team)}{extra}{size}</p>"
        f'<h3>Organisations{cross}</h3><div>{chips}</div><ul class="orgs">{orgs}{more}</ul>'
    )


def _project(p: ProjectSlide) -> str:
    facts = " · ".join(x for x in (p.code, p.priority, p.status, p.lead_organisation) if x)
    score = "" if p.latest_score is None else f" · progress score {p.latest_score:.1f} ({p.score_words})"
    badge = ' <span class="badge">Quiet win</span>' if p.quiet_win else ""
    head = f'<h2>{_e(p.title)}{badge}</h2><p class="sub">{_e(facts)}{_e(score)}</p>' + (
        f'<p class="aim"><b>Aim:</b> {_e(p.aim)}</p>' if p.aim else ""
    )
    # A long story prints smaller, so the slide still fits its page.
    story_class = "story long" if len(p.story or "") + len(p.lessons or "") > LONG_STORY else "story"
    story = (
        f'<h3>The story</h3><p class="{story_class}">{_e(p.story or "No story recorded yet.")}</p>'
        f'<h3>What the team learned</h3><p class="{story_class}">{_e(p.lessons or "Not recorded yet.")}</p>'
    )
    chart = ""
    if p.chart:
        chart = (
            f"<h3>{_e(p.chart.name)}</h3>"
            + svg.spc_chart(p.chart, 560 if p.quiet_win else 720, 330 if p.quiet_win else 400)
            + (f'<p class="sub">Improving: {_e(p.chart.improving_reason)}</p>'
               if p.chart.improving_reason else "")
            + _before_after(p)
            + _annotation_list(p)
        )
    if p.quiet_win:
        # The story takes the wide column; the chart sits beside it, not under the team.
        body = f'<div class="cols quiet"><div>{story}{_team_and_orgs(p)}</div><div>{chart}</div></div>'
    else:
        body = f'<div class="cols"><div>{chart or story}</div><div>{_team_and_orgs(p)}{story if chart else ""}</div></div>'
    return head + body


def _annotation_list(p: ProjectSlide) -> str:
    if not p.chart or not p.chart.annotations:
        return ""
    items = "".join(
        f"<li>{'PDSA' if a.kind == 'pdsa' else 'Change'} {a.number} ({_e(a.day)}): {_e(a.title)}</li>"
        for a in p.chart.annotations
    )
    return f'<details><summary class="sub">PDSA cycles and changes on the chart</summary><ol class="orgs">{items}</ol></details>'


def _impact(sc: Showcase) -> str:
    items = "".join(f'<div class="tile"><div class="label">{_e(line.words)}</div></div>' for line in sc.impact)
    return (
        f'<div class="impact">{items}</div>'
        '<p class="sub">Each measure improved since its baseline is estimated against that baseline, from the '
        "change that began its improved phase to the date, in its own unit; only like is added to like. The "
        f"range reflects the uncertainty of the baseline. {_e(sc.impact_note)}</p>"
    )


def _icon(kind: str, code: str | None, px: int, as_image: bool) -> str:
    """One Making Data Count icon: inline SVG (the report: nothing to fetch), or an image from a data URI
    with the icon's name as its text (a page, whose HTML may not hold SVG)."""
    if not as_image:
        return svg.variation_icon(code, px) if kind == "variation" else svg.assurance_icon(code, px)
    uri = icons.variation_uri(code) if kind == "variation" else icons.assurance_uri(code)
    name = icons.variation_label(code) if kind == "variation" else icons.assurance_label(code)
    return f'<img src="{uri}" width="{px}" height="{px}" alt="{_e(name)}">'


def board_table(sc: Showcase, icon_px: int = 30, as_images: bool = False) -> str:
    """The board's table: a row per measure, with its Making Data Count icons. Cells wrap, so no title or
    measure is cut short."""
    rows = "".join(
        ("<tr>" if i < PRINT_BOARD_ROWS else '<tr class="more">')
        + f"<td><b>{_e(r.project)}</b> {_e(r.title)}</td><td>{_e(r.measure)}"
        + (f'<br><span class="sub">Improving: {_e(r.improving)}</span>' if r.improving else "")
        + "</td>"
        f'<td title="{_e(icons.variation_meaning(r.variation_icon))}">'
        f"{_icon('variation', r.variation_icon, icon_px, as_images)}</td>"
        f'<td title="{_e(icons.assurance_meaning(r.assurance_icon))}">'
        f"{_icon('assurance', r.assurance_icon, icon_px, as_images)}</td>"
        f"<td>{_e(r.before_after)}</td><td>{_e(r.latest_score)}</td></tr>"
        for i, r in enumerate(sc.board)
    )
    more = len(sc.board) - PRINT_BOARD_ROWS
    return (
        '<table class="board"><thead><tr><th>Project</th><th>Measure</th><th>Variation</th><th>Assurance</th>'
        f"<th>Median before → after</th><th>Progress score</th></tr></thead><tbody>{rows}</tbody></table>"
        + (
            f'<p class="sub print-only">and {more} more measure{"s" if more != 1 else ""}: the HTML report '
            "lists them all</p>"
            if more > 0
            else ""
        )
    )


def icons_key(sc: Showcase, icon_px: int = 22, as_images: bool = False) -> str:
    """A key to every icon the board uses (each colour and letter on it), and no other."""
    parts = []
    for kind, code in board_key(sc.board):
        if kind == "variation":
            name, meaning = icons.variation_label(code), icons.variation_meaning(code)
        else:
            name, meaning = icons.assurance_label(code), icons.assurance_meaning(code)
        what = "Variation" if kind == "variation" else "Assurance"
        icon = _icon(kind, code, icon_px, as_images)
        parts.append(f'<span title="{_e(meaning)}">{icon}{what}: {_e(name)}</span>')
    return f'<div class="icons-key">{"".join(parts)}</div>'


def _board(sc: Showcase) -> str:
    tiles = "".join(
        f'<div class="tile"><div class="value" style="font-size:28px">{_e(n.text)}</div>'
        f'<div class="label" style="font-size:13px">{_e(n.label)}</div></div>'
        for n in sc.numbers[:4]
    )
    return f'<div class="tiles" style="margin-bottom:12px">{tiles}</div>{board_table(sc)}{icons_key(sc)}'


def render(sc: Showcase, board_only: bool = False) -> str:
    """The report as one HTML string (UTF-8, no outside reference)."""
    sections = []
    for i, slide in enumerate(sc.slides, start=1):
        if board_only and slide.kind != KIND_BOARD:
            continue
        if slide.kind == KIND_PROJECT:
            body = _project(sc.project(slide.project))
        else:
            body = f'<h2>{_e(slide.title)}</h2><p class="sub">{_e(sc.programme)} · {_e(sc.subtitle)}</p>' + {
                KIND_NUMBERS: _numbers,
                KIND_FUNNEL: _funnel,
                KIND_MAP: _map,
                KIND_IMPACT: _impact,
                KIND_BOARD: _board,
            }[slide.kind](sc)
        sections.append(f'<section class="slide" id="slide-{i}" data-kind="{slide.kind}">{body}</section>')
    note = f"<p>{_e(sc.public_note)}</p>" if sc.public else ""
    title = f"{sc.programme}: {'board summary' if board_only else 'showcase'}"
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f'<header class="report"><h1>{_e(sc.programme)}</h1><p>{_e(sc.subtitle)}</p>{note}</header>'
        + "".join(sections)
        + f"<footer>Made with qidash · {_e(sc.subtitle)}{' · ' + _e(sc.public_note) if sc.public else ''}</footer>"
        "</body></html>\n"
    )
