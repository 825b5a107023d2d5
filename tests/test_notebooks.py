"""Every notebook runs, end to end, against the real engine and with no engine at all.

- ``notebooks/`` and ``source/``: papermill (the ``parameters`` cell), in a copy of the
  notebook's folder in a temporary directory, so nothing is written into the checkout.
- ``release/``: nbclient, where the stubs may raise ``NotImplementedError`` and nothing else.
- No-engine mode (``DOCKER_HOST`` pointing nowhere): a notebook may stop a cell only with the
  kit's ``EngineUnavailable`` (a clear message for the student); any other error fails.
- ``release/`` equals a fresh ``nbgrader generate_assignment`` of ``source/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NO_ENGINE = "unix:///nonexistent-course-engine.sock"

LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCE = sorted((ROOT / "source").glob("*/*.ipynb"))
RELEASE = sorted((ROOT / "release").glob("*/*.ipynb"))
ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()) if (ROOT / "source").is_dir() else []


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def _copy_folder(nb: Path, tmp_path: Path) -> Path:
    """Copy the notebook's folder to a temporary place and return the copy of the notebook."""
    dest = tmp_path / nb.parent.name
    shutil.copytree(nb.parent, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest / nb.name


def _run_nbclient(path: Path, allowed: list[str], timeout: int = 900) -> None:
    """Execute with nbconvert in its own process (a kernel per process: no event-loop state
    shared with papermill runs), letting cells fail only with the named errors."""
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         *[f"--ExecutePreprocessor.allow_error_names={name}" for name in allowed], "--ExecutePreprocessor.kernel_name=python3",
         f"--ExecutePreprocessor.timeout={timeout}", "--output", path.with_suffix(".out.ipynb").name, str(path)],
        cwd=path.parent, capture_output=True, text=True, timeout=timeout + 120,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]


def _errors(path: Path) -> list[str]:
    nb = nbformat.read(path.with_suffix(".out.ipynb"), as_version=4)
    return [o.get("ename", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def _parameters_cells(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum("parameters" in c.metadata.get("tags", []) for c in nb.cells)


@pytest.mark.parametrize("nb", LESSONS + SOURCE, ids=_ids(LESSONS + SOURCE))
def test_notebook_has_one_parameters_cell(nb):
    """Does the notebook have exactly one cell tagged `parameters` for papermill?"""
    assert _parameters_cells(nb) == 1


@pytest.mark.engine
@pytest.mark.notebook
@pytest.mark.parametrize("nb", LESSONS + SOURCE, ids=_ids(LESSONS + SOURCE))
def test_notebook_runs_with_engine(nb, tmp_path):
    """Does the notebook run end to end against the real engine, with no error at all?"""
    import papermill as pm

    copy = _copy_folder(nb, tmp_path)
    pm.execute_notebook(str(copy), str(copy.with_suffix(".out.ipynb")), cwd=str(copy.parent),
                        kernel_name="python3", progress_bar=False, request_save_on_cell_execute=False)


@pytest.mark.notebook
@pytest.mark.parametrize("nb", LESSONS + SOURCE, ids=_ids(LESSONS + SOURCE))
def test_notebook_runs_without_engine(nb, tmp_path, monkeypatch):
    """With no engine, does the notebook run, stopping cells only with the kit's EngineUnavailable message?"""
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    copy = _copy_folder(nb, tmp_path)
    _run_nbclient(copy, allowed=["EngineUnavailable"])


@pytest.mark.engine
@pytest.mark.notebook
@pytest.mark.parametrize("nb", RELEASE, ids=_ids(RELEASE))
def test_release_notebook_fails_only_on_stubs(nb, tmp_path):
    """Does the student version run with only NotImplementedError from its unanswered stubs?"""
    copy = _copy_folder(nb, tmp_path)
    _run_nbclient(copy, allowed=["NotImplementedError"])
    assert "NotImplementedError" in _errors(copy), "the release version should contain at least one stub"


def _notebook_json(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.get("metadata", {}).pop("widgets", None)
    return data


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_matches_fresh_generation(assignment, tmp_path):
    """Is release/ exactly what nbgrader generates from source/ today (never edited by hand)?"""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    # nbgrader runs `alembic` from PATH when it creates a gradebook: the venv's bin goes first
    env = dict(os.environ, COURSE_EXCHANGE=str(tmp_path / "exchange"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
         f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url=sqlite:///{tmp_path / 'gradebook.db'}"],
        cwd=course, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh, committed = course / "release" / assignment, ROOT / "release" / assignment
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()) if committed.exists() else []
    assert committed_files == fresh_files, f"release/{assignment} is out of date: run `make release-sync`"
    for rel in fresh_files:
        if rel.suffix == ".ipynb":
            assert _notebook_json(committed / rel) == _notebook_json(fresh / rel), f"{rel} differs: run `make release-sync`"
        else:
            assert (committed / rel).read_bytes() == (fresh / rel).read_bytes(), f"{rel} differs: run `make release-sync`"


def test_index_is_generated_and_current():
    """Is notebooks/00-index.ipynb what `make index` generates from the notebooks on disk?"""
    from helpers.notebook_index import index_is_current

    assert index_is_current(ROOT), "run `make index`"
