"""The students' copy (``make student-repo``) runs: the notebooks that need what the copy leaves out.

The copy has no lab reference, so the sample app's images ``sample-api:naive`` and ``:optimized`` are the ones the
student builds from their own Lab 1 and Lab 2 Dockerfiles (:func:`helpers.kit.sampleapp.sample_image`), and Lab 5's
workflow builds their Lab 2 Dockerfile. Each notebook below uses one of them; it runs inside a fresh copy (its own
``helpers``: ``PYTHONPATH`` and ``COURSE_ROOT`` point there), with the engine and without (``DOCKER_HOST`` pointing
nowhere, no prebuilt archive), and must reach the end: no error in a lesson, only unanswered stubs and failing
self-checks in a lab (as in ``tests/test_notebooks.py``, whose runners these are). ``COURSE_SAMPLE_REPO`` names a
repository no image has, so the student "has not built" the images yet, whatever the shared engine holds: the
notebooks must say what to build and go on.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from test_notebooks import ENGINELESS_IN_COPY, NO_ENGINE, _check_report, _errors, _mode_events, _run_nbclient

from helpers.kit.sampleapp import build_sample_image
from helpers.kit.studentrepo import build_student_repo

#: Lessons that use the sample app's images or its Dockerfiles, with the parameters that keep them short (the
#: parts they skip use neither: the registry push of 03, the psycopg2 builds of 05).
LESSONS = {
    "notebooks/03-client-daemon-registry.ipynb": {"DO_PUSH": False},
    "notebooks/04-runtime-configuration.ipynb": {},
    "notebooks/05-python-patterns.ipynb": {"COMPILED_DEMO": False},
    "notebooks/11-dockerfile-review.ipynb": {},
    "notebooks/20-signing-and-digests.ipynb": {},
    "notebooks/30-compose-and-kubernetes.ipynb": {},
}
#: Labs whose release version builds or reads a Dockerfile the copy leaves out -> what its output must show with
#: the engine (Lab 5's local pipeline builds the student's Lab 2 Dockerfile: here the starter, no instruction yet).
LABS = {
    "release/lab5-automate-builds/lab5-automate-builds.ipynb": (
        "$ docker build -f release/lab2-improve-dockerfile/Dockerfile -t course-kit/pipeline-app:"
    ),
    "release/lab2-improve-dockerfile/lab2-improve-dockerfile.ipynb": "",
}
#: Errors a release notebook may show: an unanswered stub, a self-check of a starter file.
STUB_ERRORS = ["NotImplementedError", "CheckFailed"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("students") / "course"
    build_student_repo(dest)
    return dest


def _env(repo: Path, tmp_path: Path, engine: bool) -> dict[str, str]:
    """The kernel's environment: the copy's own kit; without an engine, no engine and no archive either."""
    env = {
        "PYTHONPATH": str(repo),
        "COURSE_ROOT": str(repo),
        "COURSE_SAMPLE_REPO": f"course-test-student-{uuid.uuid4().hex[:8]}/sample-api",
        "COURSE_MODE_LOG": str(tmp_path / "mode-log.jsonl"),
    }
    if not engine:
        (tmp_path / "no-prebuilt").mkdir()
        env.update(DOCKER_HOST=NO_ENGINE, COURSE_PREBUILT=str(tmp_path / "no-prebuilt"))
    return env


def _outputs(path: Path) -> str:
    nb = json.loads(path.with_suffix(".out.ipynb").read_text())
    return "".join(
        "".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
    )


def _copy(repo: Path, rel: str, tmp_path: Path) -> Path:
    """A fresh name for the run inside the copy (runs of one notebook must not share an output file)."""
    src = repo / rel
    dest = src.with_name(f"{src.stem}-{tmp_path.name}.ipynb")
    dest.write_text(src.read_text())
    return dest


@pytest.mark.engine
@pytest.mark.notebook
@pytest.mark.parametrize("rel", list(LESSONS))
def test_lesson_runs_in_the_copy_with_engine(rel, repo, tmp_path, monkeypatch):
    """Does the lesson run with papermill in the students' copy, against the engine, with no error at all?"""
    import papermill as pm

    for key, value in _env(repo, tmp_path, engine=True).items():
        monkeypatch.setenv(key, value)
    nb = _copy(repo, rel, tmp_path)
    pm.execute_notebook(
        str(nb),
        str(nb.with_suffix(".out.ipynb")),
        parameters=LESSONS[rel],
        cwd=str(nb.parent),
        kernel_name="python3",
        progress_bar=False,
        request_save_on_cell_execute=False,
    )
    if rel.startswith("notebooks/11-"):  # the one lesson that uses the images with an engine: it says what to build
        missing = {e["name"] for e in _mode_events(tmp_path / "mode-log.jsonl") if e["event"] == "missing"}
        assert missing == {"sample-naive", "sample-optimized"}
        out = _outputs(nb)
        assert "-f release/lab1-build-basics/Dockerfile sample_python_app" in out
        assert "-f release/lab2-improve-dockerfile/Dockerfile sample_python_app" in out


