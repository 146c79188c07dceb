"""Export: the section-3 workbook loads back into an empty database as the same data and measures."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qidash import db, derive, export, ingest, scenarios, store, tabular
from qidash import models as m
from qidash.cli import main
from qidash.scope import Scope
from tests.support import engine_url

PROGRAMME_TABLES = {"import_batch", "audit_event", "setting", "app_user"}


@pytest.fixture(scope="module")
def demos(backend, databases):
    """The barnet and somerset demos in one database, derived tables built, on each backend."""
    engine = databases.new(backend)
    with Session(engine) as session, session.begin():
        for name in ("barnet", "somerset"):
            store.write_frames(session, scenarios.generate(name))
        derive.refresh_derived(session)
    yield engine
    databases.drop(engine)


@pytest.fixture
def new_engine(backend, databases):
    """Makes empty databases on the module's backend; they are dropped after the test."""
    made = []

    def make():
        made.append(databases.new(backend))
        return made[-1]

    yield make
    for engine in made:
        databases.drop(engine)


def people_per_tier(engine) -> dict[str, int]:
    with engine.connect() as conn:
        query = (
            select(m.Tier.code, func.count())
            .join(m.TierAttainment, m.TierAttainment.tier_id == m.Tier.id)
            .group_by(m.Tier.code)
        )
        return dict(conn.execute(query).all())


def observation_sums(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        query = (
            select(
                m.Project.code,
                func.count(),
                func.sum(m.Observation.value),
                func.sum(m.Observation.denominator),
            )
            .join(m.Measure, m.Measure.id == m.Observation.measure_id)
            .join(m.Project, m.Project.id == m.Measure.project_id)
            .group_by(m.Project.code)
        )
        return {code: (n, round(v, 6), den and round(den, 6)) for code, n, v, den in conn.execute(query)}


def analysis_summary(engine) -> dict[tuple, tuple]:
    with engine.connect() as conn:
        query = (
            select(m.Project.code, m.Measure.code, m.MeasureAnalysis.n_points, m.MeasureAnalysis.improving)
            .join(m.Measure, m.Measure.id == m.MeasureAnalysis.measure_id)
            .join(m.Project, m.Project.id == m.Measure.project_id)
        )
        return {(p, c): (n, i) for p, c, n, i in conn.execute(query)}


def test_export_then_import_into_an_empty_database_reproduces_the_data(demos, new_engine):
    book = export.export_workbook(demos)
    copy = new_engine()
    result = ingest.commit(copy, ingest.read_upload([("qidash-export.xlsx", book)]), user="t")
    assert result.outcome == "loaded", result.rejected.head().to_string()
    assert result.notes.empty, result.notes.head().to_string()
    before, after = db.row_counts(demos), db.row_counts(copy)
    assert {t: n for t, n in before.items() if t not in PROGRAMME_TABLES} == {
        t: n for t, n in after.items() if t not in PROGRAMME_TABLES
    }
    assert before["observation"] > 800 and before["tier_attainment"] > 500  # both programmes are there
    assert people_per_tier(copy) == people_per_tier(demos)
    assert observation_sums(copy) == observation_sums(demos)
    assert analysis_summary(copy) == analysis_summary(demos)
    # And loading it again changes nothing.
    again = ingest.preview(copy, ingest.read_upload([("qidash-export.xlsx", book)]))
    assert again.counts[["new", "updated", "rejected"]].to_numpy().sum() == 0


def test_text_that_would_run_as_a_formula_is_neutralised_and_read_back(new_engine):
    engine = new_engine()
    frames = scenarios.generate("barnet")
    frames["projects"][0] = {**frames["projects"][0], "title": "=1+1", "story": "@SUM(A1)", "lessons": "-2+3"}
    with Session(engine) as session, session.begin():
        store.write_frames(session, frames)
    book = export.export_workbook(engine)
    sheet = load_workbook(io.BytesIO(book))["projects"]
    heading = [c.value for c in sheet[1]]
    row = dict(zip(heading, sheet[2], strict=True))
    assert row["title"].value == "'=1+1" and row["title"].data_type == "s"
    assert (row["story"].value, row["lessons"].value) == ("'@SUM(A1)", "'-2+3")
    assert tabular.neutralise("+44 20") == "'+44 20" and tabular.neutralise(-3) == -3
    copy = new_engine()
    ingest.commit(copy, ingest.read_upload([("export.xlsx", book)]), user="t")
    with copy.connect() as conn:
        title = conn.execute(select(m.Project.title).where(m.Project.code == frames["projects"][0]["code"]))
        assert title.scalar_one() == "=1+1"


def test_a_scoped_export_holds_the_scope_and_loads_on_its_own(demos, new_engine):
    scope = Scope(pcn="N-BAR")
    rows = export.export_rows(demos, scope)
    with demos.connect() as conn:
        in_scope = set(
            conn.scalars(select(m.Organisation.ods_code).where(m.Organisation.id.in_(scope.org_ids())))
        )
        total = conn.execute(select(func.count()).select_from(m.Organisation)).scalar_one()
    exported = {r[0] for r in rows["organisations"]}
    assert in_scope <= exported and len(exported) < total
    assert {r[0] for r in rows["projects"]} == {"BA-QI001"}  # led in North Barnet
    copy = new_engine()
    book = export.export_workbook(demos, scope)
    result = ingest.commit(copy, ingest.read_upload([("north.xlsx", book)]), user="t")
    assert result.outcome == "loaded" and result.rejected.empty


def test_export_command_writes_the_workbook_and_refuses_unknown_codes(demos, tmp_path, capsys):
    url = engine_url(demos)
    out = tmp_path / "north.xlsx"
    assert main(["export", "--out", str(out), "--pcn", "N-BAR", "--db", url]) == 0
    assert load_workbook(out, read_only=True).sheetnames == ["notes", *ingest.FORMATS]
    assert main(["export", "--out", str(tmp_path / "x.xlsx"), "--pcn", "NOWHERE", "--db", url]) == 2
    assert "Unknown PCN code 'NOWHERE'" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "x.csv"), "--db", url]) == 2
    assert main(["export", "--out", str(tmp_path / "x.xlsx"), "--kind", "castle", "--db", url]) == 2
