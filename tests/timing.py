"""Where the time of ``make test`` goes: one table per run, printed at the end of the session.

``make test`` times its set-up steps (``scripts/bootstrap.sh``, ruff, ``helpers env up``) and writes
``<phase>\\t<seconds>`` lines to the file named by ``COURSE_TIMING_PHASES``; this pytest plugin times
the tests by phase (:func:`phase_of`), reads that file, prints one table in the terminal summary and
writes it as JSON to ``<state dir>/timing/last.json`` (what ``bench/make_test_times.py`` compares).
The JSON also gives each test file's summed seconds (``files``: how ``tests/lanes.py`` balances its
lanes). ``tests/lanes.py`` runs two pytest processes at once: each writes its JSON to the file named by
``COURSE_TIMING_JSON`` and prints no table; :func:`merge` folds them into one report.

Columns: "wall s" is real time, summed over each run of consecutive tests of the phase (engine and
grading tests alternate in collection order, so a first-start-to-last-end clock would count one inside
the other; that clock is in the JSON as ``span``); "sum s" adds every test's setup, call and teardown
durations; a test counts once, by its worst report (an error in teardown is a failure, an xfail a skip).

It only observes reports: it never changes an outcome, and a failure of its own is one line of
output, not an error of the run. Loaded from ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import math
import operator
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The environment variable naming the set-up timings file (set by ``make test`` only, so a plain
#: ``pytest`` run never shows the set-up times of an older ``make test``).
PHASES_ENV = "COURSE_TIMING_PHASES"
#: Set by ``tests/lanes.py`` for each lane: write the report there (not ``last.json``) and print no table.
JSON_ENV = "COURSE_TIMING_JSON"
NOTEBOOKS = "tests/test_notebooks.py"
#: The set-up steps of ``make test``, as the Makefile names them, with what each one runs.
SETUP_PHASES = {"setup": "set-up: venv (bootstrap.sh)", "lint": "set-up: lint (ruff)", "env": "set-up: env up"}
#: test_notebooks.py's test functions -> their mode.
NOTEBOOK_MODES = {
    "test_notebook_runs_with_engine": "notebooks: with engine",
    "test_notebook_runs_without_engine": "notebooks: without engine",
    "test_notebook_runs_from_prebuilt_archives": "notebooks: prebuilt archives",
    "test_release_notebook_fails_only_on_stubs": "notebooks: release",
}
NOTEBOOK_OTHER = "notebooks: other checks"
#: Every pytest phase, in the order of the table.
TEST_PHASES = ("unit", "engine", *NOTEBOOK_MODES.values(), NOTEBOOK_OTHER, "grading", "other")
NOT_MEASURED = "not measured"


def phase_of(nodeid: str) -> str:
    """The phase a test belongs to, from its node id (``tests/unit/kit/test_x.py::test_y[p]``)."""
    path, _, name = nodeid.replace("\\", "/").partition("::")
    path = path.removeprefix("./")
    if path.startswith(("tests/unit/grading/", "tests/engine/grading/")):
        return "grading"
    if path.startswith("tests/unit/"):
        return "unit"
    if path.startswith("tests/engine/"):
        return "engine"
    if path == NOTEBOOKS:
        return NOTEBOOK_MODES.get(name.partition("[")[0], NOTEBOOK_OTHER)
    return "other"


@dataclass
class PhaseStats:
    """The counts and times of one phase."""

    summed: float = 0.0  # setup + call + teardown durations, every test
    wall: float = 0.0  # real time of the phase's consecutive runs of tests
    span: float = 0.0  # first start to last end (more than ``wall`` when other phases ran in between)
    run: int = 0
    passed: int = 0
    failed: int = 0  # failures and errors (in set-up or teardown)
    skipped: int = 0  # skips and expected failures
    notebook_runs: int = 0


@dataclass
class _Span:
    phase: str
    start: float
    stop: float


@dataclass
class Recorder:
    """Folds pytest's reports (three per test: setup, call, teardown) into per-phase stats."""

    phases: dict[str, PhaseStats] = field(default_factory=dict)
    files: dict[str, float] = field(default_factory=dict)  # test file -> summed seconds (how lanes balance)
    _outcomes: dict[str, str] = field(default_factory=dict)
    _span: _Span | None = None
    _bounds: dict[str, tuple[float, float]] = field(default_factory=dict)

    def add(self, report: Any) -> None:
        """Count one report: ``nodeid``, ``when``, ``outcome``, ``duration``, ``start``/``stop``, ``keywords``."""
        phase = phase_of(report.nodeid)
        stats = self.phases.setdefault(phase, PhaseStats())
        stats.summed += report.duration
        path = report.nodeid.partition("::")[0]
        self.files[path] = self.files.get(path, 0.0) + report.duration
        stop = getattr(report, "stop", 0.0) or time.time()
        start = getattr(report, "start", 0.0) or stop - report.duration
        self._extend_span(phase, start, stop)
        first, last = self._bounds.get(phase, (start, stop))
        self._bounds[phase] = (min(first, start), max(last, stop))
        stats.span = self._bounds[phase][1] - self._bounds[phase][0]
        if report.when == "call" and "notebook" in getattr(report, "keywords", {}) and report.outcome != "skipped":
            stats.notebook_runs += 1
        previous = self._outcomes.get(report.nodeid)
        outcome = _worst(previous, _outcome(report))
        if outcome != previous:
            self._outcomes[report.nodeid] = outcome
            if previous is None:
                stats.run += 1
            else:
                _bump(stats, previous, -1)
            _bump(stats, outcome, +1)

    def _extend_span(self, phase: str, start: float, stop: float) -> None:
        span = self._span
        if span is not None and span.phase == phase:
            span.stop = max(span.stop, stop)
            return
        self.close()
        self._span = _Span(phase, start, stop)

    def close(self) -> None:
        """Add the open run of consecutive tests to its phase's wall time."""
        if self._span is not None:
            self.phases[self._span.phase].wall += self._span.stop - self._span.start
            self._span = None


