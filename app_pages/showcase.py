"""Showcase: what faculty put on the screen at a celebration event. One story per screen, stepped with
Next / Previous or the arrow keys: the programme in numbers, the tier funnel, the map, one slide per
chosen project (aim, team and organisations, the chart with its signals and PDSA cycles, before and
after, what the team learned; "quiet wins" from the team's story), and a board summary with the Making
Data Count icons. The same story downloads as a PowerPoint deck, an HTML report and a PDF.

The link holds the view: ``?slide=4&projects=A,B&public=1&present=1``.
"""

import dataclasses

import streamlit as st

from qidash import catalog, maps, spc_charts, tier_charts
from qidash.exports import html_report, images
from qidash.text import markdown_literal as literal
from qidash.text import plotly_literal
from qidash.ui import components, data
from qidash.ui.context import page_context
from qidash.views.showcase import (
    BOARD_SCREEN_ROWS,
    KIND_BOARD,
    KIND_FUNNEL,
    KIND_IMPACT,
    KIND_MAP,
    KIND_NUMBERS,
    SUPPRESS_BELOW,
    alternatives,
    project_choices,
    showcase_data,
    showcase_funnels,
    showcase_map,
    suggested_codes,
)

ctx = page_context()
engine, filters, viewer, programme = ctx.engine, ctx.filters, ctx.viewer, ctx.programme
choices = data.query(engine, project_choices, filters.scope, filters.as_of)
names = {c.code: c.label() for c in choices}


# --- state kept in the URL (read when the session starts, written after every run) ------------------------
def _flag(key: str) -> None:
    if key not in st.session_state:
        st.session_state[key] = st.query_params.get(key) == "1"


_flag("present")
_flag("public")
unknown: list[str] = []
if "showcase_projects" not in st.session_state:
    wanted = [c for c in st.query_params.get("projects", "").split(",") if c]
    unknown = [c for c in wanted if c not in names]
    st.session_state["showcase_projects"] = (
        [c for c in wanted if c in names] if wanted else list(suggested_codes(choices))
    )
# After switching programme or filters, keep only the projects that are still in view.
st.session_state["showcase_projects"] = [c for c in st.session_state["showcase_projects"] if c in names]
if "slide" not in st.session_state:
    try:
        st.session_state["slide"] = int(st.query_params.get("slide", 1))
    except ValueError:
        st.session_state["slide"] = 1


def _step(by: int) -> None:
    st.session_state["slide"] = st.session_state.get("slide", 1) + by


def _present(on: bool) -> None:
    st.session_state["present"] = on


presenting = st.session_state["present"]
# Presenting fills the screen: the sidebar (programme, filters, pages) folds away, and comes back on exit.
st.set_page_config(initial_sidebar_state="collapsed" if presenting else "auto")

# --- setting up (hidden while presenting) ------------------------------------------------------------------
if not presenting:
    components.page_header("Showcase", programme, filters)
    if unknown:
        st.warning(
            f"Not in this view, so left out: {literal(', '.join(unknown))} (unknown, outside the filters, "
            f"or not started by {filters.as_of:%d %B %Y})."
        )
    # The running order shows every chosen project: the picker grows with its chips rather than scrolling
    # them out of sight.
    st.html(
        "<style>.st-key-showcase_projects div:has(> [data-testid='stMultiSelectTagsContainer']),"
        ".st-key-showcase_projects [data-testid='stMultiSelectTagsContainer']"
        "{ max-height: none; overflow: visible; }</style>"
    )
    with st.container(border=True):
        pick, options = st.columns([4, 1])
        with pick:
            st.multiselect(
                "Projects to celebrate, in the order to present them",
                list(names),
                format_func=names.get,
                key="showcase_projects",
                placeholder="Choose projects",
                wrap=True,  # every chosen project in view, a row of chips per line
                help="Listed best first: projects whose charts show sustained improvement (an improving "
                "latest phase, or a new phase better than the first), by latest progress score; then quiet "
                "wins, projects with a story to tell but no improving chart yet.",
            )
        with options:
            st.toggle(
                "Public mode",
                key="public",
                help="For an audience: counts of fewer than 5 people are shown as <5 and nobody is named "
                "unless they agreed to be.",
            )
            st.button(
                "Present",
                type="primary",
                icon=":material/slideshow:",
                on_click=_present,
                args=(True,),
                width="stretch",
                help="Slides only: step with the arrow keys, Esc to come back.",
            )

