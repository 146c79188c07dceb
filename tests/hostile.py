"""Imported text an attacker would write, loaded through the real import path (qidash.ingest).

``hostile_database(engine)`` fills an empty database with the Barnet demo programme, every name, title
and story replaced by text that a renderer would read as markup or a spreadsheet as a formula: a
locality linking out, a project title fetching an outside image, a PCN with an ``onerror`` image, an
organisation that is a ``HYPERLINK`` formula. The tests then look at what each page, figure, map,
deck, report and download makes of it.
"""

from __future__ import annotations

import io

from openpyxl import load_workbook

EVIL_HOST = "evil.example"
LOCALITY = '<a href="https://evil.example/locality">Locality {n}</a>'
PCN = "<img src=x onerror=alert(1)> PCN {n}"
ORGANISATION = '=HYPERLINK("http://evil.example","Organisation {n}")'
TITLE = "![x](https://evil.example/p.png) **bold** :red[x] $x$ Project {n}"
AIM = "[Aim {n}](https://evil.example/aim) :material/home: <b>aim</b>"
STORY = "# Story {n}\n- <script>alert(1)</script> www.evil.example/story"
LESSONS = "Lessons {n}: a@evil.example ~~struck~~ `code`"
PRIORITY = '<a href="https://evil.example/priority">Priority {n}</a>'
TIER = '<a href="https://evil.example/tier">Tier {n}</a>'
MEASURE = "### <i>Measure {n}</i> [m](https://evil.example/measure)"
CHANGE = '<a href="https://evil.example/change">Change {n}</a> %{{y}}'
PERSON = "<img src=https://evil.example/person.png> Person {n}"

# Every kind of Markdown, HTML and Streamlit mark in one line (for the elements' own browser test).
MARKDOWN_SAMPLE = (
    '<a href="https://evil.example/a">A</a> [L](https://evil.example/l) ![I](https://evil.example/p.png) '
    "**B** _e_ :red[R] $x^2$ :material/home: :smile: <img src=\"https://evil.example/i.png\"> <b>b</b> "
    "# H www.evil.example https://evil.example/bare a@evil.example `c` ~~s~~"
)

# (sheet, column) -> template; ``{n}`` is the row's number, so names stay distinct.
HOSTILE = {
    ("localities", "name"): LOCALITY,
    ("pcns", "name"): PCN,
    ("organisations", "name"): ORGANISATION,
    ("projects", "title"): TITLE,
    ("projects", "aim"): AIM,
    ("projects", "story"): STORY,
    ("projects", "lessons"): LESSONS,
    ("priorities", "name"): PRIORITY,
    ("tiers", "name"): TIER,
    ("tiers", "framework_name"): TIER,
    ("measures", "name"): MEASURE,
    ("changes", "title"): CHANGE,
    ("people", "display_name"): PERSON,
}

# What must never reach a renderer as it is (each is markup in Markdown, in plotly or in HTML).
RAW_MARKUP = (
    "<a href",
    "<img",
    "<b>",
    "<i>",
    "<script",
    "](https://",
    "![x]",
    ":red[",
    "$x$",
    ":material/home",
    "https://evil",
    "www.evil",
)


def hostile_workbook() -> bytes:
    """The Barnet demo as an import workbook, with the hostile text of :data:`HOSTILE` in it."""
    import tempfile

    from qidash import db, export, scenarios

    with tempfile.TemporaryDirectory() as folder:
        source = db.make_engine(db.sqlite_url(f"{folder}/barnet.db"))
        db.migrate(source)
        scenarios.load_demo(source, "barnet")
        book = load_workbook(io.BytesIO(export.export_workbook(source)))
        source.dispose()
    for (sheet_name, column), template in HOSTILE.items():
        sheet = book[sheet_name]
        heading = [c.value for c in sheet[1]]
        if column not in heading:
            continue
        at = heading.index(column) + 1
        for n, row in enumerate(sheet.iter_rows(min_row=2), start=1):
            if column == "display_name" and not row[at - 1].value:
                continue
            cell = sheet.cell(row=row[0].row, column=at, value=template.format(n=n))
            cell.data_type = "s"  # text, as a spreadsheet holds a typed-in "=HYPERLINK(...)", not a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def hostile_database(engine) -> None:
    """Load :func:`hostile_workbook` into the empty, migrated database of ``engine`` through the
    import, as the Data page and ``qidash import`` do; fails if any row is rejected."""
    from qidash import ingest

    batch = ingest.read_upload([("hostile.xlsx", hostile_workbook())])
    result = ingest.commit(engine, batch, user="tests")
    assert result.rows_rejected == 0, result
    assert result.written
