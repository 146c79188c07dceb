"""Tiers: progression through the programme's tiers, reach over time, cohorts, self-sustainability and
patients trained (executives and faculty). Tier names come from the programme's own framework."""

import datetime as dt

import streamlit as st

from qidash import summaries, tier_charts
from qidash.measures.common import PATIENT_GROUP
from qidash.palette import fmt_int, fmt_num, fmt_ratio_pct, in_sentence, label
from qidash.text import markdown_literal as literal
from qidash.ui import components, data
from qidash.ui.context import page_context
from qidash.ui.filters import url_selectbox
from qidash.views.tiers import (
    COHORT_ROWS,
    COMPARE_BY,
    COMPARE_LABELS,
    PERIOD_MONTHS,
    area_names,
    capacity_label,
    cohort_detail,
    comparison_table,
    conversion_rows,
    default_cohort,
    ladder_in_words,
    outside_name,
    role_label,
    roles_in_words,
    tier_comparison,
    tier_pairs,
    tiers_data,
)

MAX_AREAS = 15
COHORT_COLUMNS = [
    "code",
    "start_date",
    "tier",
    "locality",
    "delivered_by",
    "enrolled",
    "completion_rate",
    "attendance_rate",
    "completed",
    "withdrawn",
    "sessions",
    "end_date",
]
COHORT_HEADERS = {
    "code": "Cohort",
    "start_date": "Start",
    "tier": "Tier",
    "locality": "Where",
    "delivered_by": "Delivered by",
    "enrolled": "Enrolled",
    "completion_rate": "Completion",
    "attendance_rate": "Attendance",
    "completed": "Completed",
    "withdrawn": "Withdrawn",
    "sessions": "Sessions",
    "end_date": "End",
}
# The page's sections, each in a tab of which only the open one is built: a menu move to the page draws
# the headline and the funnel, not six charts and two tables. Switching tab reruns the page.
SECTIONS = [
    "Progression",
    "Compared across areas",
    "Reach over time",
    "Cohorts",
    "Self-sustainability",
    "Patients trained",
]

ctx = page_context()
engine, filters, programme = ctx.engine, ctx.filters, ctx.programme
view = data.query(engine, tiers_data, filters.scope, filters.as_of)
day = f"{filters.as_of:%d %B %Y}"

components.page_header("Tiers", programme, filters)

if not view.has_tiers:
    st.info("No tier framework is loaded yet. Load tiers, courses and cohorts on the Data page.")
    st.stop()

ladders = view.ladders
first = ladders[0]["tiers"]
for ladder in ladders:
    st.caption(f"**{literal(ladder['name'])}**, each tier reached by: {literal(ladder_in_words(ladder))}")

# Headline: people who reached at least each tier, with patients alongside rather than in a footnote.
flat = [t for ladder in ladders for t in ladder["tiers"]]
tier_names = {t["code"]: t["name"] for t in flat}
tiles = st.columns(len(flat) + 1)
for i, tier in enumerate(flat):
    tiles[i].metric(
        literal(tier["name"]),
        fmt_int(view.funnel.get(tier["code"])),
        delta=components.delta(view.funnel.get(tier["code"]), view.funnel_year_ago.get(tier["code"])),
        help=f"People who reached {literal(tier['name'])} or a higher tier by the date. The change is over "
        "12 months.",
    )
for lower, higher in tier_pairs(ladders):
    step = view.conversion.get(f"{lower['code']}->{higher['code']}") or {}
    tiles[flat.index(higher)].caption(f"{fmt_ratio_pct(step.get('ratio'))} of {literal(lower['name'])}")
patients = view.patients
tiles[-1].metric(
    "Patients trained",
    fmt_int(patients["trained"]),
    help="Patient partners who reached the first tier or beyond; they count in the tiers alongside staff.",
)
tiles[-1].caption(
    f"{fmt_ratio_pct(patients['share_of_trained'])} of people trained"
    if patients["trained"]
    else "None in this scope"
)

# A link that names a comparison or a cohort opens the section that shows it.
opening = (
    "Compared across areas"
    if "compare" in st.query_params
    else "Cohorts"
    if "cohort" in st.query_params
    else None
)
progression_tab, areas_tab, reach_tab, cohorts_tab, sustainability_tab, patients_tab = st.tabs(
    SECTIONS, key="tiers_tab", default=opening, on_change="rerun"
)

