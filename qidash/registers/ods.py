"""NHS ODS files in the headerless 27-column layout: ``epraccur`` (GP practices and other prescribing
cost centres) and ``etr`` (NHS trusts).

Columns (1-based): 1 code, 2 name, 3 NHS region, 4 ICB code, 5-9 address (line 4: usually the town),
10 postcode, 11 open date, 12 close date (YYYYMMDD), 13 status (A active, C closed, D dormant,
P proposed), 15 sub-ICB location, 26 prescribing setting (4 = GP practice).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from qidash.registers.tables import RegisterError, Source, csv_rows

WIDTH = 27
GP_PRACTICE = "4"
ODS_CODE = re.compile(r"^[A-Z0-9]{3,8}$")


@dataclass(frozen=True)
class OdsRow:
    row: int
    code: str
    name: str
    icb_code: str
    address: tuple[str, ...]  # the address lines given, in order
    postcode: str | None
    closed_on: dt.date | None
    status: str  # A, C, D or P (epraccur); blank in etr
    sub_icb: str | None
    setting: str | None

    @property
    def active(self) -> bool:
        return self.closed_on is None and self.status in ("A", "")


def read(source: Source, what: str) -> list[OdsRow]:
    """Every row of a headerless ODS file. ``what`` names the file in messages ("practices")."""
    source = Source.of(source)
    out = []
    for rowno, cells in enumerate(csv_rows(source), start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < 26 or not ODS_CODE.match(cells[0].strip()):
            raise RegisterError(
                f"{source.name} ({what}), row {rowno}: this is not the ODS layout (27 columns, no header "
                f"row, an ODS code first); it has {len(cells)} column{'s' if len(cells) != 1 else ''}"
                f"{', starting ' + repr(cells[0][:30]) if cells else ''}."
            )
        cells = [c.strip() for c in cells] + [""] * (WIDTH - len(cells))
        out.append(
            OdsRow(
                row=rowno,
                code=cells[0],
                name=cells[1],
                icb_code=cells[3],
                address=tuple(c for c in cells[4:9] if c),
                postcode=" ".join(cells[9].upper().split()) or None,
                closed_on=register_date(cells[11]),
                status=cells[12],
                sub_icb=cells[14] or None,
                setting=cells[25] or None,
            )
        )
    if not out:
        raise RegisterError(f"{source.name} ({what}) has no rows.")
    return out


def register_date(text: str) -> dt.date | None:
    """A register's date (YYYYMMDD), or None when blank or not a date."""
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def towns(rows: list[OdsRow]) -> dict[str, str]:
    """ODS code -> the town of its address: the last address line that is not the county. Counties
    are the last lines a fifth or more of the rows share (ODS puts the town or the county last)."""
    from collections import Counter

    last = Counter(r.address[-1].upper() for r in rows if r.address)
    counties = {line for line, n in last.items() if n >= max(3, len(rows) / 5)}
    out = {}
    for r in rows:
        for line in reversed(r.address[1:]):
            town = line.split(",")[0].strip()
            if town and town.upper() not in counties and not any(ch.isdigit() for ch in town):
                out[r.code] = town
                break
    return out


def trust_kind(name: str) -> str:
    """A new trust's kind from its name (ODS does not say); an admin's correction is kept on reload."""
    upper = name.upper()
    if "AMBULANCE" in upper:
        return "ambulance_trust"
    if "MENTAL HEALTH" in upper or "PARTNERSHIP" in upper:  # most "partnership" trusts run mental health
        return "mental_health_trust"
    if "COMMUNITY" in upper:
        return "community_trust"
    if "HOSPITAL" in upper or "HEALTHCARE" in upper or "UNIVERSITY" in upper:
        return "acute_trust"
    return "other"
