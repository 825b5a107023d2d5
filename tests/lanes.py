"""``make test``'s pytest run as two processes side by side, one a core: the grading lane and the main lane.

- The **grading lane** runs every test file that starts or uses the grading engine (:func:`uses_grading_engine`):
  that engine is emptied when it starts, so only one process may ever use it.
- The **main lane** runs every other file (unit, engine, notebooks); ``tests/test_notebooks.py``, the longest
  file, always stays here. The other free files go where the lanes' estimated time is smallest
  (:func:`plan`), from the seconds each file took in earlier whole runs (``<state>/timing/files.json``,
  rewritten after each run without arguments) or, never measured, an estimate by folder.

Each lane's output is streamed live with a ``[grading] `` or ``[main] `` prefix; each lane writes its own
timing JSON (``COURSE_TIMING_JSON``) and this script merges them (:func:`timing.merge`) into
``<state>/timing/last.json`` and prints one per-phase table. The exit status is non-zero if either lane
failed. Ctrl-C or SIGTERM ends both lanes' process groups.

Run: ``python tests/lanes.py [pytest args]`` (``make test`` does, with its environment). Options go to both
lanes; a path (``tests/unit``, ``tests/x.py::test_y``) runs only in the lane(s) that own its files.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from timing import format_table, merge

from helpers.paths import state_dir

ROOT = Path(__file__).resolve().parents[1]
LANES = ("grading", "main")
#: What marks a test file as a grading-engine user: it starts, stops, points at or names it, or autogrades.
GRADING_USES = re.compile(
    r"ensure_grading_engine|stop_grading_engine|using_grading_engine|grading_engine_env|course\.autograde"
    r"|\bautograde\(|helpers\.grading\.engine\b|from helpers\.grading import engine\b"
)
#: Files that run in the grading lane whatever their text says: the whole folder of engine grading tests (a new
#: file there may reach the grading engine in a way the pattern above misses) and graded labs anywhere.
GRADED_NAMES = ("tests/engine/grading/*.py", "tests/*/test_*_graded*.py")
#: Files that stay in the main lane (the notebooks, about half of the whole run).
MAIN_ONLY = ("tests/test_notebooks.py",)
#: Seconds assumed for a file measured neither here nor in :data:`SHIPPED_TIMES` (a new file), by the first
#: matching prefix: the figures of a cold ``make test`` of 2026-11-30 (notebooks 20 min, graded labs 4 min, the
#: rest of the engine tests about 15 min) and of a unit run.
ESTIMATES = (
    ("tests/test_notebooks.py", 1200.0),
    ("tests/engine/grading/test_labs_graded.py", 240.0),
    # measured 2026-12-01 on a busy machine: each practitioner's answer is one or two builds
    ("tests/engine/labs/test_lab3_verdicts.py", 600.0),
    ("tests/engine/labs/test_lab2_verdicts.py", 420.0),
    ("tests/engine/labs/test_lab1_verdicts.py", 300.0),
    ("tests/engine/labs/test_lab4_verdicts.py", 80.0),
    # measured 2026-12-01: Lab 5's answers are replayed step by step (two replays each); the hub image is one build
    ("tests/engine/labs/test_lab5_verdicts.py", 200.0),
    ("tests/engine/kit/test_hub_image.py", 150.0),
    ("tests/engine/ci/test_replay.py", 60.0),
    ("tests/engine/supplychain/test_sbom_oracle.py", 40.0),
    ("tests/engine/labs/", 90.0),
    ("tests/engine/grading/", 90.0),
    ("tests/engine/kit/test_student_repo_notebooks.py", 220.0),
    ("tests/engine/kit/test_browser.py", 120.0),
    ("tests/unit/grading/test_shards_postgres.py", 140.0),
    ("tests/unit/grading/test_classops.py", 80.0),
    ("tests/engine/", 25.0),
    ("tests/unit/grading/test_sandbox_runner.py", 90.0),
    ("tests/unit/grading/test_feedback.py", 55.0),
    ("tests/unit/grading/test_intake.py", 50.0),
    ("tests/unit/grading/", 10.0),
    ("tests/", 2.0),
)
#: pytest options whose value is the next argument (never taken for a path).
VALUE_OPTIONS = {"-k", "-m", "-p", "-o", "-c", "-W", "--deselect", "--ignore", "--ignore-glob", "--durations"}
FILE_TIMES = "files.json"


def test_files(root: Path = ROOT) -> list[str]:
    """Every test file pytest collects under ``tests/``, relative to ``root``, sorted."""
    found = {*root.glob("tests/**/test_*.py"), *root.glob("tests/**/*_test.py")}
    return sorted(p.relative_to(root).as_posix() for p in found if p.is_file())


def uses_grading_engine(rel: str, root: Path = ROOT) -> bool:
    """Does the test file start or use the grading engine (its name or its text says so)?"""
    if any(fnmatch.fnmatch(rel, pattern) for pattern in GRADED_NAMES):
        return True
    return bool(GRADING_USES.search((root / rel).read_text(errors="replace")))


def estimate(rel: str, times: dict[str, float]) -> float:
    """Seconds the file is expected to take: measured if it was, else by folder (:data:`ESTIMATES`)."""
    if rel in times:
        return times[rel]
    return next((seconds for prefix, seconds in ESTIMATES if rel.startswith(prefix)), ESTIMATES[-1][1])


def plan(files: list[str], times: dict[str, float], root: Path = ROOT) -> dict[str, list[str]]:
    """Lane -> its files: the fixed ones first, then the longest free file to the lane with the least time."""
    lanes: dict[str, list[str]] = {lane: [] for lane in LANES}
    free = []
    for rel in files:
        if uses_grading_engine(rel, root):
            lanes["grading"].append(rel)
        elif rel in MAIN_ONLY:
            lanes["main"].append(rel)
        else:
            free.append(rel)
    load = {lane: sum(estimate(f, times) for f in lanes[lane]) for lane in LANES}
    for rel in sorted(free, key=lambda f: (-estimate(f, times), f)):
        lane = min(LANES, key=lambda name: (load[name], LANES.index(name)))
        lanes[lane].append(rel)
        load[lane] += estimate(rel, times)
    return {lane: sorted(paths) for lane, paths in lanes.items()}


def split_args(args: list[str], root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(options for both lanes, paths): a path is an argument naming something on disk (before ``::``)."""
    options, paths = [], []
    value_next = False
    for arg in args:
        if value_next or arg.startswith("-"):
            options.append(arg)
            value_next = not value_next and arg in VALUE_OPTIONS
        elif (root / arg.partition("::")[0]).exists():
            paths.append(arg)
        else:
            options.append(arg)
    return options, paths


