"""Text alternatives for charts: a one-line summary in plain words of what a chart shows, and the numbers
behind it as a table (WCAG 1.1.1). Pure functions of the same frames the chart builders draw; names in the
summaries are imported text, shown by the page through ``markdown_literal``."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from qidash.palette import fmt_int, fmt_num, fmt_pct


def _day(day) -> str:
    return f"{pd.Timestamp(day):%d %B %Y}".lstrip("0")


def reach(frame: pd.DataFrame, target: dict | None, as_of: dt.date) -> tuple[str, pd.DataFrame]:
    """People trained over time: the first and latest totals, and the target when there is one. ``frame``
    has ``day``, ``cumulative`` and ``patients_cumulative`` (one row per day someone was first trained)."""
    table = pd.DataFrame(
        {
            "Date": [_day(d) for d in frame["day"]],
            "People trained (total)": frame["cumulative"].astype(int).tolist(),
            "Of whom patients": frame["patients_cumulative"].astype(int).tolist(),
        }
    )
    if frame.empty:
        return f"Nobody in this scope had been trained by {_day(as_of)}.", table
    first, last = frame.iloc[0], frame.iloc[-1]
    text = (
        f"People trained rose from {fmt_int(first['cumulative'])} on {_day(first['day'])} "
        f"to {fmt_int(last['cumulative'])} by {_day(as_of)}"
    )
    if target and target.get("target_value") is not None:
        text += f", against a target of {fmt_int(target['target_value'])} by {_day(target['due_on'])}"
    return text + ".", table


def coverage(rows: pd.DataFrame, label_col: str = "name") -> tuple[str, pd.DataFrame]:
    """Coverage per area: the highest and the lowest. ``rows`` has the area's name, ``coverage_pct``,
    ``orgs_trained`` and ``orgs_in_scope``."""
    table = pd.DataFrame(
        {
            "Area": rows[label_col].tolist(),
            "Coverage": [fmt_pct(None if pd.isna(v) else v) for v in rows["coverage_pct"]],
            "Organisations trained": rows["orgs_trained"].astype(int).tolist(),
            "Organisations": rows["orgs_in_scope"].astype(int).tolist(),
        }
    )
    known = rows.dropna(subset=["coverage_pct"]).sort_values("coverage_pct", kind="stable")
    if known.empty:
        return "No area has organisations to cover.", table
    hi, lo = known.iloc[-1], known.iloc[0]
    if len(known) == 1:
        return f"Coverage in {hi[label_col]} is {fmt_pct(hi['coverage_pct'])}.", table
    return (
        (
            f"Coverage ranges from {fmt_pct(lo['coverage_pct'])} in {lo[label_col]} "
            f"to {fmt_pct(hi['coverage_pct'])} in {hi[label_col]}, across {len(known)} areas."
        ),
        table,
    )


def improving_by_priority(by_priority: pd.DataFrame, names: dict[str, str]) -> tuple[str, pd.DataFrame]:
    """Projects improving per priority: how many of how many in all, and the priority with the most.
    ``by_priority`` has ``priority`` (a code), ``projects`` and ``improving``."""
    shown = by_priority[by_priority["projects"] > 0]
    table = pd.DataFrame(
        {
            "Priority": [names.get(c, c) for c in shown["priority"]],
            "Projects": shown["projects"].astype(int).tolist(),
            "Showing improvement": shown["improving"].astype(int).tolist(),
        }
    )
    improving, projects = int(shown["improving"].sum()), int(shown["projects"].sum())
    text = f"{fmt_int(improving)} of {fmt_int(projects)} projects are showing improvement"
    if improving:
        top = shown.sort_values("improving", ascending=False, kind="stable").iloc[0]
        leader = names.get(top["priority"], top["priority"])
        text += f"; the most under {leader} ({fmt_int(top['improving'])})"
    return text + ".", table


def _share(n: int, total: int) -> str:
    return fmt_pct(100 * n / total) if total else "–"


def tier_funnel(tiers: list[dict], counts: dict[str, int], who: str = "people") -> tuple[str, pd.DataFrame]:
    """The progression funnel: how many reached the first tier and how many of them the last. ``tiers``
    are the ladder's tiers lowest first (``code``, ``name``); ``counts`` people reaching at least each."""
    values = [int(counts.get(t["code"], 0)) for t in tiers]
    table = pd.DataFrame(
        {
            "Tier": [t["name"] for t in tiers],
            "Reached this tier or beyond": values,
            "Of the first tier": [_share(v, values[0]) for v in values] if values else [],
        }
    )
    if not values or not values[0]:
        return f"No {who} in this scope had reached a tier.", table
    first, last = tiers[0], tiers[-1]
    text = f"{fmt_int(values[0])} {who} reached {first['name']} or beyond"
    if len(tiers) > 1:
        text += f"; {fmt_int(values[-1])} ({_share(values[-1], values[0])}) reached {last['name']}"
    return text + ".", table


