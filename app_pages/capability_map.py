"""Capability map: PCN areas coloured by a chosen measure, organisations by stage, click a PCN to
filter to it, and the gaps (homes with nobody trained) with the nearest coach (locality leads)."""

import streamlit as st

from qidash import geo, map_groups, maps, summaries
from qidash.palette import fmt_int, fmt_pct
from qidash.registers.lookups import ATTRIBUTION as registers_attribution
from qidash.text import markdown_literal as literal
from qidash.ui import components, data
from qidash.ui.context import page_context
from qidash.ui.filters import ALL, url_selectbox
from qidash.views.capability_map import (
    COLOUR_MEASURES,
    GAP_COLUMNS_SHOWN,
    GAP_ROW_HEIGHT,
    GAP_ROWS,
    GAP_WIDTHS,
    GAPS_AMONG,
    ORG_LIST_SHOWN,
    SIZE_BY,
    capability_map_data,
    colour_measures,
    colour_scale,
    default_size_by,
    find_organisations,
    organisation_list,
    organisations_shown,
    pcn_table,
    pcn_tips,
    size_options,
)

ctx = page_context()
engine, filters, viewer, programme = ctx.engine, ctx.filters, ctx.viewer, ctx.programme
view = data.query(
    engine, capability_map_data, filters.scope, filters.as_of, can_see_people=viewer.can_see_people
)
# A lead sees the areas of their own area only: no other PCN is drawn or named in a tooltip.
areas = geo.within_area(data.query(engine, geo.pcn_areas, geo.boundary_stamp()), filters.scope)
geography = data.query(engine, geo.registers_geography)

components.page_header("Capability map", programme, filters)

orgs = view.orgs
if orgs.empty:
    st.info("No organisation is in this scope. Widen the filters in the sidebar.")
    st.stop()

counts = view.counts
not_offered = view.stage_counts["not_offered"]
st.markdown(
    f"**{fmt_int(counts['trained'])} of {fmt_int(counts['orgs'])}** organisations in scope have someone "
    f"trained still in post (coverage {fmt_pct(100 * counts['trained'] / counts['orgs'])}); "
    f"{fmt_int(view.stage_counts['with_project'])} have an active project"
    + (
        f"; {fmt_int(not_offered)} have not been offered training yet."
        if not_offered
        else "; every one has been offered training."
    )
)

# --- controls ----------------------------------------------------------------------------------------
offered = colour_measures(view)
left, right = st.columns([2, 2])
with left:
    measure = (
        url_selectbox(
            "Colour PCN areas by", offered, key="colour", default="coverage_pct",
            help="; ".join(f"{COLOUR_MEASURES[k][0]}: {COLOUR_MEASURES[k][1]}" for k in offered),
        )
        if offered
        else None
    )
sizes = size_options(view)
size_by = default_size_by(view)
with right:
    if len(sizes) > 1:
        size_by = st.segmented_control(
            "Size organisations by", list(sizes), format_func=sizes.get, default=size_by,
            help="Point area grows with the number; organisations without one recorded are the smallest "
                 "points.",
        ) or size_by


# --- the map -----------------------------------------------------------------------------------------
def _filter_to_clicked_pcn() -> None:
    """Clicking an area (or an organisation inside one) filters the page, and the link, to that PCN."""
    state = st.session_state.get(map_key) or {}
    objects = (state.get("selection") or {}).get("objects") or {}
    for layer in (maps.AREAS_ID, maps.ORGS_ID):
        for obj in objects.get(layer, []):
            code = obj.get("pcn")
            if code and code in view.pcn_locality:
                st.session_state["pcn"] = code
                if st.session_state.get("locality", ALL) not in (ALL, view.pcn_locality[code]):
                    st.session_state["locality"] = view.pcn_locality[code]
                # A fresh map widget: Streamlit greys out everything but a selected object, and the
                # filter, not the selection, now says which PCN is shown.
                st.session_state["_map_clicks"] = st.session_state.get("_map_clicks", 0) + 1
                return


