"""AppTest of the Data page: upload, preview, load (whole or, when confirmed, partly), history, templates,
export, data quality and users, on a small programme of our own (never the shared demo files)."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from qidash import auth, db, ingest, measures
from qidash import models as m
from qidash.auth import Viewer
from qidash.scope import Scope
from qidash.text import markdown_literal
from qidash.ui.context import CONTEXT_KEY, DEFAULT_PROGRAMME, PageContext
from qidash.ui.filters import Filters
from tests.support import ROOT, TIMEOUT, open_page, programme_rows

BASE = ROOT / "tests" / "fixtures" / "import" / "base"


@pytest.fixture(scope="module")
def base_db(tmp_path_factory) -> Path:
    """The small programme of fixtures/import/base, loaded once; each test gets a copy."""
    path = tmp_path_factory.mktemp("data_page") / "base.db"
    engine = db.make_engine(db.sqlite_url(path))
    db.migrate(engine)
    assert ingest.commit(engine, ingest.read_paths([str(BASE)]), user="fixture").outcome == "loaded"
    engine.dispose()
    return path


@pytest.fixture
def programme(base_db, tmp_path, monkeypatch):
    """This test's own copy of the programme, which the app opens through QIDASH_DB_URL."""
    path = tmp_path / "qidash.db"
    shutil.copy(base_db, path)
    url = db.sqlite_url(path)
    monkeypatch.setenv("QIDASH_DB_URL", url)
    monkeypatch.setenv("QIDASH_AUTH", "off")  # a configured database needs sign-in, or this on purpose
    engine = db.make_engine(url)
    yield engine
    engine.dispose()


def csv(name: str, text: str) -> tuple[str, bytes, str]:
    return name, textwrap.dedent(text).lstrip("\n").encode(), "text/csv"