if progression_tab.open:
    with progression_tab:
        st.subheader("Progression funnel")
        for ladder in ladders:
            left, right = st.columns(2)
            with left:
                if len(ladders) > 1:
                    st.markdown(f"**{literal(ladder['name'])}**")
                funnel = tier_charts.tier_funnel(ladder["tiers"], view.funnel, view.conversion)
                alternative = summaries.tier_funnel(ladder["tiers"], view.funnel)
                components.chart(funnel, f"funnel_{ladder['code']}", *alternative)
            with right:
                # st.table reads Markdown in its cells: the tier names are shown as written.
                rows = conversion_rows(ladder, view.funnel, view.conversion)
                st.table(
                    [{**row, "From": literal(row["From"]), "To": literal(row["To"])} for row in rows],
                    hide_index=True,
                )
                st.caption(
                    "Conversion: people who reached the higher tier ÷ people who reached the lower one. "
                    "Median time: days from the lower tier to the higher, over people who reached both in "
                    "that order. Faculty who teach without taking the course count in the tiers below theirs."
                )

if areas_tab.open:
    with areas_tab:
        st.subheader("Compared across areas")
        # The choice lives in the URL as a code (?compare=sector), as the sidebar filters do, so links can
        # name it.
        asked = st.query_params.get("compare")
        if st.session_state.get("compare") not in COMPARE_BY:
            st.session_state["compare"] = asked if asked in COMPARE_BY else "locality"
        by = st.segmented_control(
            "Compare by", COMPARE_BY, required=True, key="compare", format_func=COMPARE_LABELS.get
        )
        if by == "locality":
            st.query_params.pop("compare", None)
        else:
            st.query_params["compare"] = by
        comparison = data.query(engine, tier_comparison, filters.scope, filters.as_of, by)
        area = in_sentence(COMPARE_LABELS[comparison.by])
        if comparison.groups.empty:
            st.info(f"No organisation in this scope belongs to a {area}.")
        else:
            shown = comparison.groups.assign(name=area_names(comparison))
            nowhere = outside_name(comparison)
            components.chart(
                tier_charts.tier_comparison(shown, first, MAX_AREAS, comparison.outside, nowhere),
                "comparison",
                summaries.tier_comparison(shown, first[0]),
            )
            notes = []
            if len(shown) > MAX_AREAS:
                notes.append(
                    f"The chart shows the {MAX_AREAS} with most people trained; the table lists all "
                    f"{len(shown)}."
                )
            outside = comparison.outside.get(first[0]["code"], 0)
            if outside:
                notes.append(
                    f"{nowhere}: {fmt_int(outside)} people who reached {literal(first[0]['name'])} work for "
                    f"organisations in no {area} (trusts and system-wide bodies belong to no PCN)."
                )
            if notes:
                st.caption(" ".join(notes))
            table = comparison_table(comparison, first)
            st.dataframe(table, hide_index=True, width="stretch", height=min(400, 40 + 35 * len(table)))

if reach_tab.open:
    with reach_tab:
        st.subheader("Reach over time")
        target = view.target
        components.chart(
            tier_charts.reach_by_tier(view.reach, first, target, filters.as_of),
            "reach",
            *summaries.reach_by_tier(view.reach, first, filters.as_of),
        )
        if target["target_value"] is not None:
            verdict = "on track" if target["on_track"] else "behind target"
            st.caption(
                f"Target: {fmt_int(target['target_value'])} people trained by "
                f"{dt.date.fromisoformat(target['due_on']):%d %B %Y}. "
                f"{fmt_int(target['people_trained'])} so far, projected "
                f"{fmt_int(target['projected_at_due'])} at the "
                f"rate of the last 6 months: {verdict}. The target counts everyone who reached "
                f"{literal(first[0]['name'])}."
            )
        else:
            st.caption("No people-trained target is set for this scope.")

