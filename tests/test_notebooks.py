"""Every notebook runs, end to end, in the three course modes (:mod:`helpers.kit.mode`).

- ``notebooks/`` and ``source/`` with the engine: papermill (the ``parameters`` cell), in a copy
  of the notebook's folder in a temporary directory, so nothing is written into the checkout.
- Without an engine (``DOCKER_HOST`` pointing nowhere), in two modes: with no prebuilt archives,
  and with the whole :data:`helpers.kit.prebuilt.CATALOG` exported once per session (what
  ``make prebuilt`` gives students). No error at all is allowed ("Run All" reaches the end);
  the mode log (``COURSE_MODE_LOG``) must show the archives each notebook is known to read
  (:data:`PREBUILT_READS`), no missing archive, and the final ``MODE.report()``.
- ``release/``: nbclient, where the stubs may raise ``NotImplementedError`` and nothing else.
- ``release/`` equals a fresh ``nbgrader generate_assignment`` of ``source/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NO_ENGINE = "unix:///nonexistent-course-engine.sock"

LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCE = sorted((ROOT / "source").glob("*/*.ipynb"))
RELEASE = sorted((ROOT / "release").glob("*/*.ipynb"))
ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()) if (ROOT / "source").is_dir() else []


#: Notebook -> the prebuilt archives it must read when no engine answers (computed from them,
#: not hard-coded). A notebook that starts teaching from an archive adds its line here.
PREBUILT_READS: dict[str, set[str]] = {
    "notebooks/01-containers-vs-vms.ipynb": {"python-slim"},
    "notebooks/02-image-layers-and-caching.ipynb": {"sample-naive"},
    "notebooks/03-client-daemon-registry.ipynb": {"sample-optimized"},
    "notebooks/04-runtime-configuration.ipynb": {"python-slim", "sample-optimized"},
    "notebooks/05-python-patterns.ipynb": {"python-slim", "python-full"},
    "notebooks/06-disk-hygiene.ipynb": {
        "python-slim",
        "python-full",
        "layers-wasteful",
        "layers-lean",
        "sample-naive",
        "sample-optimized",
    },
    "notebooks/10-layer-analysis.ipynb": {"layers-wasteful", "layers-lean"},
    "notebooks/11-dockerfile-review.ipynb": {"sample-naive", "sample-optimized"},
    "source/activity-shrink-image/activity-shrink-image.ipynb": {"layers-wasteful"},
    "notebooks/20-signing-and-digests.ipynb": {"sample-optimized"},
    "notebooks/21-secret-mounts.ipynb": {"secrets-mount", "secrets-arg-env"},
    "source/lab1-build-basics/lab1-build-basics.ipynb": {"sample-naive"},
    "source/lab2-improve-dockerfile/lab2-improve-dockerfile.ipynb": {
        "python-slim",
        "python-full",
        "sample-naive",
        "sample-optimized",
    },
    "source/lab3-security-scan/lab3-security-scan.ipynb": {"lab3-old"},
}

#: The generated table of contents: it uses no image, so it has no mode.
NEEDS_NO_MODE = {"notebooks/00-index.ipynb"}

#: Lessons whose engine-less run happens in the students' copy instead, with this module's assertions (no archive
#: read, mode "none", the final report): ``tests/engine/kit/test_student_repo_notebooks.py`` runs them there with the
#: copy's kit, in the same mode. Running them here too would run the same notebook in the same mode twice.
ENGINELESS_IN_COPY = {
    "notebooks/03-client-daemon-registry.ipynb",
    "notebooks/04-runtime-configuration.ipynb",
    "notebooks/05-python-patterns.ipynb",
    "notebooks/11-dockerfile-review.ipynb",
    "notebooks/20-signing-and-digests.ipynb",
    "notebooks/30-compose-and-kubernetes.ipynb",
}
ENGINELESS = [p for p in LESSONS + SOURCE if str(p.relative_to(ROOT)) not in ENGINELESS_IN_COPY]


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


#: A lab's reference answer files (laid over a copy of its source folder, never released).
REFERENCE = ROOT / "tests" / "data" / "labs"


def _copy_folder(nb: Path, tmp_path: Path) -> Path:
    """Copy the notebook's folder to a temporary place and return the copy of the notebook.

    For a ``source/`` lab the reference answer files (``tests/data/labs/<lab>/reference/``) replace the
    starters the student would edit, as a student who finished the lab has them; ``release/`` keeps the starters.
    """
    dest = tmp_path / nb.parent.name
    shutil.copytree(nb.parent, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    answers = REFERENCE / nb.parent.name / "reference"
    if nb.parent.parent.name == "source" and answers.is_dir():
        shutil.copytree(answers, dest, dirs_exist_ok=True)
    return dest / nb.name


def _run_nbclient(path: Path, allowed: list[str], timeout: int = 900, env: dict[str, str] | None = None) -> None:
    """Execute with nbconvert in its own process (a kernel per process: no event-loop state
    shared with papermill runs), letting cells fail only with the named errors (none if empty)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            *[f"--ExecutePreprocessor.allow_error_names={name}" for name in allowed],
            "--ExecutePreprocessor.kernel_name=python3",
            f"--ExecutePreprocessor.timeout={timeout}",
            "--output",
            path.with_suffix(".out.ipynb").name,
            str(path),
        ],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=timeout + 120,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]


