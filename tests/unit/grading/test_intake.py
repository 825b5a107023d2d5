"""Submissions are files and folders, nothing else: the checks before nbgrader copies anything (no engine)."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from ci_rules import unavailable

from helpers.grading.intake import IntakeCaps, copy_submission, inspect_submission, owner_problems


@pytest.fixture
def sub(tmp_path):
    """A submission folder as nbgrader submit leaves it: a notebook, a timestamp, a subfolder."""
    folder = tmp_path / "course" / "submitted" / "alice" / "ps1"
    (folder / "app").mkdir(parents=True)
    (folder / "ps1.ipynb").write_text("{}")
    (folder / "timestamp.txt").write_text("2026-01-01 00:00:00 UTC")
    (folder / "app" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "course" / "gradebook.db").write_text("secret")
    return folder


def test_plain_files_pass(sub):
    """Is an ordinary submission (files and folders) accepted?"""
    assert inspect_submission(sub) == []


def test_relative_link_to_the_gradebook_is_named(sub):
    """Is a relative link out of the folder (to the gradebook) refused, naming the file and its target?"""
    (sub / "grades.db").symlink_to("../../../gradebook.db")
    [msg] = inspect_submission(sub)
    assert "'grades.db'" in msg and "../../../gradebook.db" in msg and "leaves" in msg


def test_link_inside_the_folder_is_refused_too(sub):
    """Is even a link that stays inside the folder refused (nbgrader would copy its target twice)?"""
    (sub / "app" / "again").symlink_to("Dockerfile")
    [msg] = inspect_submission(sub)
    assert "'app/again'" in msg and "leaves" not in msg


def test_link_to_a_directory_is_not_walked(sub, tmp_path):
    """Is a link to a folder refused without being followed (its files are not listed)?"""
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "solution.ipynb").write_text("{}")
    (sub / "src").symlink_to(tmp_path / "source", target_is_directory=True)
    msgs = inspect_submission(sub)
    assert len(msgs) == 1 and "'src'" in msgs[0] and "leaves" in msgs[0]


def test_absolute_link_is_refused(sub):
    """Is an absolute link refused as leaving the folder?"""
    (sub / "app" / "passwd").symlink_to("/etc/passwd")
    [msg] = inspect_submission(sub)
    assert "'app/passwd'" in msg and "/etc/passwd" in msg and "leaves" in msg


def test_fifo_socket_and_hard_link_are_refused(sub, tmp_path):
    """Are a FIFO, a socket and a hard link each named?"""
    os.mkfifo(sub / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sub / "sock"))
    os.link(tmp_path / "course" / "gradebook.db", sub / "gb")
    try:
        msgs = " | ".join(inspect_submission(sub))
    finally:
        sock.close()
    assert "'pipe' is a FIFO" in msgs and "'sock' is a socket" in msgs and "'gb' is a hard link" in msgs


def test_the_folder_itself_may_not_be_a_link(sub, tmp_path):
    """Is a submission folder that is itself a link refused?"""
    (tmp_path / "ps1-link").symlink_to(sub, target_is_directory=True)
    [msg] = inspect_submission(tmp_path / "ps1-link")
    assert "itself a link" in msg


def test_caps_on_files_bytes_and_depth(sub):
    """Are a flood of files, a big file, too many bytes and deep nesting each refused?"""
    caps = IntakeCaps(files=10, total_bytes=3000, file_bytes=2000, depth=4)
    (sub / "big.bin").write_bytes(b"x" * 2500)
    assert any("'big.bin'" in m for m in inspect_submission(sub, caps))
    (sub / "big.bin").write_bytes(b"x" * 1500)
    (sub / "big2.bin").write_bytes(b"x" * 1500)
    assert any("in all" in m for m in inspect_submission(sub, caps))
    deep = sub.joinpath("a", "b", "c", "d", "e")
    deep.mkdir(parents=True)
    assert any("deep" in m for m in inspect_submission(sub, caps))
    for i in range(20):
        (sub / f"f{i}").write_text("x")
    assert any("more than 10" in m for m in inspect_submission(sub, caps))


def test_a_flood_of_links_makes_a_short_message(sub):
    """Do 50 links give a few messages and a count, not 50 lines?"""
    for i in range(50):
        (sub / f"l{i:02}").symlink_to("/etc/passwd")
    msgs = inspect_submission(sub)
    assert len(msgs) == 6 and msgs[-1] == "... and 45 more"


def test_copy_takes_plain_files_only(sub, tmp_path):
    """Does the copy hold the same files (and no link is created)?"""
    (sub / "app" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(sub / "app" / "run.sh", 0o4777)
    assert copy_submission(sub, tmp_path / "copy") == []
    assert (tmp_path / "copy" / "app" / "Dockerfile").read_text() == "FROM scratch\n"
    assert (tmp_path / "copy" / "app" / "run.sh").stat().st_mode & 0o7777 == 0o755  # still runs; no setuid
    assert not any(p.is_symlink() for p in (tmp_path / "copy").rglob("*"))


def test_copy_refuses_a_fifo_swapped_in_without_waiting(sub, tmp_path):
    """Does a FIFO put in after the inspection make the copy fail at once instead of hanging?"""
    os.mkfifo(sub / "late")
    done = []
    t = threading.Thread(target=lambda: done.append(copy_submission(sub, tmp_path / "copy")), daemon=True)
    t.start()
    t.join(10)
    assert done and "'late' is a FIFO" in done[0][0]


def test_copy_does_not_follow_a_folder_swapped_for_a_link(sub, tmp_path):
    """Does a folder replaced by a link to the course source get refused, with nothing copied from it?"""
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "solution.ipynb").write_text("SOLUTION")
    (sub / "app" / "Dockerfile").unlink()
    (sub / "app").rmdir()
    (sub / "app").symlink_to(tmp_path / "source", target_is_directory=True)
    msgs = copy_submission(sub, tmp_path / "copy")
    assert msgs and "'app'" in msgs[0]
    assert not list((tmp_path / "copy").rglob("solution.ipynb"))


def test_owner_check_modes(sub):
    """Is the owner check skipped on demand, noted where no account exists, and refused when forced?"""
    note = "owner not checked: no OS account named 'no-such-account-x'"
    assert owner_problems(sub, "no-such-account-x") == ([], note)
    assert owner_problems(sub, "no-such-account-x", check=False) == ([], "")
    problems, note = owner_problems(sub, "no-such-account-x", check=True)
    assert problems and "no OS account" in problems[0] and note == ""


def test_owner_check_names_files_of_another_account(sub):
    """On a hub: is a folder owned by its student accepted, and one file of another account named?"""
    if os.geteuid() != 0:
        unavailable("changing owners needs root (CI runs as root)")
    me = "root"
    assert owner_problems(sub, me) == ([], "")
    os.chown(sub / "app" / "Dockerfile", 65534, 65534)
    problems, _ = owner_problems(sub, me)
    assert len(problems) == 1 and "'app/Dockerfile'" in problems[0] and "65534" in problems[0]


# --- collect and autograde with nbgrader's real apps (no engine: autograde runs without the sandbox) ---

OLD, NEW = "2026-01-01 10:00:00.000000 UTC", "2026-01-03 10:00:00.000000 UTC"
ANSWERS = {"add": "def add(a, b):\n    return a + b", "greet": 'def greet(name):\n    return f"hello {name}"'}


def _answered(dirs, lab, **test_meta):
    """The released notebook with right answers (``test_meta``: nbgrader metadata forced on ``test_add``)."""
    import nbformat

    nb = nbformat.read(dirs.root / "release" / lab / f"{lab}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = ANSWERS.get(gid, cell.source)
        if gid == "test_add" and test_meta:
            forced = test_meta.get("value", {**cell.metadata.nbgrader, **test_meta})
            cell.metadata["nbgrader"] = forced
    return nb


def _inbound(dirs, student, when=NEW, lab="ps1", nb=None):
    """An inbound folder as `nbgrader submit` leaves it in the exchange."""
    import uuid

    import nbformat

    folder = dirs.exchange / dirs.course_id / "inbound" / f"{student}+{lab}+{when}+{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    nbformat.write(nb or _answered(dirs, lab), folder / f"{lab}.ipynb")
    (folder / "timestamp.txt").write_text(when)
    return folder


@pytest.fixture(scope="module")
def hostile():
    """One collect and two labs' autograde over honest and hostile submissions, side by side."""
    import shutil
    import tempfile
    from pathlib import Path

    from course_fixture import FIXTURE, make_course, submit_notebook

    from helpers.grading import course

    src = Path(tempfile.mkdtemp(prefix="intake-src-"))
    shutil.copytree(FIXTURE / "source" / "ps1", src / "ps1")
    shutil.copytree(FIXTURE / "source" / "ps1", src / "ps2")
    (src / "ps2" / "ps1.ipynb").rename(src / "ps2" / "ps2.ipynb")
    dirs, base = make_course(("ps1", "ps2"), source=src, prefix="course-intake-")
    for s in ("alice", "root", "late", "meta-str", "meta-points", "meta-gid", "linker", "dirlink", "abslink", "fifo"):
        _inbound(dirs, s, nb=_answered(dirs, "ps1", **_CRAFTED.get(s, {})))
    inbound = {p.name.split("+")[0]: p for p in (dirs.exchange / dirs.course_id / "inbound").iterdir()}
    (inbound["linker"] / "grades.db").symlink_to("../../../../course/gradebook.db")
    (inbound["dirlink"] / "src").symlink_to("../../../../course/source", target_is_directory=True)
    (inbound["abslink"] / "gb").symlink_to(dirs.root / "gradebook.db")
    os.mkfifo(inbound["fifo"] / "pipe")
    _inbound(dirs, "mallet", when=OLD)  # an honest first submission, then one with a link
    (_inbound(dirs, "mallet") / "leak").symlink_to(dirs.root / "source")
    bad_name = dirs.exchange / dirs.course_id / "inbound" / "bob+ps1+not-a-time+x"
    bad_name.mkdir()
    if _has_account("nobody"):
        _inbound(dirs, "nobody")  # owned by root: not nobody's
    collected = course.collect("ps1", dirs)
    (dirs.root / "submitted" / "late" / "ps1" / "leak.db").symlink_to("../../../gradebook.db")  # after collect
    graded = course.autograde("ps1", dirs=dirs, sandbox=False, workers=2)
    for s in ("alice", "meta-str"):
        submit_notebook(dirs, "ps2", s, _answered(dirs, "ps2", **_CRAFTED.get(s, {})))
    graded2 = course.autograde("ps2", dirs=dirs, sandbox=False, workers=2)
    yield dirs, collected, graded, graded2
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(src, ignore_errors=True)


