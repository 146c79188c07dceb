"""Project: one project's charts (centre line, limits, phases, special causes, PDSA cycles, target) with
their Making Data Count icons and data, its team and partners, progress history and story (all users).

A link such as ``/project?project=CODE`` opens the project; the address bar always holds the one shown.
"""

import streamlit as st

from qidash import icons, recalculation, spc_charts, summaries
from qidash.analysis import IMPROVING_MEANING
from qidash.palette import fmt_int, label
from qidash.text import markdown_literal
from qidash.ui import components, data
from qidash.ui.context import page_context
from qidash.views.impact import measure_impact
from qidash.views.project import (
    STATUS_ORDER,
    download_table,
    measure_summary,
    narrow_projects,
    phase_note,
    picker_count,
    project_choices,
    project_data,
)

SECTIONS = ["Measures", "Progress score and story", "Organisations and team", "PDSA cycles and changes"]

ctx = page_context()
engine, filters, viewer, programme = ctx.engine, ctx.filters, ctx.viewer, ctx.programme
# Shared, not copied on each run (every project in scope: 4,920 at scale 50); the page only reads it.
choices = data.shared_query(engine, project_choices, filters.scope, filters.as_of)

components.page_header("Project", programme, filters)

if not choices:
    st.info("No project in this scope has started by this date.")
    st.stop()

ANY_PRIORITY, ANY_STATUS = "All priorities", "Any status"


def _project_to_url() -> None:
    st.query_params["project"] = st.session_state["project"]


def _narrowed() -> None:
    # A new search or choice of priority or status moves to its first match when the project shown
    # no longer matches; anything else (a link, another section) keeps the project shown.
    st.session_state["project_narrowed"] = True


# The URL names the project (a pasted link, or a drill-down from the Portfolio); a choice made here is
# written back, so the address bar is always a link to this project.
wanted = st.query_params.get("project")
if wanted and wanted not in choices:
    st.warning(
        f"Project {markdown_literal(wanted)} is not in this view: it is unknown, outside the filters, or "
        f"not started by {filters.as_of:%d %B %Y}. Showing another project instead."
    )
elif wanted:
    st.session_state["project"] = wanted

# Narrow first, then choose: at scale a programme has thousands of projects, and a list of them all is
# neither readable nor cheap to send. The picker lists at most PICKER_LIMIT matches and says how many
# there are; the project shown is always among its options, so a link opens any project in view.
priorities = dict(sorted({(c.priority, c.priority_name) for c in choices.values()}))
statuses = [s for s in STATUS_ORDER if any(c.status == s for c in choices.values())]
search, by_priority, by_status = st.columns([2, 1, 1], vertical_alignment="bottom")
text = search.text_input(
    "Find a project", key="project_search", placeholder="Part of its code or title", on_change=_narrowed
)
priority = by_priority.selectbox(
    "Priority", [ANY_PRIORITY, *priorities], key="project_priority",
    format_func=lambda p: priorities.get(p, p), on_change=_narrowed,
)
status = by_status.selectbox(
    "Status", [ANY_STATUS, *statuses], key="project_status", format_func=label, on_change=_narrowed,
)
shown, matched = narrow_projects(
    choices, text, None if priority == ANY_PRIORITY else priority, None if status == ANY_STATUS else status
)
current = st.session_state.get("project")
narrowed = st.session_state.pop("project_narrowed", False)
if current not in choices or (narrowed and shown and current not in shown):
    current = st.session_state["project"] = shown[0] if shown else next(iter(choices))
options = shown if current in shown else [current, *shown]
code = st.selectbox(
    "Project", options, format_func=lambda c: choices[c].label, key="project", on_change=_project_to_url
)
count = picker_count(len(shown), matched, len(choices))
if count:
    st.caption(count)
st.query_params["project"] = code

view = data.query(engine, project_data, code, filters.as_of, can_see_people=viewer.can_see_people)
about = view.about

