"""Autograde in shards into one PostgreSQL gradebook: disjoint, overlapping, and a shard killed and rerun.

A real server (Debian's ``postgresql``, a throwaway cluster: tests/pgcluster.py) and real grading
processes, each ``course.autograde(..., shard=...)`` in a Python process of its own, as on separate
machines (without the sandbox, as the end-to-end test of test_classops.py: no engine is needed). The
gradebook is read with SQL: every submission must have exactly one submission row and one grade row per
graded cell, every grade set, the scores right, and the rows of students graded again kept in place.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import nbformat
import pytest
from course_fixture import make_course, submit_notebook
from kitroot import ROOT
from pgcluster import postgres_server

from helpers.grading.gradebook import GRADEBOOK_URL_ENV
from helpers.grading.shards import grading_lock, shard_of

pytestmark = pytest.mark.slow

#: One grading process: the course root, the exchange, the shard, the workers (the CLI's autograde, unsandboxed).
GRADER = """
import sys
from helpers.grading import course, gradebook, nbgrader_run
root, exchange, shard, workers = sys.argv[1:5]
dirs = nbgrader_run.course_dirs(root, exchange)
print("shard", shard, "gradebook", gradebook.masked_url(gradebook.gradebook_url(dirs)), flush=True)
rows = course.autograde("ps1", dirs=dirs, sandbox=False, workers=int(workers), shard=shard)
print(rows.to_string(), flush=True)
sys.exit(0 if rows["ok"].all() else 1)
"""
#: Per answer: the solution cells' code and the score it earns (test_add 1, test_add_hidden 2, test_greet 1).
ANSWERS = [
    ({"add": "def add(a, b):\n    return a + b", "greet": 'def greet(name):\n    return f"hello {name}"'}, 4.0),
    ({"add": "def add(a, b):\n    return a - b", "greet": 'def greet(name):\n    return f"hello {name}"'}, 1.0),
    ({"add": "def add(a, b):\n    return a + b", "greet": "def greet(name):\n    return name"}, 3.0),
]
#: student -> (submission id, grade rows, grades set, score, grade row ids), straight from the tables.
GRADES_SQL = """
SELECT st.id, count(DISTINCT sa.id), count(g.id), count(g.auto_score), coalesce(sum(g.auto_score), 0),
       string_agg(g.id, ',' ORDER BY g.id)
