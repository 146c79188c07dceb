"""Loading from the public registers (DESIGN.md section 9), on small cuts of the real files in
tests/fixtures/registers (cut.py there says how they were made): every format of CQC's file,
one ICB's rows only, month-after-month reloads (idempotent, closing and reopening), PCN moves,
postcode placing, and the files that cannot be loaded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, insert, select

from qidash import export, ingest, registers
from qidash import models as m
from qidash.measures import org_counts
from qidash.registers import cqc, lookups
from qidash.registers.tables import Source
from qidash.scope import Scope

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures" / "registers"
ROOT = HERE.parent
CQC_FILES = ["cqc_devon.ods", "cqc_devon.xlsx", "cqc_devon.csv"]
DAY = dt.date(2025, 3, 1)


def _csv_rows(name: str = "cqc_devon.csv") -> list[list[str]]:
    return list(csv.reader((FIX / name).open(encoding="utf-8")))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _orgs(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        pcn = select(m.Pcn.code).where(m.Pcn.id == m.Organisation.pcn_id).scalar_subquery()
        rows = conn.execute(select(m.Organisation.__table__, pcn.label("pcn_code"))).mappings()
        return {r["ods_code"]: dict(r) for r in rows}


def _summary(plan) -> dict[str, tuple[int, int, int, int, int]]:
    return {
        k: (len(v.add), len(v.update), len(v.close), len(v.reopen), v.leave) for k, v in plan.kinds.items()
    }


def _load(engine, icb="QJK", **files):
    plan = registers.plan(engine, icb, as_of=files.pop("as_of", DAY), **files)
    return plan, registers.load(engine, plan, user="tester")


# --- reading CQC's file -----------------------------------------------------------------------------------


def test_every_format_of_the_cqc_file_reads_the_same_care_homes():
    read = {name: cqc.read(Source.of(FIX / name)) for name in CQC_FILES}
    expected = [(r[0], r[2]) for r in _csv_rows()[1:] if r[6] == "Y"]
    assert len(expected) == 30
    for name, file in read.items():
        assert [(h.location_id, h.name) for h in file.homes] == expected, name
        assert file.has_sub_icb
    ods, xlsx = read["cqc_devon.ods"].homes, read["cqc_devon.xlsx"].homes
    assert ods == xlsx  # beds, coordinates, kinds and all
    first = ods[0]  # 27 Little Week: 2 beds, residential (the nursing column is blank), sub-ICB 15N
    assert (first.beds, first.nursing, first.sub_icb, first.postcode) == (2, False, "15N", "EX7 0LS")
    assert (first.latitude, first.longitude) == (50.595215, -3.461907)
    assert any(h.nursing for h in ods) and not all(h.nursing for h in ods)


def test_columns_are_found_by_name_wherever_they_sit_and_rows_that_are_not_care_homes_are_left_out():
    rows = _csv_rows()
    order = list(reversed(range(len(rows[0]))))
    shuffled = [["Care Quality Commission"], []] + [[r[i] for i in order] for r in rows]
    shuffled[3][order.index(6)] = "N"  # the first location is no longer a care home
    file = cqc.read(Source("moved.csv", data=_csv_bytes(shuffled)))
    assert [h.location_id for h in file.homes] == [r[0] for r in rows[2:]]
    assert file.rows == 30


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_renamed_cqc_column_is_a_clear_error_naming_it(fmt):
    rows = _csv_rows()
    rows[0][rows[0].index("Care homes beds")] = "Beds"
    if fmt == "csv":
        source = Source("renamed.csv", data=_csv_bytes(rows))
    else:
        wb = openpyxl.Workbook()
        wb.active.title = "HSCA Active Locations"
        for r in rows:
            wb.active.append(r)
        out = io.BytesIO()
        wb.save(out)
        source = Source("renamed.xlsx", data=out.getvalue())
    with pytest.raises(registers.RegisterError, match="'Care homes beds' is missing") as err:
        cqc.read(source)
    assert "renamed." in str(err.value)


def test_a_workbook_without_the_cqc_sheet_is_a_clear_error():
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(registers.RegisterError, match=r'no sheet named "HSCA Active Locations".*Sheet1'):
        cqc.read(Source("other.xlsx", data=out.getvalue()))


def test_the_ods_reader_expands_repeated_cells_and_spaces():
    # A row as LibreOffice writes it: a repeated value, a run of blanks, <text:s/> for spaces.
    from xml.etree import ElementTree as ET

    from qidash.registers.tables import ods_cells

    t = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    o = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    x = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    row = ET.fromstring(
        f'<table:table-row xmlns:table="{t}" xmlns:office="{o}" xmlns:text="{x}">'
        '<table:table-cell table:number-columns-repeated="2" '
        'office:value-type="string"><text:p>Y</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="3"/>'
        '<table:table-cell office:value-type="float" office:value="24"><text:p>24</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string"><text:p>Rose<text:s '
        'text:c="2"/>Court</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="16000"/></table:table-row>'
    )
    assert ods_cells(row, None) == ["Y", "Y", None, None, None, 24, "Rose  Court"]
    assert ods_cells(row, 3) == ["Y", "Y"]


# --- loading one ICB --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CQC_FILES)
def test_the_devon_care_homes_load_for_devon_and_a_second_load_changes_nothing(engine, name):
    plan, result = _load(engine, cqc=FIX / name)
    assert _summary(plan) == {"care_homes": (30, 0, 0, 0, 0)}
    assert result.outcome == "loaded"
    orgs = _orgs(engine)
    assert len(orgs) == 30
    home = orgs["VNC0V"]  # 27 Little Week, Dawlish
    assert (home["name"], home["kind"], home["sector"], home["beds"]) == (
        "27 Little Week",
        "care_home_residential",
        "independent",
        2,
    )
    assert (home["cqc_location_id"], home["latitude"], home["postcode"]) == (
        "1-5868490225",
        50.595215,
        "EX7 0LS",
    )
    nursing = [r for r in _csv_rows()[1:] if r[39] == "Y"]
    assert sorted(o["cqc_location_id"] for o in orgs.values() if o["kind"] == "care_home_nursing") == sorted(
        r[0] for r in nursing
    )

    again, second = _load(engine, cqc=FIX / name)
    assert _summary(again) == {"care_homes": (0, 0, 0, 0, 30)}
    assert second.outcome == "unchanged"
    assert _orgs(engine) == orgs


def test_the_load_is_audited_as_an_import(engine):
    _load(engine, cqc=FIX / "cqc_devon.ods")
    with engine.connect() as conn:
        batch = conn.execute(select(m.ImportBatch)).one()
        events = conn.execute(select(m.AuditEvent.actor, m.AuditEvent.action)).all()
    assert (batch.imported_by, batch.file_name, batch.outcome, batch.rows_accepted) == (
        "tester",
        "cqc_devon.ods",
        "loaded",
        30,
    )
    assert ("tester", "import") in events


def test_files_for_another_icb_load_nothing_and_say_which_icb_they_are_for(any_engine):
    with pytest.raises(registers.RegisterError, match=r"no care homes of ICB QT6 .*QJK NHS Devon ICB \(30\)"):
        registers.plan(any_engine, "QT6", cqc=FIX / "cqc_devon.csv")
    with pytest.raises(registers.RegisterError, match=r"no practices of ICB QSL.*QT6"):
        registers.plan(any_engine, "QSL", practices=FIX / "epraccur.csv")
    with pytest.raises(registers.RegisterError, match="no ICB with the ODS code 'XYZ'"):
        registers.plan(any_engine, "XYZ", cqc=FIX / "cqc_devon.csv")
    assert _orgs(any_engine) == {}


def test_a_file_that_is_not_in_the_ods_layout_is_refused():
    with pytest.raises(
        registers.RegisterError, match=r"epraccur.csv \(practices\), row 1: this is not the ODS layout"
    ):
        registers.plan(None, "QT6", practices=("epraccur.csv", b"Code,Name,ICB\nL82001,Lander,QT6\n"))


def test_homes_without_a_sub_icb_are_kept_by_their_coordinates_inside_the_icb(engine):
    rows = _csv_rows()
    col = rows[0].index("Location Commissioning CCG Code")
    rows = [[c for i, c in enumerate(r) if i != col] for r in rows]
    lat = rows[0].index("Location Latitude")
    assert rows[0][lat + 1] == "Location Longitude"
    rows[1][lat] = "50.26"  # 27 Little Week moved to Truro: outside Devon
    rows[1][lat + 1] = "-5.05"
    rows[2][lat] = rows[2][lat + 1] = ""  # 42 East Wonford Hill (EX1 3TF): no coordinates
    plan = registers.plan(engine, "QJK", cqc=("no_ccg.csv", _csv_bytes(rows)), as_of=DAY)
    assert _summary(plan)["care_homes"][0] == 28
    assert not {"27 Little Week", "42 East Wonford Hill"} & set(plan.kinds["care_homes"].add)
    assert "1 care home name no sub-ICB location" in plan.notes[-1]
    # With a postcode lookup, the home without coordinates is placed by its postcode: in Devon.
    lookup = ("EX.csv", b"pcds,lat,long\nEX1 3TF,50.72027,-3.4957\n")
    plan = registers.plan(engine, "QJK", cqc=("no_ccg.csv", _csv_bytes(rows)), postcodes=[lookup], as_of=DAY)
    assert "42 East Wonford Hill" in plan.kinds["care_homes"].add


def test_a_home_without_an_ods_code_is_keyed_on_its_cqc_location_id_and_matched_on_it_next_month(engine):
    rows = _csv_rows()
    rows[1][1] = ""  # no Location ODS Code
    _load(engine, cqc=("march.csv", _csv_bytes(rows)))
    assert _orgs(engine)["CQC-1-5868490225"]["name"] == "27 Little Week"
    rows[1][2] = "Little Week House"  # renamed, and CQC now gives it an ODS code
    rows[1][1] = "VNC0V"
    plan, _ = _load(engine, cqc=("april.csv", _csv_bytes(rows)))
    assert plan.kinds["care_homes"].update == ["Little Week House"]
    orgs = _orgs(engine)
    assert "VNC0V" not in orgs and orgs["CQC-1-5868490225"]["name"] == "Little Week House"


def test_a_home_gone_from_the_register_closes_keeps_its_people_and_leaves_the_counts_then_reopens(any_engine):
    engine = any_engine
    _load(engine, cqc=FIX / "cqc_devon.csv")
    with engine.begin() as conn:
        home_id = conn.execute(
            select(m.Organisation.id).where(m.Organisation.ods_code == "VNC0V")
        ).scalar_one()
        conn.execute(insert(m.Person).values(person_ref="P1", organisation_id=home_id))
    rows = _csv_rows()
    gone = [r for r in rows if r[1] in ("VNC0V", "VM71H")]
    april = dt.date(2025, 4, 1)
    plan, result = _load(
        engine, cqc=("april.csv", _csv_bytes([r for r in rows if r not in gone])), as_of=april
    )
    assert sorted(plan.kinds["care_homes"].close) == sorted(r[2] for r in gone)
    assert _summary(plan)["care_homes"] == (0, 0, 2, 0, 28)
    orgs = _orgs(engine)
    assert orgs["VNC0V"]["closed_on"] == april and orgs["VM71H"]["closed_on"] == april
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Person)).scalar_one() == 1
        # In scope until the day before it closed, not from that day.
        assert org_counts(conn, Scope(), april - dt.timedelta(days=1))["orgs_in_scope"] == 30
        assert org_counts(conn, Scope(), april)["orgs_in_scope"] == 28

    # Closed stays closed on the same file next month (the date it closed is kept).
    plan, result = _load(
        engine, cqc=("may.csv", _csv_bytes([r for r in rows if r not in gone])), as_of=dt.date(2025, 5, 1)
    )
    assert result.outcome == "unchanged" and _orgs(engine)["VNC0V"]["closed_on"] == april

    plan, result = _load(engine, cqc=FIX / "cqc_devon.csv", as_of=dt.date(2025, 6, 1))
    assert sorted(plan.kinds["care_homes"].reopen) == sorted(r[2] for r in gone)
    assert _orgs(engine)["VNC0V"]["closed_on"] is None


def test_beds_and_names_follow_the_register_and_what_an_admin_set_stays(engine):
    _load(engine, cqc=FIX / "cqc_devon.csv")
    data = (
        "organisations.csv",
        (
            b"ods_code,name,kind,sector,staff_headcount,offered_on\n"
            b"VNC0V,27 Little Week,care_home_residential,local_authority,12,2024-02-01\n"
        ),
    )
    ingest.commit(engine, ingest.read_upload([data]), user="admin")
    rows = _csv_rows()
    rows[1][rows[0].index("Care homes beds")] = "3"
    rows[1][rows[0].index("Location Name")] = "Little Week"
    plan, _ = _load(engine, cqc=("next.csv", _csv_bytes(rows)))
    assert plan.kinds["care_homes"].update == ["Little Week"]
    home = _orgs(engine)["VNC0V"]
    assert (home["name"], home["beds"]) == ("Little Week", 3)
    assert (home["sector"], home["staff_headcount"], home["offered_on"]) == (
        "local_authority",
        12,
        dt.date(2024, 2, 1),
    )


# --- practices, PCNs, trusts and postcodes ----------------------------------------------------------------


def _cornwall(engine, **extra):
    files = {
        "practices": FIX / "epraccur.csv",
        "pcns": FIX / "epcn.xlsx",
        "trusts": FIX / "etr.csv",
        "postcodes": FIX / "postcodes",
    }
    return _load(engine, "QT6", **{**files, **extra})


def test_cornwall_practices_load_with_their_pcns_and_places_and_a_second_load_changes_nothing(any_engine):
    engine = any_engine
    plan, result = _cornwall(engine)
    practices = [r for r in _csv_rows("epraccur.csv") if r[3] == "QT6" and r[12] == "A" and r[25] == "4"]
    assert result.outcome == "loaded", result.messages()
    assert _summary(plan)["practices"] == (len(practices), 0, 0, 0, 0)
    assert _summary(plan)["trusts"][0] == 2  # Royal Cornwall Hospitals, Cornwall Partnership
    orgs = _orgs(engine)
    assert {c for c, o in orgs.items() if o["kind"] == "gp_practice"} == {r[0] for r in practices}
    lander = orgs["L82001"]
    assert (lander["name"], lander["postcode"], lander["sector"]) == (
        "Lander Medical Practice",
        "TR1 2JA",
        "nhs",
    )
    tr1 = next(r for r in csv.reader((FIX / "postcodes" / "TR.csv").open()) if r[0] == "TR1 2JA")
    assert (lander["latitude"], lander["longitude"]) == (float(tr1[1]), float(tr1[2]))
    # Each practice's PCN is its current ePCN membership.
    wb = openpyxl.load_workbook(FIX / "epcn.xlsx", read_only=True)
    current = {
        r[0]: r[4] for r in list(wb["PCN Core Partner Details"].iter_rows(values_only=True))[1:] if not r[9]
    }
    assert {c: o["pcn_code"] for c, o in orgs.items() if o["kind"] == "gp_practice"} == {
        r[0]: current.get(r[0]) for r in practices
    }
    with engine.connect() as conn:
        localities = dict(conn.execute(select(m.Locality.code, m.Locality.name)).all())
    assert localities["11N"] == "NHS Cornwall and the Isles of Scilly ICB - 11N"
    # Nothing of Devon's practices in the file was loaded.
    assert not {r[0] for r in _csv_rows("epraccur.csv") if r[3] == "QJK"} & set(orgs)

    again, second = _cornwall(engine)
    assert all(k.changes == 0 for k in again.kinds.values()), _summary(again)
    assert second.outcome == "unchanged"


def test_postcodes_match_without_spaces_and_rows_with_no_grid_reference_place_nothing(engine):
    from qidash.registers import postcodes

    files = postcodes.sources(FIX / "postcodes")
    found = postcodes.lookup(files, {"TR108HX", "TR119AB", "TR12JA"})
    assert set(found) == {"TR108HX", "TR12JA"}  # TR119AB is in the file with no grid reference
    assert postcodes.key("tr10 8hx") == "TR108HX"


def test_without_a_postcode_lookup_practices_load_unplaced_and_the_data_quality_panel_lists_them(engine):
    plan, result = _load(engine, "QT6", practices=FIX / "epraccur.csv")
    assert result.outcome == "loaded"
    assert not plan.postcode_lookup and len(plan.unplaced) == _summary(plan)["practices"][0]
    assert all(o["latitude"] is None for o in _orgs(engine).values())
    listed = ingest.data_quality(engine)["organisations_without_coordinates"]
    assert set(listed["ods_code"]) == set(_orgs(engine))
    # A lookup given later places them.
    plan, _ = _load(engine, "QT6", practices=FIX / "epraccur.csv", postcodes=FIX / "postcodes")
    assert plan.unplaced == [] and all(o["latitude"] is not None for o in _orgs(engine).values())


def _epcn_with(move: tuple[str, str]) -> tuple[str, bytes]:
    """The fixture ePCN with one practice's current membership ended and a new one begun."""
    wb = openpyxl.load_workbook(FIX / "epcn.xlsx")
    ws = wb["PCN Core Partner Details"]
    practice, new_pcn = move
    for row in ws.iter_rows(min_row=2):
        if row[0].value == practice and not row[9].value:
            row[9].value = "20250131"
            template = [c.value for c in row]
    ws.append([*template[:4], new_pcn, "", *template[6:8], "20250201", None, True])
    out = io.BytesIO()
    wb.save(out)
    return "epcn_feb.xlsx", out.getvalue()


