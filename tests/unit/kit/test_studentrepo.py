"""The students' copy of the course (``make student-repo``): what students need, and no answer in it.

A "secret line" is a normalized line (stripped, inner whitespace collapsed) of at least ``MIN_CHARS``
characters of a secret unit: a solution region or hidden-test region of a ``source/`` notebook (or a whole
solution cell without markers), a lab reference file (``tests/data/labs/*/reference/``, dot-files
included, and :data:`~helpers.kit.studentrepo.ANSWER_FILES`), or a ``grading.yml``. Lines that
students are given anyway are public, not secret: the source notebooks outside those regions (prompts,
visible tests, set-up), the labs' starting files (``source/<lab>/`` files other than notebooks and
``grading.yml``) and the sample app. Every text file of the copy, notebooks' outputs included, leaks a unit
when it holds half or more of the unit's secret lines, or any secret line of ``LONG_CHARS`` or more (so a
lesson that shares a few Dockerfile lines with a lab's answer is not a leak; the answer itself is).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from kitroot import ROOT

from helpers.cli import main
from helpers.errors import CourseError
from helpers.kit import sampleapp
from helpers.kit.studentrepo import ANSWER_FILES, build_student_repo

#: Shorter lines (``FROM python:3.12``, ``WORKDIR /app``, ``EXPOSE 8000``...) are common boilerplate.
MIN_CHARS = 20
#: A secret line this long is specific enough to be a leak on its own.
LONG_CHARS = 60
#: Leaks known today, each (file of the copy, secret unit): reported, to be fixed in the lesson. The test
#: fails when one of them is gone, so that the entry is removed and the check is strict again.
KNOWN_LEAKS: set[tuple[str, str]] = set()
_REGIONS = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def _norm(line: str) -> str:
    return " ".join(line.split())


def _lines(text: str) -> set[str]:
    return {n for n in map(_norm, text.splitlines()) if len(n) >= MIN_CHARS}


def _source_units() -> tuple[dict[str, set[str]], set[str]]:
    """Secret lines of each solution or hidden-test region (unit ``<notebook>#<n>``), and the public lines."""
    units: dict[str, set[str]] = {}
    public: set[str] = set()
    for nb in sorted(ROOT.glob("source/*/*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            text = "".join(cell["source"]) + "\n"
            regions = [m.group(2) for m in _REGIONS.finditer(text)]
            if not regions and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                regions = [text]  # a solution cell without markers: nbgrader replaces all of it
            else:
                public |= _lines(_REGIONS.sub("", text))
            for i, region in enumerate(regions):
                units[f"{nb.relative_to(ROOT)}#{cell.get('id')}/{i}"] = _lines(region)
    for path in ROOT.glob("source/*/*"):
        if path.is_file() and path.suffix != ".ipynb" and path.name != "grading.yml":
            public |= _lines(path.read_text(errors="replace"))
    for path in (ROOT / "sample_python_app").rglob("*"):
        if path.is_file():
            public |= _lines(path.read_text(errors="replace"))
    return units, public


def _reference_files() -> list[Path]:
    files = [p for p in ROOT.glob("tests/data/labs/*/reference/**/*") if p.is_file()]
    return files + [ROOT / f for f in ANSWER_FILES] + sorted(ROOT.glob("source/*/grading.yml"))


#: Lines an answer shares with what students are told: the app's documented start command (its README).
COMMON_LINES = {
    'CMD ["python", "-m", "app"]',
    # Lab 5's prompt gives students this pin (actions/checkout v7.0.1's commit); lesson 20's workflow uses it too
    "- uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
}


def secret_units() -> dict[str, set[str]]:
    """Secret unit -> its secret lines (see the module docstring); units left with no line are dropped."""
    units, public = _source_units()
    public |= COMMON_LINES
    for path in _reference_files():
        units[str(path.relative_to(ROOT))] = _lines(path.read_text(errors="replace"))
    return {unit: lines - public for unit, lines in units.items() if lines - public}


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return ["".join(node)] if all(isinstance(x, str) for x in node) else [s for x in node for s in _strings(x)]
    if isinstance(node, dict):
        return [s for x in node.values() for s in _strings(x)]
    return []


def text_lines(path: Path) -> set[str]:
    """The normalized lines of a file of the copy; for a notebook, of every string in it (sources, outputs)."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        return set()
    if path.suffix == ".ipynb":
        return set().union(*map(_lines, _strings(json.loads(text))))
    return _lines(text)


def leaks(repo: Path, units: dict[str, set[str]]) -> dict[tuple[str, str], list[str]]:
    """(file of the copy, secret unit) -> the unit's lines found in that file, for each leak."""
    found = {}
    for path in sorted(p for p in repo.rglob("*") if p.is_file()):
        have = text_lines(path)
        for unit, lines in units.items():
            hits = sorted(have & lines)
            if hits and (2 * len(hits) >= len(lines) or any(len(h) >= LONG_CHARS for h in hits)):
                found[(path.relative_to(repo).as_posix(), unit)] = hits
    return found


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("students") / "course"
    build_student_repo(dest)
    return dest


def test_the_secret_lines_are_found():
    """Are solutions, hidden tests and reference files read (so an empty set cannot pass the leak test)?"""
    units = secret_units()
    assert any(u.startswith("source/lab1-build-basics/lab1-build-basics.ipynb#") for u in units)
    assert {
        "tests/data/labs/lab1-build-basics/reference/Dockerfile",
        "tests/data/labs/lab3-security-scan/reference/Dockerfile",
        "tests/data/labs/lab2-improve-dockerfile/reference/Dockerfile",
        "tests/data/labs/lab2-improve-dockerfile/reference/Dockerfile.dockerignore",
        "helpers/data/sample_app/naive.Dockerfile",
    } <= set(units)
    assert sum(map(len, units.values())) > 50


def test_no_solution_hidden_test_or_reference_reaches_students(repo):
    found = leaks(repo, secret_units())
    unexpected = {k: v for k, v in found.items() if k not in KNOWN_LEAKS}
    assert unexpected == {}
    gone = KNOWN_LEAKS - found.keys()
    assert not gone, f"fixed, remove from KNOWN_LEAKS: {gone}"


def test_the_leak_check_finds_a_planted_solution(tmp_path):
    """Would a lab's solution copied into a lesson's output be caught, and a few shared lines not?"""
    units = secret_units()
    unit, lines = next((u, s) for u, s in sorted(units.items()) if u.startswith("source/") and "#" in u and len(s) >= 3)
    planted = tmp_path / "planted"
    planted.mkdir()
    text = ["  " + line + "\n" for line in sorted(lines)]
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1\n"], "outputs": [{"text": text}]}]}
    (planted / "lesson.ipynb").write_text(json.dumps(nb))
    assert (("lesson.ipynb", unit)) in leaks(planted, units)
    short = [line for line in sorted(lines) if len(line) < LONG_CHARS][: (len(lines) - 1) // 2]
    (planted / "lesson.ipynb").unlink()
    (planted / "lesson.md").write_text("\n".join(short))
    assert ("lesson.md", unit) not in leaks(planted, units)


def test_no_instructor_material_in_the_copy(repo):
    files = {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}
    assert not any(f.startswith(("source/", "tests/", ".github/")) for f in files)
    assert not any(f.endswith("grading.yml") for f in files)
    assert not any(f.startswith("sample_python_app/") and "ockerfile" in f for f in files)
    assert not set(ANSWER_FILES) & files
    for path in repo.rglob("*"):
        if path.is_file() and path.suffix in (".ipynb", ".py", ".md", ".yml", ".yaml", ".txt"):
            assert "### BEGIN SOLUTION" not in path.read_text() and "### BEGIN HIDDEN TESTS" not in path.read_text()


def test_the_copy_has_what_students_use(repo):
    """Released labs, lessons, the app, the kit, the dev container, set-up scripts, a README and a Makefile."""
    released = {p.parent.name for p in ROOT.glob("release/*/*.ipynb")}
    assert released and released == {p.parent.name for p in repo.glob("release/*/*.ipynb")}
    assert {p.name for p in ROOT.glob("notebooks/*.ipynb")} == {p.name for p in repo.glob("notebooks/*.ipynb")}
    for rel in (
        "sample_python_app/requirements.txt",
        "helpers/grading/labs/lab1.py",
        ".devcontainer/devcontainer.json",
        "scripts/bootstrap.sh",
        "scripts/wait_for_engine.sh",
        "pyproject.toml",
        "LICENSE",
    ):
        assert (repo / rel).is_file(), rel
    readme = (repo / "README.md").read_text()
    assert all(word in readme for word in ("Codespaces", "JupyterHub", "make lab", "Submit"))
    makefile = (repo / "Makefile").read_text()
    assert "lab: env" in makefile and "autograde" not in makefile and "tests" not in makefile
    # what the dev container runs exists in the copy
    devcontainer = json.loads((repo / ".devcontainer/devcontainer.json").read_text())
    assert (repo / devcontainer["postStartCommand"].split()[0]).is_file()


def test_license_is_an_spdx_expression():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^license = "MIT"', text, re.M) and 'license-files = ["LICENSE"]' in text
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_refuses_a_folder_with_files_or_inside_the_checkout(tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(CourseError):
        build_student_repo(tmp_path)
    with pytest.raises(CourseError):
        build_student_repo(ROOT / "build" / "students")


def test_command_line(tmp_path, capsys):
    assert main(["student-repo", str(tmp_path / "out")]) == 0
    assert "files in" in capsys.readouterr().out
    assert (tmp_path / "out" / "README.md").is_file()


class _Images:
    def __init__(self, have: set[str]):
        self.have = have

    def get(self, ref: str):
        from docker.errors import ImageNotFound

        if ref not in self.have:
            raise ImageNotFound(ref)
        return ref


class _Client:
    def __init__(self, have: set[str]):
        self.images = _Images(have)


def test_the_copy_uses_the_students_own_sample_images(tmp_path, monkeypatch):
    """Without the references, is sample-api:<variant> the student's image, and its absence one line to act on?"""
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    monkeypatch.setitem(sampleapp.REFERENCE_FILES, "naive", (tmp_path / "gone.Dockerfile", None))
    # the kit's own checkout holds Lab 2's reference (a grader finds it there): the copy's kit does not
    monkeypatch.setitem(sampleapp.REFERENCE_FILES, "optimized", (tmp_path / "gone-too.Dockerfile", None))
    assert sampleapp.reference_path("naive") is None and sampleapp.reference_path("optimized") is None
    tag = f"{sampleapp.SAMPLE_REPO}:optimized"
    assert sampleapp.sample_image("optimized", client=_Client({tag})) == tag
    with pytest.raises(sampleapp.SampleImageMissing) as e:
        sampleapp.sample_image("optimized", client=_Client(set()))
    assert f"-t {tag} -f release/lab2-improve-dockerfile/Dockerfile sample_python_app" in e.value.hint
    assert "\n" not in e.value.message + e.value.hint
    with pytest.raises(sampleapp.SampleImageMissing, match="Lab 1"):
        sampleapp.reference_dockerfile("naive")
    (tmp_path / "release/lab2-improve-dockerfile").mkdir(parents=True)
    (tmp_path / "release/lab2-improve-dockerfile/Dockerfile").write_text('FROM x\nCMD ["a"]\n')
    assert sampleapp.sample_dockerfile("optimized")[1].endswith('CMD ["a"]\n')


def test_the_course_builds_lab2s_one_reference():
    """In the course repository, is the optimized image built from Lab 2's reference answer in tests/data?"""
    assert (
        sampleapp.reference_path("optimized") == ROOT / "tests/data/labs/lab2-improve-dockerfile/reference/Dockerfile"
    )
    assert sampleapp.sample_dockerfile_path("optimized") == sampleapp.reference_path("optimized")


def test_the_grader_finds_lab2s_reference_whatever_the_course_root(tmp_path, monkeypatch):
    """Is Lab 2's reference read from the kit's checkout when the course folder is elsewhere (a grading course)?"""
    from helpers.kit import sampleapp

    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    lab2 = ROOT / "tests/data/labs/lab2-improve-dockerfile/reference"
    assert sampleapp.reference_path("optimized") == lab2 / "Dockerfile"