if cohorts_tab.open:
    with cohorts_tab:
        st.subheader("Cohorts")
        cohorts, totals = view.cohorts, view.cohort_totals
        if cohorts.empty:
            st.info(f"No cohort in this scope had started by {day}.")
        else:
            tiles = st.columns(4)
            tiles[0].metric("Cohorts started", fmt_int(totals["cohorts"]))
            tiles[0].caption(f"{fmt_int(totals['local'])} delivered by local faculty")
            tiles[1].metric(
                "Participants",
                fmt_int(view.roles["people"].sum()),
                help="Distinct people with a place (not withdrawn) in a cohort started by the date.",
            )
            tiles[1].caption(f"{fmt_int(patients['enrolled'])} of them patient partners")
            tiles[2].metric(
                "Completion rate",
                fmt_ratio_pct(totals["completion_rate"]),
                help="Completed ÷ everyone who took a place (withdrawals included), over cohorts that have "
                "ended.",
            )
            tiles[2].caption(
                f"{fmt_int(totals['completed'])} completed of {fmt_int(totals['took_place'])} in finished "
                "cohorts"
            )
            tiles[3].metric(
                "Withdrawn",
                fmt_int(totals["withdrawn"]),
                help="Enrolments withdrawn, in every cohort started.",
            )
            # Only the columns shown are sent; the newest COHORT_ROWS are listed, every one downloadable.
            table = cohorts[COHORT_COLUMNS].assign(
                tier=[tier_names.get(c, c) for c in cohorts["tier"].tolist()],
                locality=cohorts["locality"].fillna("System-wide"),
                delivered_by=[label(d) for d in cohorts["delivered_by"].tolist()],
                completion_rate=cohorts["completion_rate"] * 100,
                attendance_rate=cohorts["attendance_rate"] * 100,
            )
            listed = components.first_rows(
                table.rename(columns=COHORT_HEADERS),
                COHORT_ROWS,
                what="cohorts",
                order="newest",
                file_name=f"cohorts-{filters.as_of.isoformat()}.csv",
                detail={"scope": filters.label, "as_of": filters.as_of.isoformat()},
                key="cohorts_csv",
            )
            st.dataframe(
                listed,
                hide_index=True,
                width="stretch",
                height=min(420, 40 + 35 * len(listed)),
                # The rates come early so they stay in view on narrow screens; dates and counts follow.
                column_config={
                    "Start": st.column_config.DateColumn(format="DD/MM/YYYY"),
                    "End": st.column_config.DateColumn(format="DD/MM/YYYY"),
                    "Sessions": st.column_config.NumberColumn(width="small"),
                    "Enrolled": st.column_config.NumberColumn(
                        help="Enrolments not withdrawn.", width="small"
                    ),
                    "Completed": st.column_config.NumberColumn(width="small"),
                    "Withdrawn": st.column_config.NumberColumn(width="small"),
                    "Completion": st.column_config.ProgressColumn(
                        format="%.0f%%",
                        min_value=0,
                        max_value=100,
                        help="Completed ÷ everyone who took a place, once the cohort has ended (blank until "
                        "then).",
                    ),
                    "Attendance": st.column_config.ProgressColumn(
                        format="%.0f%%",
                        min_value=0,
                        max_value=100,
                        help="Sessions attended ÷ (sessions × enrolments not withdrawn).",
                    ),
                },
            )

            left, right = st.columns(2)
            with left:
                st.markdown("**Attendance, session by session**")
                # The cohorts listed above, the default and one a link asks for: not thousands of options.
                first = default_cohort(cohorts)
                wanted = {first, st.session_state.get("cohort") or st.query_params.get("cohort")}
                offered = cohorts[cohorts["code"].isin(wanted | set(cohorts["code"].head(COHORT_ROWS)))]
                options = {
                    code: f"{code} ({label(who)} faculty)"
                    for code, who in zip(
                        offered["code"].tolist(), offered["delivered_by"].tolist(), strict=True
                    )
                }
                chosen = url_selectbox("Cohort", options, key="cohort", default=first)
                detail = data.query(engine, cohort_detail, filters.scope, filters.as_of, chosen)
                if detail.sessions.empty:
                    st.info("No register is recorded for this cohort by this date.")
                else:
                    components.chart(
                        tier_charts.session_attendance(detail.sessions),
                        "sessions",
                        *summaries.session_attendance(detail.sessions),
                    )
                    st.caption(
                        f"{len(detail.sessions)} sessions held by {day}. "
                        f"Participants: {literal(roles_in_words(detail.roles)) or 'none in this scope'}."
                    )
            with right:
                st.markdown("**Who takes part**")
                if view.roles.empty:
                    st.info("Nobody in this scope holds a place in a cohort.")
                else:
                    role_names = {r: role_label(r) for r in view.roles["role"]}
                    components.chart(
                        tier_charts.role_mix(view.roles, role_names, PATIENT_GROUP),
                        "roles",
                        *summaries.role_mix(view.roles, role_names),
                    )
                    st.caption(
                        "People with a place (not withdrawn) in any cohort started by the date, by role."
                    )