def tier_comparison(groups: pd.DataFrame, first_tier: dict) -> str:
    """The comparison across areas (its numbers are in the table beside it): the area with the most people
    at the first tier. ``groups`` has ``name`` and one column of counts per tier code."""
    code = first_tier["code"]
    if groups.empty or code not in groups or not groups[code].sum():
        return f"No area has people who reached {first_tier['name']}."
    top = groups.sort_values(code, ascending=False, kind="stable").iloc[0]
    return (
        f"{fmt_int(groups[code].sum())} people across {len(groups)} areas reached {first_tier['name']}; "
        f"the most in {top['name']} ({fmt_int(top[code])})."
    )


def reach_by_tier(reach: pd.DataFrame, tiers: list[dict], as_of: dt.date) -> tuple[str, pd.DataFrame]:
    """Reach over time per tier: the total at each tier by the date, and since when. ``reach`` has
    ``tier`` (a code), ``day`` and ``cumulative``."""
    rows = []
    for tier in tiers:
        own = reach[reach["tier"] == tier["code"]]
        rows.append(
            {
                "Tier": tier["name"],
                "First reached": _day(own["day"].iloc[0]) if not own.empty else "–",
                f"Reached by {_day(as_of)}": int(own["cumulative"].iloc[-1]) if not own.empty else 0,
            }
        )
    table = pd.DataFrame(rows, columns=["Tier", "First reached", f"Reached by {_day(as_of)}"])
    reached = [r for r in rows if r["First reached"] != "–"]
    if not reached:
        return f"Nobody in this scope had reached a tier by {_day(as_of)}.", table
    parts = [f"{fmt_int(r[f'Reached by {_day(as_of)}'])} reached {r['Tier']}" for r in reached]
    return f"By {_day(as_of)}: " + "; ".join(parts) + ".", table