def data_page(**params) -> AppTest:
    at = open_page("data", demo_role="admin", **params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, *files) -> AppTest:
    at.file_uploader[0].set_value(list(files)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame_with(at: AppTest, column: str):
    """The first table on the page with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def load_buttons(at: AppTest):
    return [b for b in at.button if b.label.startswith("Load")]


def confirmations(at: AppTest):
    """The "load the valid rows only" checkbox, when offered."""
    return [c for c in at.checkbox if c.label.startswith("Load the")]


def latest_import(engine):
    return ingest.recent_imports(engine, 1).iloc[0]


NEW_HOMES = """
    ods_code,name,kind,sector,pcn_code,beds
    CH0001,Harbour View Care Home,care_home_nursing,independent,PCN-N1,44
    CH0101,Quayside Lodge,care_home_residential,independent,PCN-N1,18
    CH0102,Moorland Rise,care_home_nursing,independent,PCN-S1,30
"""


def test_a_good_csv_is_previewed_loaded_and_shown_everywhere(programme):
    with programme.connect() as conn:
        before = measures.report(conn, Scope(), measures.default_as_of(conn))
    stored = programme_rows(programme)
    at = upload(data_page(), csv("organisations.csv", NEW_HOMES))

    counts = frame_with(at, "new")
    assert counts.to_dict("records") == [
        {
            "data": "Organisations",
            "files": "organisations.csv",
            "new": 2,
            "updated": 1,
            "unchanged": 0,
            "rejected": 0,
        }
    ]
    assert not at.error and not confirmations(at)
    [load] = load_buttons(at)
    assert load.label == "Load 3 new or updated rows" and not load.disabled
    assert programme_rows(programme) == stored  # the preview wrote nothing

    load.click().run()
    assert not at.exception and not at.error
    [done] = at.success
    record = latest_import(programme)
    assert done.value.startswith(f"Import {record.id} loaded: 2 new, 1 updated, 0 unchanged.")
    with programme.connect() as conn:
        assert conn.scalar(select(m.Organisation.beds).where(m.Organisation.ods_code == "CH0001")) == 44
        assert set(conn.scalars(select(m.Organisation.ods_code))) >= {"CH0101", "CH0102"}
    assert (record.imported_by, record.file_name, record.outcome) == (
        "sign-in-off@qidash.local",
        "organisations.csv",
        "loaded",
    )
    # The audit record is on the page, and the uploader is empty again.
    assert any(
        md.value.startswith(
            f"**Import {record.id}** · Loaded · by {markdown_literal('sign-in-off@qidash.local')}"
        )
        for md in at.markdown
    )
    assert not at.file_uploader[0].value
    history = frame_with(at, "imported_by")
    assert history.iloc[0][["id", "file_name", "rows_accepted", "rows_rejected", "outcome"]].tolist() == [
        record.id,
        "organisations.csv",
        3,
        0,
        "Loaded",
    ]
    assert history.iloc[0]["file_sha256"] == record.file_sha256[:12]

    # The other pages show the new data at once: the load bumped the version their caches are keyed on.
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception
    orgs = next(x for x in at.metric if x.label == "Organisations trained").value
    assert orgs == f"{before['orgs_trained']:,} of {before['orgs_in_scope'] + 2:,}"


def test_a_bad_file_names_row_and_column_and_writes_nothing(programme):
    before = programme_rows(programme)
    at = upload(
        data_page(),
        csv(
            "organisations.csv",
            """
            ods_code,name,kind,sector,beds
            CH0101,Quayside Lodge,care_home_residential,independent,18
            CH0102,Moorland Rise,care_home_nursing,independent,-3
        """,
        ),
        csv(
            "enrolments.csv",
            """
            person_ref,cohort_code,status
            P0003,QSIR-99,completed
        """,
        ),
    )
    counts = frame_with(at, "new").set_index("data")
    assert counts.loc["Organisations", ["new", "rejected"]].tolist() == [1, 1]
    assert counts.loc["Enrolments", "rejected"] == 1
    rejected = frame_with(at, "reason")
    rows = {(r.file, int(r.row), r.column): r.reason for r in rejected.itertuples()}
    assert rows[("organisations.csv", 3, "beds")] == '"-3" is negative; beds must be 0 or more.'
    assert "QSIR-99" in rows[("enrolments.csv", 2, "cohort_code")]
    assert at.error[0].value.startswith("2 rows rejected. A load is all or nothing")
    assert [b.label for b in at.get("download_button") if "rejected" in b.label] == [
        "Download the rejected rows (CSV)"
    ]
    # No plain Load button: only the partial load, and it stays disabled until the admin confirms.
    [partial] = load_buttons(at)
    assert partial.label == "Load 1 valid row" and partial.disabled
    [confirm] = confirmations(at)
    assert (
        confirm.label == "Load the 1 valid row only, and leave out the 2 rejected rows" and not confirm.value
    )
    assert programme_rows(programme) == before
    assert latest_import(programme).imported_by == "fixture"  # a preview leaves no import record


def test_the_valid_rows_load_only_when_the_admin_confirms(programme):
    at = upload(
        data_page(),
        csv(
            "people.csv",
            """
        person_ref,ods_code,role
        P0301,A81001,gp
        P0302,A81001,gp
        P0303,NOWHERE,gp
    """,
        ),
    )
    [partial] = load_buttons(at)
    assert partial.disabled
    confirmations(at)[0].check().run()
    [partial] = load_buttons(at)
    assert partial.label == "Load 2 valid rows" and not partial.disabled
    partial.click().run()
    assert not at.exception
    [warning] = [w for w in at.warning if "Sign-in is off" not in w.value]
    assert (
        "the valid rows were loaded (2 new, 0 updated, 0 unchanged); 1 rejected row left out" in warning.value
    )
    with programme.connect() as conn:
        refs = set(conn.scalars(select(m.Person.person_ref).where(m.Person.person_ref.like("P03%"))))
    assert refs == {"P0301", "P0302"}
    record = latest_import(programme)
    assert (record.outcome, record.rows_accepted, record.rows_rejected) == ("loaded_partly", 2, 1)
    assert frame_with(at, "imported_by").iloc[0]["outcome"] == "Valid rows loaded"
    # The audit record lists the row left out.
    assert any("P0303" in c.value or "NOWHERE" in c.value for c in at.code)


def test_loading_the_same_file_again_offers_nothing_to_load(programme):
    at = upload(data_page(), csv("localities.csv", "code,name\nNORTH,North locality\nSOUTH,South locality\n"))
    assert not load_buttons(at)
    assert at.info[0].value == "Nothing to load: the database already holds every row of these files."


def test_unusable_files_are_explained_and_nothing_is_offered(programme):
    at = upload(data_page(), ("stuff.csv", b"a,b\n1,2\n", "text/csv"), ("people.csv", b"", "text/csv"))
    [error] = at.error
    assert error.value.startswith("These files cannot be loaded")
    assert "stuff.csv" in error.value and "people.csv" in error.value
    assert not load_buttons(at) and not confirmations(at)


def test_the_uploader_takes_several_csvs_or_a_workbook_within_the_size_limit(programme):
    at = data_page()
    uploader = at.file_uploader[0]
    assert uploader.accept_multiple_files
    assert set(uploader.allowed_type) == {".csv", ".xlsx"}
    assert uploader.proto.max_upload_size_mb == ingest.MAX_UPLOAD_BYTES // 2**20
    assert ingest.MAX_UPLOAD_LABEL in uploader.help


def test_a_workbook_loads_like_csvs(programme):
    from qidash import export

    at = upload(data_page(), ("template.xlsx", export.template_xlsx(), "application/octet-stream"))
    assert not at.error
    counts = frame_with(at, "new")
    assert counts["rejected"].sum() == 0 and len(counts) == len(ingest.FORMATS)
    load_buttons(at)[0].click().run()
    assert at.success and latest_import(programme).outcome == "loaded"


def test_templates_exports_history_and_quality_are_offered(programme):
    at = data_page()
    downloads = {b.label: b for b in at.get("download_button")}
    assert "Workbook template (XLSX, every sheet)" in downloads
    assert "Download the whole database (XLSX)" in downloads
    # With no sidebar filter, "this view" is the whole system, so only the whole database is offered.
    assert downloads["Download this view (XLSX)"].proto.disabled
    entity = next(s for s in at.selectbox if s.label == "CSV template for")
    assert entity.options[0].startswith("localities.csv · Localities") and len(entity.options) == len(
        ingest.FORMATS
    )
    entity.set_value("observations").run()
    assert "Download observations.csv" in [b.label for b in at.get("download_button")]
    assert frame_with(at, "meaning")["column"].tolist()[:4] == [
        "project_code",
        "measure_code",
        "period",
        "value",
    ]

    # The fixture's own load is in the history, with its audit detail.
    history = frame_with(at, "imported_by")
    assert history["imported_by"].tolist() == ["fixture"]
    assert any(md.value.startswith("**Import 1** · Loaded · by fixture") for md in at.markdown)

    with programme.connect() as conn:
        as_of = measures.default_as_of(conn)
    frames = ingest.data_quality(programme, as_of)
    tiles = {t.label: t.value for t in at.metric}
    assert (
        tiles["Organisations not on the map"]
        == str(len(frames["organisations_without_coordinates"]))
        == "1"
    )
    assert tiles["Projects with no measures"] == str(len(frames["projects_without_measures"])) == "1"
    assert tiles["Stale projects"] == str(len(frames["stale_projects"]))
    assert tiles["People with no organisation"] == "0"
    assert tiles["People at two organisations"] == "0"
    assert any(
        e.label.startswith("Organisations with no location recorded, so not on the map: 1")
        for e in at.expander
    )
    # Plain words, not field names: the list's columns and kinds are spelled out.
    unmapped = frame_with(at, "ODS code")
    assert {"ODS code", "Name", "Kind", "PCN code"} <= set(unmapped.columns)
    assert not any("_" in str(k) for k in unmapped["Kind"])


def test_quality_words_are_plain_english():
    """The person-reference list says "people recorded at two organisations", not "person_refs"."""
    from qidash.views import data as view

    for key in ingest.DATA_QUALITY_TITLES:
        words = view.QUALITY_LABELS[key] + " " + view.QUALITY_TITLES[key]
        assert "_" not in words and "person_ref" not in words, words
    assert view.QUALITY_TITLES["person_ref_at_two_organisations"].startswith(
        "People recorded at two organisations"
    )
    assert view.QUALITY_COLUMNS["person_ref"] == "Person reference"


def test_a_filtered_view_can_be_exported(programme):
    at = data_page(locality="NORTH")
    downloads = {b.label: b for b in at.get("download_button")}
    assert not downloads["Download this view (XLSX)"].proto.disabled
    assert any(md.value == "**This view: locality North locality**" for md in at.markdown)


def test_users_are_added_changed_and_deactivated_with_an_audit_trail(programme):
    at = data_page()
    assert any("No users yet" in md.value for md in at.markdown)
    next(t for t in at.text_input if t.label == "Email").input("east.lead@example.nhs.uk")
    next(t for t in at.text_input if t.label == "Name").input("Eve East")
    next(s for s in at.selectbox if s.label == "Role").set_value("locality_lead")
    next(s for s in at.multiselect if s.label == "Localities").set_value(["NORTH", "SOUTH"])
    next(b for b in at.button if b.label == "Save user").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value == "Saved east.lead@example.nhs.uk: Locality / PCN lead, active."
    with programme.connect() as conn:
        lead = auth.viewer_for(conn, "east.lead@example.nhs.uk")
        event = auth.audit_events(conn, action="user_change")[0]
    assert (lead.role, lead.localities, lead.name) == ("locality_lead", ("NORTH", "SOUTH"), "Eve East")
    assert event["actor"] == "sign-in-off@qidash.local"
    users = frame_with(at, "pcns")
    assert users[["email", "localities"]].values.tolist() == [["east.lead@example.nhs.uk", "NORTH, SOUTH"]]

    # The form now holds that user: untick Active to deactivate them.
    assert next(s for s in at.selectbox if s.label == "User").value == "east.lead@example.nhs.uk"
    next(c for c in at.checkbox if c.label == "Active (can sign in)").uncheck()
    next(b for b in at.button if b.label == "Save user").click().run()
    assert at.success[0].value.endswith("deactivated (cannot sign in).")
    with programme.connect() as conn:
        assert auth.viewer_for(conn, "east.lead@example.nhs.uk") is None
        assert len(auth.audit_events(conn, action="user_change")) == 2
    assert any(e.label == "Recent changes to users (audit trail)" for e in at.expander)


def test_an_admin_cannot_lock_themselves_out_or_give_unknown_areas(programme):
    at = data_page()
    next(t for t in at.text_input if t.label == "Email").input("sign-in-off@qidash.local")
    next(s for s in at.selectbox if s.label == "Role").set_value("executive")
    next(b for b in at.button if b.label == "Save user").click().run()
    assert at.error[0].value == "You cannot remove your own admin role: ask another admin to do it."
    next(t for t in at.text_input if t.label == "Email").input("not-an-email")
    next(b for b in at.button if b.label == "Save user").click().run()
    assert "is not an email address" in at.error[0].value
    with programme.connect() as conn:
        assert auth.list_users(conn) == []


def test_other_roles_cannot_reach_the_data_page(programme):
    for role in ("executive", "faculty"):
        at = open_page(None, demo_role=role)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("app_pages/data.py")
    # Run on its own (say if a frame ever registered it for everyone), the page still refuses.
    page = AppTest.from_file(str(ROOT / "app_pages" / "data.py"), default_timeout=TIMEOUT)
    page.session_state[CONTEXT_KEY] = PageContext(
        programme,
        Viewer(email="exec@example.nhs.uk", role="executive"),
        Filters(Scope(), dt.date(2024, 6, 30)),
        DEFAULT_PROGRAMME,
    )
    page.run()
    assert [e.value for e in page.error] == ["The Data page is for programme admins."]
    assert not page.file_uploader and not page.get("download_button")


# --- the page's pure helpers ----------------------------------------------------------------------------


def test_the_rejected_rows_csv_is_safe_to_open_in_a_spreadsheet(programme):
    import csv as csv_module

    from qidash.views import data as view

    files = [
        ("people.csv", b"person_ref,ods_code,role\nP0301,=EVIL(),gp\nP0302,@SUM(A1),gp\nP0303,NOWHERE,gp\n")
    ]
    report = ingest.preview(programme, ingest.read_upload(files))
    rows = list(csv_module.reader(view.problems_csv(report.rejected).decode("utf-8-sig").splitlines()))
    assert rows[0] == ["file", "data", "row", "column", "value", "reason"]
    assert [r[:5] for r in rows[1:]] == [
        ["people.csv", "People", "2", "ods_code", "'=EVIL()"],
        ["people.csv", "People", "3", "ods_code", "'@SUM(A1)"],
        ["people.csv", "People", "4", "ods_code", "NOWHERE"],
    ]


def test_load_plan_export_names_and_self_lockout():
    import pandas as pd

    from qidash.views import data as view

    def report(rejected: int) -> ingest.Report:
        counts = pd.DataFrame([("people", "people.csv", 2, 1, 4, rejected)], columns=ingest.COUNT_COLUMNS)
        empty = pd.DataFrame(columns=ingest.REJECTED_COLUMNS)
        return ingest.Report(counts=counts, rejected=empty, notes=empty)

    clean, mixed = view.load_plan(report(0)), view.load_plan(report(2))
    assert (clean.changes, clean.valid, clean.can_load, clean.can_load_partly) == (3, 7, True, False)
    assert (mixed.rejected, mixed.can_load, mixed.can_load_partly) == (2, False, True)
    assert (
        view.preview_summary(report(2))
        == "9 rows (1 kind of data): 2 new, 1 updated, 4 unchanged, 2 rejected."
    )

    day = dt.date(2024, 6, 30)
    assert view.export_file_name(Scope(), day) == "qidash-whole-system-2024-06-30.xlsx"
    assert view.export_file_name(Scope(locality="EAST", kind="care_home"), day) == (
        "qidash-locality-EAST-kind-care_home-2024-06-30.xlsx"
    )
    assert view.self_lockout("Boss@x.nhs.uk", " boss@X.nhs.uk", "admin", False).startswith(
        "You cannot deactivate"
    )
    assert view.self_lockout("boss@x.nhs.uk", "boss@x.nhs.uk", "faculty", True).startswith(
        "You cannot remove"
    )
    assert view.self_lockout("boss@x.nhs.uk", "other@x.nhs.uk", "faculty", False) is None


def test_a_new_upload_replaces_the_last_load_message(programme):
    at = upload(data_page(), csv("localities.csv", "code,name\nEAST,East locality\n"))
    load_buttons(at)[0].click().run()
    assert at.success and not at.file_uploader[0].value
    upload(at, csv("localities.csv", "code,name\nWEST,West locality\n"))
    assert not at.success  # the earlier load's message and record give way to the new preview
    assert [b.label for b in load_buttons(at)] == ["Load 1 new or updated row"]
