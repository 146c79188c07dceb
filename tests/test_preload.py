"""qidash.ui.preload: the script the frame sends names only the installed Streamlit's own modules."""

from __future__ import annotations

import json
import re

from qidash.ui import preload


def test_streamlit_has_one_module_for_each_kind():
    """Else nothing would be preloaded for that kind (a Streamlit upgrade that renames a module)."""
    for kind in preload.CHUNKS:
        name = preload.chunk_file(kind)
        assert name and name.startswith(preload.CHUNKS[kind] + ".") and (preload.STATIC_JS / name).is_file()


def test_the_script_imports_each_module_once_and_nothing_else():
    script = preload.preload_script(["plotly", "deck", "plotly"])
    (listed,) = re.findall(r"for \(const name of (\[[^\]]*\])\)", script)
    assert json.loads(listed) == [preload.chunk_file("plotly"), preload.chunk_file("deck")]
    # the whole script is those imports, each beside Streamlit's main module, each ignoring a failure
    assert script == preload.preload_script(["plotly", "deck"])
    assert script.replace(listed, "%s") == (
        "<script>(() => {"
        "const main = document.querySelector('script[type=\"module\"][src*=\"/static/js/index.\"]');"
        "if (main) for (const name of %s) import(new URL(name, main.src).href).catch(() => {});"
        "})();</script>"
    )
    assert preload.preload_script([]) is None


def test_no_other_code_runs_javascript_in_the_page():
    """DESIGN.md section 8: imported text never reaches a page as markup, let alone as a script. The one
    script the app sends is the preload's, built from file names only."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sources = [root / "app.py", *(root / "app_pages").glob("*.py"), *(root / "qidash").rglob("*.py")]
    running = sorted(str(p.relative_to(root)) for p in sources if "unsafe_allow_javascript" in p.read_text())
    assert running == ["qidash/ui/preload.py"]
