"""`make lab` per role: the students' copy (no source/) gets nbgrader's Assignments panel, not the instructor's tools.

The browser test (test_browser.py) checks what a student sees; these check the role rule, the environment it
gives JupyterLab, and that the names in the student config are nbgrader's real ones (a rename upstream fails here).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from helpers.errors import CourseError
from helpers.kit import labserver
from helpers.kit.studentrepo import build_student_repo


def test_role_follows_source_folder_and_env(tmp_path, monkeypatch):
    """Instructor where source/ exists, student where not; COURSE_ROLE wins, and a wrong one is refused."""
    monkeypatch.delenv("COURSE_ROLE", raising=False)
    assert labserver.lab_role(tmp_path) == "student"
    (tmp_path / "source").mkdir()
    assert labserver.lab_role(tmp_path) == "instructor"
    monkeypatch.setenv("COURSE_ROLE", "student")
    assert labserver.lab_role(tmp_path) == "student"
    monkeypatch.setenv("COURSE_ROLE", "teacher")
    with pytest.raises(CourseError, match="not a role"):
        labserver.lab_role(tmp_path)


def test_student_env_puts_student_config_first():
    """A student's JupyterLab reads the student config before any other (JUPYTER_CONFIG_PATH wins over the rest)."""
    env = labserver.lab_env("student", {"JUPYTER_CONFIG_PATH": "/other"})
    assert env["JUPYTER_CONFIG_PATH"].split(":") == [str(labserver.STUDENT_CONFIG), "/other"]
    assert "JUPYTER_CONFIG_PATH" not in labserver.lab_env("instructor", {})


def test_student_config_names_real_nbgrader_parts():
    """Each server extension and lab plugin the student config turns off exists in the installed nbgrader."""
    server = json.loads((labserver.STUDENT_CONFIG / "jupyter_server_config.d" / "nbgrader-student.json").read_text())
    off = [m for m, on in server["ServerApp"]["jpserver_extensions"].items() if not on]
    assert off == ["nbgrader.server_extensions.formgrader"]
    assert all(importlib.util.find_spec(m) for m in off)
    page = json.loads((labserver.STUDENT_CONFIG / "labconfig" / "page_config.json").read_text())
    plugins = sorted(page["disabledExtensions"])
    assert plugins == ["@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader"]
    static = next(
        p / "share/jupyter/labextensions/@jupyter/nbgrader/static"
        for p in (Path(sys.prefix), Path(sys.base_prefix))
        if (p / "share/jupyter/labextensions/@jupyter/nbgrader/static").is_dir()
    )
    bundle = "".join(f.read_text(errors="replace") for f in static.glob("*.js"))
    assert all(f'"{p}"' in bundle for p in plugins), plugins


def test_students_copy_is_a_student_lab(tmp_path, monkeypatch):
    """The students' copy ships the student config and has no source/, so its `make lab` is the student's."""
    monkeypatch.delenv("COURSE_ROLE", raising=False)
    repo = build_student_repo(tmp_path / "students")
    assert (repo.dest / labserver.STUDENT_CONFIG.relative_to(labserver.STUDENT_CONFIG.parents[2])).is_dir()
    assert labserver.lab_role(repo.dest) == "student"
