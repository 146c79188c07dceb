"""The Data page's "Start from the public registers": the ICBs to choose from and a planned load in
words and tables. No Streamlit here."""

from __future__ import annotations

import pandas as pd

from qidash.registers import lookups
from qidash.registers.plan import Plan

SHOWN_NAMES = 12

REGISTER_FILES = {  # upload key -> (label, file types, help)
    "cqc": (
        "CQC care homes: HSCA Active Locations",
        ["ods", "xlsx", "csv"],
        "CQC's monthly file of active locations, as downloaded (.ods now, .xlsx before, or CSV).",
    ),
    "practices": ("GP practices: ODS epraccur", ["csv"], "epraccur.csv from NHS ODS (no header row)."),
    "pcns": ("PCNs: ODS ePCN", ["xlsx"], "ePCN.xlsx from NHS ODS, with its two sheets."),
    "trusts": ("NHS trusts: ODS etr", ["csv"], "etr.csv from NHS ODS (no header row)."),
    "postcodes": (
        "Postcode lookup: ONS NSPL or ONSPD",
        ["csv"],
        (
            "One or more CSV files with the postcode, lat and long columns (e.g. the per-area files). "
            "Without them, rows with only a postcode load without a place on the map."
        ),
    ),
}


def icb_choices() -> dict[str, str]:
    """ODS code -> name of every ICB, by name."""
    return {code: icb.name for code, icb in lookups.icbs().items()}


def plan_table(plan: Plan) -> pd.DataFrame:
    """Per kind: how many the load adds, updates, closes, reopens and leaves as they are."""
    rows = [
        (k.label[:1].upper() + k.label[1:], len(k.add), len(k.update), len(k.close), len(k.reopen), k.leave)
        for k in plan.kinds.values()
    ]
    return pd.DataFrame(rows, columns=["kind", "add", "update", "close", "reopen", "leave"])


def plan_lines(plan: Plan) -> list[str]:
    """What changes, by name (the first few of each), then the notes, in sentences."""
    lines = []
    for k in plan.kinds.values():
        for verb, names in (
            ("Adds", k.add),
            ("Updates", k.update),
            ("Closes", k.close),
            ("Reopens", k.reopen),
        ):
            if names:
                more = f" and {len(names) - SHOWN_NAMES:,} more" if len(names) > SHOWN_NAMES else ""
                lines.append(f"{verb} {len(names):,} {k.label}: {', '.join(names[:SHOWN_NAMES])}{more}.")
    if plan.unplaced:
        why = (
            "their postcodes are not in the lookup"
            if plan.postcode_lookup
            else "no postcode lookup was given"
        )
        more = " ..." if len(plan.unplaced) > SHOWN_NAMES else ""
        lines.append(
            f"{len(plan.unplaced):,} will have no place on the map ({why}): "
            f"{', '.join(plan.unplaced[:SHOWN_NAMES])}{more}"
        )
    return lines + plan.notes
