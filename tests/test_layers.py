"""The arrows import-linter cannot see: app.py and app_pages/ are scripts, not a package.

The layers inside qidash are import-linter contracts in pyproject.toml (``lint-imports``). These tests add
the top of the stack: pages hold no SQL and no database driver, and nothing in qidash imports a page or
the frame.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
DATABASE_MODULES = ("sqlalchemy", "sqlite3", "psycopg", "psycopg2")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute names (``from x import y`` gives x and x.y)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def reaches(names: set[str], module: str) -> bool:
    return any(name == module or name.startswith(module + ".") for name in names)


def test_the_scripts_are_found():
    assert len(SCRIPTS) > 5 and all(p.is_file() for p in SCRIPTS)


def test_pages_and_the_frame_import_no_database_library():
    found = {
        str(path.relative_to(ROOT)): sorted(n for n in imported_modules(path) if reaches({n}, module))
        for path in SCRIPTS
        for module in DATABASE_MODULES
        if reaches(imported_modules(path), module)
    }
    assert found == {}, f"SQL belongs in qidash (views or measures), not in a page: {found}"


def test_qidash_never_imports_a_page_or_the_frame():
    found = {}
    for path in sorted((ROOT / "qidash").rglob("*.py")):
        upward = sorted(n for n in imported_modules(path) if n == "app" or reaches({n}, "app_pages"))
        if upward:
            found[str(path.relative_to(ROOT))] = upward
    assert found == {}


def test_the_check_sees_an_import_of_each_kind(tmp_path):
    page = tmp_path / "page.py"
    page.write_text(
        "import sqlalchemy as sa\nfrom app_pages.data import x\nfrom . import y\n", encoding="utf-8"
    )
    names = imported_modules(page)
    assert reaches(names, "sqlalchemy") and reaches(names, "app_pages") and not reaches(names, "y")
