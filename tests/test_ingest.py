"""Loading section-3 files: every bad input gets its row, column and plain reason; a load is all or
nothing."""

import datetime as dt
import hashlib
import sqlite3
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from qidash import db, export, ingest
from qidash import models as m
from qidash.cli import main
from tests.support import engine_url, programme_rows

FIXTURES = Path(__file__).parent / "fixtures" / "import"
BASE = FIXTURES / "base"


@pytest.fixture
def programme(imported_programme):
    """The small programme of fixtures/import/base, this test's own copy (tests/conftest.py)."""
    return imported_programme


def add_person_of_a_deleted_organisation(engine, person_ref: str) -> None:
    """A person whose organisation has gone, as an old database without foreign keys could hold."""
    if engine.dialect.name == "sqlite":
        # A plain connection: the app's engine turns foreign keys on for every connection.
        with sqlite3.connect(engine.url.database) as raw:
            raw.execute(
                "INSERT INTO person (person_ref, organisation_id, is_patient_partner, consents_to_be_named) "
                "VALUES (?, 999, 0, 0)",
                (person_ref,),
            )
        return
    with engine.begin() as conn:
        # PostgreSQL checks foreign keys by triggers, which the replica role skips (the test server's
        # user is a superuser).
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.execute(
            m.Person.__table__.insert().values(
                person_ref=person_ref,
                organisation_id=999,
                is_patient_partner=False,
                consents_to_be_named=False,
            )
        )


def csv_file(name: str, text: str, encoding: str = "utf-8") -> tuple[str, bytes]:
    return name, textwrap.dedent(text).lstrip("\n").encode(encoding)


def check(engine, *files):
    """The preview of loading ``files`` into ``engine``."""
    return ingest.preview(engine, ingest.read_upload(list(files)))


def problem(report, row: int, frame: str = "rejected"):
    """The one problem reported for spreadsheet row ``row``."""
    rows = getattr(report, frame)
    found = rows[rows["row"] == row]
    assert len(found) == 1, rows.to_string()
    return found.iloc[0]


# --- the bad inputs of the issue, one each --------------------------------------------------------------


def test_a_bom_and_headings_in_other_case_or_with_spaces_are_read(programme):
    name, data = csv_file(
        "organisations.csv",
        """
        \ufeff ODS Code ,Name,KIND,  Sector,PCN-Code,Staff Headcount
        B82001,New Surgery,gp_practice,NHS,PCN-N1,12
        """,
    )
    assert data.startswith(b"\xef\xbb\xbf")
    report = check(programme, (name, data))
    assert report.rejected.empty and report.notes.empty
    assert report.counts.set_index("entity").loc["organisations", "new"] == 1
    ingest.commit(programme, ingest.read_upload([(name, data)]), user="t")
    with programme.connect() as conn:
        org = conn.execute(select(m.Organisation).where(m.Organisation.ods_code == "B82001")).one()
    assert (org.sector, org.staff_headcount) == ("nhs", 12)


def test_uk_and_iso_dates_are_read_alike_and_bad_dates_are_rejected(programme):
    report = check(
        programme,
        csv_file(
            "cohorts.csv",
            """
            code,course_code,start_date
            C-ISO,QSIR,2019-12-31
            C-UK,QSIR,31/12/2019
            C-US,QSIR,12/31/2019
            C-NODAY,QSIR,31/02/2019
            C-SHORT,QSIR,1/2/19
            C-WORDS,QSIR,Dec 2019
            """,
        ),
    )
    batch = ingest.read_upload(
        [csv_file("cohorts.csv", "code,course_code,start_date\nA,QSIR,2019-12-31\nB,QSIR,31/12/2019\n")]
    )
    assert {v["start_date"] for _, v in batch.tables[0].rows} == {dt.date(2019, 12, 31)}
    assert report.counts.set_index("entity").loc["cohorts", "rejected"] == 4
    us = problem(report, 4)
    assert (us.column, us.value) == ("start_date", "12/31/2019")
    assert "month-first (US) date" in us.reason
    assert "not a real date" in problem(report, 5).reason
    assert "two-digit year" in problem(report, 6).reason
    assert "is not a date; write dates as 31/12/2019" in problem(report, 7).reason


