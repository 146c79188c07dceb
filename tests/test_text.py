"""Escaping imported text for each renderer (qidash.text). What each renderer then shows is checked in a
real browser by tests/e2e/test_literal_text_browser.py; these pin the escaping itself."""

from __future__ import annotations

import html

from qidash.text import deck_literal, html_literal, markdown_literal, plotly_literal, plotly_literals

HOSTILE = (
    '<a href="https://evil.example">x</a> ![x](https://evil.example/p.png) **bold** :red[x] $x$ '
    ":material/home:"
)


def _unescape_markdown(text: str) -> str:
    """The text CommonMark shows for ``text`` made only of escapes, word joiners and hard breaks."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out).replace("\u2060", "").replace("  \n", "\n")


def test_markdown_literal_escapes_every_mark_and_reads_back_as_written():
    escaped = markdown_literal(HOSTILE)
    # No link, image, HTML, emphasis, colour, icon or LaTeX mark is left unescaped.
    for i, ch in enumerate(escaped):
        if ch in "<[]*$":
            assert escaped[i - 1] == "\\", (ch, escaped[: i + 1])
    assert ":\u2060red" in escaped and ":\u2060material" in escaped  # an invisible word joiner breaks each
    assert _unescape_markdown(escaped) == HOSTILE
    assert markdown_literal(None) == "" and markdown_literal(4) == "4"
    # Entities, code spans, strikes, tables and backslashes are escaped too; plain prose stays as it is.
    assert markdown_literal("&lt; `c` ~~s~~ a|b \\[") == "\\&lt; \\`c\\` \\~\\~s\\~\\~ a\\|b \\\\\\["
    assert markdown_literal("Taunton & Somerset: St Peter's (East), 2-3 wards.") == (
        "Taunton & Somerset: St Peter's (East), 2-3 wards."
    )


def test_markdown_literal_breaks_bare_links_and_keeps_lines():
    # Streamlit links bare addresses whatever their escapes: an invisible word joiner breaks each.
    escaped = markdown_literal("see https://evil.example, www.evil.example or a@evil.example")
    assert "https:\u2060//" in escaped and "www\u2060.evil" in escaped and "a@\u2060evil" in escaped
    # A line of a story cannot start a heading or a list: every line is its own, escaped.
    assert markdown_literal("# one\n- two\r\n1. three\n  > four\n===\n12) five") == (
        "\\# one  \n\\- two  \n1\\. three  \n  \\> four  \n\\===  \n12\\) five"
    )


def test_plotly_literal_escapes_markup_and_template_fields_and_leaves_numbers():
    assert plotly_literal('<a href="https://evil.example">x</a>') == '&lt;a href="https://evil.example"&gt;x&lt;/a&gt;'
    assert plotly_literal("Barking & Dagenham") == "Barking &amp; Dagenham"
    assert plotly_literal("%{customdata}") == "%&#123;customdata}"
    assert plotly_literal(3) == 3 and plotly_literal(None) is None
    assert plotly_literals(["<b>", 2]) == ["&lt;b&gt;", 2]


def test_html_literal_escapes_text_and_attributes():
    assert html_literal(HOSTILE) == html.escape(HOSTILE, quote=True)
    assert "<" not in html_literal("<img src=x onerror=alert(1)>") and html_literal(None) == ""


def test_deck_literal_keeps_deck_gl_code_markers_text():
    assert deck_literal("@@=constructor") == "@\u2060@=constructor" and deck_literal("@ home") == "@ home"


def test_map_rows_hold_no_deck_gl_code(tmp_path):
    """A PCN, a locality and an organisation named like deck.gl code reach the map's rows as text."""
    import json

    import pandas as pd

    from qidash import maps
    from qidash.geo import Area, Areas

    square = [[[(0.0, 50.0), (0.1, 50.0), (0.1, 50.1), (0.0, 50.0)]]]
    areas = Areas("derived", [Area("@@#P", "@@=name", square, "@@=L")], [Area("@@=L", "L", square)])
    orgs = pd.DataFrame(
        [
            {
                "ods_code": "@@=ods",
                "name": "@@=constructor",
                "kind": "gp_practice",
                "pcn": "@@#P",
                "stage": "trained",
                "latitude": 50.05,
                "longitude": 0.05,
                "beds": None,
                "staff_headcount": 10,
                "trained_in_post": 1,
            }
        ]
    )
    deck = maps.capability_deck(areas, {"@@#P": 50.0}, [0, 25, 50, 75, 100], {"@@#P": ("a", "b", "c")}, orgs)
    layers = json.loads(deck.to_json())["layers"]
    strings = [v for layer in layers for row in layer["data"] for v in row.values() if isinstance(v, str)]
    assert any("constructor" in v for v in strings) and any("name" in v for v in strings)  # the control
    assert not [v for v in strings if v.startswith("@@")]