view = data.query(
    engine,
    showcase_data,
    filters.scope,
    filters.as_of,
    projects=tuple(st.session_state["showcase_projects"]),
    public=st.session_state["public"],
    can_see_people=viewer.can_see_people,
    threshold=SUPPRESS_BELOW,
    # the map and the funnels are drawn when their slide is reached (see map_slide and funnel_slide), not
    # on opening
    with_map=False,
    with_funnels=False,
)
view = dataclasses.replace(view, scope_label=filters.label)  # names, not codes, on slides and exports
# Presenting, the board is read at full size: cut into screens that each fit without scrolling.
slides = view.screens(BOARD_SCREEN_ROWS) if presenting else view.slides


def the_map():
    return data.query(
        engine, showcase_map, filters.scope, filters.as_of, public=view.public, threshold=view.threshold
    )


def the_funnels():
    return data.query(
        engine, showcase_funnels, filters.scope, filters.as_of, public=view.public, threshold=view.threshold
    )


def with_map():
    """The whole showcase, map and funnels included, for the exports (made when a download is clicked)."""
    return dataclasses.replace(view, map=the_map(), funnels=the_funnels())


st.session_state["slide"] = min(max(st.session_state["slide"], 1), len(slides))
number = st.session_state["slide"]
slide = slides[number - 1]

# The address bar always links to this slide of this showcase.
st.query_params["slide"] = str(number)
if st.session_state["showcase_projects"]:
    st.query_params["projects"] = ",".join(st.session_state["showcase_projects"])
else:
    st.query_params.pop("projects", None)
for key in ("public", "present"):
    if st.session_state[key]:
        st.query_params[key] = "1"
    else:
        st.query_params.pop(key, None)


# --- the slides ---------------------------------------------------------------------------------------------
# Presenting, a slide fills the screen and never scrolls: the controls are one slim row at the top, the
# slide takes the rest of the window's height (CSS, so it follows the screen the slides are shown on), and
# its chart, map, funnel or table stretches into whatever the words leave (height="stretch").
BAR_REM = 5.2  # the controls' row and the space around the slide
ROOM_PX = 24  # the smallest text while presenting on a 1920 x 1080 screen, charts' labels included
PRESENTING_STYLE = f"""<style>
header[data-testid="stHeader"] {{ display: none; }}
/* The folded-away sidebar leaves the Tab order too (WCAG 2.4.3 and 2.4.11): its links would otherwise
   take the keyboard's focus out of sight before it reaches the slide's controls. */
[data-testid="stSidebar"][data-collapsed="true"] {{ display: none; }}
[data-testid="stMainBlockContainer"] {{ padding: 0.6rem 2.5rem 0 2.5rem; max-width: none; }}
[data-testid="stLayoutWrapper"]:has(> .st-key-slide_body) {{
  height: calc(100dvh - {BAR_REM}rem); flex: none; }}
.st-key-slide_body {{ height: 100%; }}
.st-key-slide_body h1 {{ font-size: 2.1rem; padding: 0 0 0.2rem 0; }}
[data-testid="stLayoutWrapper"]:has(> .st-key-slide_left) {{ flex: 3 1 0; min-width: 0; }}
[data-testid="stLayoutWrapper"]:has(> .st-key-slide_right) {{ flex: 2 1 0; min-width: 0; }}
.st-key-slide_medians [data-testid="stMetricValue"] {{ font-size: 1.9rem; }}
.st-key-slide_numbers [data-testid="stMetricValue"] {{ font-size: 3rem; }}
.st-key-slide_words h4 {{ font-weight: 500; }}
.st-key-slide_board {{ flex: 1 1 0; min-height: 0; overflow-y: auto; }}
/* The chart takes the height its words leave, however large the words. */
.st-key-slide_chart {{ flex: 1 1 0; min-height: 0; }}
/* A metric's label wraps rather than being cut short at the room's size. */
.st-key-slide_body [data-testid="stMetricLabel"] * {{ white-space: normal; overflow: visible; }}
.st-key-slide_board table.board {{ line-height: 1.3; }}
/* Read from the back of a room (checked by tests/e2e/test_showcase_browser.py): body text, captions,
   metric labels, the board's cells, the icons' key and the section headings grow with the screen, to
   {ROOM_PX} px at 1920 wide (2.0834vw - 16px), and keep their usual size at 1440, where the slides must
   still fit. The headings keep their order above the body text. */
.st-key-slide_body [data-testid="stMarkdownContainer"] p, .st-key-slide_body li,
.st-key-slide_body [data-testid="stMetricLabel"] p,
.st-key-slide_body table.board, .st-key-slide_body .icons-key {{
  font-size: max(1rem, calc(2.0834vw - 16px)); }}
.st-key-slide_body [data-testid="stCaptionContainer"] {{ font-size: max(0.875rem, calc(2.0834vw - 16px)); }}
.st-key-slide_body table.board .sub {{ font-size: 1em; }}
/* A badge sets its own size inline. */
.st-key-slide_body .stMarkdownBadge {{ font-size: max(0.875rem, calc(2.0834vw - 16px)) !important; }}
/* A metric's value is a paragraph too: it keeps its own, larger size. */
.st-key-slide_body [data-testid="stMetricValue"] p {{ font-size: inherit; }}
.st-key-slide_body h5 {{ font-size: max(0.95rem, calc(2.0834vw - 16px)); padding: 0.3rem 0 0 0; }}
.st-key-slide_body h4 {{ font-size: max(1.2rem, calc(2.0834vw - 12px)); padding: 0.1rem 0; }}
.st-key-slide_body h3 {{ font-size: max(1.4rem, calc(2.0834vw - 8px)); padding: 0.1rem 0; }}
.st-key-slide_body h2 {{ font-size: max(1.6rem, calc(2.0834vw - 4px)); }}
.st-key-slide_board table.board td {{ padding: 0.05rem 0.5rem; }}
</style>"""
fill = "stretch" if presenting else "content"