def test_headings_in_other_case_or_with_spaces_match_their_columns():
    batch = ingest.read_upload(
        [
            csv_file(
                "people.csv",
                "Person Ref,  ODS_CODE ,Is Patient Partner,Favourite Colour\nP1,A81001,Yes,blue\n",
            )
        ]
    )
    ((_, values),) = batch.tables[0].rows
    assert values == {"person_ref": "P1", "ods_code": "A81001", "is_patient_partner": True}
    (note,) = batch.problems
    assert (note.column, note.rejects) == ("favourite_colour", False)
    assert "not part of the people format and was ignored" in note.reason


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers(programme):
    report = check(
        programme,
        csv_file(
            "people.csv",
            """
            person_ref,ods_code,role
            P0101,A81001,gp
            ,,
            ,  ,
            P0102,NOWHERE,gp
            """,
        ),
    )
    bad = problem(report, 5)
    assert (bad.column, bad.value) == ("ods_code", "NOWHERE")
    assert report.counts.set_index("entity").loc["people", ["new", "rejected"]].tolist() == [1, 1]
    assert report.notes.empty


def test_an_exact_duplicate_is_a_note_and_conflicting_duplicates_are_rejected(programme):
    report = check(
        programme,
        csv_file(
            "people.csv",
            """
            person_ref,ods_code,role
            P0101,A81001,gp
            P0101,A81001,gp
            P0102,A81001,gp
            P0102,CH0001,gp
            """,
        ),
    )
    note = problem(report, 3, "notes")
    assert "repeats row 2 exactly; it is loaded once" in note.reason
    for row, other in ((4, 5), (5, 4)):
        clash = problem(report, row)
        assert clash.column == "ods_code"
        assert f'person_ref "P0102" also appears in row {other} with a different ods_code' in clash.reason
    assert report.counts.set_index("entity").loc["people", ["new", "rejected"]].tolist() == [1, 2]


def test_spaces_around_codes_are_removed_with_a_note(programme):
    files = [csv_file("enrolments.csv", "person_ref,cohort_code,status\n P0003 ,QSIR-01  ,completed\n")]
    report = check(programme, *files)
    assert report.rejected.empty
    assert report.counts.set_index("entity").loc["enrolments", "updated"] == 1
    assert {(n.row, n.column) for n in report.notes.itertuples()} == {(2, "person_ref"), (2, "cohort_code")}
    assert "Spaces around 1 code in this column were removed" in report.notes.iloc[0].reason


def test_unknown_codes_are_rejected_with_the_code_and_a_hint(programme):
    report = check(
        programme,
        csv_file(
            "enrolments.csv",
            """
            person_ref,cohort_code,status
            P0003,QSIR-99,completed
            P0003,qsir-01,completed
            """,
        ),
    )
    unknown = problem(report, 2)
    assert (unknown.column, unknown.value) == ("cohort_code", "QSIR-99")
    assert unknown.reason == 'There is no cohort with the code "QSIR-99", in the database or in this load.'
    assert 'did you mean "QSIR-01"?' in problem(report, 3).reason


def test_text_in_number_columns_is_rejected(programme):
    report = check(
        programme,
        csv_file(
            "organisations.csv",
            """
            ods_code,name,kind,sector,beds,latitude,longitude
            CH0101,Home A,care_home_nursing,independent,twelve,,
            CH0102,Home B,care_home_nursing,independent,12.5,,
            CH0103,Home C,care_home_nursing,independent,12,north,-5
            """,
        ),
    )
    assert problem(report, 2).reason == '"twelve" is not a number; beds must be a whole number.'
    assert problem(report, 3).reason == '"12.5" is not a whole number; beds must be a whole number.'
    lat = problem(report, 4)
    assert (lat.column, lat.reason) == ("latitude", '"north" is not a number; latitude must be a number.')


