"""The one writer of CSV and XLSX files (qidash.tabular): formulas neutralised, numbers kept numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
from openpyxl import load_workbook

from qidash import tabular

EVIL = '=HYPERLINK("http://evil","x")'


def _read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads accents
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_every_formula_start_is_neutralised_and_nothing_else():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert tabular.neutralise(start + "1") == "'" + start + "1"
    assert tabular.neutralise("Quayside Lodge") == "Quayside Lodge"
    assert (
        tabular.neutralise(-3) == -3 and tabular.neutralise(-2.5) == -2.5 and tabular.neutralise(None) is None
    )
    assert tabular.neutralise(tabular.neutralise(EVIL)) == "'" + EVIL  # once is enough


def test_a_frame_as_csv_neutralises_text_and_keeps_numbers():
    frame = pd.DataFrame(
        {
            "Organisation": [EVIL, "Moorland Rise"],
            "Change": [-3, 4],
            "Distance (km)": [1.5, None],
            "=head": ["@x", "-y"],
        }
    )
    rows = _read_csv(tabular.frame_csv(frame))
    assert rows[0] == ["Organisation", "Change", "Distance (km)", "'=head"]
    assert rows[1] == ["'" + EVIL, "-3", "1.5", "'@x"]
    assert rows[2] == ["Moorland Rise", "4", "", "'-y"]


def test_a_workbook_neutralises_text_keeps_numbers_and_dates():
    book = tabular.xlsx_bytes(
        {"gaps": (["name", "beds", "since"], [(EVIL, -3, dt.date(2024, 5, 1)), ("+44 20", 2.5, None)])},
        notes=[("=1+1",)],
    )
    wb = load_workbook(io.BytesIO(book))
    assert wb.sheetnames == ["notes", "gaps"] and wb["notes"]["A1"].value == "'=1+1"
    sheet = wb["gaps"]
    assert [c.value for c in sheet[1]] == ["name", "beds", "since"] and sheet["A1"].font.bold
    assert sheet["A2"].value == "'" + EVIL and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -3 and sheet["B2"].data_type == "n"
    assert (
        sheet["C2"].value.date() == dt.date(2024, 5, 1) and sheet["C2"].number_format == tabular.DATE_FORMAT
    )
    assert sheet["A3"].value == "'+44 20" and sheet["B3"].value == 2.5 and sheet["C3"].value is None