def test_a_practice_moving_pcn_is_updated_and_keeps_everything_else(engine):
    _cornwall(engine)
    before = _orgs(engine)["L82001"]
    other = next(
        o["pcn_code"] for o in _orgs(engine).values() if o["pcn_code"] not in (None, before["pcn_code"])
    )
    plan, _ = _cornwall(engine, pcns=_epcn_with(("L82001", other)))
    assert plan.kinds["practices"].update == ["Lander Medical Practice"]
    after = _orgs(engine)["L82001"]
    assert after["pcn_code"] == other
    assert {k: v for k, v in after.items() if k != "pcn_id" and k != "pcn_code"} == {
        k: v for k, v in before.items() if k != "pcn_id" and k != "pcn_code"
    }


def test_a_practice_gone_from_epraccur_closes_on_its_close_date_or_the_load_date(engine):
    _cornwall(engine)
    rows = _csv_rows("epraccur.csv")
    active = [r for r in rows if r[3] == "QT6" and r[12] == "A" and r[25] == "4"]
    dropped, closing = active[0], active[1]
    later = [r for r in rows if r is not dropped]
    closing[11], closing[12] = "20250115", "C"
    plan, _ = _cornwall(engine, practices=("epraccur_feb.csv", _csv_bytes(later)), as_of=dt.date(2025, 2, 3))
    assert sorted(plan.kinds["practices"].close) == sorted(
        lookups.place_name(r[1]) for r in (dropped, closing)
    )
    orgs = _orgs(engine)
    assert orgs[dropped[0]]["closed_on"] == dt.date(2025, 2, 3)
    assert orgs[closing[0]]["closed_on"] == dt.date(2025, 1, 15)


