"""Showcase: what faculty put on the screen at a celebration event. One story per screen, stepped with
Next / Previous or the arrow keys: the programme in numbers, the tier funnel, the map, one slide per
chosen project (aim, team and organisations, the chart with its signals and PDSA cycles, before and
after, what the team learned; "quiet wins" from the team's story), and a board summary with the Making
Data Count icons. The same story downloads as a PowerPoint deck, an HTML report and a PDF.

The link holds the view: ``?slide=4&projects=A,B&public=1&present=1``.
"""

import dataclasses

import streamlit as st

from qidash import catalog, icons, maps, spc_charts, tier_charts
from qidash.exports import html_report, images
from qidash.text import markdown_literal as literal
from qidash.text import plotly_literal
from qidash.ui import components, data
from qidash.ui.context import page_context
from qidash.views.showcase import (
    KIND_BOARD,
    KIND_FUNNEL,
    KIND_MAP,
    KIND_NUMBERS,
    SUPPRESS_BELOW,
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
            f"Not in this view, so left out: {literal(', '.join(unknown))} (unknown, outside the filters, or not started "
            f"by {filters.as_of:%d %B %Y})."
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
                help="Listed best first: projects whose charts show sustained improvement (an improving latest "
                "phase, or a new phase better than the first), by latest progress score; then quiet wins, "
                "projects with a story to tell but no improving chart yet.",
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
slides = view.slides


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
def heading(text: str) -> None:
    st.markdown(f"##### {literal(text.upper())}", anchors=False)


def numbers_slide() -> None:
    st.title(literal(slide.title), anchor=False)
    st.caption(literal(f"{view.programme} · {view.subtitle}"))
    for row in range(0, len(view.numbers), 4):
        for col, n in zip(st.columns(4), view.numbers[row : row + 4], strict=False):
            with col.container(border=True):
                st.metric(n.label, n.text)  # fixed words and numbers, none imported
                st.caption(n.note or " ")


def funnel_slide() -> None:
    st.title(literal(slide.title), anchor=False)
    st.caption(literal(f"{view.programme} · {view.subtitle}"))
    ladders = {ladder["name"]: ladder["tiers"] for ladder in data.query(engine, catalog.frameworks)}
    funnels = the_funnels()
    for k, f in enumerate(funnels):
        if len(funnels) > 1:
            st.subheader(literal(f.framework), anchor=False)
        fig = tier_charts.tier_funnel(ladders[f.framework], {s.code: s.value or 0 for s in f.stages})
        # The words come from the story model, so public mode's "<5" holds on the chart too.
        fig.update_traces(
            text=[plotly_literal(s.text + (f" · {s.conversion}" if s.conversion else "")) for s in f.stages],
            hovertext=[plotly_literal(f"{s.text} reached {s.name} or beyond") for s in f.stages],
            textfont_size=22,
        )
        fig.update_layout(height=120 + 110 * len(f.stages), font_size=20)
        fig.update_yaxes(tickfont_size=22)
        components.chart(fig, f"funnel_{k}")
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
    drawing, key = st.columns([4, 1])
    with drawing:
        st.pydeck_chart(
            maps.capability_deck(mv.areas, mv.values, mv.edges, mv.tips, mv.orgs, size_by=mv.size_by),
            height=620,
            key="showcase_map",
            alt="Map of the PCN areas coloured by coverage, with organisations as points coloured by stage.",
        )
    with key:
        lines = ["**Coverage** per PCN"]
        lines += [f'<span style="color:{c}">&#9608;</span> {text}' for c, text in mv.legend]
        lines += ["", "**Organisations** by stage"]
        lines += [f'<span style="color:{c}">&#11044;</span> {name} ({n:,})' for _s, name, c, n in mv.stages]
        st.markdown("  \n".join(lines), unsafe_allow_html=True)
        if mv.note:
            st.caption(mv.note)


def before_and_after(p) -> None:
    ba = p.before_after
    if ba is None:
        return
    a, b, c = st.columns(3)
    a.metric(f"Median, {ba.before_label.lower()}", ba.before_text)
    a.caption(ba.before_period)
    b.metric(f"Median, {ba.after_label.lower()}", ba.after_text)
    b.caption(ba.after_period)
    if ba.moved:
        c.metric("Change in the median", f"{ba.change_pct:+.0f}%")
        c.caption(f"{ba.moved}: {ba.verdict}")
    if ba.change:
        st.caption(f"Compared before and after the change “{literal(ba.change)}”.")


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
        st.subheader(f"Aim: {literal(p.aim)}", anchor=False)
    story = [
        ("The story", literal(p.story) if p.story else "*No story recorded yet.*"),
        ("What the team learned", literal(p.lessons) if p.lessons else "*Not recorded yet.*"),
    ]
    left, right = st.columns([3, 2], gap="large")
    with left:
        if p.quiet_win:
            for title, text in story:
                heading(title)
                st.subheader(text, anchor=False)
        if p.chart:
            ch = p.chart
            heading(ch.name)
            fig = spc_charts.spc_chart(
                ch.result,
                changes=[{"day": a.day, "title": a.title, "kind": a.kind} for a in ch.annotations],
                target=ch.target_raw,
                unit=ch.unit,
                height=360 if p.quiet_win else 470,
            )
            fig.update_layout(font_size=15)
            components.chart(fig, f"chart_{p.code}")
            if ch.improving_reason:
                st.caption(f"Improving: {ch.improving_reason}")
            before_and_after(p)
    with right:
        heading("Team")
        team = literal(p.team.in_words()) or "Not recorded"
        st.markdown(f"### {team}" if len(team) < 60 else f"#### {team}", anchors=False)
        extras = [x for x in (f"team of {p.team.size}" if p.team.size else "", p.team.patient_partners) if x]
        if extras:
            st.caption(literal(" · ".join(extras)))
        heading("Organisations")
        if p.cross_boundary:
            st.badge("Across boundaries", icon=":material/handshake:", color="blue")
        st.markdown(" ".join(f":gray-badge[{s}]" for s in p.sectors))
        st.markdown(
            "  \n".join(
                literal(f"{o.name} · {o.kind}{' (lead)' if o.role == 'lead' else ''}") for o in p.organisations[:8]
            )
            + (f"  \nand {len(p.organisations) - 8} more" if len(p.organisations) > 8 else "")
        )
        if not p.quiet_win:
            for title, text in story:
                heading(title)
                st.markdown(f"#### {text}", anchors=False)


def board_slide() -> None:
    st.title(literal(slide.title), anchor=False)
    st.caption(literal(f"{view.programme} · {view.subtitle}"))
    for col, n in zip(st.columns(4), view.numbers[:4], strict=False):
        col.metric(n.label, n.text, border=True)
    st.dataframe(
        {
            "Project": [r.project for r in view.board],
            "Title": [r.title for r in view.board],
            "Measure": [r.measure for r in view.board],
            "Variation": [icons.variation_uri(r.variation_icon) for r in view.board],
            "Assurance": [icons.assurance_uri(r.assurance_icon) for r in view.board],
            "In words": [
                f"{icons.variation_label(r.variation_icon)}; {icons.assurance_label(r.assurance_icon)}"
                + (f"; improving: {r.improving}" if r.improving else "")
                for r in view.board
            ],
            "Median before → after": [r.before_after for r in view.board],
            "Progress score": [r.latest_score for r in view.board],
        },
        hide_index=True,
        width="stretch",
        row_height=48,
        height=min(40 + 48 * len(view.board), 640),
        column_config={
            "Project": st.column_config.TextColumn(width="small"),
            "Title": st.column_config.TextColumn(width="medium"),
            "Measure": st.column_config.TextColumn(width="medium"),
            "Variation": st.column_config.ImageColumn(width=70),
            "Assurance": st.column_config.ImageColumn(width=70),
            "In words": st.column_config.TextColumn(width="medium"),
        },
    )
    st.caption(
        "Variation: what the latest point shows (blue improvement, orange concern, grey common cause). "
        "Assurance: whether the process will meet its target (P pass, F fail, ? hit and miss)."
    )


if presenting:
    top = st.columns([6, 1], vertical_alignment="center")
    top[0].caption(
        literal(f"{view.programme} · slide {number} of {len(slides)}" + (" · public mode" if view.public else ""))
    )
    top[1].button(
        "Exit",
        on_click=_present,
        args=(False,),
        shortcut="Esc",
        width="stretch",
        key="exit",
        help="Back to setting up the showcase.",
    )

with st.container(key="slide_body"):
    if slide.kind == KIND_NUMBERS:
        numbers_slide()
    elif slide.kind == KIND_FUNNEL:
        funnel_slide()
    elif slide.kind == KIND_MAP:
        map_slide()
    elif slide.kind == KIND_BOARD:
        board_slide()
    else:
        project_slide()
    if view.public:
        st.caption(literal(view.public_note))

back, where, ahead = st.columns([1, 4, 1], vertical_alignment="center")
back.button(
    "Previous",
    on_click=_step,
    args=(-1,),
    shortcut="Left",
    disabled=number == 1,
    width="stretch",
    key="previous",
)
where.markdown(f"**{number} / {len(slides)}** · {literal(slide.title)}", text_alignment="center")
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

# --- exports (hidden while presenting) -------------------------------------------------------------------------
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
            label, make, what=f"showcase {kind}", action="export", detail={"kind": f"showcase {kind}", **about},
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