def test_negative_beds_are_rejected(programme):
    report = check(
        programme,
        csv_file(
            "organisations.csv",
            "ods_code,name,kind,sector,beds\nCH0101,Home A,care_home_nursing,independent,-3\n",
        ),
    )
    assert report.messages() == [
        'organisations.csv: Row 2, column "beds": "-3" is negative; beds must be 0 or more.'
    ]


def test_a_row_with_an_unreadable_value_still_has_its_codes_checked(programme):
    # Every problem of the row from one upload: the admin fixes both at once.
    report = check(
        programme,
        csv_file(
            "organisations.csv",
            "ods_code,name,kind,sector,pcn_code,beds\nCH0101,Home A,care_home_nursing,independent,NOPE,-3\n",
        ),
    )
    assert report.messages() == [
        'organisations.csv: Row 2, column "beds": "-3" is negative; beds must be 0 or more.',
        (
            'organisations.csv: Row 2, column "pcn_code": There is no PCN with the code "NOPE", '
            "in the database or in this load."
        ),
    ]
    assert report.rows_rejected == 1  # one row, two problems


def test_a_progress_score_outside_the_ihi_scale_is_rejected(programme):
    report = check(
        programme,
        csv_file(
            "progress.csv",
            """
            project_code,scored_on,score
            QI-001,2024-07-31,5.5
            QI-001,2024-08-31,0
            QI-001,2024-09-30,2.3
            QI-001,2024-10-31,3
            """,
        ),
    )
    for row, value in ((2, "5.5"), (3, "0")):
        bad = problem(report, row)
        assert (bad.column, bad.value) == ("score", value)
        assert (
            bad.reason == f'"{value}" is outside the IHI progress scale; score must be between 0.5 and 5.0.'
        )
    assert "not a step of 0.5" in problem(report, 4).reason
    assert report.counts.set_index("entity").loc["progress", "new"] == 1


def test_a_numerator_above_its_denominator_on_a_p_chart_is_rejected(programme):
    report = check(
        programme,
        csv_file(
            "measures.csv",
            """
            project_code,code,name,chart
            QI-002,HANDOVER,Handovers with a checklist,p
            """,
        ),
        csv_file(
            "observations.csv",
            """
            project_code,measure_code,period,value,denominator
            QI-001,FALLS,2024-07-01,45,40
            QI-002,HANDOVER,2024-07-01,5,4
            QI-002,HANDOVER,2024-08-01,4,4
            QI-001,DAYS,2024-07-01,45,40
            """,
        ),
    )
    stored = problem(report, 2)  # a measure already in the database
    assert (stored.column, stored.value) == ("value", "45")
    assert "45 is more than its denominator 40; on a p chart" in stored.reason
    same_load = problem(report, 3)  # a measure defined in the same load
    assert "5 is more than its denominator 4" in same_load.reason
    assert report.counts.set_index("entity").loc["observations", ["new", "rejected"]].tolist() == [2, 2]


def test_a_p_or_u_observation_needs_a_denominator_and_a_c_chart_takes_none(programme):
    report = check(
        programme,
        csv_file("measures.csv", "project_code,code,name,chart\nQI-002,INCIDENTS,Incidents,c\n"),
        csv_file(
            "observations.csv",
            """
            project_code,measure_code,period,value,denominator
            QI-001,FALLS,2024-07-01,3,
            QI-002,INCIDENTS,2024-07-01,3,10
            """,
        ),
    )
    blank = problem(report, 2)
    assert blank.column == "denominator" and pd.isna(blank.value)
    assert "A p chart needs a denominator" in blank.reason
    assert "A c chart counts events and takes no denominator" in problem(report, 3).reason