scale = colour_scale(view, measure) if measure else None
# A national map holds too many points to send and draw one by one: those that would overlap are
# drawn as groups, and every organisation is one click away.
crowded = map_groups.is_crowded(orgs)
every_point = crowded and st.toggle(
    "Every organisation as its own point", key="every_point",
    help="Slower: sends every organisation and its tooltip to the browser.",
)
deck = maps.capability_deck(
    areas,
    scale.values if scale else {},
    scale.edges if scale else [],
    pcn_tips(view),
    orgs,
    size_by=size_by,
    selected_pcn=filters.scope.pcn,
    geography=geography,
    group_overlapping=crowded and not every_point,
)
map_key = f"capability_map_{st.session_state.get('_map_clicks', 0)}"
map_col, legend_col = st.columns([4, 1])
with map_col:
    st.pydeck_chart(
        deck, on_select=_filter_to_clicked_pcn, selection_mode="single-object", key=map_key,
        height=maps.MAP_HEIGHT_PX,
        alt="Map of the system's PCN areas coloured by the chosen measure, with organisations as points "
        "marked by stage: rings before training starts, filled discs once engaged, outlined once trained.",
    )
    st.caption(
        literal(
            summaries.capability_map(
                view.stage_counts, maps.STAGE_LABELS, view.by_pcn, measure,
                COLOUR_MEASURES[measure][0] if measure else "",
            )
        )
        + (" The numbers per PCN are in the table below the map." if len(view.by_pcn) else "")
    )
with legend_col:
    lines = []
    if scale:
        lines.append(f"**{COLOUR_MEASURES[measure][0]}** per PCN")
        lines += [f"{maps.area_key_svg(c)} {text}" for c, text in scale.legend]
        if any(v is None for v in scale.values.values()):
            lines.append(f"{maps.area_key_svg(maps.NO_DATA)} No data")
    if len(scale.values if scale else {}) < len(areas.pcns):
        lines.append(f"{maps.area_key_svg(maps.OUTSIDE)} Outside the filters")
    lines.append("")
    lines.append("**Organisations** by stage")
    lines += maps.stage_legend(view.stage_counts)
    st.markdown("  \n".join(lines), unsafe_allow_html=True)
    size_note = f"Point size: {SIZE_BY[size_by].lower()}." if sizes else "Points: organisations."
    st.caption(f"{size_note} Thin dark lines: PCN areas; dark blue lines: localities. Click an area to "
               "filter to it.")
    if crowded and not every_point:
        st.caption("Organisations close together at this zoom are drawn as one larger point; its tooltip "
                   "counts them by stage. Click it to show its PCN's organisations one by one.")
    if filters.scope.pcn:
        st.caption("The chosen PCN has a black outline; clear it with the PCN filter in the sidebar.")

notes = []
if areas.source == "derived":
    notes.append(
        "PCN areas are drawn around the member organisations' locations (each place goes to the nearest "
        "organisation's PCN)" + (f", within the outline of {geography.icb_name}" if geography else "")
        + "; they are not official boundaries. Put a boundary file in data/boundaries/ to draw real ones."
    )
elif areas.source == "none":
    notes.append("No organisation in a PCN has a location, so no PCN area can be drawn.")
if counts["without_pcn"]:
    notes.append(
        f"Organisations in no PCN (trusts, councils), drawn as points only: {fmt_int(counts['without_pcn'])}."
    )
if counts["unlocated"]:
    notes.append(f"Organisations with no location recorded, not drawn: {fmt_int(counts['unlocated'])}.")
if geography:
    notes.append(f"Grey lines: local authorities. {registers_attribution}")
st.caption(" ".join(notes))

if len(view.by_pcn):
    # Written only once opened: a closed expander's table would still be built and sent.
    numbers = st.expander(
        f"The numbers behind the map: {fmt_int(len(view.by_pcn))} PCNs in scope", key="pcn_numbers",
        on_change="rerun",
    )
    if numbers.open:
        with numbers:
            st.dataframe(pcn_table(view), hide_index=True, width="stretch")