def session_attendance(sessions: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """One cohort's attendance per session: the first and the last session's attendance against the
    register. ``sessions`` has ``session_no``, ``held_on``, ``attended`` and ``on_register``."""
    table = pd.DataFrame(
        {
            "Session": sessions["session_no"].astype(int).tolist(),
            "Held on": ["not recorded" if pd.isna(d) else _day(d) for d in sessions["held_on"]],
            "Attended": sessions["attended"].astype(int).tolist(),
            "On the register": sessions["on_register"].astype(int).tolist(),
        }
    )
    if sessions.empty:
        return "No session is recorded.", table
    first, last = sessions.iloc[0], sessions.iloc[-1]
    text = (
        f"Session {int(first['session_no'])}: "
        f"{int(first['attended'])} of {int(first['on_register'])} attended"
    )
    if len(sessions) > 1:
        text += f"; session {int(last['session_no'])}: {int(last['attended'])} of {int(last['on_register'])}"
    return text + f" ({len(sessions)} sessions).", table


def role_mix(roles: pd.DataFrame, names: dict[str, str]) -> tuple[str, pd.DataFrame]:
    """Participants by role: the total and the largest role. ``roles`` has ``role`` (a code or None)
    and ``people``, largest first."""
    labels = ["Role not recorded" if pd.isna(r) else names.get(r, r) for r in roles["role"]]
    people = roles["people"].astype(int).tolist()
    total = sum(people)
    table = pd.DataFrame({"Role": labels, "People": people, "Share": [_share(n, total) for n in people]})
    if not total:
        return "Nobody holds a place in a cohort.", table
    top = max(range(len(people)), key=lambda i: people[i])
    text = (
        f"{fmt_int(total)} people with a place across {len(people)} roles; the most are "
        f"{labels[top]} ({fmt_int(people[top])}, {_share(people[top], total)})."
    )
    return text, table


def local_faculty(periods: pd.DataFrame, labels: list[str]) -> tuple[str, pd.DataFrame]:
    """Cohorts per period by who taught them: the local share in the first and the latest period.
    ``periods`` has ``cohorts``, ``local`` and ``share`` (0–1 or missing); ``labels`` name the periods."""
    cohorts = periods["cohorts"].astype(int).tolist()
    local = periods["local"].astype(int).tolist()
    table = pd.DataFrame(
        {
            "Period": labels,
            "Cohorts started": cohorts,
            "Taught by local faculty": local,
            "Taught by an external provider": [c - n for c, n in zip(cohorts, local, strict=True)],
            "Local share": [_share(n, c) for n, c in zip(local, cohorts, strict=True)],
        }
    )
    if not sum(cohorts):
        return "No cohort had started.", table
    text = f"Local faculty taught {_share(local[-1], cohorts[-1])} of cohorts in {labels[-1]}"
    if len(labels) > 1:
        text += f", against {_share(local[0], cohorts[0])} in {labels[0]}"
    return text + f"; {fmt_int(sum(local))} of {fmt_int(sum(cohorts))} cohorts in all.", table


def _score(value: float) -> str:
    from qidash.spc_charts import IHI_SCORES

    words = IHI_SCORES.get(float(value))
    return f"{value:.1f}" + (f" ({words.lower()})" if words else "")


def projects_by_priority(projects: pd.DataFrame, names: dict[str, str]) -> tuple[str, pd.DataFrame]:
    """Projects per priority by the band of their latest progress score: how many score 3.0 or more
    (improving), and the priority with the most projects. ``projects`` has ``priority`` (a code) and
    ``latest_score`` (missing when unscored)."""
    from qidash.spc_charts import NO_SCORE, SCORE_BANDS, score_band

    bands = [NO_SCORE[0]] + [b for b, _, _ in SCORE_BANDS]
    counts = pd.crosstab(projects["priority"], projects["latest_score"].map(score_band))
    counts = counts.reindex(columns=bands, fill_value=0)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    table = pd.DataFrame({"Priority": [names.get(c, c) for c in counts.index]})
    for band in bands:
        table[band] = counts[band].astype(int).tolist()
    table["Projects"] = counts.sum(axis=1).astype(int).tolist()
    if projects.empty:
        return "No project matches these filters.", table
    improving = int(sum(counts[b].sum() for b, low, _ in SCORE_BANDS if low >= 3.0))
    top = table.iloc[0]
    text = (
        f"{fmt_int(improving)} of {fmt_int(len(projects))} projects score 3.0 or more (improving); "
        f"the most projects are under {top['Priority']} ({fmt_int(top['Projects'])})."
    )
    return text, table


def latest_scores(projects: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Projects per latest progress score: the most common score and how many are not yet scored."""
    from qidash.spc_charts import IHI_SCORES

    scored = projects["latest_score"].dropna().astype(float)
    counts = scored.value_counts()
    table = pd.DataFrame(
        {
            "Latest progress score": [f"{v:.1f}" for v in IHI_SCORES],
            "Meaning": list(IHI_SCORES.values()),
            "Projects": [int(counts.get(v, 0)) for v in IHI_SCORES],
        }
    )
    unscored = len(projects) - len(scored)
    if scored.empty:
        return f"None of the {fmt_int(len(projects))} projects has a progress score yet.", table
    common = max(IHI_SCORES, key=lambda v: (counts.get(v, 0), -v))
    text = (
        f"The most common latest score is {_score(common)}, "
        f"for {fmt_int(counts[common])} of {fmt_int(len(scored))} scored projects"
    )
    if unscored:
        text += f"; {fmt_int(unscored)} not yet scored"
    return text + ".", table


def progress_history(scores: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """One project's progress scores over time: the first and the latest. ``scores`` has ``scored_on``
    and ``score``, oldest first."""
    from qidash.spc_charts import IHI_SCORES

    table = pd.DataFrame(
        {
            "Date": [_day(d) for d in scores["scored_on"]],
            "Score": [f"{v:.1f}" for v in scores["score"]],
            "Meaning": [IHI_SCORES.get(float(v), "") for v in scores["score"]],
        }
    )
    if scores.empty:
        return "No progress score recorded.", table
    first, last = scores.iloc[0], scores.iloc[-1]
    if len(scores) == 1:
        return f"Scored {_score(last['score'])} on {_day(last['scored_on'])}.", table
    text = (
        f"The progress score went from {_score(first['score'])} on {_day(first['scored_on'])} "
        f"to {_score(last['score'])} on {_day(last['scored_on'])}, over {len(scores)} scores."
    )
    return text, table


def _period(value) -> str:
    try:
        return _day(value)
    except (ValueError, TypeError):
        return str(value)


def spc_measure(result: dict, variation: str = "", assurance: str = "") -> tuple[str, pd.DataFrame]:
    """One measure's run or control chart: its span, the latest point against the centre line, and the
    Making Data Count icons' names in words (``variation``, ``assurance``). ``result`` is the stored
    chart result; the table is the chart's data on the chart's scale (percentages for p charts)."""
    from qidash.spc_charts import chart_data, format_value, scale_of

    kind = result.get("kind") or "run"
    data = chart_data(result)
    s = scale_of(kind)
    table = pd.DataFrame(
        {
            "Period": [_period(p) for p in data["period"]],
            "Value": [None if pd.isna(v) else v * s for v in data["y"]],
            "Centre line": [None if pd.isna(v) else v * s for v in data["cl"]],
            "Lower limit": [None if pd.isna(v) else v * s for v in data["lcl"]],
            "Upper limit": [None if pd.isna(v) else v * s for v in data["ucl"]],
            "Point": data["point_type"].tolist(),
        }
    )
    if data.empty:
        return "No points yet.", table
    last = table.iloc[-1]
    text = (
        f"{len(table)} points from {table['Period'].iloc[0]} to {last['Period']}; "
        f"the latest is {format_value(last['Value'], kind)}"
    )
    if last["Centre line"] is not None and not pd.isna(last["Centre line"]):
        text += f" against a centre line of {format_value(last['Centre line'], kind)}"
    icons = "; ".join(words for words in (variation, assurance) if words)
    return text + "." + (f" {icons}." if icons else ""), table


def _words_list(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def capability_map(
    stage_counts: dict[str, int],
    stage_labels: dict[str, str],
    by_pcn: pd.DataFrame,
    measure: str | None = None,
    measure_name: str = "",
) -> str:
    """The capability map in words: organisations at each stage (the points' colours, said in text) and,
    when the areas are coloured by a measure, the PCNs with its lowest and highest value. ``by_pcn`` has
    ``name`` and the measure's column; the per-PCN numbers are the page's table."""
    total = sum(stage_counts.values())
    if not total:
        text = "No organisation is in this scope."
    else:
        parts = [f"{fmt_int(n)} {stage_labels[s].lower()}" for s, n in stage_counts.items() if n]
        text = f"Of {fmt_int(total)} organisations: {_words_list(parts)}."
    if measure and measure in by_pcn and len(by_pcn):
        known = by_pcn.dropna(subset=[measure]).sort_values(measure, kind="stable")
        if len(known) > 1:
            def shown(v):
                if measure == "coverage_pct":
                    return fmt_pct(v)
                return fmt_int(v) if float(v).is_integer() else fmt_num(v, 2)

            lo, hi = known.iloc[0], known.iloc[-1]
            text += (
                f" {measure_name} per PCN ranges from {shown(lo[measure])} in {lo['name']} "
                f"to {shown(hi[measure])} in {hi['name']}."
            )
    return text


def cumulative_impact(frame: pd.DataFrame, label: str, low: float, high: float) -> tuple[str, pd.DataFrame]:
    """The running total of one like-for-like impact by month: the total by the last month with its
    range. ``frame`` has ``period`` and ``cumulative``; ``label`` names the unit ("bed days saved")."""
    table = pd.DataFrame(
        {
            "Month": [f"{pd.Timestamp(p):%B %Y}" for p in frame["period"]],
            f"Total {label}": frame["cumulative"].round(1).tolist(),
        }
    )
    if frame.empty:
        return f"No {label} estimated yet.", table
    first, last = table.iloc[0], table.iloc[-1]
    text = (
        f"The estimated total of {label} grew from {first[f'Total {label}']:,.0f} in {first['Month']} "
        f"to {last[f'Total {label}']:,.0f} by {last['Month']} (range {low:,.0f} to {high:,.0f})."
    )
    return text, table
