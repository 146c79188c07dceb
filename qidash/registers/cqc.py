"""CQC's "HSCA Active Locations" file (.ods as published now, .xlsx as before, or CSV): its care homes.

The sheet is found by name and the header row by its ``Location ID`` heading; every column is read by
its heading, never by position (CQC adds and moves columns). Only the columns below are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from qidash.registers.tables import (
    RegisterError,
    Source,
    csv_rows,
    find_header,
    normalise,
    sheet_names,
    sheet_rows,
)

SHEET = "HSCA Active Locations"
MARKER = "Location ID"

# field -> the headings it is read from (the first present wins); required fields must be present.
COLUMNS: dict[str, tuple[str, ...]] = {
    "location_id": ("Location ID",),
    "care_home": ("Care home?",),
    "name": ("Location Name",),
    "beds": ("Care homes beds", "Care home beds"),
    "nursing": ("Service type - Care home service with nursing",),
    "postcode": ("Location Postal Code",),
    "ods_code": ("Location ODS Code",),
    "sub_icb": ("Location Commissioning CCG Code", "Location Commissioning Sub ICB Code"),
    "latitude": ("Location Latitude",),
    "longitude": ("Location Longitude",),
    "dormant": ("Dormant (Y/N)",),
    "provider": ("Provider Name",),
    "sector": ("Location Type/Sector",),
    "local_authority": ("Location Local Authority",),
    "city": ("Location City",),
    "county": ("Location County",),
}
REQUIRED = ("location_id", "care_home", "name", "beds", "nursing", "postcode")


@dataclass(frozen=True)
class CareHome:
    row: int  # the row in the file, for messages
    location_id: str
    name: str
    nursing: bool
    beds: int | None
    postcode: str | None
    ods_code: str | None
    sub_icb: str | None
    latitude: float | None
    longitude: float | None
    dormant: bool
    provider: str | None
    sector: str
    local_authority: str | None
    city: str | None
    county: str | None


@dataclass(frozen=True)
class CqcFile:
    name: str
    homes: list[CareHome]  # every care home in the file, whatever its ICB
    has_sub_icb: bool  # the file names each home's sub-ICB location
    rows: int  # locations read (care homes or not)


def read(source: Source) -> CqcFile:
    """Every care home (``Care home?`` = Y) of a CQC file. Raises RegisterError, naming the file and
    the column, when the sheet, the header or a column the loader needs is missing."""
    source = Source.of(source)
    if source.suffix in (".ods", ".xlsx", ".xlsm"):
        names = sheet_names(source)
        sheet = next((n for n in names if normalise(n) == normalise(SHEET)), None)
        if sheet is None:
            raise RegisterError(
                f'{source.name} has no sheet named "{SHEET}" (its sheets: {", ".join(names)}). '
                "Is it CQC's HSCA Active Locations file?"
            )
        where = f'{source.name}, sheet "{sheet}"'
        # The header first, then the rows again cut to the last column wanted: a national file's
        # columns beyond it are never turned into values.
        header, _rest = find_header(sheet_rows(source, sheet), MARKER, COLUMNS, where)
        width = max(p for p in header.positions.values() if p is not None) + 1
        rows: Iterator[list] = sheet_rows(source, sheet, width)
    elif source.suffix == ".csv":
        rows = csv_rows(source)
        where = source.name
    else:
        raise RegisterError(f"{source.name}: a CQC file must be .ods, .xlsx or .csv.")
    header, rest = find_header(rows, MARKER, COLUMNS, where)
    missing = [COLUMNS[f][0] for f in REQUIRED if header.positions[f] is None]
    if missing:
        raise RegisterError(
            f"{where}: the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)} {'are' if len(missing) > 1 else 'is'} missing from the "
            "header "
            f"(row {header.row}). CQC's file names it exactly so; was it renamed?"
            + _near(missing, header.headings)
        )
    pos = header.positions
    homes, count = [], 0
    for rowno, row in enumerate(rest, start=header.row + 1):
        if not row:
            continue

        def get(field, row=row):
            i = pos[field]
            if i is None or i >= len(row):
                return None
            value = row[i]
            if isinstance(value, str):
                value = value.strip()
                return value or None
            return value

        if get("location_id") is None:
            continue
        count += 1
        if str(get("care_home") or "").upper() not in ("Y", "YES"):
            continue
        homes.append(
            CareHome(
                row=rowno,
                location_id=str(get("location_id")),
                name=str(get("name") or get("location_id")),
                nursing=str(get("nursing") or "").upper() in ("Y", "YES"),
                beds=_int(get("beds")),
                postcode=_postcode(get("postcode")),
                ods_code=_text(get("ods_code")),
                sub_icb=_text(get("sub_icb")),
                latitude=_float(get("latitude")),
                longitude=_float(get("longitude")),
                dormant=str(get("dormant") or "").upper() in ("Y", "YES"),
                provider=_text(get("provider")),
                sector=_sector(get("sector"), get("provider")),
                local_authority=_text(get("local_authority")),
                city=_text(get("city")),
                county=_text(get("county")),
            )
        )
    return CqcFile(source.name, homes, pos["sub_icb"] is not None, count)


def _near(missing: list[str], headings: list[str]) -> str:
    import difflib

    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, [h for h in headings if h], n=1, cutoff=0.6)
        if close:
            hints.append(f' Found "{close[0]}" instead of "{name}".')
    return "".join(hints)


def _text(value) -> str | None:
    return None if value is None else str(value).strip() or None


def _postcode(value) -> str | None:
    text = _text(value)
    return " ".join(text.upper().split()) if text else None


def _int(value) -> int | None:
    try:
        return None if value is None else int(float(value))
    except ValueError:
        return None


def _float(value) -> float | None:
    try:
        number = None if value is None else float(value)
    except ValueError:
        return None
    return number if number not in (0.0,) else None  # 0 stands for "no grid reference"


def _sector(kind, provider) -> str:
    """NHS, local authority or independent, from CQC's ``Location Type/Sector`` and the provider."""
    kind = str(kind or "").lower()
    if kind.startswith("nhs"):
        return "nhs"
    if "local authority" in kind or "council" in str(provider or "").lower():
        return "local_authority"
    return "independent"