_CRAFTED = {"meta-str": {"value": "grade me"}, "meta-points": {"points": "lots"}, "meta-gid": {"grade_id": ["x"]}}


def _has_account(name):
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _rows(frame, step):
    return {r.student: r for r in frame.itertuples() if r.step == step}


@pytest.mark.slow
def test_collect_refuses_links_and_fifos_naming_the_file(hostile):
    """Is each submission holding a link or a FIFO refused on its own row, naming the file, and never copied?"""
    dirs, collected, *_ = hostile
    refused = _rows(collected, "collect")
    for student, name in (("linker", "'grades.db'"), ("dirlink", "'src'"), ("abslink", "'gb'"), ("fifo", "'pipe'")):
        assert not refused[student].ok and name in refused[student].message, refused[student]
        assert not (dirs.root / "submitted" / student).exists()
    entries = [p for p in (dirs.root / "submitted").rglob("*") if p.name != "leak.db"]  # placed after collect
    assert not any(p.is_symlink() for p in entries)
    copied = [p for p in entries if p.is_file()]
    assert not any(b"BEGIN SOLUTION" in p.read_bytes() or p.read_bytes().startswith(b"SQLite") for p in copied)


@pytest.mark.slow
def test_a_refused_resubmission_leaves_the_older_one(hostile):
    """Is a newer submission with a link refused while the student's older, plain one is collected?"""
    dirs, collected, *_ = hostile
    assert "'leak'" in _rows(collected, "collect")["mallet"].message
    assert (dirs.root / "submitted" / "mallet" / "ps1" / "timestamp.txt").read_text() == OLD


