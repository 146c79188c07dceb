"""The Data page in a real browser: a file with a bad row is previewed and cannot be loaded, a good file
is previewed and loaded, the history shows it and the exported workbook holds it, and another role loses
the page; nothing errors.

The page writes to the database, so this module runs its own server on its own demo folder rather than
the session's shared one.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from qidash import auth, db, ingest
from tests.e2e.conftest import assert_clean, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e

BAD = (
    b"ods_code,name,kind,sector,beds\n"
    b"BN9001,Quayside Lodge,care_home_residential,independent,18\n"
    b"BN9002,Moorland Rise,care_home_nursing,independent,-3\n"
)
GOOD = (
    b"ods_code,name,kind,sector,beds\n"
    b"BN9001,Quayside Lodge,care_home_residential,independent,18\n"
    b"BN9002,Moorland Rise,care_home_nursing,independent,30\n"
)


@pytest.fixture(scope="module")
def data_server(tmp_path_factory):
    """(base URL, demo folder) of a server of our own."""
    demo = tmp_path_factory.mktemp("e2e-data")
    proc, base = start_server({"QIDASH_DEMO_DIR": str(demo)})
    try:
        yield base, demo
    finally:
        stop_server(proc)


def table_rows(frame) -> list[list[str]]:
    """The rows of an st.dataframe as text (from the grid's accessible table; the grid draws on a canvas)."""
    return frame.locator("table").first.evaluate(
        "t => [...t.querySelectorAll('tr')].map(r => [...r.querySelectorAll('th, td')].map(c => "
        "c.textContent))"
    )


def upload(page, name: str, data: bytes) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    expect(page.get_by_role("heading", name="Preview")).to_be_visible(timeout=60_000)
    wait_idle(page)


def test_upload_preview_load_history_and_export(data_server, page):
    base, demo = data_server
    page.goto(f"{base}/data?scenario=barnet")
    wait_idle(page)
    assert page.get_by_role("heading", name="Data", exact=True).is_visible()

    # A bad row: it is named with its row and column, and the plain Load button is not offered.
    upload(page, "organisations.csv", BAD)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_contain_text("1 row rejected")
    rejected = page.locator('[data-testid="stDataFrame"]').nth(1)
    assert [
        "organisations.csv",
        "3",
        "beds",
        "-3",
        '"-3" is negative; beds must be 0 or more.',
    ] in table_rows(rejected)
    assert page.get_by_role("button", name="Load 1 new or updated row").count() == 0
    expect(page.get_by_role("button", name="Load 1 valid row")).to_be_disabled()

    # Take the bad file away and upload the corrected one.
    page.get_by_role("button", name="Remove organisations.csv").click()
    wait_idle(page)
    upload(page, "organisations.csv", GOOD)
    counts = page.locator('[data-testid="stDataFrame"]').first
    assert table_rows(counts)[1] == ["Organisations", "organisations.csv", "2", "0", "0", "0"]
    page.get_by_role("button", name="Load 2 new or updated rows").click()
    success = page.locator('[data-testid="stAlertContentSuccess"]', has_text="Import")
    expect(success).to_contain_text("loaded: 2 new, 0 updated, 0 unchanged", timeout=60_000)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stFileChip"]').count() == 0  # the uploader is empty again

    engine = db.make_engine(db.sqlite_url(demo / "barnet.db"))
    latest = ingest.recent_imports(engine, 1).iloc[0]
    assert (latest.file_name, latest.outcome, latest.rows_accepted) == ("organisations.csv", "loaded", 2)

    page.get_by_role("tab", name="Import history").click()
    history = page.locator('[data-testid="stDataFrame"]', has_text="organisations.csv").first
    newest = table_rows(history)[1]
    assert newest[0] == str(latest.id) and "organisations.csv" in newest and newest[-1] == "Loaded"

    # The whole-database export holds the new organisations, and is recorded in the audit trail.
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the whole database (XLSX)").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    codes = {row[0] for row in book["organisations"].iter_rows(min_row=2, values_only=True)}
    assert {"BN9001", "BN9002"} <= codes
    with engine.connect() as conn:
        assert auth.audit_events(conn, action="export")[0]["detail"]["scope"] == "whole system"
    engine.dispose()

    # Viewed as another role, the page is gone: the menu loses it and the app opens the Overview instead.
    page.locator('[data-testid="stSelectbox"]', has_text="View as").click()
    page.get_by_role("option", name="ICS executive").click()
    wait_idle(page)
    assert page.get_by_role("link", name="Data").count() == 0
    assert page.locator('[data-testid="stMain"] h1').first.inner_text() == "Overview"
    assert_clean(page)