st.header(markdown_literal(about["title"]), anchor=False)
facts = [code, about["priority_name"], label(about["status"])]
if about["start_date"]:
    facts.append(f"started {about['start_date']:%d %b %Y}")
if about["end_date"]:
    facts.append(f"{'ended' if about['end_date'] <= filters.as_of else 'ends'} {about['end_date']:%d %b %Y}")
if about["pcn_name"]:
    facts.append(about["pcn_name"])
if about["cohort"]:
    facts.append(f"cohort {about['cohort']}")
st.caption(markdown_literal(" · ".join(facts)))
if about["aim"]:
    st.markdown(f"**Aim:** {markdown_literal(about['aim'])}")
if view.stale:
    st.warning(
        "This project has gone stale: no new data point and no progress score in the 90 days to "
        f"{filters.as_of:%d %B %Y}. Ask the team to update their measures and score."
    )

latest = view.scores["score"].iloc[-1] if not view.scores.empty else None
improving = sum(1 for mm in view.measures if mm["improving"])
pdsa = int((view.changes["kind"] == "pdsa").sum())
tiles = st.columns(5)
tiles[0].metric("Latest progress score", "–" if latest is None else f"{latest:.1f}")
tiles[0].caption(spc_charts.IHI_SCORES.get(latest, "No score yet") if latest is not None else "No score yet")
tiles[1].metric(
    "Measures improving",
    f"{improving} of {len(view.measures)}",
    help=IMPROVING_MEANING,
)
tiles[2].metric("PDSA cycles", fmt_int(pdsa))
tiles[2].caption(f"{fmt_int(len(view.changes) - pdsa)} other changes")
tiles[3].metric("Team", fmt_int(len(view.team)))
patients = int(view.team["patient_partner"].sum())
tiles[3].caption(
    f"{fmt_int(patients)} patient partner{'s' if patients > 1 else ''}"
    if patients
    else "Patients involved"
    if about["patient_involvement"]
    else "No patient partner recorded"
)
tiles[4].metric("Organisations", fmt_int(len(view.organisations)))
tiles[4].caption("Cross-boundary" if view.cross_boundary else "One sector and kind")

# The project's sections, each in a tab of which only the open one is built: a menu move to the page
# draws the headline and the measures' charts, not every chart and table. Switching tab reruns the page.
measures_tab, progress_tab, people_tab, changes_tab = st.tabs(SECTIONS, key="project_tab", on_change="rerun")