FROM submitted_assignment sa
JOIN student st ON sa.student_id = st.id
JOIN submitted_notebook sn ON sn.assignment_id = sa.id
JOIN grade g ON g.notebook_id = sn.id
GROUP BY st.id
"""


def _students() -> list[str]:
    """Four ids, two in each shard of two (the split is a hash of the id: checked here, not assumed)."""
    ids = [f"s{i:02d}" for i in range(40)]
    return [s for s in ids if shard_of(s, 2) == 1][:2] + [s for s in ids if shard_of(s, 2) == 2][:2]


def _start(dirs, shard: str, workers: int = 2) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-c", GRADER, str(dirs.root), str(dirs.exchange), shard, str(workers)]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def _finish(procs: list[subprocess.Popen[str]], outputs: list[str]) -> None:
    for p in procs:
        out, _ = p.communicate(timeout=600)
        outputs.append(out)
        assert p.returncode == 0, out


def _grades(url: str) -> dict[str, tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0]: tuple(r[1:]) for r in conn.execute(text(GRADES_SQL))}
    finally:
        engine.dispose()


def _check_once(url: str, expected: dict[str, float]) -> dict[str, str]:
    """Every student graded exactly once with the right score; returns student -> its grade row ids."""
    got = _grades(url)
    assert sorted(got) == sorted(expected), f"graded {sorted(got)}, submitted {sorted(expected)}"
    for sid, (subs, rows, set_, score, _) in got.items():
        assert (subs, rows, set_) == (1, 3, 3), f"{sid}: {subs} submissions, {rows} grade rows, {set_} set"
        assert score == pytest.approx(expected[sid]), sid
    return {sid: row[4] for sid, row in got.items()}


def _wait_until(predicate, proc: subprocess.Popen[str], timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, "the shard finished before it could be killed"
        assert time.monotonic() < end, "nothing was graded in time"
        time.sleep(0.1)


def test_shards_grade_every_submission_once_into_one_postgres_gradebook(monkeypatch):
    """Disjoint shards at once, overlapping shards at once, a shard killed mid-run and rerun: is every submission
    graded exactly once (one submission, one row per graded cell, no lost and no duplicate grade), scored right,
    each student's rows kept when graded again, and the password printed nowhere?"""
    students = _students()
    assert len(students) == 4
    with postgres_server() as pg:
        monkeypatch.setenv(GRADEBOOK_URL_ENV, pg.url)
        dirs, base = make_course(("ps1",))  # release writes the assignment into the server's gradebook
        outputs: list[str] = []
        try:
            release = dirs.root / "release" / "ps1" / "ps1.ipynb"
            expected = {}
            for i, sid in enumerate(students):
                code, expected[sid] = ANSWERS[i % len(ANSWERS)]
                nb = nbformat.read(release, as_version=4)
                for cell in nb.cells:
                    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                    cell.source = code.get(gid, cell.source)
                submit_notebook(dirs, "ps1", sid, nb)

            # two machines, disjoint shards, at the same time
            _finish([_start(dirs, "1/2"), _start(dirs, "2/2")], outputs)
            rows = _check_once(pg.url, expected)

            _lock_waits_for_the_holder(dirs, students)

            # overlapping: shard 1's students graded by two processes at once (1/1 beside 1/2)
            _finish([_start(dirs, "1/1"), _start(dirs, "1/2", 1)], outputs)
            assert _check_once(pg.url, expected) == rows  # graded again in place: same rows, same scores

            # a machine dies mid-shard (its grades cleared first, as if never graded), then the shard is rerun
            second = [s for s in students if shard_of(s, 2) == 2]
            _clear(pg.url, second)
            done = lambda: sum(_grades(pg.url)[s][2] == 3 for s in second) >= 1
            victim = _start(dirs, "2/2", 1)
            _wait_until(done, victim)
            os.killpg(victim.pid, signal.SIGKILL)
            outputs.append(victim.communicate(timeout=60)[0])
            assert any(_grades(pg.url)[s][2] < 3 for s in second), "killed too late: the shard had finished"
            _finish([_start(dirs, "2/2")], outputs)
            assert _check_once(pg.url, expected) == rows
        finally:
            shutil.rmtree(base, ignore_errors=True)
    assert all(pg.password not in out for out in outputs)
    assert all("grader:***@127.0.0.1" in out for out in outputs), outputs[0][:500]


def _lock_waits_for_the_holder(dirs, students: list[str]) -> None:
    """Does a second grader of a submission wait on the server's advisory lock, and one of another not?"""
    events: list[str] = []

    def grade(student: str) -> None:
        with grading_lock(dirs, "ps1", student):
            events.append(f"got {student}")

    first, other = students[0], students[1]
    with grading_lock(dirs, "ps1", first):
        same, elsewhere = threading.Thread(target=grade, args=(first,)), threading.Thread(target=grade, args=(other,))
        same.start(), elsewhere.start()
        elsewhere.join(30)
        time.sleep(0.5)
        events.append("released")
    same.join(30)
    assert events == [f"got {other}", "released", f"got {first}"]


def _clear(url: str, students: list[str]) -> None:
    """Clear these students' automatic scores (what a shard that never ran would leave)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE grade SET auto_score = NULL WHERE notebook_id IN (SELECT sn.id FROM submitted_notebook sn "
                "JOIN submitted_assignment sa ON sn.assignment_id = sa.id WHERE sa.student_id = ANY(:s))"
            ),
            {"s": students},
        )
    engine.dispose()
