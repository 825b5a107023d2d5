"""Shards and the gradebook URL without a database server: the split, SHARD's checks, the URL's one owner, masking.

The grading itself, on a real PostgreSQL server, is test_shards_postgres.py.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections import Counter

import pytest
from ci_rules import unavailable
from kitroot import ROOT

from helpers.cli import main
from helpers.errors import CourseError
from helpers.grading import course
from helpers.grading.gradebook import GRADEBOOK_URL_ENV, gradebook_url, masked_url, open_gradebook, redact
from helpers.grading.nbgrader_run import course_dirs
from helpers.grading.shards import Shard, grading_lock, in_shard, parse_shard, shard_of

SECRET = "s3cr3t-Pa55"
PG_URL = f"postgresql+psycopg://grader:{SECRET}@db.example.org:5432/gradebook"


def _course(tmp_path, config: bool = True):
    root = tmp_path / "course"
    (root / "source").mkdir(parents=True)
    if config:
        shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return course_dirs(root, tmp_path / "exchange")


@pytest.mark.parametrize(("text", "shard"), [("1/1", Shard(1, 1)), (" 2 / 4 ", Shard(2, 4)), ("10/10", Shard(10, 10))])
def test_shard_is_parsed(text, shard):
    assert parse_shard(text) == shard and str(parse_shard(text)) == str(shard)


@pytest.mark.parametrize(
    ("text", "match"),
    [("0/2", "numbered from 1"), ("3/2", "between 1 and N"), ("1/0", "N must be"), ("1/1001", "N must be"),
     ("a/b", "not of the form"), ("1", "not of the form"), ("", "not of the form"), ("-1/2", "not of the form")],
)  # fmt: skip
def test_bad_shard_is_refused_with_a_hint(text, match):
    """Is a SHARD that is not i/N with 1 <= i <= N refused before anything runs, saying how to write it?"""
    with pytest.raises(CourseError, match=match) as e:
        parse_shard(text)
    assert "SHARD=1/4" in e.value.hint


def test_the_split_is_a_stable_hash_of_the_id():
    """Does every machine put a student in the same shard: fixed by the id alone (SHA-256), not by list order?"""
    assert [shard_of(s, 4) for s in ("alice", "bob", "carol", "dave")] == [4, 3, 3, 4]  # any change moves students
    assert shard_of("alice", 1000) == 208
    ids = [f"student{i}" for i in range(2000)]
    shards = [in_shard(ids, f"{i}/4") for i in range(1, 5)]
    assert sorted(s for part in shards for s in part) == sorted(ids)  # each student in exactly one shard
    assert all(400 < len(part) < 600 for part in shards), [len(p) for p in shards]  # about even
    assert set(in_shard(list(reversed(ids)) + ["late-joiner"], "2/4")) - {"late-joiner"} == set(shards[1])
    assert in_shard(ids, None) == ids and in_shard(ids, "1/1") == ids


def test_gradebook_url_default_env_and_config(tmp_path, monkeypatch):
    """Is the URL the environment's (through the kit's nbgrader_config.py, which nbgrader's apps read too), else
    nbgrader's default gradebook.db; and is a config that would hand nbgrader's apps another database refused?"""
    monkeypatch.delenv(GRADEBOOK_URL_ENV, raising=False)
    dirs = _course(tmp_path)
    assert gradebook_url(dirs) == f"sqlite:///{dirs.root / 'gradebook.db'}"
    monkeypatch.setenv(GRADEBOOK_URL_ENV, PG_URL)
    assert gradebook_url(dirs) == PG_URL
    (dirs.root / "nbgrader_config.py").write_text("c = get_config()\n")  # no env line: nbgrader would differ
    with pytest.raises(CourseError, match="they would grade elsewhere") as e:
        gradebook_url(dirs)
    assert GRADEBOOK_URL_ENV in e.value.hint
    monkeypatch.delenv(GRADEBOOK_URL_ENV)
    (dirs.root / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = {PG_URL!r}\n")
    assert gradebook_url(dirs) == PG_URL  # set in the file itself


@pytest.mark.parametrize("url", ["postgresql://u:p@h/db", "postgres://u:p@h/db", "mysql://u:p@h/db"])
def test_gradebook_url_without_the_kits_driver_is_refused(tmp_path, monkeypatch, url):
    monkeypatch.setenv(GRADEBOOK_URL_ENV, url)
    with pytest.raises(CourseError) as e:
        gradebook_url(_course(tmp_path))
    assert "postgresql+psycopg://" in e.value.hint and ":p@" not in str(e.value)


def test_the_password_is_masked():
    assert masked_url(PG_URL) == "postgresql+psycopg://grader:***@db.example.org:5432/gradebook"
    assert redact(f"failed for {PG_URL} ({SECRET})", PG_URL).count(SECRET) == 0
    assert redact("nothing secret", "sqlite:////tmp/gradebook.db") == "nothing secret"


def test_an_unreachable_gradebook_says_so_without_its_password(tmp_path, monkeypatch):
    """Does a server that does not answer give a CourseError showing the URL masked, never the password?"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    url = f"postgresql+psycopg://grader:{SECRET}@127.0.0.1:{port}/gradebook"
    monkeypatch.setenv(GRADEBOOK_URL_ENV, url)
    dirs = _course(tmp_path)
    for attempt in (lambda: open_gradebook(dirs).__enter__(), lambda: grading_lock(dirs, "ps1", "a").__enter__()):
        with pytest.raises(CourseError, match="does not answer") as e:
            attempt()
        assert SECRET not in str(e.value) and "grader:***@127.0.0.1" in str(e.value)