_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def _outcome(report: Any) -> str:
    """passed, skipped or failed (pytest already reports a strict xfail that passes as failed)."""
    if report.outcome == "skipped" and report.when == "teardown":
        return "passed"
    return report.outcome if report.outcome in _RANK else "failed"


def _worst(a: str | None, b: str) -> str:
    return b if a is None or _RANK[b] > _RANK[a] else a


def _bump(stats: PhaseStats, outcome: str, by: int) -> None:
    setattr(stats, outcome, getattr(stats, outcome) + by)


def read_setup_phases(path: Path | None) -> dict[str, float | None]:
    """Seconds per set-up step from ``make test``'s file; ``None`` for a step not measured.

    A missing or unreadable file, or a malformed line, leaves the step "not measured"; a step
    listed twice (two runs appended) keeps its last value.
    """
    found: dict[str, float | None] = dict.fromkeys(SETUP_PHASES)
    try:
        lines = path.read_text().splitlines() if path else []
    except OSError:
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[0] in SETUP_PHASES:
            try:
                seconds = float(parts[1])
            except ValueError:
                continue
            if math.isfinite(seconds) and seconds >= 0:
                found[parts[0]] = seconds
    return found


def summary(
    setup: dict[str, float | None],
    phases: dict[str, PhaseStats],
    session_wall: float,
    files: dict[str, float] | None = None,
) -> dict:
    """The whole report as plain data (the JSON written to ``last.json``)."""
    measured = [s for s in setup.values() if s is not None]
    return {
        "setup": {name: setup.get(name) for name in SETUP_PHASES},
        "phases": {name: _rounded(asdict(phases[name])) for name in TEST_PHASES if name in phases},
        "pytest_wall": round(session_wall, 2),
        "total_wall": round(sum(measured) + session_wall, 2),
        "setup_complete": len(measured) == len(SETUP_PHASES),
        "tests": sum(p.run for p in phases.values()),
        "notebook_runs": sum(p.notebook_runs for p in phases.values()),
        "files": {path: round(seconds, 2) for path, seconds in sorted((files or {}).items())},
    }


_MAXED = ("wall", "span")  # real time: the lanes ran side by side, so the longer one counts


