"""Portfolio: every project by priority and latest progress score, the Making Data Count icons of every
measure with drill-down to its chart, and small multiples of the charts, improving first (all users)."""

import streamlit as st

from qidash import charts, icons, impact, spc_charts, summaries
from qidash.analysis import IMPROVING_MEANING
from qidash.palette import fmt_int, label
from qidash.text import markdown_literal
from qidash.ui import components, data
from qidash.ui.context import page_context
from qidash.ui.filters import url_selectbox
from qidash.views import impact as impact_view
from qidash.views.portfolio import (
    ROWS_PER_PAGE,
    SHOW,
    STATUSES,
    chart_results,
    filtered,
    headline,
    icon_grid,
    portfolio_data,
    project_table,
)

PAGE_SIZE = 12
PER_ROW = 3
PROJECT_PAGE = "app_pages/project.py"

if "_open_project" in st.session_state:  # a row was selected in one of the tables below
    # The whole query string goes along: switching page this way does not carry the sidebar's widget
    # state, which the frame then reads back from the URL (programme, filters, date).
    st.switch_page(
        PROJECT_PAGE,
        query_params={**st.query_params.to_dict(), "project": st.session_state.pop("_open_project")},
    )

ctx = page_context()
engine, filters, programme = ctx.engine, ctx.filters, ctx.programme
# Shared, not copied: the view is 3.9 MB of frames at scale 50, and the page only reads it.
view = data.shared_query(engine, portfolio_data, filters.scope, filters.as_of)

components.page_header("Portfolio", programme, filters)

if view.projects.empty:
    st.info("No project in this scope has started by this date.")
    st.stop()

present = set(view.projects["status"])
left, middle, right = st.columns(3)
with left:
    priority = url_selectbox("Priority", {"all": "All priorities", **view.priorities}, key="priority")
with middle:
    status = url_selectbox(
        "Status on the date",
        {"all": "Any status", **{s: label(s) for s in STATUSES if s in present}},
        key="status",
    )
with right:
    show = url_selectbox(
        "Show",
        SHOW,
        key="show",
        help="Improving measures (special-cause improvement at the latest point, or improved since "
        "baseline), measures whose latest point shows concern, or the projects that have gone stale.",
    )
st.caption(
    "Locality, PCN, organisation kind and sector filters are in the sidebar: a project is in them "
    "when its lead or a partner organisation is."
)
projects, rows = filtered(
    view, None if priority == "all" else priority, None if status == "all" else status, show
)
top = headline(projects, rows)

tiles = st.columns(5)
tiles[0].metric("Projects", fmt_int(top["projects"]), help="Projects started by the date in this view.")
tiles[0].caption(f"{fmt_int(top['active'])} active · {fmt_int(top['completed'])} completed")
tiles[1].metric(
    "Projects improving",
    fmt_int(top["improving"]),
    help="Projects with at least one improving measure. " + IMPROVING_MEANING,
)
showing = (
    "1 measure shows improvement at its latest point"
    if top["improvement_icons"] == 1
    else f"{fmt_int(top['improvement_icons'])} measures show improvement at their latest point"
)
tiles[1].caption(f"{showing} · {fmt_int(top['improved_since_baseline'])} improved since baseline")
tiles[2].metric(
    "Scored 3.0 or more", fmt_int(top["progress_ge_3"]), help="Latest IHI progress score by the date."
)
tiles[2].caption(f"{fmt_int(top['progress_ge_4'])} scored 4.0 or more")
tiles[3].metric(
    "Stale projects",
    fmt_int(top["stale"]),
    help="Active projects with no new data point and no progress score in the 90 days to the date.",
)
tiles[3].caption("Prompt their teams to update" if top["stale"] else "Every active project is up to date")
tiles[4].metric("Measures charted", fmt_int(top["measures"]))
tiles[4].caption(f"{fmt_int(top['concern_icons'])} show concern at their latest point")

if projects.empty:
    st.info("No project matches these filters.")
    st.stop()

left, right = st.columns([3, 2])
with left:
    st.subheader("Projects by priority and progress")
    components.chart(
        spc_charts.projects_by_priority_and_score(projects, view.priorities),
        "by_priority",
        *summaries.projects_by_priority(projects, view.priorities),
    )
