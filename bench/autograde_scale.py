"""Autograde 30 submissions of one lab in the grading sandbox: time per submission and in total.

Default (a small pure-Python lab): runs the same 30 submissions (27 right or partly right, 2 that
loop or crash, 1 that is not a notebook) serially and with one worker per core, in one run, and
prints the ratio. A failing submission never stops the others. Also prints the sandbox's cost
against running the same (trusted) notebooks directly, on a few of them.

With ``--lab LAB`` (repeatable; ``--lab engine``: every lab whose ``grading.yml`` lists verdicts): the
reference submission of each lab (the source notebook's solutions and the lab's reference answer files,
as a student who answered fully hands them in: ``course_fixture.submit_reference``), graded serially by
``course autograde`` (sandbox, then the grader's verdicts on the grading engine) and by the baseline
(plain ``nbgrader autograde``: the notebook's own checks run in the kernel against the grading engine, see
:func:`baseline_autograde`), alternated, ``--repeats`` times each, each run from the same state
(:func:`cold_start`). Prints per lab the medians, their
ratio and the scores; fails unless ``course autograde`` gives the reference full marks.

    python bench/autograde_scale.py [--n 30] [--sandbox-sample 4] [--lab LAB|engine ...] [--repeats 2]
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

from course_fixture import make_course, make_lab_course, scores, submit_reference  # noqa: E402

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


def engine_labs() -> list[str]:
    """The labs whose ``grading.yml`` lists ``verdicts:`` (the grader decides them on the grading engine)."""
    from helpers.grading.facts import load_spec

    return [p.parent.name for p in sorted((ROOT / "source").glob("*/grading.yml")) if load_spec(p.parent.name).verdicts]


def cold_start(engine) -> None:
    """Both paths start alike: the grading engine emptied (base images kept) and its build cache pruned.

    ``course autograde`` prunes the cache after each submission (no student's build sees another's), the
    baseline never did; without this, whichever ran second would build from the other's cache.
    """
    from helpers.grading.engine import ensure_grading_engine
    from helpers.grading.engine_env import engine_client

    ensure_grading_engine(log=lambda m: None)
    if engine:
        engine_client(engine, timeout=300).api.prune_builds(all=True)


def baseline_autograde(dirs: nbgrader_run.CourseDirs, lab: str, student: str, engine) -> nbgrader_run.StepReport:
    """The path before the trusted-side hardening, as closely as it still runs: plain ``nbgrader autograde``.

    nbgrader's own ``Execute`` runs the notebook on this machine (no sandbox), and its test cells' self-checks
    build and run on the grading engine from the kernel (``DOCKER_HOST`` and the registry pointed there, as
    the old trusted queries did); the kernel's scores stand and the build cache is never pruned.
    """
    from helpers.grading.engine_env import using_grading_engine

    with using_grading_engine(engine):  # DOCKER_HOST, registry port and its credentials' state dir
        args = ["autograde", lab, f"--student={student}", "--force"]
        return nbgrader_run.run_step("autograde", lab, args, dirs, student)


def bench_lab(labs: list[str], repeats: int) -> int:
    """Time the reference submission of each lab: baseline (plain nbgrader) vs ``course autograde``, alternated.

    Each run grades its own copy of the reference submission (a student id per run). Returns 1 when a
    kit run did not give full marks.
    """
    from statistics import median

    from helpers.grading.engine import ensure_grading_engine

    dirs, base = make_lab_course(tuple(labs))
    rows, bad = [], 0
    try:
        start = time.monotonic()
        engine = ensure_grading_engine(log=lambda m: None)
        where = "separate from the lab engine" if engine else "none separate: the lab engine grades"
        print(f"grading engine ready in {time.monotonic() - start:.1f} s ({where})", flush=True)
        for lab in labs:
            times: dict[str, list[float]] = {"base": [], "kit": []}
            for i in range(repeats):
                for kind in ("base", "kit"):
                    sid = f"ref-{kind}{i}"
                    submit_reference(dirs, lab, sid)
                    cold_start(engine)
                    t0 = time.monotonic()
                    if kind == "base":
                        rep = baseline_autograde(dirs, lab, sid, engine)
                        ok, msg = rep.ok, rep.message
                    else:
                        df = course.autograde(lab, [sid], dirs, workers=1, log=lambda m: None)
                        ok, msg = bool(df["ok"].all()), "; ".join(df["message"])
                    times[kind].append(time.monotonic() - t0)
                    said = "ok" if ok else "FAILED"
                    print(f"  {lab} {kind} run {i + 1}: {times[kind][-1]:6.1f} s {said} {msg[:160]}", flush=True)
            got, top = scores(dirs, lab), _max_score(dirs, lab)
            kit = sorted({got.get(f"ref-kit{i}") for i in range(repeats)}, key=str)
            basescore = sorted({got.get(f"ref-base{i}") for i in range(repeats)}, key=str)
            bad += kit != [top]
            b, k = median(times["base"]), median(times["kit"])
            rows.append((lab, b, k, k / b, kit, basescore, top, times))
        print(f"\nreference submission, median of {repeats} runs each (baseline and kit alternated, each from an")
        print("emptied grading engine with its build cache pruned)")
        print(f"{'lab':26} {'baseline s':>10} {'kit s':>8} {'ratio':>6}  score (kit; baseline) / max  runs (s)")
        for lab, b, k, r, kit, basescore, top, times in rows:
            runs = ", ".join(f"{kind} " + " ".join(f"{t:.0f}" for t in times[kind]) for kind in ("base", "kit"))
            print(f"{lab:26} {b:10.1f} {k:8.1f} {r:6.2f}  {kit}; {basescore} / {top:g}  {runs}")
        if bad:
            print(f"{bad} lab(s): the reference did NOT get full marks from course autograde")
        ensure_grading_engine(log=lambda m: None)  # empty it again: the baseline's leftovers go
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if bad else 0


def _max_score(dirs: nbgrader_run.CourseDirs, lab: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{dirs.root / 'gradebook.db'}", dirs.course_id) as gb:
        return gb.find_assignment(lab).max_score


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--sandbox-sample", type=int, default=4, help="submissions for the sandbox-cost comparison")
    ap.add_argument(
        "--lab", action="append", help="a real lab in source/, repeatable, or 'engine' for every engine lab"
    )
    ap.add_argument("--repeats", type=int, default=2, help="--lab: runs of each path per lab (median)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    t0 = time.monotonic()
    grader_image()
    print(f"grader image ready in {time.monotonic() - t0:.1f} s (cached after the first build)")
    if args.lab:
        return bench_lab(engine_labs() if "engine" in args.lab else args.lab, args.repeats)
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