if sustainability_tab.open:
    with sustainability_tab:
        st.subheader("Self-sustainability")
        now, before = view.sustainability, view.sustainability_year_ago
        top, below = first[-1], first[-2] if len(first) > 1 else first[-1]
        share_now, share_before = now["local_faculty_share"], before["local_faculty_share"]
        shift = None if share_now is None or share_before is None else round((share_now - share_before) * 100)
        tiles = st.columns(4)
        tiles[0].metric(
            "Cohorts taught by local faculty",
            fmt_ratio_pct(share_now),
            delta=None if not shift else f"{shift:+.0f} points",
            help="Cohorts started by the date and delivered by local faculty ÷ all cohorts started. "
            "The change is over 12 months.",
        )
        tiles[1].metric(
            literal(capacity_label(top["name"], below["name"])),
            fmt_num(now["lead_per_live"], 2),
            help=f"People whose highest tier is {literal(top['name'])} ÷ people whose highest tier is "
            f"{literal(below['name'])}: "
            "the capacity to coach and teach.",
        )
        tiles[1].caption(
            f"People at {literal(top['name'])} ÷ at {literal(below['name'])} (highest tier). A year earlier: "
            f"{fmt_num(before['lead_per_live'], 2)}"
        )
        coaches = now["coaches"]
        tiles[2].metric(
            "Coaches per active project",
            fmt_num(coaches["ratio"], 2),
            help="Distinct people coaching at least one active project ÷ active projects.",
        )
        tiles[2].caption(
            f"{fmt_int(coaches['coaches'])} coaches; {fmt_int(coaches['projects_with_coach'])} of "
            f"{fmt_int(coaches['active_projects'])} active projects have one"
            if coaches["active_projects"]
            else f"No project is active on {day}"
        )
        led = now["led"]
        tiles[3].metric(
            "Projects led by trained people",
            f"{fmt_int(led['led_by_trained'])} of {fmt_int(led['started'])}",
            help="Projects started by the date whose lead had reached a tier by the day the project started.",
        )
        in_training = led["led_in_training"]
        tiles[3].caption(
            f"{fmt_ratio_pct(led['ratio'])} of projects started"
            + (f"; {fmt_int(in_training)} more led by people then in training" if in_training else "")
        )
        st.markdown("**Who teaches the cohorts**")
        if view.local_share.empty:
            st.info(f"No cohort in this scope had started by {day}.")
        else:
            components.chart(
                tier_charts.local_faculty_over_time(view.local_share, PERIOD_MONTHS),
                "local_faculty",
                *summaries.local_faculty(
                    view.local_share,
                    tier_charts.period_labels(view.local_share["period_start"], PERIOD_MONTHS),
                ),
            )
            st.caption(
                "Cohorts started in each half-year by who taught them, and the share taught by local faculty."
            )

if patients_tab.open:
    with patients_tab:
        st.subheader("Patients trained")
        if patients["trained"] or patients["enrolled"]:
            left, right = st.columns([3, 2])
            with left:
                for ladder in ladders:
                    funnel = tier_charts.tier_funnel(
                        ladder["tiers"],
                        patients["by_tier"],
                        colour=tier_charts.PATIENT_COLOUR,
                        name="Patients",
                    )
                    alternative = summaries.tier_funnel(ladder["tiers"], patients["by_tier"], "patients")
                    components.chart(funnel, f"patients_{ladder['code']}", *alternative)
            with right:
                st.metric("Patient partners trained", fmt_int(patients["trained"]))
                st.metric("Patient partners with a place in a cohort", fmt_int(patients["enrolled"]))
                st.metric("Projects involving patients", fmt_int(patients["projects_with_patient_partner"]))
                st.caption(
                    "Patient partners train alongside staff and are counted in every tier above as well."
                )
        else:
            st.info(
                f"No patient partner has trained or holds a place in a cohort in this scope by {day}. "
                f"{fmt_int(patients['projects_with_patient_partner'])} projects involve patients or have a "
                "patient "
                "partner in the team."
            )