if measures_tab.open:
    with measures_tab:
        st.subheader("Measures")
        if not view.measures:
            st.info("No measure of this project has data by this date.")
        for measure in view.measures:
            result = measure["result"]
            with st.container(border=True):
                st.markdown(f"#### {markdown_literal(measure['name'])}", anchors=False)
                st.caption(markdown_literal(measure_summary(measure)))
                note = phase_note(measure)
                if note:
                    st.markdown(note)
                if measure["improving"]:
                    st.markdown(f":green[**Improving:**] {measure['improving_reason']}.")
                shading, impact_words = measure_impact(measure)
                if impact_words:
                    st.caption(markdown_literal(impact_words))
                suggestion = measure["suggestion"]
                if suggestion is not None:
                    with st.container(border=True):
                        st.markdown(f"**Suggested recalculation.** {suggestion['words']}")
                        if viewer.is_admin:
                            accept, dismiss = st.columns(2)
                            if accept.button(
                                f"Accept: new phase from {suggestion['starts_on']:%b %Y}",
                                key=f"accept_{code}_{measure['code']}",
                                icon=":material/check:",
                            ):
                                recalculation.accept(
                                    engine, viewer.email, measure["measure_id"], suggestion["starts_on"],
                                    suggestion["change"],
                                )
                                st.rerun()
                            if dismiss.button(
                                "Dismiss", key=f"dismiss_{code}_{measure['code']}", icon=":material/close:"
                            ):
                                recalculation.dismiss(
                                    engine, viewer.email, measure["measure_id"], suggestion["starts_on"],
                                    suggestion["change"],
                                )
                                st.rerun()
                        else:
                            st.caption(
                                "An admin can accept it (a rebase is stored and the chart recalculated) "
                                "or dismiss it."
                            )
                side, chart = st.columns([1, 5])
                with side:
                    variation, assurance = measure["variation_icon"], measure["assurance_icon"]
                    components.named_images(
                        [(icons.variation_svg(variation), icons.variation_name(variation))], 56
                    )
                    st.caption(icons.variation_meaning(measure["variation_icon"]))
                    components.named_images(
                        [(icons.assurance_svg(assurance), icons.assurance_name(assurance))], 56
                    )
                    st.caption(icons.assurance_meaning(measure["assurance_icon"]))
                with chart:
                    components.chart(
                        spc_charts.spc_chart(
                            result, changes=measure["changes"], target=measure["target"],
                            unit=measure["unit"], suggestion=suggestion, impact=shading,
                        ),
                        f"chart_{measure['code']}",
                        *summaries.spc_measure(
                            result, icons.variation_name(variation), icons.assurance_name(assurance)
                        ),
                    )
                components.table_download(
                    "Download the chart's data (CSV)",
                    download_table(result),
                    file_name=f"{code}_{measure['code']}.csv",
                    what="chart data",
                    detail={"project": code, "measure": measure["code"]},
                    key=f"csv_{measure['code']}",
                )

if progress_tab.open:
    with progress_tab:
        left, right = st.columns([3, 2])
        with left:
            st.subheader("Progress score history")
            if view.scores.empty:
                st.info("No progress score recorded by this date.")
            else:
                components.chart(
                    spc_charts.progress_history(view.scores, filters.as_of),
                    "progress",
                    *summaries.progress_history(view.scores),
                )
        with right:
            st.subheader("Quiet wins")
            with st.container(border=True):
                st.markdown(
                    f"**The story.** {markdown_literal(about['story'])}"
                    if about["story"]
                    else "*No story recorded yet.*"
                )
                st.markdown(
                    f"**Lessons learned.** {markdown_literal(about['lessons'])}"
                    if about["lessons"]
                    else "*No lessons recorded yet.*"
                )

if people_tab.open:
    with people_tab:
        st.subheader("Organisations")
        if view.cross_boundary:
            st.caption("Cross-boundary: the organisations span more than one sector or kind.")
        st.dataframe(
            {
                "Role": [label(r) for r in view.organisations["role"]],
                "Organisation": list(view.organisations["name"]),
                "Kind": [label(k) for k in view.organisations["kind"]],
                "Sector": [label(s) for s in view.organisations["sector"]],
                "PCN": [p if isinstance(p, str) else "" for p in view.organisations["pcn"]],
            },
            hide_index=True,
            width="stretch",
            column_config={"Role": st.column_config.TextColumn(width="small")},
        )
        st.subheader("Team")
        st.caption("Names are shown only for people who agreed to be named; others by their role.")
        st.dataframe(
            {
                "Role in project": [label(r) for r in view.team["role"]],
                "Person": list(view.team["person"]),
                "Organisation": list(view.team["organisation"]),
            },
            hide_index=True,
            width="stretch",
            column_config={"Role in project": st.column_config.TextColumn(width="small")},
        )

if changes_tab.open:
    with changes_tab:
        st.subheader("PDSA cycles and changes")
        st.caption(f"{fmt_int(len(view.changes))} recorded by {filters.as_of:%d %B %Y}, oldest first.")
        st.dataframe(
            {
                "Date": list(view.changes["changed_on"]),
                "Kind": [label(k) for k in view.changes["kind"]],
                "Title": list(view.changes["title"]),
                "Measure": [m if isinstance(m, str) else "all" for m in view.changes["measure"]],
            },
            hide_index=True,
            width="stretch",
        )