with right:
    st.subheader("Latest progress scores")
    components.chart(spc_charts.latest_score_bars(projects), "scores", *summaries.latest_scores(projects))


def _open_selected(key: str, column: str, frame) -> None:
    """Row selection in a table opens that project's page (a callback, so it fires once per click)."""
    picked = st.session_state[key].selection.rows
    if picked:
        st.session_state["_open_project"] = frame.iloc[picked[0]][column]


def _project_picker(frame, key: str, **kw) -> None:
    """``frame`` as a table (at most 16 rows high) in which selecting a row opens its project."""
    st.dataframe(
        frame,
        key=key,
        hide_index=True,
        height=min(3 + 35 * (len(frame) + 1), 563),
        on_select=lambda: _open_selected(key, "Project", frame),
        selection_mode="single-row",
        **kw,
    )


def _rows_page(frame, key: str, what: str, size: int | None = None, always: bool = False, **kw):
    """The page of ``size`` rows of ``frame`` (ROWS_PER_PAGE when None) chosen with a selectbox above it
    (the first page at first); ``frame`` itself, with no selectbox, when it fits on one page, unless
    ``always``. ``kw`` go to the selectbox (``help``)."""
    size = size or ROWS_PER_PAGE
    if len(frame) <= size and not always:
        return frame
    pages = max(1, (len(frame) + size - 1) // size)
    if st.session_state.get(key, 0) >= pages:
        st.session_state[key] = 0
    page = st.selectbox(
        what,
        range(pages),
        key=key,
        format_func=lambda i: f"{i * size + 1:,}–{min((i + 1) * size, len(frame)):,} of {len(frame):,}",
        **kw,
    )
    return frame.iloc[page * size : (page + 1) * size]


# Only the open tab is built: the others' charts and tables would be made and sent unseen (a
# page of small multiples is a dozen figures). Switching tab reruns the page.
icons_tab, charts_tab, list_tab, impact_tab = st.tabs(
    ["Icon grid", "Charts", "Project list", "Impact"], key="portfolio_tab", on_change="rerun"
)

if icons_tab.open:
    with icons_tab:
        if rows.empty:
            st.info("No measure with data matches these filters.")
        else:
            st.caption(
                "Variation (what the latest point shows) and assurance (whether the target will be met) for "
                "every measure, celebrating first. Select a row to open its project's charts."
            )
            _project_picker(
                icon_grid(_rows_page(rows, "icon_grid_page", "Measures")),
                "icon_grid",
                # Each icon beside its name in words: a picture in a table cell has no text of its own.
                column_order=[
                    "Project", "Measure", "Variation", "Variation in words",
                    "Assurance", "Assurance in words", "Improving", "Stale",
                ],
                column_config={
                    "Project": st.column_config.TextColumn("Project", width="small"),
                    "Measure": st.column_config.TextColumn("Measure", width="medium"),
                    "Variation": st.column_config.ImageColumn(
                        "Variation", width="small", help="Making Data Count variation icon"
                    ),
                    "Assurance": st.column_config.ImageColumn(
                        "Assurance", width="small", help="Making Data Count assurance icon"
                    ),
                    "Variation in words": st.column_config.TextColumn("Variation, in words", width="medium"),
                    "Assurance in words": st.column_config.TextColumn("Assurance, in words", width="medium"),
                    "Improving": st.column_config.TextColumn(
                        "Improving",
                        width="large",
                        help="Which meaning of improving applies. " + IMPROVING_MEANING,
                    ),
                    "Stale": st.column_config.TextColumn(
                        "", width="small", help="Project with no data or score for 90 days"
                    ),
                },
            )
            with st.expander("What the icons mean"):
                st.dataframe(
                    icons.legend(),
                    hide_index=True,
                    width="stretch",
                    height=3 + 35 * (len(icons.VARIATION) + len(icons.ASSURANCE) + 2),
                    column_config={
                        "Icon": st.column_config.ImageColumn("", width="small"),
                        "Kind": st.column_config.TextColumn(width="small"),
                        "Name": st.column_config.TextColumn(width="medium"),
                        "Meaning": st.column_config.TextColumn(width="large"),
                    },
                )
                st.caption(
                    "XmR charts follow NHS Making Data Count rules. For run, p, u and c charts the icon "
                    "comes from the latest point: special cause when it is outside the limits or part of "
                    "the longest run behind a runs signal. Assurance compares the target with the latest "
                    "limits (run charts have none)."
                )

if charts_tab.open:
    with charts_tab:
        if rows.empty:
            st.info("No measure with data matches these filters.")
        else:
            shown = _rows_page(
                rows, "chart_page", "Charts", PAGE_SIZE, always=True,
                help="Improving measures first, then concerns, then the rest.",
            )
            results = data.query(
                engine, chart_results, tuple(int(i) for i in shown["measure_id"]), filters.as_of
            )
            for i, measure in enumerate(shown.itertuples()):
                if i % PER_ROW == 0:  # a row of columns at a time keeps the cards of a row aligned
                    cells = st.columns(PER_ROW)
                result = results.get(measure.measure_id)
                with cells[i % PER_ROW].container(border=True):
                    st.markdown(f"**{markdown_literal(measure.project)}** · {markdown_literal(measure.name)}")
                    variation, assurance = measure.variation_icon, measure.assurance_icon
                    components.named_images(
                        [
                            (icons.variation_svg(variation), icons.variation_name(variation)),
                            (icons.assurance_svg(assurance), icons.assurance_name(assurance)),
                        ],
                        30,
                    )
                    st.caption(
                        f"{icons.variation_label(measure.variation_icon)} · "
                        f"{icons.assurance_label(measure.assurance_icon)}"
                        + (" · stale project" if measure.stale else "")
                    )
                    if measure.improving:
                        st.caption(f"Improving: {measure.improving_reason}")
                    if result is not None:
                        components.chart(
                            spc_charts.small_multiple(result, target=measure.target),
                            f"sm_{measure.measure_id}",
                            # The icons are named just above; the numbers are a click away on the project.
                            summaries.spc_measure(result)[0],
                        )
                    st.page_link(
                        PROJECT_PAGE,
                        label="Open the chart",
                        icon=":material/insights:",
                        query_params={"project": measure.project},
                    )

if list_tab.open:
    with list_tab:
        table = project_table(projects, view.priorities)
        st.caption("Stale projects first. Select a row to open the project.")
        _project_picker(
            _rows_page(table, "project_list_page", "Projects"),
            "project_list",
            column_config={"Scored on": st.column_config.DateColumn("Scored on", format="D MMM YYYY")},
        )

if impact_tab.open:
    with impact_tab:
        report = data.query(engine, impact.impact_report, filters.scope, filters.as_of)
        # The page's own filters (priority, status, show) narrow the projects; totals are over those.
        report = impact.narrowed(report, set(projects["code"]))
        st.caption(
            "What the sustained improvements added up to: for each measure improved since its baseline, "
            "the benefit from the change that began its improved phase to the date, against the baseline, "
            "with a range from the baseline's uncertainty. Totals add only like with like; shifts in "
            "measurement data (XmR and run charts) are never added up."
        )
        if not report.totals and not any(e.estimated for e in report.estimates):
            st.info("No measure of these projects has a sustained improvement to estimate yet.")
        else:
            for line in impact_view.lines(report.totals, limit=None):
                st.markdown(f"- {markdown_literal(line.words)}")
            if report.totals:
                st.markdown("**Over time**")
                labels = {impact_view.unit_label(t): t for t in report.totals}
                chosen = st.selectbox("Unit", list(labels), key="impact_unit")
                total = labels[chosen]
                over_time = impact_view.cumulative_frame(report, total)
                components.chart(
                    charts.cumulative_impact(over_time, chosen, total.low, total.high),
                    "impact_over_time",
                    *summaries.cumulative_impact(over_time, chosen, total.low, total.high),
                )
            st.markdown("**By priority**")
            st.dataframe(impact_view.priority_rows(report, view.priorities), hide_index=True, width="stretch")
            st.markdown("**By project**")
            _project_picker(
                _rows_page(
                    impact_view.project_rows(report, view.priorities), "impact_projects_page", "Projects"
                ),
                "impact_projects",
                column_config={"Since": st.column_config.DateColumn("Since", format="D MMM YYYY")},
            )
        st.caption(impact_view.not_estimated_note(report))