# The map's points as a list, for a keyboard or a screen reader: every organisation in scope (located or
# not) with its stage in words, built only once opened (thousands of rows at national scale).
listing = st.expander(
    f"Every organisation and its stage: {fmt_int(len(orgs))} in scope", key="org_list", on_change="rerun"
)
if listing.open:
    with listing:
        everyone = organisation_list(view)
        find_col, stage_col = st.columns([3, 2])
        with find_col:
            words = st.text_input("Find an organisation by name or ODS code", key="org_find")
        with stage_col:
            chosen = st.multiselect("Stages", list(maps.STAGE_LABELS.values()), key="org_stages",
                                    placeholder="Every stage")
        found = find_organisations(everyone, words, chosen)
        if found.empty:
            st.caption("No organisation in scope matches.")
        else:
            st.caption(organisations_shown(len(found), len(everyone)))
            st.dataframe(found.head(ORG_LIST_SHOWN), hide_index=True, width="stretch")
        components.table_download(
            "Download every organisation and its stage (CSV)", everyone,
            file_name=f"organisations-by-stage-{filters.as_of.isoformat()}.csv", what="organisation stages",
            detail={"scope": filters.label, "as_of": filters.as_of.isoformat()},
        )

# --- gaps --------------------------------------------------------------------------------------------
st.subheader("Gaps: nobody trained")
among = view.default_gaps_among
if view.has_care_homes and not view.only_care_homes:
    among = st.segmented_control(
        "Show gaps among", list(GAPS_AMONG), format_func=GAPS_AMONG.get, default=among
    ) or among
gaps = view.gaps[among]
who = "care homes" if among == "care_home" else "organisations"
total = view.gap_total(among)
if not view.has_care_homes:
    st.caption("No care home is in this scope, so gaps are listed among all its organisations.")
if gaps.empty:
    st.success(
        f"The one {who[:-1]} in scope has someone trained still in post." if total == 1
        else f"All {fmt_int(total)} {who} in scope have someone trained still in post."
    )
else:
    st.markdown(
        f"**{fmt_int(len(gaps))} of {fmt_int(total)}** {who} in scope have nobody trained still in post. "
        "Largest first, each with the nearest coach or Lead-tier person by straight-line distance "
        "(named only when they agreed to be)."
    )
    if not view.coaches:
        st.caption("No coach or Lead-tier person with a location is recorded yet, so none is suggested.")
    # The largest GAP_ROWS are listed, with only the columns shown; the download holds every gap.
    listed = gaps[[c for c in GAP_COLUMNS_SHOWN if c in gaps]].head(GAP_ROWS)
    if len(gaps) > GAP_ROWS:
        st.caption(
            f"Listing the largest {fmt_int(GAP_ROWS)} of {fmt_int(len(gaps))}; the download holds them all."
        )
    st.dataframe(
        listed, hide_index=True, width="stretch", height=min(600, 38 + GAP_ROW_HEIGHT * len(listed)),
        row_height=GAP_ROW_HEIGHT,
        column_config={
            "Organisation": st.column_config.TextColumn(width=GAP_WIDTHS["Organisation"]),
            "Beds": st.column_config.NumberColumn(width=GAP_WIDTHS["Beds"]),
            "Staff": st.column_config.NumberColumn(width=GAP_WIDTHS["Staff"]),
            "Stage": st.column_config.TextColumn(width=GAP_WIDTHS["Stage"]),
            "Nearest coach or Lead": st.column_config.TextColumn(width=GAP_WIDTHS["Nearest coach or Lead"]),
            "Distance (km)": st.column_config.NumberColumn(format="%.1f", width=GAP_WIDTHS["Distance (km)"]),
            "PCN": st.column_config.TextColumn(width=GAP_WIDTHS["PCN"]),
        },
    )
    st.caption("The download adds each organisation's kind, locality and ODS code.")
    components.table_download(
        "Download the gaps (CSV)",
        gaps,
        file_name=(
            f"gaps-{'care-homes' if among == 'care_home' else 'organisations'}"
            f"-{filters.as_of.isoformat()}.csv"
        ),
        what="gaps",
        detail={"scope": filters.label, "as_of": filters.as_of.isoformat(), "among": among},
    )
