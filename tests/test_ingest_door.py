"""Bad values are refused at the door (issue 15): each with its row, column and reason, on SQLite and
PostgreSQL, tried as a careless operator would: real files on disk, the real command line, the Data page.
A file loads whole or not at all, and what is stored is never lost."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from qidash import catalog, db, ingest
from qidash import models as m
from qidash.cli import main
from tests.support import ROOT, TIMEOUT, engine_url, programme_rows, viewer_of
from tests.test_ingest import BASE


@pytest.fixture
def programme(imported_programme):
    """The small programme of fixtures/import/base, this test's own copy (tests/conftest.py)."""
    return imported_programme


# Every date column of the import format, each given a year no programme holds.
IMPLAUSIBLE_DATES = {
    "organisations.csv": (
        "ods_code,name,kind,sector,offered_on\n"
        "A81001,Riverside Surgery,gp_practice,nhs,9999-01-01\n"
    ),
    "people.csv": "person_ref,ods_code,left_on\nP0001,A81001,01/01/0001\n",
    "cohorts.csv": (
        "code,course_code,start_date,end_date\nANCIENT,QSIR,01/01/0001,\nFUTURE,QSIR,2024-01-01,31/12/9999\n"
    ),
    "enrolments.csv": "person_ref,cohort_code,status,completed_on\nP0001,QSIR-01,completed,1899-12-31\n",
    "attendance.csv": "person_ref,cohort_code,session,held_on\nP0001,QSIR-01,1,0001-02-01\n",
    "projects.csv": (
        "code,title,priority_code,lead_ods_code,start_date,end_date\n"
        "QI-001,Fewer falls,FALLS,CH0001,0201-03-01,\n"
    ),
    "progress.csv": "project_code,scored_on,score\nQI-001,2101-01-01,2.5\n",
    "observations.csv": "project_code,measure_code,period,value,denominator\nQI-001,FALLS,0001-01-01,9,40\n",
    "changes.csv": "project_code,changed_on,title\nQI-001,9999-12-31,PDSA 9\n",
    "targets.csv": "measure,value,due_on\npeople_trained,50,31/12/9999\n",
}
DATE_COLUMN_OF = {
    "organisations.csv": ["offered_on"],
    "people.csv": ["left_on"],
    "cohorts.csv": ["start_date", "end_date"],
    "enrolments.csv": ["completed_on"],
    "attendance.csv": ["held_on"],
    "projects.csv": ["start_date"],
    "progress.csv": ["scored_on"],
    "observations.csv": ["period"],
    "changes.csv": ["changed_on"],
    "targets.csv": ["due_on"],
}


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content.encode() if isinstance(content, str) else content)
    return folder


def reasons(report, column: str | None = None) -> list[str]:
    frame = report.rejected if column is None else report.rejected[report.rejected["column"] == column]
    return frame["reason"].tolist()


# --- dates ------------------------------------------------------------------------------------------------


def test_a_date_before_1900_or_after_2100_is_rejected_in_every_date_column(programme, tmp_path):
    stored = programme_rows(programme)
    batch = ingest.read_paths([str(write_files(tmp_path / "bad", IMPLAUSIBLE_DATES))])
    report = ingest.preview(programme, batch)
    found = {(r.file, r.column) for r in report.rejected.itertuples()}
    assert found == {(f, c) for f, cols in DATE_COLUMN_OF.items() for c in cols}
    ancient = report.rejected[
        (report.rejected["file"] == "cohorts.csv") & (report.rejected["row"] == 2)
    ].iloc[0]
    assert (
        ancient["reason"]
        == '"01/01/0001" is not a plausible date (the year 1 is before 1900); check the year.'
    )
    assert "the year 9999 is after 2100" in reasons(report, "end_date")[0]
    result = ingest.commit(programme, batch, user="t")
    assert result.outcome == "rejected" and programme_rows(programme) == stored


def test_a_workbook_date_cell_outside_the_range_is_rejected_too(programme):
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "cohorts"
    sheet.append(["code", "course_code", "start_date"])
    sheet.append(["OLD", "QSIR", dt.datetime(1890, 5, 1)])
    sheet.append(["NEW", "QSIR", dt.datetime(2024, 5, 1)])
    data = io.BytesIO()
    book.save(data)
    report = ingest.preview(programme, ingest.read_upload([("cohorts.xlsx", data.getvalue())]))
    assert report.rejected["row"].tolist() == [2]
    assert report.rejected.iloc[0]["reason"].startswith('"1890-05-01" is not a plausible date')


