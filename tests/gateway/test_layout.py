"""The package's shape holds: layers import one way, modules and functions stay small.

The layers, lowest first: each may import only from those below it (and itself).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gateway"
# A room of gateway/ (a subpackage, or "top" for a module at the top) -> its layer.
LAYERS = {
    "config": 0,
    "edge": 1,
    "records": 1,
    "bridges": 2,
    "control": 2,
    "metrics": 2,
    "openapi": 2,
    "mounts": 3,
    "shadow": 4,
    "routing": 5,
    "top": 6,
    "cli": 6,
}
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
MAX_TOP_MODULES = 8
MODULES = sorted(PACKAGE.rglob("*.py"))


def _room(module: str) -> str:
    """``gateway.config.manifest`` -> ``config``; ``gateway.app`` -> ``top``."""
    parts = module.split(".")
    if len(parts) < 2:
        return "top"
    return parts[1] if (PACKAGE / parts[1]).is_dir() else "top"


def _dotted(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts).removesuffix(".__init__")


def _gateway_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "gateway":
                found.update(f"gateway.{alias.name}" for alias in node.names)
            elif node.module.startswith("gateway."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("gateway."))
    return found


def test_every_room_has_a_layer() -> None:
    rooms = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert rooms <= set(LAYERS), f"give {rooms - set(LAYERS)} a layer"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _dotted(p))
def test_no_import_runs_upward(path: Path) -> None:
    module = _dotted(path)
    room = _room(module)
    upward = [
        imported
        for imported in _gateway_imports(ast.parse(path.read_text()))
        if _room(imported) != room and LAYERS[_room(imported)] >= LAYERS[room]
    ]
    assert upward == [], f"{module} ({room}) imports a layer at or above its own"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _dotted(p))
def test_modules_and_functions_stay_small(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_a_handful_of_modules_sit_at_the_top() -> None:
    assert len(list(PACKAGE.glob("*.py"))) <= MAX_TOP_MODULES