def targets(lanes: dict[str, list[str]], paths: list[str], root: Path = ROOT) -> dict[str, list[str]]:
    """Lane -> what it runs: all its files without paths; else the given paths, each in the lane(s) owning it."""
    if not paths:
        return lanes
    chosen: dict[str, list[str]] = {lane: [] for lane in LANES}
    for arg in paths:
        target = (root / arg.partition("::")[0]).resolve()
        for lane, files in lanes.items():
            inside = [f for f in files if (root / f).resolve() == target or target in (root / f).resolve().parents]
            if "::" in arg and inside:
                chosen[lane].append(arg)
            elif inside:
                chosen[lane] += [f for f in inside if f not in chosen[lane]] if target.is_dir() else [arg]
    return chosen


def lane_command(targets: list[str], options: list[str]) -> list[str]:
    """The pytest command of one lane."""
    return [sys.executable, "-m", "pytest", "--durations=15", *options, *targets]


#: pytest's exit code when it collected nothing (``-k`` matching tests of the other lane only).
NOTHING_COLLECTED = 5
#: Seconds a lane has to tear down after Ctrl-C or SIGTERM before its process group is killed.
GRACE = 20.0


class Lane:
    """One pytest process: its output prefixed line by line, its exit code and wall time."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], lock: threading.Lock, cwd: Path) -> None:
        self.name, self.lock = name, lock
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.seconds, self.code = 0.0, -1
        self.reader = threading.Thread(target=self._stream, daemon=True)
        self.reader.start()

    def _stream(self) -> None:
        """Print each line of the lane's output with its prefix; at the end, note its exit code and time."""
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self.lock:
                sys.stdout.write(f"[{self.name}] {raw.decode(errors='replace').rstrip()}\n")
                sys.stdout.flush()
        self.code = self.proc.wait()
        self.seconds = time.monotonic() - self.started

    def wait(self) -> int:
        """The lane's exit code, once it ended and all its output was printed."""
        self.reader.join()
        return self.code

    def send(self, signum: int) -> None:
        """Send ``signum`` to the lane's whole process group (pytest and every process it started)."""
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _stopper(running: dict[str, Lane], signals: list[int]):
    """The Ctrl-C/SIGTERM handler: SIGINT to both lanes (pytest tears down), SIGKILL after GRACE or a second signal."""

    def kill_all() -> None:
        for lane in running.values():
            lane.send(signal.SIGKILL)

    def stop(signum: int, _frame: object) -> None:
        signals.append(signum)
        if len(signals) > 1:
            kill_all()
            return
        for lane in running.values():
            lane.send(signal.SIGINT)
        timer = threading.Timer(GRACE, kill_all)
        timer.daemon = True
        timer.start()

    return stop


