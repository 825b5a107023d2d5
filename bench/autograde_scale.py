"""Autograde 30 submissions of one lab in the grading sandbox: time per submission and in total.

Default (a small pure-Python lab): runs the same 30 submissions (27 right or partly right, 2 that
loop or crash, 1 that is not a notebook) serially and with one worker per core, in one run, and
prints the ratio. A failing submission never stops the others. Also prints the sandbox's cost
against running the same (trusted) notebooks directly, on a few of them.

With ``--lab lab1-build-basics`` (any lab in source/): 30 submissions of that real lab (the
reference solution, the blank release version, and the reference with its last answer left blank, in
turn), graded with one worker per core; the grader answers their engine checks (trusted queries).

    python bench/autograde_scale.py [--n 30] [--sandbox-sample 4] [--lab LAB]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from course_fixture import make_course, make_lab_course, scores, submit_notebook  # noqa: E402

from helpers.grading import course, nbgrader_run  # noqa: E402
from helpers.grading.sandbox_image import grader_image  # noqa: E402

ANSWERS = [
    {"add": "def add(a, b):\n    return a + b", "greet": 'def greet(name):\n    return f"hello {name}"'},
    {"add": "def add(a, b):\n    return a + b"},
    {"add": "def add(a, b):\n    return a * b", "greet": 'def greet(name):\n    return f"hello {name}"'},
]
HOSTILE = {5: {"add": "while True:\n    pass"}, 17: {"add": "import os\nos._exit(1)"}}


def submit_directly(dirs: nbgrader_run.CourseDirs, sid: str, answer: dict[str, str] | None) -> None:
    """Put a submission where `collect` would (submitted/<sid>/ps1), to time autograde alone."""
    folder = dirs.root / "submitted" / sid / "ps1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text("2026-01-01 10:00:00.000000 UTC")
    if answer is None:
        (folder / "ps1.ipynb").write_text("not a notebook")
        return
    nb = nbformat.read(dirs.root / "release" / "ps1" / "ps1.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answer:
            cell.source = answer[gid]
    nbformat.write(nb, folder / "ps1.ipynb")


def timed(dirs: nbgrader_run.CourseDirs, workers: int, students: list[str], sandbox: bool = True):
    start = time.monotonic()
    df = course.autograde("ps1", students, dirs, workers=workers, sandbox=sandbox)
    return time.monotonic() - start, df


def lab_variants(lab: str) -> list[nbformat.NotebookNode]:
    """The reference solution, the blank release version, and the reference with its last answer blank."""
    ref = nbformat.read(ROOT / "source" / lab / f"{lab}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "release" / lab / f"{lab}.ipynb", as_version=4)
    partial = nbformat.from_dict(ref)
    stubs = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in blank.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    last = [c for c in partial.cells if c.metadata.get("nbgrader", {}).get("solution")][-1]
    last.source = stubs[last.metadata["nbgrader"]["grade_id"]]
    return [ref, blank, partial]


def bench_lab(lab: str, n: int, cores: int) -> None:
    """Autograde ``n`` submissions of a real lab with one worker per core; print the times."""
    dirs, base = make_lab_course((lab,))
    try:
        variants = lab_variants(lab)
        students = [f"s{i:02d}" for i in range(n)]
        for i, sid in enumerate(students):
            submit_notebook(dirs, lab, sid, variants[i % len(variants)])
        from helpers.grading.engine import ensure_grading_engine

        start = time.monotonic()
        engine = ensure_grading_engine(log=lambda m: None)
        print(
            f"grading engine ready in {time.monotonic() - start:.1f} s "
            f"({'separate from the lab engine' if engine else 'none separate: the lab engine grades'}; "
            "autograde checks it again and empties it)"
        )
        start = time.monotonic()
        df = course.autograde(lab, students, dirs, workers=cores)
        total = time.monotonic() - start
        graded = df[df["ok"]]
        print(
            f"{lab}: {n} submissions, {cores} workers: total {total:6.1f} s, per submission (wall/N) "
            f"{total / n:5.2f} s, each autograde median {graded['seconds'].median():5.2f} s "
            f"(max {graded['seconds'].max():5.2f} s), graded {len(graded)}/{n}"
        )
        got = scores(dirs, lab)
        for i, kind in enumerate(("reference", "blank", "last answer blank")):
            print(f"  scores of the {kind} submissions: {sorted({got.get(s) for s in students[i :: len(variants)]})}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--sandbox-sample", type=int, default=4, help="submissions for the sandbox-cost comparison")
    ap.add_argument("--lab", default=None, help="a real lab in source/ (default: a small pure-Python lab)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    t0 = time.monotonic()
    grader_image()
    print(f"grader image ready in {time.monotonic() - t0:.1f} s (cached after the first build)")
    if args.lab:
        bench_lab(args.lab, args.n, cores)
        return 0
    dirs, base = make_course(("ps1",))
    try:
        students = [f"s{i:02d}" for i in range(args.n)]
        for i, sid in enumerate(students):
            if i == args.n - 1:
                submit_directly(dirs, sid, None)  # not a notebook
            elif i in HOSTILE:
                submit_directly(dirs, sid, HOSTILE[i])
            else:
                submit_directly(dirs, sid, ANSWERS[i % len(ANSWERS)])
        print(f"{args.n} submissions, {cores} cores\n")
        rows = []
        for workers in (1, cores):
            total, df = timed(dirs, workers, students)
            graded = df[df["ok"]]
            rows.append((workers, total, df))
            print(
                f"workers={workers}: total {total:6.1f} s, per submission (wall/N) {total / len(df):5.2f} s, "
                f"each nbgrader run median {graded['seconds'].median():5.2f} s (max {graded['seconds'].max():5.2f} s), "
                f"graded {len(graded)}/{len(df)}, failed {len(df) - len(graded)}"
            )
        print(f"\nparallel speed-up: {rows[0][1] / rows[1][1]:.2f}x with {cores} workers")
        bad = rows[1][2][~rows[1][2]["ok"]]
        for r in bad.itertuples():
            print(f"  not graded: {r.student}: {r.message[:100]}")
        sample = [s for i, s in enumerate(students) if i % len(ANSWERS) == 0 and i not in HOSTILE][
            : args.sandbox_sample
        ]
        ts, _ = timed(dirs, 1, sample, sandbox=True)
        td, _ = timed(dirs, 1, sample, sandbox=False)
        print(
            f"\nsandbox cost on {len(sample)} trusted submissions, serial: sandbox {ts / len(sample):.2f} s vs "
            f"direct {td / len(sample):.2f} s per submission ({ts / td:.2f}x)"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