@pytest.mark.engine
@pytest.mark.notebook
def test_lesson_uses_the_images_the_student_built(repo, tmp_path):
    """Once the student has built sample-api:naive and :optimized, does lesson 11 in the copy use both images?"""
    env = _env(repo, tmp_path, engine=True)
    for kind in ("naive", "optimized"):  # stand-ins for the student's builds (kit-labelled: the session removes them)
        build_sample_image(kind, tag=f"{env['COURSE_SAMPLE_REPO']}:{kind}")
    nb = _copy(repo, "notebooks/11-dockerfile-review.ipynb", tmp_path)
    _run_nbclient(nb, allowed=[], env=env)
    assert not [e for e in _mode_events(tmp_path / "mode-log.jsonl") if e["event"] == "missing"]
    out = _outputs(nb)
    assert "no such image yet" not in out and "--- naive:" in out and "--- optimized:" in out


@pytest.mark.notebook
@pytest.mark.parametrize("rel", list(LESSONS))
def test_lesson_runs_in_the_copy_without_engine(rel, repo, tmp_path):
    """With no engine and no prebuilt archive, does "Run All" reach the end of the lesson in the students' copy,
    reading no archive, in mode "none"? (``tests/test_notebooks.py`` leaves these lessons' engine-less run to here.)"""
    nb = _copy(repo, rel, tmp_path)
    _run_nbclient(nb, allowed=[], env=_env(repo, tmp_path, engine=False))
    events = _mode_events(tmp_path / "mode-log.jsonl")
    assert not [e for e in events if e["event"] == "archive"], "no archive can have been read here"
    _check_report(rel, events, "none")


def test_the_copy_runs_the_lessons_test_notebooks_leaves_to_it():
    """Is every lesson whose engine-less run ``tests/test_notebooks.py`` skips run without an engine here?"""
    assert ENGINELESS_IN_COPY <= set(LESSONS)


@pytest.mark.engine
@pytest.mark.notebook
@pytest.mark.parametrize("rel", list(LABS))
def test_lab_runs_in_the_copy_with_engine(rel, repo, tmp_path):
    """Does the lab's release version fail only on its stubs and self-checks in the students' copy, with the engine?"""
    nb = _copy(repo, rel, tmp_path)
    _run_nbclient(nb, allowed=STUB_ERRORS, env=_env(repo, tmp_path, engine=True))
    assert set(_errors(nb)) & set(STUB_ERRORS)
    assert LABS[rel] in _outputs(nb)


@pytest.mark.notebook
@pytest.mark.parametrize("rel", list(LABS))
def test_lab_runs_in_the_copy_without_engine(rel, repo, tmp_path):
    """Without an engine, does the lab's release version fail only on its stubs and self-checks?"""
    nb = _copy(repo, rel, tmp_path)
    _run_nbclient(nb, allowed=STUB_ERRORS, env=_env(repo, tmp_path, engine=False))
    assert set(_errors(nb)) <= set(STUB_ERRORS)
