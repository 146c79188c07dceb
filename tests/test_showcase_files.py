"""The Showcase's files opened by real clients, for every demo programme: the PDF report printed by
Chromium has one page per slide, and LibreOffice (a real office suite, headless) opens the PowerPoint
deck without complaint and prints one page per slide.

Both clients are optional on a developer's machine: these tests skip without them, unless CI asks for
them (``QIDASH_REQUIRE_E2E=1`` for Chromium, ``QIDASH_REQUIRE_OFFICE=1`` for LibreOffice), which makes a
missing client a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from qidash import measures, scenarios
from qidash.exports import images, pptx_deck
from qidash.scope import Scope
from qidash.views import showcase as sv

REQUIRE_CHROMIUM = os.environ.get("QIDASH_REQUIRE_E2E") == "1"
REQUIRE_OFFICE = os.environ.get("QIDASH_REQUIRE_OFFICE") == "1"
OFFICE_TIMEOUT_S = 180
# What LibreOffice prints on every run in a container without Java: not about the file.
OFFICE_NOISE = re.compile(r"^Warning: failed to launch javaldx - java may not function correctly$")


def _missing(required: bool, reason: str, flag: str):
    if required:
        pytest.fail(f"{reason}, and {flag}=1 says this test must run")
    pytest.skip(reason)


def pdf_pages(pdf: bytes) -> int:
    """The number of pages of a PDF whose objects are not packed in object streams (neither Chromium's nor
    LibreOffice's are): its page objects, counted from the bytes."""
    assert pdf.startswith(b"%PDF"), pdf[:20]
    assert b"/ObjStm" not in pdf, "object streams: the page objects cannot be counted from the bytes"
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def showcase(databases, scenario: str) -> sv.Showcase:
    """The scenario's default showcase, as the page and the command make it (SQLite: the files are about
    the export, not the database)."""
    with databases.demo("sqlite", scenario).connect() as conn:
        return sv.showcase_data(conn, Scope(), measures.default_as_of(conn))


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_the_pdf_report_has_one_page_per_slide(databases, scenario):
    if images.chromium() is None:
        _missing(REQUIRE_CHROMIUM, "Chromium is not installed", "QIDASH_REQUIRE_E2E")
    sc = showcase(databases, scenario)
    assert pdf_pages(images.report_pdf(sc)) == len(sc.slides)
    assert pdf_pages(images.report_pdf(sc, board_only=True)) == 1


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        _missing(
            REQUIRE_OFFICE,
            "LibreOffice is not installed (Debian: apt-get install --no-install-recommends libreoffice-impress)",
            "QIDASH_REQUIRE_OFFICE",
        )
    return found


@pytest.mark.parametrize("scenario", scenarios.NAMES)
def test_libreoffice_opens_the_deck_and_prints_a_page_per_slide(databases, scenario, tmp_path):
    exe = soffice()
    sc = showcase(databases, scenario)
    deck = tmp_path / f"{scenario}.pptx"
    deck.write_bytes(pptx_deck.to_bytes(sc))
    out = tmp_path / "pdf"
    # A profile of its own, so the run neither reads nor disturbs anyone's LibreOffice settings, and two
    # test processes never share one.
    profile = (tmp_path / "office-profile").as_uri()
    done = subprocess.run(
        [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", "pdf",
         "--outdir", str(out), str(deck)],
        capture_output=True,
        text=True,
        timeout=OFFICE_TIMEOUT_S,
        check=False,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 0, said
    complaints = [line for line in said if not OFFICE_NOISE.match(line) and not line.startswith("convert ")]
    assert not complaints, complaints  # no "Error: source file could not be loaded", no repair
    assert any(line.startswith("convert ") and line.endswith("impress_pdf_Export") for line in said), said
    pdf = (out / f"{scenario}.pdf").read_bytes()
    assert pdf_pages(pdf) == len(sc.slides)
