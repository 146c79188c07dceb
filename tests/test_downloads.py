"""Every download goes through one helper (qidash.ui.components): the file is made on click, through the
formula-neutralising writer for tables, and recorded in the audit trail; a failed audit write never fails
the download."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from qidash import auth
from qidash.ui import components

ROOT = Path(__file__).resolve().parents[1]


def test_a_download_is_recorded_with_the_viewer_and_its_size(any_engine):
    data = components.delivered(
        any_engine, "lead@example.nhs.uk", "download", {"what": "gaps", "file": "gaps.csv"}, lambda: b"abc"
    )
    assert data == b"abc"
    with any_engine.connect() as conn:
        event = auth.audit_events(conn, action="download")[0]
    assert event["actor"] == "lead@example.nhs.uk"
    assert event["detail"] == {"what": "gaps", "file": "gaps.csv", "bytes": 3}


def test_a_failed_audit_write_still_delivers_the_file(any_engine, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("audit table is locked")

    monkeypatch.setattr(auth, "audit", broken)
    data = components.delivered(any_engine, "a@example.nhs.uk", "download", {"file": "x.csv"}, lambda: b"x")
    assert data == b"x"
    assert "could not record the download of x.csv" in caplog.text


def test_a_table_download_is_neutralised(any_engine):
    table = pd.DataFrame({"Organisation": ['=HYPERLINK("http://evil","x")'], "Beds": [-3]})
    from qidash import tabular

    data = components.delivered(any_engine, "a@example.nhs.uk", "download", {"file": "t.csv"},
                                lambda: tabular.frame_csv(table))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1] == ["'=HYPERLINK(\"http://evil\",\"x\")", "-3"]


def test_no_page_writes_a_download_and_nothing_but_the_writer_writes_a_table():
    """Pages go through components.file_download / table_download (audited, neutralised); CSV and XLSX
    are written only by qidash.tabular. The control: the writer itself is found by the same search."""
    found = {}
    for path in [*(ROOT / "app_pages").glob("*.py"), *(ROOT / "qidash").rglob("*.py")]:
        text = path.read_text()
        for call in (".download_button(", ".to_csv(", ".to_excel(", "csv.writer(", "Workbook("):
            if call in text:
                found.setdefault(str(path.relative_to(ROOT)), []).append(call)
    assert found == {
        "qidash/ui/components.py": [".download_button("],
        "qidash/tabular.py": ["csv.writer(", "Workbook("],
    }