@pytest.mark.slow
def test_an_unparsable_inbound_name_is_one_row(hostile):
    """Does a folder name nbgrader cannot parse give one row instead of stopping collect for everyone?"""
    _, collected, *_ = hostile
    assert collected.iloc[0].ok, collected.iloc[0].message  # nbgrader's collect itself
    assert "bob+ps1+not-a-time+x" in _rows(collected, "collect")["bob"].message


@pytest.mark.slow
def test_owner_is_checked_where_an_account_exists(hostile):
    """Is a submission claiming an account it is not owned by refused, and a fake student's check noted?"""
    _, collected, *_ = hostile
    checks = _rows(collected, "check")
    assert checks["root"].ok and checks["root"].message == ""  # an account, and it owns its folder
    assert checks["alice"].ok and "owner not checked" in checks["alice"].message
    if _has_account("nobody"):
        assert "owned by 'root'" in _rows(collected, "collect")["nobody"].message
        assert "nobody" not in checks


@pytest.mark.slow
def test_crafted_metadata_fails_only_its_own_row(hostile):
    """Do crafted nbgrader metadata fail their own check and autograde rows while the others are graded?"""
    _, collected, graded, _ = hostile
    checks, rows = _rows(collected, "check"), _rows(graded, "autograde")
    for s, words in (("meta-str", "not a mapping"), ("meta-points", "not a number"), ("meta-gid", "not a string")):
        assert not checks[s].ok and words in checks[s].message
        assert not rows[s].ok and words in rows[s].message and "not graded" in rows[s].message
    assert rows["alice"].ok and rows["root"].ok and rows["mallet"].ok, graded.to_string()


@pytest.mark.slow
def test_a_link_placed_after_collect_is_refused_before_nbgrader_copies(hostile):
    """Is a link put into submitted/ after collect refused at autograde, with nothing copied to autograded/?"""
    dirs, _, graded, _ = hostile
    row = _rows(graded, "autograde")["late"]
    assert not row.ok and "'leak.db'" in row.message
    assert not (dirs.root / "autograded" / "late").exists()


@pytest.mark.slow
def test_the_next_lab_is_graded_after_hostile_ones(hostile):
    """Does the table come back and the next lab grade its honest student (and refuse the crafted one)?"""
    from course_fixture import scores

    dirs, _, _, graded2 = hostile
    rows = _rows(graded2, "autograde")
    assert rows["alice"].ok and not rows["meta-str"].ok
    assert scores(dirs, "ps2")["alice"] == 4.0 and scores(dirs, "ps1")["alice"] == 4.0
