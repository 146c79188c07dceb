"""Reading the rows of a published register file: an OpenDocument (.ods) or Excel (.xlsx) sheet, or a
CSV, row by row, so a national file of 50,000 rows never sits in memory as a whole workbook.

The .ods reader walks the sheet's XML as it is unzipped (``content.xml``, with ``iterparse``) and keeps
only each row's cells up to the last column asked for: the general-purpose readers build the whole
document first, minutes and gigabytes for CQC's national file. Repeated rows and cells (how .ods
writes runs of blanks) are expanded only as far as they hold something.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
SHEET_TAG = re.compile(rb'<table:table\s[^>]*?table:name="([^"]*)"')
MAX_REPEAT = 10_000  # a run of identical non-blank rows longer than this is padding, not data


class RegisterError(Exception):
    """A register file that cannot be used: the message says which file and why, in plain words."""


@dataclass(frozen=True)
class Source:
    """A file as given: its name (for messages) and either a path or its bytes (an upload)."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def of(cls, value: str | Path | tuple[str, bytes] | Source) -> Source:
        if isinstance(value, Source):
            return value
        if isinstance(value, tuple):
            return cls(value[0], data=value[1])
        path = Path(value)
        if not path.is_file():
            raise RegisterError(f"There is no file {str(path)!r}.")
        return cls(path.name, path=path)

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    def open(self):
        return self.path.open("rb") if self.path is not None else io.BytesIO(self.data or b"")

    def read_bytes(self) -> bytes:
        return self.path.read_bytes() if self.path is not None else (self.data or b"")


def normalise(heading) -> str:
    """A heading compared case- and space-insensitively (ePCN's headings hold line breaks)."""
    return re.sub(r"\s+", " ", str(heading or "")).strip().lower()


# --- CSV -------------------------------------------------------------------------------------------------


def csv_rows(source: Source) -> Iterator[list[str]]:
    """Every row of a CSV file as text cells (UTF-8 with or without BOM; an upload that is not UTF-8
    is read as Windows-1252). A file on disk is streamed: the national postcode lookup is a gigabyte."""
    if source.path is not None:
        with source.path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
            yield from csv.reader(f)
        return
    raw = source.data or b""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    yield from csv.reader(io.StringIO(text, newline=""))


# --- workbooks -------------------------------------------------------------------------------------------