def heading(text: str) -> None:
    st.markdown(f"##### {literal(text.upper())}", anchors=False)


def numbers_slide() -> None:
    st.title(literal(slide.title), anchor=False)
    st.caption(literal(f"{view.programme} · {view.subtitle}"))
    tiles = st.container(key="slide_numbers")
    for row in range(0, len(view.numbers), 4):
        for col, n in zip(tiles.columns(4), view.numbers[row : row + 4], strict=False):
            with col.container(border=True):
                st.metric(n.label, n.text)  # fixed words and numbers, none imported
                st.caption(n.note or " ")


def funnel_slide() -> None:
    st.title(literal(slide.title), anchor=False)
    st.caption(literal(f"{view.programme} · {view.subtitle}"))
    ladders = {ladder["name"]: ladder["tiers"] for ladder in data.query(engine, catalog.frameworks)}
    funnels = the_funnels()
    with st.container(height=fill, horizontal=len(funnels) > 1, key="slide_funnels"):
        for k, f in enumerate(funnels):
            with st.container(height=fill):
                if len(funnels) > 1:
                    st.subheader(literal(f.framework), anchor=False)
                fig = tier_charts.tier_funnel(ladders[f.framework], {s.code: s.value or 0 for s in f.stages})
                # The words come from the story model, so public mode's "<5" holds on the chart too.
                fig.update_traces(
                    text=[
                        plotly_literal(s.text + (f" · {s.conversion}" if s.conversion else ""))
                        for s in f.stages
                    ],
                    hovertext=[plotly_literal(f"{s.text} reached {s.name} or beyond") for s in f.stages],
                    textfont_size=ROOM_PX if presenting else 22,
                )
                fig.update_layout(height=120 + 110 * len(f.stages), font_size=ROOM_PX if presenting else 20)
                fig.update_yaxes(tickfont_size=ROOM_PX if presenting else 22)
                st.plotly_chart(
                    fig, key=f"funnel_{k}", config=components.PLOTLY_CONFIG, width="stretch", height=fill
                )
                components.alternative(f"funnel_{k}", *alternatives.funnel(f), lazy=True)
    st.caption(
        "People who reached at least each tier; the percentage is the share of the tier before who went "
        "on to this one."
    )