def test_an_unknown_enrolment_status_is_rejected_listing_the_allowed_ones(programme):
    report = check(
        programme, csv_file("enrolments.csv", "person_ref,cohort_code,status\nP0003,QSIR-01,finished\n")
    )
    bad = problem(report, 2)
    assert (bad.column, bad.value) == ("status", "finished")
    assert (
        bad.reason
        == '"finished" is not a recognised status; use one of: enrolled, attended, completed, withdrawn.'
    )


def test_a_file_of_the_wrong_entity_is_unusable():
    people = (BASE / "people.csv").read_bytes()
    with pytest.raises(ingest.UnusableInput) as caught:
        ingest.read_upload([("projects.csv", people)])
    assert "projects.csv: this looks like a people file, not projects" in str(caught.value)


def test_a_file_name_that_matches_no_entity_is_read_by_its_headings_when_only_one_entity_fits():
    batch = ingest.read_upload([("final_people.csv", (BASE / "people.csv").read_bytes())])
    assert batch.entities == ["people"]
    assert any("its headings are those of people" in p.reason and not p.rejects for p in batch.problems)
    with pytest.raises(ingest.UnusableInput, match=r"final_list\.csv does not say which data it holds"):
        ingest.read_upload([("final_list.csv", b"name,notes\nSomeone,hello\n")])
    # Codes and names only fit several entities (localities, pcns, priorities...): not guessed.
    with pytest.raises(ingest.UnusableInput, match=r"areas\.csv does not say which data it holds"):
        ingest.read_upload([("areas.csv", b"code,name\nX,Somewhere\n")])


def test_a_longer_file_name_that_starts_with_the_entity_is_fine():
    batch = ingest.read_upload([("enrolments_2024 March.csv", (BASE / "enrolments.csv").read_bytes())])
    assert batch.entities == ["enrolments"]


def test_an_empty_file_is_unusable():
    for data in (b"", b"\xef\xbb\xbf", b"\n\n"):
        with pytest.raises(ingest.UnusableInput, match=r"people\.csv is empty"):
            ingest.read_upload([("people.csv", data)])
    with pytest.raises(ingest.UnusableInput, match=r"people\.csv has headings but no rows"):
        ingest.read_upload([("people.csv", b"person_ref,ods_code\n,\n")])
    with pytest.raises(ingest.UnusableInput, match='needs the columns "person_ref", "ods_code"'):
        ingest.read_upload([("people.csv", b"name\nAlex\n")])


def test_a_truncated_workbook_is_unusable():
    data = (FIXTURES / "truncated.xlsx").read_bytes()
    with pytest.raises(
        ingest.UnusableInput, match="could not be opened as an Excel workbook; it may be damaged"
    ):
        ingest.read_upload([("register.xlsx", data)])


# --- more checks a programme admin relies on ----------------------------------------------------------------


def test_a_completion_date_needs_a_completed_status_and_ends_follow_starts(programme):
    report = check(
        programme,
        csv_file(
            "enrolments.csv",
            "person_ref,cohort_code,status,completed_on\nP0003,QSIR-01,attended,2024-06-27\n",
        ),
        csv_file("cohorts.csv", "code,course_code,start_date,end_date\nQSIR-02,QSIR,2024-09-01,2024-08-01\n"),
    )
    enrolment = report.rejected[report.rejected.entity == "enrolments"].iloc[0]
    assert enrolment.column == "completed_on" and "only a completed enrolment" in enrolment.reason
    cohort = report.rejected[report.rejected.entity == "cohorts"].iloc[0]
    assert (cohort.row, cohort.column) == (2, "end_date")
    assert cohort.reason == "end_date 01/08/2024 is before start_date 01/09/2024."


def test_coordinates_come_in_pairs_within_range_and_swaps_get_a_note(programme):
    report = check(
        programme,
        csv_file(
            "organisations.csv",
            """
            ods_code,name,kind,sector,latitude,longitude
            CH0101,Home A,care_home_nursing,independent,50.1,
            CH0102,Home B,care_home_nursing,independent,95,-5
            CH0103,Home C,care_home_nursing,independent,-5.05,50.26
            """,
        ),
    )
    assert "latitude is filled in but longitude is blank" in problem(report, 2).reason
    assert (
        problem(report, 3).reason == '"95" is outside the allowed range; latitude must be between -90 and 90.'
    )
    assert "check latitude and longitude are not swapped" in problem(report, 4, "notes").reason