def test_new_pcns_go_to_a_locality_named_after_their_sub_icb_and_an_admins_locality_stays(engine):
    ingest.commit(
        engine, ingest.read_upload([("localities.csv", b"code,name\nWEST,West Cornwall\n")]), user="a"
    )
    plan, _ = _cornwall(engine)
    with engine.connect() as conn:
        pcn = conn.execute(select(m.Pcn.code)).scalars().first()
    ingest.commit(
        engine,
        ingest.read_upload([("pcns.csv", f"code,name,locality_code\n{pcn},X PCN,WEST\n".encode())]),
        user="a",
    )
    plan, _ = _cornwall(engine)
    assert plan.kinds["pcns"].update == [next(n for n in plan.kinds["pcns"].update)]
    with engine.connect() as conn:
        locality = conn.execute(
            select(m.Locality.code).join(m.Pcn, m.Pcn.locality_id == m.Locality.id).where(m.Pcn.code == pcn)
        ).scalar_one()
    assert locality == "WEST"  # the PCN's name came back from ePCN; its locality stayed


def test_new_care_homes_join_the_pcn_of_their_nearest_practice(engine):
    practices = [("L1", "PCN-A", 50.70, -3.50), ("L2", "PCN-B", 50.40, -4.10)]
    data = "code,name,locality_code\nPCN-A,A PCN,L\nPCN-B,B PCN,L\n"
    orgs = "ods_code,name,kind,sector,pcn_code,latitude,longitude\n" + "".join(
        f"{c},{c},gp_practice,nhs,{p},{la},{lo}\n" for c, p, la, lo in practices
    )
    ingest.commit(
        engine,
        ingest.read_upload(
            [
                ("localities.csv", b"code,name\nL,L\n"),
                ("pcns.csv", data.encode()),
                ("organisations.csv", orgs.encode()),
            ]
        ),
        user="a",
    )
    plan, _ = _load(engine, cqc=FIX / "cqc_devon.csv")
    homes = {o["ods_code"]: o for o in _orgs(engine).values() if o["kind"].startswith("care_home")}
    for home in homes.values():  # Exeter's homes to PCN-A, Plymouth's to PCN-B
        near_a = (home["latitude"] - 50.70) ** 2 + ((home["longitude"] + 3.50) * 0.63) ** 2
        near_b = (home["latitude"] - 50.40) ** 2 + ((home["longitude"] + 4.10) * 0.63) ** 2
        assert home["pcn_code"] == ("PCN-A" if near_a < near_b else "PCN-B"), home["name"]
    assert any("nearest practice" in n for n in plan.notes)