def map_slide() -> None:
    mv = the_map()
    st.title(literal(slide.title), anchor=False)
    if mv is None:
        st.info("No organisation in this scope has a location or a boundary to draw.")
        return
    st.subheader(mv.headline, anchor=False)
    with st.container(horizontal=True, height=fill, gap="medium"):
        with st.container(height=fill, key="slide_left"):
            st.pydeck_chart(
                maps.capability_deck(mv.areas, mv.values, mv.edges, mv.tips, mv.orgs, size_by=mv.size_by),
                height="stretch" if presenting else 620,
                key="showcase_map",
                alt="Map of the PCN areas coloured by coverage, with organisations as points marked by "
                "stage.",
            )
        with st.container(width=320):
            lines = ["**Coverage** per PCN"]
            lines += [f'<span style="color:{c}">&#9608;</span> {text}' for c, text in mv.legend]
            lines += ["", "**Organisations** by stage"]
            lines += maps.stage_legend({s: n for s, _name, _c, n in mv.stages})
            st.markdown("  \n".join(lines), unsafe_allow_html=True)
            if mv.note:
                st.caption(mv.note)
    components.alternative("showcase_map", *alternatives.map_slide(mv), what="map", lazy=True)


def before_and_after(p) -> None:
    ba = p.before_after
    if ba is None:
        return
    a, b, c = st.container(key="slide_medians").columns(3)
    a.metric(f"Median, {ba.before_label.lower()}", ba.before_text)
    a.caption(ba.before_period)
    b.metric(f"Median, {ba.after_label.lower()}", ba.after_text)
    b.caption(ba.after_period)
    if ba.moved:
        c.metric("Change in the median", f"{ba.change_pct:+.0f}%")
        c.caption(f"{ba.moved}: {ba.verdict}")


def project_chart(p, height: int) -> None:
    ch = p.chart
    heading(ch.name)
    fig = spc_charts.spc_chart(
        ch.result,
        changes=[{"day": a.day, "title": a.title, "kind": a.kind} for a in ch.annotations],
        target=ch.target_raw,
        unit=ch.unit,
        height=height,
    )
    fig.update_layout(font_size=15)
    if presenting:  # as high as the screen leaves it, every label read from the back of the room
        fig.update_layout(height=None, font_size=ROOM_PX, legend_font_size=ROOM_PX)
        fig.update_xaxes(tickfont_size=ROOM_PX, title_font_size=ROOM_PX)
        fig.update_yaxes(tickfont_size=ROOM_PX, title_font_size=ROOM_PX)
        fig.update_annotations(font_size=ROOM_PX)
        # Beside the plot, not under it: at this size a legend below would take the plot's height.
        fig.update_layout(legend=dict(orientation="v", x=1.01, y=1, xanchor="left", yanchor="top"))
    with st.container(height=fill, key="slide_chart"):
        st.plotly_chart(
            fig, key=f"chart_{p.code}", config=components.PLOTLY_CONFIG, width="stretch", height=fill
        )
    # Its summary says what the chart shows, the change its medians are split at and which meaning of
    # improving applies.
    components.alternative(f"chart_{p.code}", *alternatives.project_chart(ch, p.before_after), lazy=True)


def team_and_organisations(p, most: int) -> None:
    heading("Team")
    team = literal(p.team.in_words()) or "Not recorded"
    extras = [x for x in (f"team of {p.team.size}" if p.team.size else "", p.team.patient_partners) if x]
    st.markdown(f"{team}" + (f" · {literal(' · '.join(extras))}" if extras else ""))
    heading("Organisations")
    badges = [f":gray-badge[{s}]" for s in p.sectors]
    if p.cross_boundary:
        badges.insert(0, ":blue-badge[:material/handshake: Across boundaries]")
    st.markdown(" ".join(badges))
    st.markdown(
        "  \n".join(
            literal(f"{o.name} · {o.kind}{' (lead)' if o.role == 'lead' else ''}")
            for o in p.organisations[:most]
        )
        + (f"  \nand {len(p.organisations) - most} more" if len(p.organisations) > most else "")
    )