def test_reference_to_a_rejected_row_says_so(programme):
    report = check(
        programme,
        csv_file("people.csv", "person_ref,ods_code\nP0201,NOWHERE\n"),
        csv_file("enrolments.csv", "person_ref,cohort_code,status\nP0201,QSIR-01,enrolled\n"),
    )
    enrolment = report.rejected[report.rejected.entity == "enrolments"].iloc[0]
    assert (
        enrolment.reason == 'The person "P0201" is in this load, but its own row was rejected (see people).'
    )


def test_tier_ranks_clashes_priority_loops_and_target_scopes_are_rejected(programme):
    report = check(
        programme,
        csv_file("tiers.csv", "framework,code,name,rank\nqi,practise,Practise,2\n"),
        csv_file("priorities.csv", "code,name,parent_code\nSAFE,Safer care,FALLS\n"),
        csv_file(
            "targets.csv",
            "measure,value,due_on,scope\npeople_trained,5,2025-03-31,pcn:NOPE\npeople_trained,5,2025-03-31,region:X\n",
        ),
    )
    by_entity = report.rejected.set_index("entity")
    assert 'already has the tier "live" at rank 2' in by_entity.loc["tiers", "reason"]
    assert "make a loop (SAFE -> FALLS -> SAFE)" in by_entity.loc["priorities", "reason"]
    targets = report.rejected[report.rejected.entity == "targets"]
    assert targets.reason.tolist() == [
        'There is no PCN with the code "NOPE", in the database or in this load.',
        '"region:X" is not a scope; use system, locality:CODE or pcn:CODE (e.g. pcn:PCN-N1).',
    ]


def test_unusable_layouts_are_explained():
    with pytest.raises(ingest.UnusableInput, match="separated by semicolons"):
        ingest.read_upload([("people.csv", b"person_ref;ods_code\nP1;A1\n")])
    with pytest.raises(ingest.UnusableInput, match="old-style Excel file"):
        ingest.read_upload([("people.xls", b"\xd0\xcf\x11\xe0 not really")])
    with pytest.raises(ingest.UnusableInput, match='the column "name" appears more than once'):
        ingest.read_upload([("localities.csv", b"code,name,Name\nA,B,C\n")])


def test_the_upload_size_limit_has_a_clear_message():
    data = (BASE / "people.csv").read_bytes()
    with pytest.raises(ingest.UnusableInput, match=r"the limit is 50 MB"):
        ingest.read_upload([("people.csv", data)], max_bytes=len(data) - 1)
    assert ingest.MAX_UPLOAD_BYTES == 50 * 1024 * 1024


def test_a_windows_1252_file_is_read_with_a_note(programme):
    report = check(
        programme, csv_file("localities.csv", "code,name\nEAST,Café £ locality\n", encoding="cp1252")
    )
    assert report.rejected.empty
    assert "read as Windows-1252" in report.notes.iloc[0].reason


# --- loading: idempotent, all or nothing, and what a load leaves behind -------------------------------------


def test_loading_the_same_files_twice_changes_nothing(programme):
    before = programme_rows(programme)
    batch = ingest.read_paths([str(BASE)])
    report = ingest.preview(programme, batch)
    assert report.counts[["new", "updated", "rejected"]].to_numpy().sum() == 0
    assert (report.counts["unchanged"] > 0).all()
    result = ingest.commit(programme, batch, user="admin")
    assert result.outcome == "unchanged"
    assert programme_rows(programme) == before