def test_autograde_shard_option(tmp_path, monkeypatch, capsys):
    """Does `course autograde --shard i/N` hand the shard on and name the gradebook without its password, and a
    bad SHARD stop with the hint before anything is graded?"""
    dirs = _course(tmp_path)
    monkeypatch.setenv("COURSE_ROOT", str(dirs.root))
    monkeypatch.setenv("COURSE_EXCHANGE", str(dirs.exchange))
    monkeypatch.setenv(GRADEBOOK_URL_ENV, PG_URL)
    calls = []
    monkeypatch.setattr(course, "autograde", lambda name, *a, shard=None, **k: calls.append((name, shard)) or [])
    monkeypatch.setattr("helpers.commands.course._show", lambda df: True)
    assert main(["course", "autograde", "ps1", "--shard", "2/3"]) == 0
    out = capsys.readouterr().out
    assert calls == [("ps1", "2/3")] and "shard 2/3: gradebook postgresql+psycopg://grader:***@" in out
    assert SECRET not in out
    assert main(["course", "autograde", "ps1", "--shard", "4/3"]) == 2 and calls == [("ps1", "2/3")]
    assert "SHARD=1/4" in capsys.readouterr().err


def test_make_autograde_passes_shard_on():
    make = shutil.which("make")
    if make is None:
        unavailable("make is not installed")
    out = subprocess.run(
        [make, "-n", "-C", str(ROOT), "autograde", "A=ps1", "SHARD=2/4"], capture_output=True, text=True, timeout=60
    ).stdout
    assert '-m helpers course autograde ps1 --shard "2/4"' in out
    plain = subprocess.run([make, "-n", "-C", str(ROOT), "autograde"], capture_output=True, text=True, timeout=60)
    assert "--shard" not in plain.stdout


def test_sqlite_grading_lock_lets_one_grader_at_a_time(tmp_path, monkeypatch):
    """With a SQLite gradebook, does a second grader of the same submission wait, and one of another not?"""
    monkeypatch.delenv(GRADEBOOK_URL_ENV, raising=False)
    dirs = _course(tmp_path)
    events: list[str] = []

    def second(student: str) -> None:
        with grading_lock(dirs, "ps1", student):
            events.append(f"got {student}")

    with grading_lock(dirs, "ps1", "alice"):
        same, other = threading.Thread(target=second, args=("alice",)), threading.Thread(target=second, args=("bob",))
        same.start(), other.start()
        other.join(10)
        time.sleep(0.3)
        events.append("released")
    same.join(10)
    assert events == ["got bob", "released", "got alice"]
    assert Counter(p.suffix for p in (dirs.root / ".course" / "grading-locks").iterdir()) == {".lock": 2}


def test_every_gradebook_user_opens_the_configured_gradebook(tmp_path, monkeypatch):
    """Do the submission check and the grader's verdicts (not only open_gradebook) use the configured URL, not
    gradebook.db at the course root?"""
    from helpers.grading.facts import load_spec
    from helpers.grading.submissions import check_submission
    from helpers.grading.verdict_apply import fail_verdicts

    elsewhere = tmp_path / "elsewhere.db"
    monkeypatch.setenv(GRADEBOOK_URL_ENV, f"sqlite:///{elsewhere}")
    dirs = _course(tmp_path)
    (dirs.root / "source" / "lab").mkdir()
    (dirs.root / "source" / "lab" / "grading.yml").write_text("verdicts: [check_a]\n")
    with open_gradebook(dirs) as gb:
        gb.add_assignment("lab")
        gb.add_notebook("lab", "lab")
        gb.add_grade_cell("check_a", "lab", "lab", max_score=2, cell_type="code")
        gb.add_student("alice")
        gb.add_submission("lab", "alice")
        gb.find_grade("check_a", "lab", "lab", "alice").auto_score = 2
        gb.db.commit()
    (dirs.root / "submitted" / "alice" / "lab").mkdir(parents=True)
    assert check_submission("lab", "alice", dirs) == ["lab.ipynb is missing (scored 0)"]  # found the assignment
    fail_verdicts(load_spec("lab", root=dirs.root), "alice", dirs)
    with open_gradebook(dirs) as gb:
        assert gb.find_grade("check_a", "lab", "lab", "alice").auto_score == 0
    assert elsewhere.exists() and not (dirs.root / "gradebook.db").exists()
