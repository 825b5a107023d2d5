"""Students' own repositories into ``submitted/`` (``make import-repos``, helpers/grading/repos.py): real git clones."""

from __future__ import annotations

import os
import subprocess

import pytest
from nbgrader.utils import parse_utc

from helpers.cli import main
from helpers.errors import CourseError
from helpers.grading.nbgrader_run import course_dirs
from helpers.grading.repos import import_repos
from helpers.grading.submissions import submitted

WHEN = "2026-12-15T21:30:00+00:00"


def _clone(base, name: str, files: dict[str, str], commit: bool = True):
    repo = base / name
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    env = dict(os.environ, GIT_AUTHOR_DATE=WHEN, GIT_COMMITTER_DATE=WHEN)
    git = ["git", "-C", str(repo), "-c", "user.name=s", "-c", "user.email=s@example.org"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    if commit:
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", "lab"], check=True, env=env)
    return repo


@pytest.fixture
def setup(tmp_path):
    dirs = course_dirs(tmp_path / "course", tmp_path / "exchange")
    (dirs.root / "source" / "ps1").mkdir(parents=True)
    (dirs.root / "source" / "ps1" / "ps1.ipynb").write_text("{}")
    clones = tmp_path / "clones"
    clones.mkdir()
    return dirs, clones


def test_each_clone_becomes_a_submission_with_its_commit_time(setup):
    dirs, clones = setup
    _clone(clones, "ps1-ada", {"release/ps1/ps1.ipynb": "ada's", "release/ps1/Dockerfile": "FROM x\n"})
    _clone(clones, "ps1-grace", {"release/ps1/ps1.ipynb": "grace's", "README.md": "hi"})
    _clone(clones, "ps1-alan", {"README.md": "no lab yet"})  # nothing to import: no row
    rows = import_repos(clones, prefix="ps1-", dirs=dirs)
    assert rows["ok"].all() and sorted(rows["student"]) == ["ada", "grace"], rows.to_string()
    assert submitted("ps1", dirs) == ["ada", "grace"]
    ada = dirs.root / "submitted" / "ada" / "ps1"
    assert (ada / "ps1.ipynb").read_text() == "ada's" and (ada / "Dockerfile").is_file()
    assert parse_utc((ada / "timestamp.txt").read_text()).isoformat() == "2026-12-15T21:30:00"
    _clone(clones, "ps1-ada", {"release/ps1/ps1.ipynb": "ada's second try"})  # a later push, pulled again
    again = import_repos(clones, prefix="ps1-", dirs=dirs)
    assert again["ok"].all() and submitted("ps1", dirs) == ["ada", "grace"]
    assert (ada / "ps1.ipynb").read_text() == "ada's second try" and not list(ada.parent.glob(".*"))


def test_links_bad_ids_and_uncommitted_work_are_refused(setup):
    dirs, clones = setup
    linked = _clone(clones, "ps1-eve", {"release/ps1/ps1.ipynb": "x"})
    os.symlink("/etc/passwd", linked / "release" / "ps1" / "passwd")
    _clone(clones, "ps1-bad id", {"release/ps1/ps1.ipynb": "x"})
    _clone(clones, "ps1-mallory", {"release/ps1/ps1.ipynb": "x"}, commit=False)
    rows = import_repos(clones, prefix="ps1-", dirs=dirs).set_index("student")
    assert not rows["ok"].any(), rows.to_string()
    assert "link" in rows.loc["eve", "message"] and "not a student id" in rows.loc["bad id", "message"]
    assert "no commit" in rows.loc["mallory", "message"]
    assert submitted("ps1", dirs) == []


def test_the_command_and_a_missing_folder(setup, tmp_path, monkeypatch, capsys):
    dirs, clones = setup
    _clone(clones, "ada", {"release/ps1/ps1.ipynb": "x"})
    monkeypatch.setenv("COURSE_ROOT", str(dirs.root))
    monkeypatch.setenv("COURSE_EXCHANGE", str(dirs.exchange))
    assert main(["course", "import-repos", str(clones)]) == 0
    assert "ada" in capsys.readouterr().out and submitted("ps1", dirs) == ["ada"]
    with pytest.raises(CourseError):
        import_repos(tmp_path / "nowhere", dirs=dirs)