def test_one_bad_row_writes_nothing_unless_the_admin_allows_a_partial_load(programme):
    files = [
        csv_file(
            "people.csv",
            """
            person_ref,ods_code,role
            P0301,A81001,gp
            P0302,A81001,gp
            P0303,NOWHERE,gp
            """,
        )
    ]
    before = programme_rows(programme)
    result = ingest.commit(programme, ingest.read_upload(files), user="admin")
    assert (result.outcome, result.written, result.rows_rejected) == ("rejected", False, 1)
    assert programme_rows(programme) == before
    with programme.connect() as conn:
        audit = conn.execute(select(m.ImportBatch).order_by(m.ImportBatch.id.desc())).first()
    assert (audit.outcome, audit.rows_accepted, audit.rows_rejected) == ("rejected", 0, 1)

    partial = ingest.commit(programme, ingest.read_upload(files), user="admin", allow_partial=True)
    assert partial.outcome == "loaded_partly"
    with programme.connect() as conn:
        refs = set(conn.scalars(select(m.Person.person_ref).where(m.Person.person_ref.like("P03%"))))
    assert refs == {"P0301", "P0302"}


def test_a_load_reanalyses_the_measures_touched_bumps_the_version_and_is_audited(programme):
    version = db.data_version(programme)
    name, data = csv_file(
        "observations_july.csv",
        "project_code,measure_code,period,value,denominator\nQI-001,FALLS,2024-07-01,3,41\n",
    )
    result = ingest.commit(programme, ingest.read_upload([(name, data)]), user="ana@example.nhs.uk")
    assert (result.outcome, result.measures_analysed) == ("loaded", 2)  # both measures of QI-001
    assert db.data_version(programme) != version
    with programme.connect() as conn:
        points = conn.execute(
            select(m.MeasureAnalysis.n_points)
            .join(m.Measure, m.Measure.id == m.MeasureAnalysis.measure_id)
            .where(m.Measure.code == "FALLS")
        ).scalar_one()
    assert points == 7
    latest = ingest.recent_imports(programme).iloc[0]
    assert latest.imported_by == "ana@example.nhs.uk"
    assert latest.file_name == "observations_july.csv"
    assert latest.file_sha256 == hashlib.sha256(data).hexdigest()
    assert (latest.rows_accepted, latest.rows_rejected, latest.outcome) == (1, 0, "loaded")


def test_a_column_left_out_keeps_what_is_stored_and_a_blank_cell_clears_it(programme):
    left_out = ingest.read_upload([csv_file("people.csv", "person_ref,ods_code\nP0001,A81001\n")])
    assert ingest.preview(programme, left_out).counts.loc[0, "unchanged"] == 1
    ingest.commit(programme, left_out, user="t")
    blank = ingest.read_upload([csv_file("people.csv", "person_ref,ods_code,display_name\nP0001,A81001,\n")])
    assert ingest.commit(programme, blank, user="t").counts.loc[0, "updated"] == 1
    with programme.connect() as conn:
        person = conn.execute(select(m.Person).where(m.Person.person_ref == "P0001")).one()
    assert (person.role, person.display_name) == ("practice manager", None)


def test_a_new_partner_list_counts_as_an_update(programme):
    files = [
        csv_file(
            "projects.csv",
            "code,title,priority_code,lead_ods_code,partner_ods_codes\n"
            "QI-002,Safer handovers,SAFE,A81001,CH0001\n",
        )
    ]
    report = ingest.commit(programme, ingest.read_upload(files), user="t")
    assert report.counts.loc[0, ["updated", "unchanged"]].tolist() == [1, 0]
    with programme.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.ProjectPartner)).scalar_one() == 3


# --- command line ------------------------------------------------------------------------------------------


