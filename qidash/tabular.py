"""The one writer of the CSV and XLSX files the app and the command line hand out.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or a
carriage return) as a formula: an imported name such as ``=HYPERLINK("http://evil","x")`` would become
a live link, or worse, in the downloaded file. Every text cell that starts so gets a leading ``'``
(shown by spreadsheets as the text itself; the import removes it). Numbers stay numbers: a negative
number is a number, not text, and is written as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"


def neutralise(value):
    """``value`` with a ``'`` in front when it is text a spreadsheet would treat as a formula; any other
    value (a number, a date, None) as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _blank(value) -> bool:
    return value is None or (
        not isinstance(value, str) and not isinstance(value, Sequence) and pd.isna(value)
    )


def csv_bytes(heading: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """A CSV of ``heading`` then ``rows``, text neutralised, blanks (None, NaN) empty; UTF-8 with a BOM
    (so Excel reads accents) and CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in heading])
    for row in rows:
        writer.writerow(["" if _blank(v) else neutralise(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def frame_csv(frame: pd.DataFrame) -> bytes:
    """:func:`csv_bytes` of a DataFrame's columns and rows (not its index)."""
    return csv_bytes([str(c) for c in frame.columns], frame.itertuples(index=False, name=None))


def xlsx_bytes(sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence]]],
               notes: Iterable[Sequence] | None = None) -> bytes:
    """An XLSX with a ``notes`` sheet first (when given), then one sheet per entry of ``sheets``
    (name -> (heading, rows)): a bold heading row, then the rows. Text is neutralised; dates are date
    cells shown ISO, so no one reads 03/04 the American way."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    if notes is not None:
        notes_sheet = book.create_sheet("notes")
        for line in notes:
            notes_sheet.append([neutralise(v) for v in line])
    for name, (heading, rows) in sheets.items():
        sheet = book.create_sheet(name)
        cells = []
        for title in heading:
            cell = WriteOnlyCell(sheet, value=neutralise(title))
            cell.font = Font(bold=True)
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append([_cell(sheet, WriteOnlyCell, v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(sheet, cell_type, value):
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        cell = cell_type(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    return None if _blank(value) else neutralise(value)