def project_slide() -> None:
    p = view.project(slide.project)
    st.title(literal(p.title), anchor=False)
    facts = [p.code, p.priority, p.status, p.lead_organisation]
    if p.latest_score is not None:
        facts.append(f"progress score {p.latest_score:.1f}: {p.score_words}")
    st.caption(literal(" · ".join(facts)))
    if p.quiet_win:
        st.badge("Quiet win: celebrated for the team's story", icon=":material/favorite:", color="green")
    if p.aim:
        st.markdown(f"#### Aim: {literal(p.aim)}", anchors=False)
    story = [
        ("The story", literal(p.story) if p.story else "*No story recorded yet.*"),
        ("What the team learned", literal(p.lessons) if p.lessons else "*Not recorded yet.*"),
    ]
    # The story beside the chart: the longer it is, the smaller it is set, so the slide still fits.
    length = sum(len(text) for _t, text in story)
    size = "###" if p.quiet_win and length < 400 else "####" if length < 520 else ""

    def words() -> None:
        with st.container(key="slide_words"):
            for title, text in story:
                heading(title)
                st.markdown(f"{size} {text}".strip(), anchors=False)

    def chart() -> None:
        if p.chart:
            project_chart(p, 360 if p.quiet_win else 470)
            before_and_after(p)

    # A quiet win leads with its story (the chart beside it); otherwise the chart leads, the story beside.
    with st.container(horizontal=True, height=fill, gap="large"):
        with st.container(height=fill, key="slide_left"):
            if p.quiet_win:
                words()
                team_and_organisations(p, 4 if presenting else 8)
            else:
                chart()
        with st.container(height=fill, key="slide_right"):
            if p.quiet_win:
                chart()
            else:
                team_and_organisations(p, 5 if presenting else 8)
                words()


# The board's table on the page: the report's own table (titles and measures wrap, never cut short), in the
# page's type.
BOARD_STYLE = """<style>
table.board { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
table.board th { text-align: left; border-bottom: 2px solid #003087; padding: 0.25rem 0.5rem; }
table.board td { border-bottom: 1px solid #E8EDEE; padding: 0.15rem 0.5rem; vertical-align: middle; }
table.board img { display: block; }
table.board .sub { display: block; color: #4C6272; font-size: 0.78em; line-height: 1.25; }
.print-only { display: none; }
.icons-key { display: flex; flex-wrap: wrap; gap: 0.3rem 1.2rem; font-size: 0.85rem; color: #4C6272;
  margin-top: 0.4rem; }
.icons-key span { display: inline-flex; align-items: center; gap: 0.3rem; }
</style>"""


def impact_slide() -> None:
    st.title(slide.title, anchor=False)
    st.caption(f"{view.programme} · {view.subtitle}")
    for line in view.impact:
        with st.container(border=True):
            st.markdown(f"## {literal(line.words[:1].upper() + line.words[1:])}", anchors=False)
    st.caption(
        "Each measure improved since its baseline is estimated against that baseline, from the change "
        "that began its improved phase to the date, in its own unit; only like is added to like. The "
        "range reflects the uncertainty of the baseline. " + view.impact_note
    )


def board_slide() -> None:
    st.title(literal(slide.title), anchor=False)
    st.caption(literal(f"{view.programme} · {view.subtitle}"))
    if presenting:  # the headline numbers in one line, leaving the screen to the measures
        st.markdown(" · ".join(f"{literal(n.label)} **{literal(n.text)}**" for n in view.numbers[:4]))
    else:
        with st.container(horizontal=True, gap="small"):
            for n in view.numbers[:4]:
                st.metric(n.label, n.text, border=True)
    # Presenting, the table takes the height left, and scrolls within itself only when the measures
    # chosen are more than a screen holds.
    # A screen of the board while presenting: its rows, and the key to the icons they use.
    shown = view if slide.rows is None else dataclasses.replace(view, board=view.board[slice(*slide.rows)])
    with st.container(height=fill, key="slide_board"):
        st.html(BOARD_STYLE + html_report.board_table(shown, 40 if presenting else 34, as_images=True))
    st.html(BOARD_STYLE + html_report.icons_key(shown, 32 if presenting else 24, as_images=True))
    st.caption(
        "Variation: what the latest point shows. Assurance: whether the process, as it runs now, will meet "
        "its target. Hover over an icon for what it means."
    )