def add_ancient_cohort(engine) -> None:
    """A cohort dated 01/01/0001, as a version without the date check could load."""
    with engine.begin() as conn:
        course = conn.scalar(select(m.Course.id).where(m.Course.code == "QSIR"))
        conn.execute(
            m.Cohort.__table__.insert().values(
                code="ANCIENT", course_id=course, start_date=db.as_date("0001-01-01"), delivered_by="local"
            )
        )


def test_a_stored_year_0001_is_left_out_of_the_date_span_and_listed_for_fixing(programme):
    with programme.connect() as conn:
        before = catalog.date_span(conn)
    add_ancient_cohort(programme)
    with programme.connect() as conn:
        assert catalog.date_span(conn) == before  # the filters' date range ignores it
        dates = ingest.quality_lists(conn)["dates_out_of_range"]
    assert dates[["data", "code", "column", "earliest"]].values.tolist() == [
        ["cohorts", "ANCIENT", "start_date", "0001-01-01"]
    ]


def test_as_date_reads_a_short_year_as_sqlite_may_hand_it_back():
    import datetime as dt

    assert db.as_date("1-01-01") == dt.date(1, 1, 1)
    assert db.as_date("0001-01-01 00:00:00") == dt.date(1, 1, 1)
    assert db.as_date(dt.datetime(2024, 5, 1, 12)) == dt.date(2024, 5, 1)


PAGES = ["overview", "capability_map", "tiers", "portfolio", "project", "showcase", "data"]


def test_every_page_opens_on_a_database_holding_a_year_0001_cohort(tmp_path, monkeypatch):
    """Before the fix one such cohort made the sidebar's date arithmetic overflow on every page."""
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "qidash.db"
    engine = db.make_engine(db.sqlite_url(path))
    db.migrate(engine)
    assert ingest.commit(engine, ingest.read_paths([str(BASE)]), user="fixture").outcome == "loaded"
    add_ancient_cohort(engine)
    engine.dispose()
    monkeypatch.setenv("QIDASH_DB_URL", db.sqlite_url(path))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["demo_role"] = "admin"
    at.run()
    for page in PAGES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
    # The Data page (the last opened) lists the date for the admin to correct.
    [listed] = [e for e in at.expander if e.label.startswith("Dates before 1900 or after 2100")]
    assert listed.label.endswith(": 1")
    # Its columns are in words on the page ("Row (its code)", not the field name "code").
    assert any(
        "Row (its code)" in d.value.columns and "ANCIENT" in d.value["Row (its code)"].tolist()
        for d in at.dataframe
    )


