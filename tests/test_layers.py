"""The arrows import-linter cannot see: app.py and app_pages/ are scripts, not a package.

The layers inside qidash are import-linter contracts in pyproject.toml (``lint-imports``). These tests add
the top of the stack: pages hold no SQL and no database driver, and nothing in qidash imports a page or
the frame. And a rule neither tool has: no module of qidash, no page and no script reaches another
module's private (``_name``) names; what two modules share is public in the lower one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
OWN_CODE = [*SCRIPTS, *sorted((ROOT / "qidash").rglob("*.py")), *sorted((ROOT / "scripts").glob("*.py"))]
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


# What pages and the frame may import from qidash (docs/developing.md, "What a page imports"). A name
# is allowed when it or a package above it is listed: "qidash.ui" allows everything under qidash.ui.
EVERY_PAGE = (
    # the layers above the core: Streamlit helpers and the page context, what a page shows, its files
    "qidash.ui", "qidash.views", "qidash.exports",
    # pure presentation: data in, a figure, a map, words or a formatted number out; no database
    "qidash.charts", "qidash.spc_charts", "qidash.tier_charts", "qidash.maps", "qidash.map_groups",
    "qidash.summaries", "qidash.palette", "qidash.text", "qidash.icons",
    # reads a page hands to ui.data.query, which caches them per data version: option lists, the impact
    # report, the map's areas and geography
    "qidash.catalog", "qidash.impact", "qidash.geo",
    # named values a page shows or passes back
    "qidash.analysis.IMPROVING_MEANING", "qidash.measures.common.PATIENT_GROUP",
    "qidash.registers.lookups.ATTRIBUTION", "qidash.scope.Scope",
)
# Pages that change the database, and the frame, name the writers they call.
ONE_PAGE = {
    # loads files and registers (db: another load holds the writer), exports the data, manages users
    "app_pages/data.py": (
        "qidash.ingest", "qidash.registers", "qidash.export", "qidash.auth", "qidash.db",
        "qidash.models.ROLES",
    ),
    # accepts or dismisses a suggested recalculation
    "app_pages/project.py": ("qidash.recalculation",),
    # chooses the database (a demo programme or QIDASH_DB_URL) before any page runs
    "app.py": ("qidash.db", "qidash.scenarios", "qidash.registers.lookups"),
}


def qidash_names(path: Path) -> set[str]:
    """What ``path`` takes from qidash, as full names: ``from qidash.scope import Scope`` gives
    qidash.scope.Scope, ``from qidash import geo`` qidash.geo, ``import qidash.db`` qidash.db."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if reaches({a.name}, "qidash"))
        elif isinstance(node, ast.ImportFrom) and node.module and reaches({node.module}, "qidash"):
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_pages_import_only_what_the_developer_guide_lists():
    found = {}
    for path in SCRIPTS:
        allowed = EVERY_PAGE + ONE_PAGE.get(str(path.relative_to(ROOT)), ())
        outside = sorted(n for n in qidash_names(path) if not any(reaches({n}, a) for a in allowed))
        if outside:
            found[str(path.relative_to(ROOT))] = outside
    assert found == {}, (
        f"a page reaches the core beyond docs/developing.md's list: {found}. Put the work in a view "
        "(qidash/views) or qidash.ui, or list the module there and here with the reason."
    )


def test_the_page_rule_sees_a_core_import(tmp_path):
    page = tmp_path / "page.py"
    page.write_text("from qidash import store\nfrom qidash.ui import data\nimport qidash.db\n",
                    encoding="utf-8")
    assert qidash_names(page) == {"qidash.store", "qidash.ui.data", "qidash.db"}
    assert not any(reaches({"qidash.store"}, a) for a in EVERY_PAGE)


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


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_of(path: Path, root: Path) -> str:
    """``qidash/spc/limits.py`` -> ``qidash.spc.limits``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def private_reaches(path: Path, root: Path = ROOT) -> list[str]:
    """Each private name of one of the project's modules that ``path`` imports or reads through a module
    it imported (``from qidash.x import _y``, ``from .x import _y``, ``x._y``), as "line: what"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_of(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    own = ("qidash", "app_pages", "app", "scripts")
    modules: set[str] = set()  # local names bound to one of the project's modules
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(p for p in (base, node.module) if p)
            if source.split(".")[0] not in own:
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.lineno}: from {source} import {alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in own:
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_private_name_is_imported_across_modules():
    found = {str(path.relative_to(ROOT)): hits for path in OWN_CODE if (hits := private_reaches(path))}
    assert found == {}, f"make a shared name public in the module it lives in: {found}"


def test_the_private_check_sees_each_way_of_reaching_a_name(tmp_path):
    package = tmp_path / "qidash" / "spc"
    package.mkdir(parents=True)
    module = package / "nhs.py"
    module.write_text(
        "import argparse\nfrom qidash import geo\nfrom qidash.spc.result import _sign, finite\n"
        "from .limits import _less\nfrom . import result as r\n"
        "geo._bounds(1)\nr._num(2)\nargparse._SubParsersAction\nfinite(3)\n",
        encoding="utf-8",
    )
    assert private_reaches(module, tmp_path) == [
        "3: from qidash.spc.result import _sign",
        "4: from qidash.spc.limits import _less",
        "6: geo._bounds",
        "7: r._num",
    ]