def test_import_command_exit_statuses(any_engine, tmp_path, capsys):
    url = engine_url(any_engine)
    assert main(["import", str(BASE), "--db", url, "--dry-run"]) == 0
    assert db.is_empty(db.make_engine(url))
    assert main(["import", str(BASE), "--db", url, "--user", "ana"]) == 0
    assert "Loaded (import" in capsys.readouterr().out

    bad = tmp_path / "organisations.csv"
    bad.write_text("ods_code,name,kind,sector,beds\nCH0101,Home A,care_home_nursing,independent,-3\n")
    assert main(["import", str(bad), "--db", url]) == 1
    out = capsys.readouterr().out
    assert 'organisations.csv: Row 2, column "beds": "-3" is negative; beds must be 0 or more.' in out
    assert "Nothing was written" in out

    empty = tmp_path / "people.csv"
    empty.write_bytes(b"")
    unknown = tmp_path / "stuff.csv"
    unknown.write_text("a,b\n1,2\n")
    for given in (tmp_path / "missing.csv", empty, unknown, FIXTURES / "truncated.xlsx"):
        assert main(["import", str(given), "--db", url]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err


# --- templates and data quality ----------------------------------------------------------------------------


def test_templates_load_back_without_rejections(any_engine):
    batch = ingest.read_upload([("qidash-template.xlsx", export.template_xlsx())])
    assert batch.entities == list(ingest.FORMATS)
    assert not [p for p in batch.problems if p.rejects]
    report = ingest.preview(any_engine, batch)
    assert report.rejected.empty and report.notes.empty
    assert report.counts["new"].tolist() == [1] * len(ingest.FORMATS)
    for entity in ingest.FORMATS:
        one = ingest.read_upload([(f"{entity}.csv", export.template_csv(entity))])
        assert not one.problems, entity
        assert len(one.tables[0].rows) == 1


def test_the_template_notes_explain_every_column():
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(export.template_xlsx()), read_only=True)
    assert book.sheetnames == ["notes", *ingest.FORMATS]
    rows = list(book["notes"].iter_rows(values_only=True))
    described = {(r[0], r[1]) for r in rows if r and r[0] in ingest.FORMATS}
    assert described == {(e, c.name) for e, f in ingest.FORMATS.items() for c in f.columns}
    beds = next(r for r in rows if r[:2] == ("organisations", "beds"))
    assert beds[2:4] == ("no", "whole number, 0 or more")


def test_data_quality_lists_what_needs_fixing(programme):
    people = csv_file("people.csv", "person_ref,ods_code\np0001 ,CH0002\n")  # spaces trimmed: p0001
    ingest.commit(programme, ingest.read_upload([people]), user="t")
    add_person_of_a_deleted_organisation(programme, "GHOST")
    quality = ingest.data_quality(programme, as_of=dt.date(2024, 7, 15))
    assert set(quality) == set(ingest.DATA_QUALITY_TITLES)
    assert quality["organisations_without_coordinates"].ods_code.tolist() == ["CH0002"]
    assert quality["people_without_organisation"].person_ref.tolist() == ["GHOST"]
    assert quality["projects_without_measures"].code.tolist() == ["QI-002"]
    assert quality["stale_projects"].code.tolist() == ["QI-002"]  # QI-001 has June data
    assert ingest.data_quality(programme, as_of=dt.date(2024, 12, 31))["stale_projects"].code.tolist() == [
        "QI-001",
        "QI-002",
    ]
    twice = quality["person_ref_at_two_organisations"]
    assert sorted(zip(twice.person_ref, twice.ods_code, strict=True)) == [
        ("P0001", "A81001"),
        ("p0001", "CH0002"),
    ]


def test_load_export_and_quality_work_alike_on_sqlite_and_postgresql(any_engine):
    batch = ingest.read_paths([str(BASE)])
    assert ingest.commit(any_engine, batch, user="t").outcome == "loaded"
    assert ingest.commit(any_engine, batch, user="t").outcome == "unchanged"
    quality = ingest.data_quality(any_engine, as_of=dt.date(2024, 7, 15))
    assert quality["stale_projects"].code.tolist() == ["QI-002"]
    again = ingest.read_upload([("export.xlsx", export.export_workbook(any_engine))])
    report = ingest.preview(any_engine, again)
    assert report.rejected.empty and report.counts[["new", "updated"]].to_numpy().sum() == 0
    assert ingest.recent_imports(any_engine).outcome.tolist() == ["unchanged", "loaded"]