def _mode_events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _run_engineless(nb: Path, tmp_path: Path, prebuilt: Path) -> list[dict]:
    """Run a copy of ``nb`` with no engine and ``prebuilt`` as the archives folder; its mode events."""
    log = tmp_path / "mode-log.jsonl"
    copy = _copy_folder(nb, tmp_path)
    _run_nbclient(
        copy, allowed=[], env={"DOCKER_HOST": NO_ENGINE, "COURSE_PREBUILT": str(prebuilt), "COURSE_MODE_LOG": str(log)}
    )
    return _mode_events(log)


def _check_report(nb: Path | str, events: list[dict], mode: str) -> None:
    """The mode log shows ``mode`` found at the start and the final ``MODE.report()`` (``nb``: a path or its
    repository-relative name)."""
    rel = nb if isinstance(nb, str) else str(nb.relative_to(ROOT))
    if rel in NEEDS_NO_MODE:
        return
    starts = [e for e in events if e["event"] == "start"]
    assert starts and starts[0]["mode"] == mode, f"{rel}: expected course_mode() to find mode {mode!r}: {starts}"
    assert events[-1]["event"] == "report", f"{rel}: the last cell should call MODE.report()"


def _errors(path: Path) -> list[str]:
    nb = nbformat.read(path.with_suffix(".out.ipynb"), as_version=4)
    return [
        o.get("ename", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


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
    pm.execute_notebook(
        str(copy),
        str(copy.with_suffix(".out.ipynb")),
        cwd=str(copy.parent),
        kernel_name="python3",
        progress_bar=False,
        request_save_on_cell_execute=False,
    )


@pytest.mark.notebook
@pytest.mark.parametrize("nb", ENGINELESS, ids=_ids(ENGINELESS))
def test_notebook_runs_without_engine(nb, tmp_path):
    """With no engine and no prebuilt archives, does "Run All" reach the end with no error, reading no archive?"""
    empty = tmp_path / "no-prebuilt"
    empty.mkdir()
    events = _run_engineless(nb, tmp_path, empty)
    assert not [e for e in events if e["event"] == "archive"], "no archive can have been read here"
    _check_report(nb, events, "none")


@pytest.fixture(scope="session")
def prebuilt_archives(engine):
    """The whole CATALOG exported once (built first where missing), as `make prebuilt` does."""
    from helpers.kit.prebuilt import CATALOG, export_images

    with tempfile.TemporaryDirectory(prefix="course-prebuilt-") as folder:
        export_images(list(CATALOG), dest=folder, client=engine)
        yield Path(folder)


@pytest.mark.engine
@pytest.mark.notebook
@pytest.mark.parametrize("nb", LESSONS + SOURCE, ids=_ids(LESSONS + SOURCE))
def test_notebook_runs_from_prebuilt_archives(nb, tmp_path, prebuilt_archives):
    """With no engine but the prebuilt archives, does the notebook run with no error and read the archives it should?"""
    events = _run_engineless(nb, tmp_path, prebuilt_archives)
    rel = str(nb.relative_to(ROOT))
    missing = [e for e in events if e["event"] == "missing"]
    assert not missing, f"{rel}: archives not found although the whole catalog was exported: {missing}"
    read = {e["name"] for e in events if e["event"] == "archive"}
    assert PREBUILT_READS.get(rel, set()) <= read, f"{rel}: read {sorted(read)}, expected {sorted(PREBUILT_READS[rel])}"
    _check_report(nb, events, "prebuilt")


@pytest.mark.engine
@pytest.mark.notebook
@pytest.mark.parametrize("nb", RELEASE, ids=_ids(RELEASE))
def test_release_notebook_fails_only_on_stubs(nb, tmp_path):
    """Does the student version run with only its unanswered stubs and its self-checks failing?

    A stub raises NotImplementedError; a self-check on a starter file the student has not edited yet raises
    CheckFailed. Anything else is a bug of the kit; a release version that passes its own checks gives answers away.
    """
    copy = _copy_folder(nb, tmp_path)
    _run_nbclient(copy, allowed=["NotImplementedError", "CheckFailed"])
    errors = set(_errors(copy))
    assert errors & {"NotImplementedError", "CheckFailed"}, "the release version should fail at least one check"


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
    env = dict(
        os.environ,
        COURSE_EXCHANGE=str(tmp_path / "exchange"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_assignment",
            assignment,
            "--force",
            f"--CourseDirectory.root={course}",
            f"--CourseDirectory.db_url=sqlite:///{tmp_path / 'gradebook.db'}",
        ],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh, committed = course / "release" / assignment, ROOT / "release" / assignment
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    committed_files = (
        sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()) if committed.exists() else []
    )
    assert committed_files == fresh_files, f"release/{assignment} is out of date: run `make release-sync`"
    for rel in fresh_files:
        if rel.suffix == ".ipynb":
            assert _notebook_json(committed / rel) == _notebook_json(fresh / rel), (
                f"{rel} differs: run `make release-sync`"
            )
        else:
            assert (committed / rel).read_bytes() == (fresh / rel).read_bytes(), (
                f"{rel} differs: run `make release-sync`"
            )


def test_index_is_generated_and_current():
    """Is notebooks/00-index.ipynb what `make index` generates from the notebooks on disk?"""
    from helpers.kit.index import index_is_current

    assert index_is_current(ROOT), "run `make index`"


def test_prebuilt_reads_names_real_notebooks_and_archives():
    """Does every line of PREBUILT_READS name a notebook on disk and archives of the CATALOG?"""
    from helpers.kit.prebuilt import CATALOG

    known = set(_ids(LESSONS + SOURCE))
    assert set(PREBUILT_READS) <= known, set(PREBUILT_READS) - known
    assert all(names <= set(CATALOG) for names in PREBUILT_READS.values())
