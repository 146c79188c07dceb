"""Overview: capability coverage across the whole system at a glance (ICS executives)."""

import datetime as dt

import streamlit as st

from qidash import catalog, charts, summaries
from qidash.analysis import IMPROVING_MEANING
from qidash.palette import fmt_int, fmt_num, fmt_pct, label
from qidash.text import markdown_literal
from qidash.ui import components, data
from qidash.ui.context import page_context
from qidash.views import impact as impact_view
from qidash.views.overview import MAX_AREAS, lowest_coverage, overview_data

ctx = page_context()
engine, filters, programme = ctx.engine, ctx.filters, ctx.programme
view = data.query(engine, overview_data, filters.scope, filters.as_of)
priority_names = data.query(engine, catalog.priorities)

components.page_header("Overview", programme, filters)

now, before = view.now, view.year_ago
reach = now["reach_vs_target"]
tiles = st.columns(5)
tiles[0].metric(
    "People trained",
    fmt_int(now["people_trained"]),
    delta=components.delta(now["people_trained"], before["people_trained"]),
    help="Distinct people who reached the first tier or above by the date, leavers included. "
    "The change is over the last 12 months.",
)
tiles[0].caption(f"{fmt_int(view.split['staff'])} staff · {fmt_int(view.split['patients'])} patients")
tiles[1].metric(
    "Organisations trained",
    f"{fmt_int(now['orgs_trained'])} of {fmt_int(now['orgs_in_scope'])}",
    delta=components.delta(now["orgs_trained"], before["orgs_trained"]),
    help="Organisations with at least one trained person still in post.",
)
tiles[1].caption(f"Coverage {fmt_pct(now['coverage_pct'])}")
tiles[2].metric(
    "Projects active",
    fmt_int(now["projects_active"]),
    delta=components.delta(now["projects_active"], before["projects_active"]),
)
tiles[2].caption(f"{fmt_int(now['projects_completed'])} completed · {fmt_int(now['projects_stale'])} stale")
tiles[3].metric(
    "Projects improving",
    f"{fmt_int(now['projects_improving'])} of {fmt_int(now['projects_started'])}",
    delta=components.delta(now["projects_improving"], before["projects_improving"]),
    help="Out of the projects started by the date, whatever their status now (active, completed or "
    "stopped): those with at least one improving measure. " + IMPROVING_MEANING,
)
tiles[3].caption(
    "of the projects started, any status · "
    f"{fmt_int(now['projects_progress_ge_4'])} scored 4.0 or more"
)
if reach["target_value"] is not None:
    tiles[4].metric(
        "Reach against target",
        f"{fmt_int(reach['people_trained'])} / {fmt_int(reach['target_value'])}",
        delta=(
            None
            if reach["projected_at_due"] is None
            else f"{reach['projected_at_due'] - reach['target_value']:+,} vs target"
        ),
        help="People trained against the target in this scope. Below: the number projected at the due "
        "date, at the rate of the last 6 months, minus the target.",
    )
    verdict = "on track" if reach["on_track"] else "behind target"
    due = dt.date.fromisoformat(str(reach["due_on"]))
    tiles[4].caption(f"Projected {fmt_int(reach['projected_at_due'])} by {due:%d %b %Y}: {verdict}")
else:
    tiles[4].metric(
        "Reach against target", "No target", help="No people_trained target is set for this scope."
    )

st.subheader("Impact so far")
shown, not_estimated = data.query(engine, impact_view.headline, filters.scope, filters.as_of)
if shown:
    for line in shown:
        st.markdown(f"- {markdown_literal(line.words)}")
else:
    st.info("No measure in this scope has a sustained improvement to estimate yet.")
METHOD = (
    "Estimated against each measure's baseline, from the change that began its improved phase to the "
    "date; totals add only like with like; the range reflects the baseline's uncertainty. Per project "
    "and priority, and over time, on the Portfolio's Impact tab."
)
st.caption(" ".join(filter(None, [not_estimated, METHOD])))

left, right = st.columns([3, 2])
with left:
    st.subheader("Reach over time")
    components.chart(
        charts.reach_vs_target(view.reach, reach, filters.as_of), "reach",
        *summaries.reach(view.reach, reach, filters.as_of),
    )
with right:
    st.subheader("Coverage by locality")
    if view.coverage_by_locality.empty:
        st.info("No organisation in this scope belongs to a locality.")
    else:
        shown = lowest_coverage(view.coverage_by_locality, MAX_AREAS)
        components.chart(
            charts.coverage_by_area(shown), "coverage", *summaries.coverage(view.coverage_by_locality)
        )
        if len(shown) < len(view.coverage_by_locality):
            st.caption(
                f"The chart shows the {len(shown)} localities with the lowest coverage; the numbers behind "
                f"it list all {fmt_int(len(view.coverage_by_locality))}."
            )

# The second row is below the fold, in tabs of which only the open one is built: a menu move to the
# page draws the tiles and three charts, not four (each chart drawn is a long task of 0.1 to 0.4 s).
sectors_tab, priorities_tab = st.tabs(
    ["NHS and independent settings", "Projects improving, by priority"], key="overview_tab", on_change="rerun"
)
if sectors_tab.open:
    with sectors_tab:
        st.subheader("NHS and independent settings, side by side")
        both_present = len(view.sectors) == 2 and all(r["orgs_in_scope"] for r in view.sectors.values())
        if both_present:
            components.chart(
                charts.sector_side_by_side(view.sectors, {s: label(s) for s in view.sectors}), "sectors"
            )
            rows = {
                label(s): {
                    "Organisations": fmt_int(r["orgs_in_scope"]),
                    "Offered training": fmt_int(r["orgs_offered"]),
                    "Engaged": fmt_int(r["orgs_engaged"]),
                    "Trained": fmt_int(r["orgs_trained"]),
                    "Coverage": fmt_pct(r["coverage_pct"]),
                    "People trained": fmt_int(r["people_trained"]),
                    "Trained per 10 beds": fmt_num(r["trained_per_10_beds"], 2),
                    "Trained per 100 staff": fmt_num(r["trained_per_100_staff"], 1),
                    "Projects active": fmt_int(r["projects_active"]),
                }
                for s, r in view.sectors.items()
            }
            # A static table: two columns need no scrolling or sorting, and a page with no st.dataframe
            # on its first view spares a fresh tab Streamlit's table component (1.3 MB of JavaScript).
            st.table(rows)
        elif len(view.sectors) < 2:
            st.info("Clear the sector filter to compare NHS and independent settings.")
        else:
            only = [label(s) for s, r in view.sectors.items() if r["orgs_in_scope"]]
            st.info(f"Every organisation in this scope is {' and '.join(only) or 'outside both sectors'}: "
                    "there is nothing to compare side by side.")
if priorities_tab.open:
    with priorities_tab:
        st.subheader("Projects improving, by priority")
        if view.by_priority["projects"].sum() == 0:
            st.info("No project in this scope has started by this date.")
        else:
            components.chart(
                charts.projects_by_priority(view.by_priority, priority_names), "priorities",
                *summaries.improving_by_priority(view.by_priority, priority_names),
            )