def test_every_page_opens_when_every_date_column_holds_a_mistyped_year(programme, tmp_path, monkeypatch):
    """As a version without the check loaded them (derived tables and all), on both databases."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(db, "is_plausible_date", lambda day: True)  # the door as it was
    batch = ingest.read_paths([str(write_files(tmp_path / "bad", IMPLAUSIBLE_DATES))])
    assert ingest.commit(programme, batch, user="older version").outcome == "loaded"
    monkeypatch.undo()
    monkeypatch.setenv("QIDASH_DB_URL", engine_url(programme))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["demo_role"] = "admin"
    at.run()
    for page in PAGES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
    with programme.connect() as conn:
        dates = ingest.quality_lists(conn)["dates_out_of_range"]
    assert {(r.data, r.column) for r in dates.itertuples()} == {
        (f.removesuffix(".csv"), c) for f, cols in DATE_COLUMN_OF.items() for c in cols
    }


def test_the_data_page_rejects_a_year_0001_with_its_row(programme, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QIDASH_DB_URL", engine_url(programme))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["demo_role"] = "admin"
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader[0].set_value(
        [("cohorts.csv", b"code,course_code,start_date\nANCIENT,QSIR,01/01/0001\n", "text/csv")]
    ).run()
    assert not at.exception
    rejected = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert rejected[["row", "column"]].values.tolist() == [["2", "start_date"]]
    assert "the year 1 is before 1900" in rejected["reason"].iloc[0]
    assert not [b for b in at.button if b.label.startswith("Load")]


# --- values the database cannot hold ----------------------------------------------------------------------

LONG_NAME = "x" * 201
BAD_VALUES = {
    "organisations.csv": (
        "ods_code,name,kind,sector,beds,staff_headcount,postcode\n"
        "B1,Good Surgery,gp_practice,nhs,10,20,TR1 2AB\n"
        "B2,Huge Home,care_home_nursing,independent,99999999999999999999,5,\n"
        "B3,Bad\x00Name,gp_practice,nhs,,,\n"
        "B4,Bell\x07Surgery,gp_practice,nhs,,,\n"
        f"B5,{LONG_NAME},gp_practice,nhs,,,\n"
        "B6,Short,gp_practice,nhs,,-1,\n"
        "B7,Postcode,gp_practice,nhs,,,TR1 2AB 3CD 4EF\n"
        "B8\x1b,Escape,gp_practice,nhs,,,\n"
    ),
    "cohorts.csv": (
        "code,course_code,start_date,sessions\n"
        "C-OK,QSIR,2024-01-01,6\n"
        "C-NEG,QSIR,2024-01-01,-1\n"
        "C-BIG,QSIR,2024-01-01,2147483648\n"
    ),
    "enrolments.csv": "person_ref,cohort_code,status,sessions_attended\nP0001,QSIR-01,enrolled,-1\n",
    "progress.csv": "project_code,scored_on,score\nQI-001,2024-09-30,7\nQI-001,2024-10-31,0\n",
    "tiers.csv": (
        "framework,code,name,rank,framework_name\n"
        f"{'f' * 61},T-LONG,Long framework,1,\n"
        f"fw2,T-NAME,Long framework name,1,{'n' * 201}\n"
    ),
}
EXPECTED = {
    (
        "organisations.csv",
        3,
        "beds",
    ): '"99999999999999999999" is too large; beds can be at most 2,147,483,647',
    ("organisations.csv", 4, "name"): "a NUL character (U+0000), which is not text",
    ("organisations.csv", 5, "name"): "a control character (U+0007), which is not text",
    ("organisations.csv", 6, "name"): "This is 201 characters long; name can hold at most 200.",
    ("organisations.csv", 7, "staff_headcount"): '"-1" is negative; staff_headcount must be 0 or more.',
    ("organisations.csv", 8, "postcode"): "This is 15 characters long; postcode can hold at most 10.",
    ("organisations.csv", 9, "ods_code"): "a control character (U+001B), which is not text",
    ("cohorts.csv", 3, "sessions"): '"-1" is too small; sessions must be 1 or more.',
    ("cohorts.csv", 4, "sessions"): '"2147483648" is too large; sessions can be at most 2,147,483,647',
    ("enrolments.csv", 2, "sessions_attended"): '"-1" is negative; sessions_attended must be 0 or more.',
    ("progress.csv", 2, "score"): '"7" is outside the IHI progress scale',
    ("progress.csv", 3, "score"): '"0" is outside the IHI progress scale',
    ("tiers.csv", 2, "framework"): "This is 61 characters long; framework can hold at most 60.",
    ("tiers.csv", 3, "framework_name"): "This is 201 characters long; framework_name can hold at most 200.",
}


def test_values_the_database_cannot_hold_are_rejected_per_row_and_the_rest_loads(programme, tmp_path):
    stored = programme_rows(programme)
    batch = ingest.read_paths([str(write_files(tmp_path / "bad", BAD_VALUES))])
    report = ingest.preview(programme, batch)
    found = {(r.file, r.row, r.column): r.reason for r in report.rejected.itertuples()}
    assert set(found) == set(EXPECTED), report.rejected.to_string()
    for where, words in EXPECTED.items():
        assert words in found[where], (where, found[where])
    # The value column shows control characters written out, never raw.
    assert "Bad\\x00Name" in report.rejected["value"].tolist()

    assert ingest.commit(programme, batch, user="t").outcome == "rejected"
    assert programme_rows(programme) == stored
    # The valid rows load beside the rejected ones, with no error from the database.
    result = ingest.commit(programme, batch, user="t", allow_partial=True)
    assert result.outcome == "loaded_partly"
    with programme.connect() as conn:
        assert set(
            conn.scalars(select(m.Organisation.ods_code).where(m.Organisation.ods_code.like("B%")))
        ) == {"B1"}
        assert set(conn.scalars(select(m.Cohort.code).where(m.Cohort.code.like("C-%")))) == {"C-OK"}
        # The audit record keeps the reasons, control characters written out (PostgreSQL's JSON
        # refuses a NUL).
        detail = conn.scalar(select(m.ImportBatch.detail).where(m.ImportBatch.id == result.import_batch_id))
    assert any("U+0000" in line for line in detail["rejected"])


def test_without_the_checks_postgresql_would_refuse_these_values(pg_engine):
    """The control: each value rejected above is one the database itself cannot store."""
    from sqlalchemy.exc import DBAPIError

    for values in (
        {"name": "Bad\x00Name"},
        {"name": LONG_NAME},
        {"name": "Huge", "beds": 99999999999},
    ):
        with pytest.raises(DBAPIError), pg_engine.begin() as conn:
            conn.execute(
                m.Organisation.__table__.insert().values(
                    ods_code="Z1", kind="gp_practice", sector="nhs", **{"name": "Z", **values}
                )
            )


def test_a_huge_cell_is_quoted_short_in_the_message(programme):
    """A 100,000-character cell is not repeated whole in the report, nor in the audit record."""
    files = [
        ("organisations.csv", b"ods_code,name,kind,sector,beds\nB1,X,gp_practice,nhs," + b"9" * 100_000),
        ("people.csv", b"person_ref,ods_code\nP9," + b"A" * 100_000 + b"\n"),
    ]
    report = ingest.preview(programme, ingest.read_upload(files))
    assert len(report.rejected) == 2
    for row in report.rejected.itertuples():
        assert len(row.reason) < 300 and "…" in row.reason
        assert len(row.value) <= ingest.SHOWN_CHARACTERS


def test_the_command_line_rejects_a_nul_byte_with_its_row_and_no_traceback(any_engine, tmp_path):
    bad = tmp_path / "organisations.csv"
    bad.write_bytes(b"ods_code,name,kind,sector\nB1,Good,gp_practice,nhs\nB2,Bad\x00Name,gp_practice,nhs\n")
    done = subprocess.run(
        [sys.executable, "-m", "qidash", "import", str(bad), "--db", engine_url(any_engine)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert 'organisations.csv: Row 3, column "name": The cell holds a NUL character (U+0000)' in done.stdout
    assert "Traceback" not in done.stderr and "Nothing was written" in done.stdout


# --- files that are not what they say ---------------------------------------------------------------------

LOCALITIES = "code,name\nWEST,West locality\n"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (LOCALITIES.encode("utf-16"), "is saved as UTF-16"),
        (LOCALITIES.encode("utf-16-le"), "is saved as UTF-16"),
        (LOCALITIES.encode("utf-16-be"), "is saved as UTF-16"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "is a PDF document"),
        (bytes(range(256)) * 8, "is not a text file (it holds binary data)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "is not a text file"),
    ],
    ids=["utf16-bom", "utf16le-no-bom", "utf16be-no-bom", "pdf", "binary", "png"],
)
def test_a_file_that_is_not_utf8_text_says_what_it_is(data, words, tmp_path, capsys):
    path = tmp_path / "localities.csv"
    path.write_bytes(data)
    with pytest.raises(ingest.UnusableInput) as caught:
        ingest.read_paths([str(path)])
    [message] = caught.value.messages
    assert message.startswith("localities.csv ") and words in message
    assert "missing" not in message
    assert main(["import", str(path), "--db", db.sqlite_url(tmp_path / "t.db")]) == 2
    assert words in capsys.readouterr().err


def test_a_workbook_renamed_csv_is_read_as_the_workbook_it_is():
    book = openpyxl.Workbook()
    book.active.title = "localities"
    book.active.append(["code", "name"])
    book.active.append(["WEST", "West locality"])
    data = io.BytesIO()
    book.save(data)
    batch = ingest.read_upload([("localities.csv", data.getvalue())])
    assert batch.tables[0].rows == [(2, {"code": "WEST", "name": "West locality"})]


def test_an_unclosed_quote_names_its_row_instead_of_swallowing_the_rest(tmp_path):
    text_ = 'code,name\nN,North\nS,"South\nE,East\nW,West\n'
    with pytest.raises(ingest.UnusableInput) as caught:
        ingest.read_upload([("localities.csv", text_.encode())])
    assert caught.value.messages == [
        (
            'localities.csv: row 3 opens a quote (") that is never closed, so every row after it would be '
            "read as part of one cell. Close the quote or remove it, and load the file again."
        )
    ]
    # Read leniently, as before, the three rows became one locality "South\nE,East\nW,West\n".
    import csv

    assert len(list(csv.reader(io.StringIO(text_)))) == 3


def test_a_stray_quote_closed_rows_later_is_refused_but_a_cell_of_several_lines_is_fine():
    stray = 'code,name,parent_code\nA,"Falls,\nB,Pressure ulcers,A\nC,Sepsis",A\n'
    with pytest.raises(ingest.UnusableInput) as caught:
        ingest.read_upload([("priorities.csv", stray.encode())])
    assert caught.value.messages[0].startswith(
        'priorities.csv: row 2 has a quote (") that runs on over 2 lines'
    )
    fine = 'code,name,parent_code\nA,"Falls\nat night",\n'
    batch = ingest.read_upload([("priorities.csv", fine.encode())])
    assert batch.tables[0].rows[0][1]["name"] == "Falls\nat night"


# --- workbooks that unpack to too much --------------------------------------------------------------------


def zip_bomb(cells: int) -> bytes:
    """A workbook of ``cells`` tiny cells: a few hundred KB that inflate a thousandfold."""
    row = b"<row>" + b'<c t="n"><v>1</v></c>' * 100 + b"</row>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            for _ in range(cells // 100):
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@pytest.fixture
def no_parsing(monkeypatch):
    """Fail the test if openpyxl is asked to parse: the checks come before parsing."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def test_a_zip_bomb_workbook_is_refused_before_it_is_parsed(no_parsing, tmp_path, capsys):
    data = zip_bomb(1_500_000)  # about 36 MB of XML
    assert len(data) < 200_000
    with pytest.raises(ingest.UnusableInput) as caught:
        ingest.read_upload([("organisations.xlsx", data)])
    assert caught.value.messages == [
        (
            "organisations.xlsx holds more than 1,000,000 cells, too many to read from a workbook safely. "
            "Save each sheet as a CSV file and load those instead (several CSV files can be loaded at once)."
        )
    ]
    path = tmp_path / "organisations.xlsx"
    path.write_bytes(data)
    assert main(["import", str(path), "--db", db.sqlite_url(tmp_path / "t.db")]) == 2
    assert "too many to read from a workbook safely" in capsys.readouterr().err