def sheet_names(source: Source) -> list[str]:
    """The names of a workbook's sheets, in order."""
    if source.suffix == ".ods":
        # Scanned as text: parsing would build the whole document (gigabytes for CQC's national file)
        # only to read a few attributes.
        names, tail = [], b""
        with zipfile.ZipFile(source.open()) as z, z.open("content.xml") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                text = tail + block
                cut = text.rfind(b"<")  # a tag split across blocks is read whole with the next one
                for found in SHEET_TAG.finditer(text, 0, cut if cut > 0 else len(text)):
                    names.append(html.unescape(found.group(1).decode("utf-8")))
                tail = text[cut:] if cut > 0 else b""
        return names
    import openpyxl

    wb = openpyxl.load_workbook(source.open(), read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def sheet_rows(source: Source, sheet: str, width: int | None = None) -> Iterator[list]:
    """The rows of ``sheet`` (its exact name), each a list of cell values (text, numbers, dates as
    text), cut to ``width`` cells when given. Raises RegisterError when the file cannot be read."""
    try:
        if source.suffix == ".ods":
            yield from _ods_rows(source, sheet, width)
        else:
            yield from _xlsx_rows(source, sheet, width)
    except (zipfile.BadZipFile, ET.ParseError, SyntaxError, KeyError, OSError) as exc:
        raise RegisterError(
            f"{source.name} could not be read as a {source.suffix} workbook ({exc})."
        ) from exc


def _xlsx_rows(source: Source, sheet: str, width: int | None) -> Iterator[list]:
    import openpyxl

    wb = openpyxl.load_workbook(source.open(), read_only=True, data_only=True)
    try:
        ws = wb[sheet]
        for row in ws.iter_rows(values_only=True, max_col=width):
            yield list(row)
    finally:
        wb.close()


def _ods_rows(source: Source, sheet: str, width: int | None) -> Iterator[list]:
    # lxml (a dependency of python-pptx) hands over only the rows, each once read; the cells are
    # walked in C. Each row is freed as soon as it is read, with the rows before it.
    from lxml import etree

    with zipfile.ZipFile(source.open()) as z, z.open("content.xml") as f:
        seen = False
        for _event, row in etree.iterparse(f, events=("end",), tag=TABLE + "table-row", huge_tree=True):
            table = row.getparent()
            while table is not None and table.tag != TABLE + "table":  # header rows, row groups
                table = table.getparent()
            if table is not None and table.get(TABLE + "name") == sheet:
                seen = True
                cells = ods_cells(row, width)
                repeat = int(row.get(TABLE + "number-rows-repeated", "1"))
                if any(c is not None for c in cells):
                    for _ in range(min(repeat, MAX_REPEAT)):
                        yield cells
                else:
                    # A run of blank rows (often a million, padding the sheet) is yielded as
                    # one, so the reader can skip it without counting a million.
                    yield []
            elif seen:
                return  # past the sheet: the rest of the file is other sheets
            row.clear()
            parent = row.getparent()
            while row.getprevious() is not None:
                del parent[0]


def ods_cells(row: ET.Element, width: int | None) -> list:
    """One OpenDocument table row's values: repeated cells expanded, trailing blanks dropped, at most
    ``width`` cells when given."""
    cells: list = []
    for cell in row:
        if cell.tag != TABLE + "table-cell" and cell.tag != TABLE + "covered-table-cell":
            continue
        repeat = int(cell.get(TABLE + "number-columns-repeated", "1"))
        value = _ods_value(cell)
        if value is None:
            # A long run of blanks is the padding to the sheet's last column: a few are enough.
            cells.extend([None] * min(repeat, 1024))
        else:
            cells.extend([value] * repeat)
        if width is not None and len(cells) >= width:
            break
    while cells and cells[-1] is None:
        cells.pop()
    return cells[:width] if width is not None else cells


def _ods_value(cell: ET.Element):
    kind = cell.get(OFFICE + "value-type")
    if kind in ("float", "percentage", "currency"):
        value = float(cell.get(OFFICE + "value"))
        return int(value) if value.is_integer() else value
    if kind == "date":
        return cell.get(OFFICE + "date-value")
    if kind == "boolean":
        return cell.get(OFFICE + "boolean-value") == "true"
    paragraphs = [(p.text or "") if not len(p) else "".join(_text(p)) for p in cell if p.tag == TEXT + "p"]
    text = "\n".join(paragraphs)
    return text if text else None


def _text(el: ET.Element) -> Iterator[str]:
    """A paragraph's text, with ``<text:s text:c="3"/>`` as the spaces it stands for."""
    if el.text:
        yield el.text
    for child in el:
        if child.tag == TEXT + "s":
            yield " " * int(child.get(TEXT + "c", "1"))
        elif child.tag == TEXT + "tab":
            yield "\t"
        elif child.tag == TEXT + "line-break":
            yield "\n"
        else:
            yield from _text(child)
        if child.tail:
            yield child.tail


# --- a sheet with a header row found by name --------------------------------------------------------------


@dataclass
class Header:
    """Where a sheet's header row is, and each wanted column's position (None: absent)."""

    row: int  # 1-based row number of the header
    positions: dict[str, int | None]
    headings: list[str]


def find_header(
    rows: Iterator[list], marker: str, wanted: dict[str, tuple[str, ...]], what: str, look: int = 30
) -> tuple[Header, Iterator[list]]:
    """Find the header row (the first of the first ``look`` rows with a cell named ``marker``) and the
    positions of ``wanted`` columns (field -> accepted headings). Returns the header and the rest of
    the rows. Raises RegisterError when no row names ``marker``."""
    marker_n = normalise(marker)
    for rowno, row in enumerate(rows, start=1):
        names = [normalise(c) for c in row]
        if marker_n in names:
            positions = {}
            for field, headings in wanted.items():
                found = [names.index(normalise(h)) for h in headings if normalise(h) in names]
                positions[field] = found[0] if found else None
            return Header(rowno, positions, [str(c) if c is not None else "" for c in row]), rows
        if rowno >= look:
            break
    raise RegisterError(f'{what}: no header row naming "{marker}" in its first {look} rows.')