def run(
    chosen: dict[str, list[str]], options: list[str], folder: Path, signals: list[int], root: Path = ROOT
) -> dict[str, tuple[int | None, float]]:
    """Start every lane that has something to run, wait for all; lane -> (exit code or None if not run, seconds)."""
    lock = threading.Lock()
    running: dict[str, Lane] = {}
    stop = _stopper(running, signals)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for name in LANES:
            if chosen[name]:
                env = dict(os.environ, COURSE_TIMING_JSON=str(folder / f"{name}.json"), PYTHONUNBUFFERED="1")
                running[name] = Lane(name, lane_command(chosen[name], options), env, lock, root)
        codes = {name: lane.wait() for name, lane in running.items()}
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return {name: (codes.get(name), running[name].seconds if name in running else 0.0) for name in LANES}


def report(folder: Path, timing: Path, wall: float) -> list[str]:
    """Merge the lanes' JSON into ``timing/last.json``; the table's lines."""
    reports = [json.loads(p.read_text()) for name in LANES if (p := folder / f"{name}.json").exists()]
    if not reports:
        return ["no timing report: no lane wrote one"]
    data = merge(reports, wall)
    timing.mkdir(parents=True, exist_ok=True)
    (timing / "last.json").write_text(json.dumps(data, indent=2) + "\n")
    return format_table(data)


#: Seconds per file measured in a whole ``make test`` of a clean clone (2026-12-01, 2 cores, both lanes): a fresh
#: clone (CI) plans from these; this machine's own measurements (``<state>/timing/files.json``) override them.
SHIPPED_TIMES = Path(__file__).with_name("lane_times.json")


def _read_times(path: Path) -> dict[str, float]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def remember_times(timing: Path, whole_run: bool) -> dict[str, float]:
    """The seconds per file (shipped, then measured here); after a whole run (no arguments), the measured ones
    are updated from its ``last.json``."""
    path = timing / FILE_TIMES
    measured = _read_times(path)
    if whole_run and (timing / "last.json").exists():
        measured.update(json.loads((timing / "last.json").read_text()).get("files", {}))
        path.write_text(json.dumps(measured, indent=2, sort_keys=True) + "\n")
    return {**_read_times(SHIPPED_TIMES), **measured}


def main(argv: list[str], root: Path = ROOT) -> int:
    """Plan, run both lanes, print the merged table and the lanes' line; 0 only if no lane failed."""
    timing = state_dir() / "timing"
    options, paths = split_args(argv, root)
    times = remember_times(timing, whole_run=False)
    lanes = plan(test_files(root), times, root)
    chosen = targets(lanes, paths, root)
    for name in LANES:
        about = sum(estimate(f, times) for f in lanes[name])
        what = " ".join(chosen[name]) if 0 < len(chosen[name]) <= 4 else f"{len(chosen[name])} files"
        what += "" if paths else f", about {about:.0f} s"
        print(f"lanes: {name}: {what or '(nothing to run)'}")
    sys.stdout.flush()
    started, signals = time.monotonic(), []
    with tempfile.TemporaryDirectory(prefix="course-lanes-") as tmp:
        results = run(chosen, options, Path(tmp), signals, root)
        wall = time.monotonic() - started
        title = "-" * 20 + " time per phase (tests/lanes.py, both lanes merged)"
        print("\n".join(["", title, *report(Path(tmp), timing, wall)]))
    if not argv and not signals:
        remember_times(timing, whole_run=True)
    print("lanes: " + ", ".join(_said(name, *results[name]) for name in LANES), flush=True)
    return exit_code([code for code, _ in results.values()], signals)


def exit_code(codes: list[int | None], signals: Sequence[int] = ()) -> int:
    """1 if a lane failed (a lane that collected nothing did not, unless none collected anything)."""
    if signals:
        return 128 + signals[0]
    ran = [code for code in codes if code is not None]
    if ran and all(code == NOTHING_COLLECTED for code in ran):
        return NOTHING_COLLECTED
    return 1 if any(code not in (0, NOTHING_COLLECTED) for code in ran) else 0


def _said(name: str, code: int | None, seconds: float) -> str:
    return f"{name} not run" if code is None else f"{name} exit {code} after {seconds:.0f} s"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