def test_a_workbook_that_unpacks_past_the_size_limit_is_refused(no_parsing, monkeypatch):
    monkeypatch.setattr(ingest.read, "MAX_WORKBOOK_UNPACKED_BYTES", 1024 * 1024)
    with pytest.raises(ingest.UnusableInput) as caught:
        ingest.read_upload([("organisations.xlsx", zip_bomb(60_000))])  # about 1.4 MB of XML
    assert "unpacks to more than 1 MB, too large to read safely" in caught.value.messages[0]


def test_a_workbook_within_the_limits_is_parsed(monkeypatch):
    monkeypatch.setattr(ingest.read, "MAX_WORKBOOK_CELLS", 10)
    book = openpyxl.Workbook()
    book.active.title = "localities"
    for row in (["code", "name"], ["N", "North"], ["S", "South"], ["E", "East"], ["W", "West"]):
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    assert len(ingest.read_upload([("l.xlsx", data.getvalue())]).tables[0].rows) == 4
    book.active.append(["C", "Central"])  # 12 cells
    data = io.BytesIO()
    book.save(data)
    with pytest.raises(ingest.UnusableInput, match="holds more than 10 cells"):
        ingest.read_upload([("l.xlsx", data.getvalue())])


def test_the_data_page_explains_a_zip_bomb(programme, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QIDASH_DB_URL", engine_url(programme))
    monkeypatch.setenv("QIDASH_AUTH", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["demo_role"] = "admin"
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader[0].set_value([("organisations.xlsx", zip_bomb(1_500_000), "application/zip")]).run()
    assert not at.exception
    assert any("too many to read from a workbook safely" in e.value for e in at.error)
    # The attempt is in the audit trail, under the viewer.
    from qidash import auth

    with programme.connect() as conn:
        [event] = auth.audit_events(conn, 1, "import")
    assert (event["actor"], event["detail"]["outcome"]) == (viewer_of(at).email, "unusable")


def test_an_active_project_without_a_start_date_loads(programme):
    """start_date is optional; deriving the organisations' spans once compared its blank with a date."""
    projects = (
        "code,title,priority_code,lead_ods_code,partner_ods_codes\n"
        "UNDATED,Undated project,FALLS,CH0001,CH0002\n"
    )
    result = ingest.commit(programme, ingest.read_upload([("projects.csv", projects.encode())]), user="t")
    assert result.outcome == "loaded"


def test_targets_without_a_scope_column_load_for_the_whole_system(programme):
    """scope is optional but part of a target's key; leaving the column out once failed the load."""
    targets = "measure,value,due_on\npeople_trained,80,2026-03-31\n"
    result = ingest.commit(programme, ingest.read_upload([("targets.csv", targets.encode())]), user="t")
    assert result.outcome == "loaded"
    with programme.connect() as conn:
        stored = conn.execute(select(m.Target.scope_type, m.Target.value).where(m.Target.value == 80)).all()
    assert stored == [("system", 80.0)]


def test_the_template_notes_give_the_range_of_dates():
    assert ingest.FORMATS["cohorts"].column("start_date").describe_type().endswith("from 1900 to 2100")