def merge(reports: list[dict], pytest_wall: float | None = None) -> dict:
    """One report from the reports of processes that ran at the same time (``tests/lanes.py``'s lanes).

    Counts and summed seconds add up; a phase's wall and span are the longest lane's. The set-up steps
    are the first report's that measured them (every lane reads the same file). ``pytest_wall`` is the
    real time of the whole run (default: the longest lane's).
    """
    setup = {
        name: next((r["setup"][name] for r in reports if r.get("setup", {}).get(name) is not None), None)
        for name in SETUP_PHASES
    }
    phases: dict[str, PhaseStats] = {}
    for report in reports:
        for name, stats in report.get("phases", {}).items():
            into = phases.setdefault(name, PhaseStats())
            for key, value in stats.items():
                combine = max if key in _MAXED else operator.add
                setattr(into, key, combine(getattr(into, key), value))
    files: dict[str, float] = {}
    for report in reports:
        for path, seconds in report.get("files", {}).items():
            files[path] = files.get(path, 0.0) + seconds
    wall = max((r.get("pytest_wall", 0.0) for r in reports), default=0.0) if pytest_wall is None else pytest_wall
    return summary(setup, phases, wall, files)


def _rounded(stats: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items()}


_COLUMNS = ("phase", "wall s", "sum s", "tests", "passed", "failed", "skipped", "nb runs")


def format_table(data: dict) -> list[str]:
    """The report as aligned text lines (one header, one row per phase, the totals)."""
    rows = [_COLUMNS]
    for name, label in SETUP_PHASES.items():
        seconds = data["setup"].get(name)
        rows.append((label, NOT_MEASURED if seconds is None else f"{seconds:.1f}", "", "", "", "", "", ""))
    for name, p in data["phases"].items():
        nb = str(p["notebook_runs"]) if name.startswith("notebooks") else ""
        counts = (str(p["run"]), str(p["passed"]), str(p["failed"]), str(p["skipped"]), nb)
        rows.append((name, f"{p['wall']:.1f}", f"{p['summed']:.1f}", *counts))
    totals = [sum(p[k] for p in data["phases"].values()) for k in ("run", "passed", "failed", "skipped")]
    rows.append(("pytest (whole session)", f"{data['pytest_wall']:.1f}", "", *map(str, totals), ""))
    partial = ""
    if not data["setup_complete"]:
        measured = any(s is not None for s in data["setup"].values())
        partial = " (set-up partly measured)" if measured else " (set-up not measured)"
    rows.append(("total" + partial, f"{data['total_wall']:.1f}", "", "", "", "", "", str(data["notebook_runs"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    return [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths))).rstrip()
        for r in rows
    ]


class TimingPlugin:
    """The pytest hooks: observe every report, print and save the table at the end."""

    def __init__(self, json_path: Path, phases_file: Path | None, table: bool = True) -> None:
        self.recorder = Recorder()
        self.json_path = json_path
        self.phases_file = phases_file
        self.table = table  # False in a lane of tests/lanes.py: it prints the merged table
        self.started = time.time()
        self.error = ""

    def pytest_sessionstart(self, session: Any) -> None:
        self.started = time.time()

    def pytest_runtest_logreport(self, report: Any) -> None:
        try:
            self.recorder.add(report)
        except Exception as e:  # noqa: BLE001 (observing must never turn into an error of the run)
            self.error = f"{type(e).__name__}: {e}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        self.recorder.close()
        try:
            wall = time.time() - self.started
            data = summary(read_setup_phases(self.phases_file), self.recorder.phases, wall, self.recorder.files)
            lines = format_table(data) if self.table else []
        except Exception as e:  # noqa: BLE001 (a broken report is one line, never a failed run)
            terminalreporter.write_line(f"timing report failed: {type(e).__name__}: {e}")
            return
        if self.table:
            terminalreporter.write_sep("-", "time per phase (tests/timing.py)")
        for line in lines:
            terminalreporter.write_line(line)
        if self.error:
            terminalreporter.write_line(f"some reports were not counted: {self.error}")
        try:
            self.json_path.parent.mkdir(parents=True, exist_ok=True)
            self.json_path.write_text(json.dumps(data, indent=2) + "\n")
        except OSError as e:
            terminalreporter.write_line(f"could not write {self.json_path}: {e}")


def make_plugin(state_dir: Path) -> TimingPlugin:
    """The plugin for this run: set-up times from ``$COURSE_TIMING_PHASES``; the JSON to ``$COURSE_TIMING_JSON``
    (and no table: a lane of ``tests/lanes.py``), else to ``<state_dir>/timing/last.json`` with the table."""
    phases = os.environ.get(PHASES_ENV)
    own = os.environ.get(JSON_ENV)
    json_path = Path(own) if own else state_dir / "timing" / "last.json"
    return TimingPlugin(json_path, Path(phases) if phases else None, table=not own)
