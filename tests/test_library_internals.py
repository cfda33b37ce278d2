"""No private attribute of a library (xlsxwriter, openpyxl, zipfile, pandas …) on the main path: only
unionbatch/fastrows.py, gated on the xlsxwriter version it was proven against, may reach into one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = ROOT / "unionbatch" / "fastrows.py"
OURS = ("unionbatch", "schemas", "chinese_click", "process")  # modules whose _names are the project's own
# os._exit is public: a forked worker whose run was killed leaves through it from its watchdog thread (the one
# use the os documentation gives it), so it is allowed there and nowhere else.
ALLOWED = {"unionbatch/isolate.py": {"os._exit"}}
NAMEDTUPLE_API = {"_make", "_replace", "_asdict", "_fields", "_field_defaults"}  # documented, underscored by design


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(source: str) -> list[str]:
    """Every reach into another object's privates in Python source: `x._name` (but self's and cls's own),
    `getattr(x, "_name")`, and `from library import _name`; as "line: what"."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in NAMEDTUPLE_API:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                what = ast.unparse(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr"):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str) and _private(name.value):
                what = ast.unparse(node)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and not (node.module or "").startswith(OURS):
            names = [alias.name for alias in node.names if _private(alias.name)]
            if names:
                what = f"from {node.module} import {', '.join(names)}"
        if what:
            found.append(f"{node.lineno}: {what}")
    return found


def _main_path() -> list[Path]:
    files = [*sorted((ROOT / "unionbatch").rglob("*.py")), *sorted((ROOT / "schemas").rglob("*.py"))]
    return [*files, ROOT / "process.py", ROOT / "chinese_click.py"]


def test_no_library_privates_outside_the_fenced_renderer() -> None:
    files = [path for path in _main_path() if path != FENCE]
    assert len(files) > 30
    uses = [
        f"{path.relative_to(ROOT)}:{use}"
        for path in files
        for use in private_uses(path.read_text(encoding="utf-8"))
        if use.split(": ", 1)[1] not in ALLOWED.get(str(path.relative_to(ROOT)), ())
    ]
    assert uses == []


def test_no_process_hacks_on_the_main_path() -> None:
    """No module blocked through sys.modules, no exit that skips the interpreter's clean-up, no C library called
    to hand memory back: each saved a fraction of a second."""
    for path in _main_path():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert "ctypes" not in imported and "malloc_trim" not in source, path
        assert not re.search(r"sys\.modules\.setdefault\(|sys\.modules\[[^]]*\]\s*=\s*None", source), path
        if path.name != "isolate.py":
            assert "os._exit" not in source, path


def test_the_scan_finds_the_fenced_renderers_privates() -> None:
    """The positive control: the fence does reach into xlsxwriter, and the scan sees each way it does."""
    uses = "\n".join(private_uses(FENCE.read_text(encoding="utf-8")))
    for private in ("worksheet._write_single_row", "worksheet._check_dimensions", "]._get_xf_index"):
        assert private in uses
    assert "from xlsxwriter.utility import _preserve_whitespace" in uses
    assert "XMLwriter._escape_control_characters" in uses


def test_the_scan_finds_getattr_and_spares_self() -> None:
    source = (
        "class A:\n    def f(self):\n        return self._own\n"
        "def g(book, cells):\n    return getattr(book, '_archive'), book.Row._make(()), cells._cells\n"
    )
    assert private_uses(source) == ["5: getattr(book, '_archive')", "5: cells._cells"]


def test_no_cache_keyed_on_object_identity() -> None:
    """Memos key on values (normalise.value_key) or positions: an id() outlives nothing it can vouch for."""
    uses = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for path in _main_path()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "id"
    ]
    assert uses == []