def controls() -> None:
    """Previous and Next (and Exit, presenting): one row, at the top of the screen when presenting."""
    if presenting:
        where, back, ahead, leave = st.columns([6, 1, 1, 1], vertical_alignment="center")
        where.caption(
            f"{literal(view.programme)} · **{number} / {len(slides)}** · {literal(slide.title)}"
            + (" · public mode" if view.public else "")
        )
    else:
        back, where, ahead = st.columns([1, 4, 1], vertical_alignment="center")
        where.markdown(f"**{number} / {len(slides)}** · {literal(slide.title)}", text_alignment="center")
    back.button(
        "Previous",
        on_click=_step,
        args=(-1,),
        shortcut="Left",
        disabled=number == 1,
        width="stretch",
        key="previous",
    )
    ahead.button(
        "Next",
        on_click=_step,
        args=(1,),
        shortcut="Right",
        disabled=number == len(slides),
        width="stretch",
        key="next",
        type="primary",
    )
    if presenting:
        leave.button(
            "Exit",
            on_click=_present,
            args=(False,),
            shortcut="Esc",
            width="stretch",
            key="exit",
            help="Back to setting up the showcase.",
        )


if presenting:
    st.html(PRESENTING_STYLE)
    controls()

with st.container(key="slide_body", gap="small" if presenting else "medium"):
    if slide.kind == KIND_NUMBERS:
        numbers_slide()
    elif slide.kind == KIND_FUNNEL:
        funnel_slide()
    elif slide.kind == KIND_MAP:
        map_slide()
    elif slide.kind == KIND_IMPACT:
        impact_slide()
    elif slide.kind == KIND_BOARD:
        board_slide()
    else:
        project_slide()
    if view.public:
        st.caption(literal(view.public_note))

if not presenting:
    controls()

# --- exports (hidden while presenting) ----------------------------------------------------------------------
if not presenting:
    st.divider()
    st.subheader("Take the story with you", anchor=False)
    stem = f"showcase-{filters.as_of.isoformat()}" + ("-public" if view.public else "")

    about = {
        "scope": view.scope_label,
        "as_of": view.as_of.isoformat(),
        "projects": [p.code for p in view.projects],
        "public": view.public,
    }

    def export_button(where, kind: str, label: str, make, **kw) -> None:
        """A showcase file, made when the button is clicked, recorded for admins to review."""
        components.file_download(
            label, make, what=f"showcase {kind}", action="export",
            detail={"kind": f"showcase {kind}", **about},
            where=where, width="stretch", **kw,
        )

    def deck_bytes() -> bytes:
        # python-pptx loads when a deck is asked for, not on every opening of the page.
        from qidash.exports import pptx_deck

        return pptx_deck.to_bytes(with_map())

    cols = st.columns(4)
    export_button(
        cols[0], "pptx", "PowerPoint deck", deck_bytes,
        file_name=f"{stem}.pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
        icon=":material/slideshow:",
        help="Every slide, with native charts you can edit in PowerPoint.",
    )
    export_button(
        cols[1], "html", "HTML report", lambda: html_report.render(with_map()).encode(),
        file_name=f"{stem}.html",
        mime="text/html",
        icon=":material/description:",
        help="One file that opens in any browser, offline; prints one slide per page.",
    )
    export_button(
        cols[2], "board", "Board summary", lambda: html_report.render(view, board_only=True).encode(),
        file_name=f"board-summary-{filters.as_of.isoformat()}.html",
        mime="text/html",
        icon=":material/table_chart:",
        help="One page (HTML): the headline numbers and the Making Data Count icons of every chosen measure.",
    )
    if images.chromium():
        export_button(
            cols[3], "pdf", "PDF report", lambda: images.report_pdf(with_map()),
            file_name=f"{stem}.pdf",
            mime="application/pdf",
            icon=":material/picture_as_pdf:",
            help="The HTML report printed by the server's Chromium, one slide per A4 page.",
        )
    else:
        cols[3].caption(
            "A PDF needs Chromium on the server: print the HTML report from your browser instead."
        )
    st.caption(
        "The command line makes the same files: "
        "`python -m qidash showcase --out FILE.pptx|FILE.html|FILE.pdf [--public] [--projects CODES]`."
    )
