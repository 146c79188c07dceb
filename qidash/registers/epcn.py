"""NHS ODS ``ePCN`` workbook: the PCNs (sheet "PCNDetails") and which practices belong to which
(sheet "PCN Core Partner Details"; an empty end date is the current membership). Headings hold line
breaks and are compared with every run of spaces made one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from qidash.registers.ods import register_date
from qidash.registers.tables import RegisterError, Source, find_header, normalise, sheet_names, sheet_rows

DETAILS = "PCNDetails"
PARTNERS = "PCN Core Partner Details"
DETAIL_COLUMNS = {
    "code": ("PCN Code",),
    "name": ("PCN Name",),
    "sub_icb": ("Current Sub ICB Loc Code", "Sub ICB Loc Code"),
    "sub_icb_name": ("Sub ICB Location", "Current Sub ICB Loc Name"),
    "closed_on": ("Close Date",),
}
PARTNER_COLUMNS = {
    "practice": ("Partner Organisation Code",),
    "pcn": ("PCN Code",),
    "starts_on": ("Practice to PCN Relationship Start Date",),
    "ends_on": ("Practice to PCN Relationship End Date",),
}


@dataclass(frozen=True)
class PcnRow:
    row: int
    code: str
    name: str
    sub_icb: str | None
    closed_on: dt.date | None


@dataclass(frozen=True)
class EpcnFile:
    name: str
    pcns: dict[str, PcnRow]
    members: dict[str, str]  # practice ODS code -> PCN code, current memberships only


def read(source: Source) -> EpcnFile:
    """The PCNs and current memberships of an ePCN workbook; RegisterError names what is missing."""
    source = Source.of(source)
    if source.suffix not in (".xlsx", ".xlsm", ".ods"):
        raise RegisterError(f"{source.name}: the ePCN file is an .xlsx workbook.")
    names = {normalise(n): n for n in sheet_names(source)}
    for wanted in (DETAILS, PARTNERS):
        if normalise(wanted) not in names:
            raise RegisterError(
                f'{source.name} has no sheet "{wanted}" (its sheets: {", ".join(names.values())}). '
                "Is it NHS ODS's ePCN workbook?"
            )
    pcns = {}
    for rowno, get in _rows(source, names[normalise(DETAILS)], DETAIL_COLUMNS, ("code", "name")):
        code = get("code")
        if code:
            pcns[code] = PcnRow(
                rowno, code, get("name") or code, get("sub_icb"), register_date(get("closed_on") or "")
            )
    members: dict[str, tuple[str, str]] = {}
    for _rowno, get in _rows(
        source, names[normalise(PARTNERS)], PARTNER_COLUMNS, ("practice", "pcn", "ends_on")
    ):
        practice, pcn = get("practice"), get("pcn")
        if not practice or not pcn or get("ends_on"):
            continue
        start = get("starts_on") or ""
        if practice not in members or start > members[practice][1]:  # the latest current one
            members[practice] = (pcn, start)
    return EpcnFile(source.name, pcns, {p: pcn for p, (pcn, _) in members.items()})


def _rows(source: Source, sheet: str, columns: dict, required: tuple[str, ...]):
    first = columns[required[0]][0]
    header, rest = find_header(sheet_rows(source, sheet), first, columns, f'{source.name}, sheet "{sheet}"')
    missing = [columns[f][0] for f in required if header.positions[f] is None]
    if missing:
        raise RegisterError(
            f'{source.name}, sheet "{sheet}": no column {", ".join(repr(m) for m in missing)} in the header '
            f"(row {header.row})."
        )
    pos = header.positions
    for rowno, row in enumerate(rest, start=header.row + 1):

        def get(field, row=row):
            i = pos[field]
            value = row[i] if i is not None and i < len(row) else None
            if value is None:
                return None
            if isinstance(value, (int, float)):
                value = str(int(value))  # a date typed as the number 20191001
            elif isinstance(value, dt.datetime | dt.date):
                value = value.strftime("%Y%m%d")
            return str(value).strip() or None

        yield rowno, get
