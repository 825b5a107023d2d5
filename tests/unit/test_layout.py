"""The package's shape: subpackages that re-export their names, no import cycle, modules and functions a reader can
hold in mind, and a public API that resolves. No engine needed: everything is read with ``ast``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from kitroot import ROOT

import helpers

PACKAGE = ROOT / "helpers"
SUBPACKAGES = (
    "engine",
    "images",
    "archive",
    "layers",
    "review",
    "supplychain",
    "ci",
    "lessons",
    "vm",
    "grading",
    "kit",
)
#: the issue's "about 300 lines" and "about 60 lines", with a little room for a docstring
MAX_MODULE_LINES = 330
MAX_FUNCTION_LINES = 65


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {m for m, p in MODULES.items() if p.name == "__init__.py"}


def _imports(path: Path) -> list[tuple[ast.AST, str, bool]]:
    """(node, imported helpers module, inside a function?) for every import of a helpers module in ``path``."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def in_function(node: ast.AST) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return True
        return False

    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("helpers"):
            base = node.module or ""
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("helpers")]
        found += [(node, name, in_function(node)) for name in names]
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> the helpers modules it imports (package ``__init__``s are lazy, so they are not edges)."""
    return {
        m: {name for _, name, _ in _imports(p) if name in MODULES and name not in PACKAGES and name != m}
        for m, p in MODULES.items()
    }


def test_no_import_cycle():
    """Is the module graph a DAG (every import counted, at any level)?"""
    graph, state, stack = _graph(), {}, []

    def visit(m: str) -> None:
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                cycle = stack[stack.index(n) :] + [n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_kit_modules_are_imported_at_top_level():
    """Are imports of the kit's own modules at module level (function-level only for heavy third-party ones)?"""
    late = [
        f"{path.relative_to(ROOT)}:{node.lineno} {name}"
        for path in MODULES.values()
        for node, name, inside in _imports(path)
        if inside
    ]
    assert late == []


def test_modules_and_functions_are_short():
    """Is every module under ~300 lines and every function under ~60?"""
    sizes = {p.relative_to(ROOT): len(p.read_text().splitlines()) for p in MODULES.values()}
    long_modules = [f"{path}: {n}" for path, n in sizes.items() if n > MAX_MODULE_LINES]
    long_functions = [
        f"{p.relative_to(ROOT)}:{f.lineno} {f.name}: {f.end_lineno - f.lineno + 1}"
        for p in MODULES.values()
        for f in ast.walk(ast.parse(p.read_text()))
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long_modules == [] and long_functions == []


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_subpackage_reexports_its_names(name):
    """Does each subpackage say what it is, list its public names in ``__all__``, and does each name resolve?"""
    package = importlib.import_module(f"helpers.{name}")
    assert package.__doc__ and package.__all__
    for public in package.__all__:
        assert getattr(package, public) is not None, public


def test_top_level_api_resolves_and_leaves_instructor_names_out():
    """Does every name ``helpers`` exports resolve, and are the instructor's names only under ``helpers.grading``?"""
    for public in helpers.__all__:
        assert getattr(helpers, public) is not None, public
    instructor = {"autograde", "run_in_sandbox", "collect", "release", "ensure_grading_engine"}
    assert instructor.isdisjoint(helpers.__all__)
    grading = importlib.import_module("helpers.grading")
    assert {"autograde", "run_in_sandbox", "GradingSession"} <= set(grading.__all__)


def test_importing_helpers_loads_nothing_heavy():
    """Does ``import helpers`` (and each subpackage) stay away from the engine, pandas and matplotlib?"""
    import subprocess
    import sys

    code = (
        "import sys, helpers\n"
        + "".join(f"import helpers.{name}\n" for name in SUBPACKAGES)
        + "print(sorted(m for m in ('docker', 'pandas', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_cli_help_points_to_the_modules():
    """Does ``python -m helpers --help`` name, for each command, the subpackage that does the work?"""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "helpers", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
    for where in ("helpers.engine", "helpers.grading", "helpers.layers", "helpers.kit"):
        assert where in out.stdout, where
