"""AppTest of the Data page's "Start from the public registers": choose the ICB, upload the files as
published, preview the plan, load it, and see a file for another ICB refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from qidash import db
from qidash import models as m
from tests.support import ROOT, open_page

FIX = ROOT / "tests" / "fixtures" / "registers"


@pytest.fixture
def empty_db(tmp_path, monkeypatch):
    url = db.sqlite_url(tmp_path / "qidash.db")
    engine = db.make_engine(url)
    db.migrate(engine)
    monkeypatch.setenv("QIDASH_DB_URL", url)
    monkeypatch.setenv("QIDASH_AUTH", "off")
    yield engine
    engine.dispose()


def _uploader(at: AppTest, kind: str):
    return next(u for u in at.file_uploader if u.key.startswith(f"registers_{kind}_"))


def _upload(at: AppTest, kind: str, path: Path) -> AppTest:
    _uploader(at, kind).set_value([(path.name, path.read_bytes(), "application/octet-stream")]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    return " ".join(
        str(e.value) for kind in ("markdown", "caption", "error", "info", "success") for e in at.get(kind)
    )


def test_the_devon_care_homes_are_previewed_loaded_and_audited_from_the_page(empty_db):
    at = open_page("data", demo_role="admin")
    assert not any(u.key.startswith("registers_") for u in at.file_uploader)  # files once an ICB is chosen
    icb = at.selectbox(key="registers_icb")
    assert "NHS Devon ICB (QJK)" in icb.options and len(icb.options) == 42  # every ICB, by name
    icb.set_value("QJK").run()
    at = _upload(at, "cqc", FIX / "cqc_devon.ods")
    plan = next(df.value for df in at.dataframe if "reopen" in df.value.columns)
    assert plan.iloc[0].to_dict() == {
        "kind": "Care homes",
        "add": 30,
        "update": 0,
        "close": 0,
        "reopen": 0,
        "leave": 0,
    }
    assert "Preview for NHS Devon ICB" in _texts(at)
    next(b for b in at.button if b.label.startswith("Load the registers")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "loaded: 30 new" in _texts(at)
    with empty_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Organisation)).scalar_one() == 30
        assert conn.execute(select(m.ImportBatch.file_name)).scalar_one() == "cqc_devon.ods"

    at = _upload(at, "cqc", FIX / "cqc_devon.ods")  # the uploader is fresh after a load
    assert "Nothing to load: the database already matches these registers." in _texts(at)


def test_a_file_for_another_icb_is_refused_with_the_reason(empty_db):
    at = open_page("data", demo_role="admin")
    at.selectbox(key="registers_icb").set_value("QT6").run()
    at = _upload(at, "cqc", FIX / "cqc_devon.csv")
    errors = " ".join(e.value for e in at.error)
    assert "Nothing can be loaded" in errors and "no care homes of ICB QT6" in errors and "QJK" in errors
    assert not any(b.label.startswith("Load the registers") for b in at.button)


def test_every_page_opens_on_a_database_started_from_the_registers(empty_db):
    from qidash import registers

    plan = registers.plan(empty_db, "QJK", cqc=FIX / "cqc_devon.csv")
    registers.load(empty_db, plan, user="t")
    for page in ("overview", "capability_map", "tiers", "portfolio", "data"):
        at = open_page(page, demo_role="admin")
        assert not at.exception, (page, [e.value for e in at.exception])