# --- the import format and the command --------------------------------------------------------------------


def test_cqc_location_id_and_closed_on_go_through_the_import_and_the_export(engine, tmp_path):
    data = (
        b"ods_code,name,kind,sector,cqc_location_id,closed_on\n"
        b"VNC0V,27 Little Week,care_home_residential,independent,1-5868490225,31/03/2025\n"
    )
    result = ingest.commit(engine, ingest.read_upload([("organisations.csv", data)]), user="a")
    assert result.outcome == "loaded", result.messages()
    book = openpyxl.load_workbook(io.BytesIO(export.export_workbook(engine, Scope())))
    rows = list(book["organisations"].iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["cqc_location_id"] == "1-5868490225"
    assert str(row["closed_on"])[:10] == "2025-03-31"


def _cli(*args, db):
    return subprocess.run(
        [sys.executable, "-m", "qidash", "registers", "--db", db, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def test_the_registers_command_prints_the_plan_and_exits_as_import_does(tmp_path):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    dry = _cli("--icb", "QJK", "--cqc", FIX / "cqc_devon.ods", "--dry-run", db=db)
    assert dry.returncode == 0, dry.stderr
    assert "would add 30 care homes" in dry.stdout and "Dry run" in dry.stdout
    done = _cli("--icb", "QJK", "--cqc", FIX / "cqc_devon.ods", "--user", "monthly load", db=db)
    assert done.returncode == 0 and "Loaded (import" in done.stdout
    from qidash import db as qdb

    with qdb.make_engine(db).connect() as conn:  # audited as a command-line run, with the note
        actor = conn.execute(select(m.ImportBatch.imported_by)).scalar_one()
    assert actor.startswith("cli:") and actor.endswith("(note: monthly load)")
    assert "care homes" in done.stdout and "NHS Devon ICB (QJK)" in done.stdout
    again = _cli("--icb", "QJK", "--cqc", FIX / "cqc_devon.ods", db=db)
    assert again.returncode == 0 and "Nothing changed" in again.stdout
    other = _cli("--icb", "QT6", "--cqc", FIX / "cqc_devon.ods", db=db)
    assert (
        other.returncode == 2
        and "no care homes of ICB QT6" in other.stderr
        and "Nothing was loaded" in other.stderr
    )
    with qdb.make_engine(db).connect() as conn:  # the attempt is in the audit trail, as an import's would be
        detail = (
            conn.execute(
                select(m.AuditEvent.detail)
                .where(m.AuditEvent.action == "import")
                .order_by(m.AuditEvent.id.desc())
            )
            .scalars()
            .first()
        )
    assert detail["outcome"] == "unusable" and detail["files"] == ["cqc_devon.ods"]
    rows = _csv_rows()
    rows[0][rows[0].index("Location Postal Code")] = "Postcode"
    bad = tmp_path / "renamed.csv"
    bad.write_bytes(_csv_bytes(rows))
    renamed = _cli("--icb", "QJK", "--cqc", bad, db=db)
    assert renamed.returncode == 2 and "'Location Postal Code' is missing" in renamed.stderr
