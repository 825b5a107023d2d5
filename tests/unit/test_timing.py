"""The timing plugin (tests/timing.py) on fake reports: phases, counts, times, the set-up file, the table."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from timing import (
    NOT_MEASURED,
    PhaseStats,
    Recorder,
    TimingPlugin,
    format_table,
    make_plugin,
    merge,
    phase_of,
    read_setup_phases,
    summary,
)

NB = "tests/test_notebooks.py"


def _report(nodeid, when="call", outcome="passed", duration=1.0, start=None, keywords=(), **extra):
    start = 100.0 if start is None else start
    return SimpleNamespace(
        nodeid=nodeid,
        when=when,
        outcome=outcome,
        duration=duration,
        start=start,
        stop=start + duration,
        keywords=dict.fromkeys(keywords, 1),
        **extra,
    )


def _test(rec, nodeid, start, outcomes=("passed", "passed", "passed"), keywords=()):
    """Feed the three reports of one test, each lasting 1 s, from ``start``."""
    for i, (when, outcome) in enumerate(zip(("setup", "call", "teardown"), outcomes)):
        rec.add(_report(nodeid, when, outcome, 1.0, start + i, keywords))


@pytest.mark.parametrize(
    "nodeid, phase",
    [
        ("tests/unit/kit/test_index.py::test_a", "unit"),
        ("tests/unit/test_layout.py::test_no_import_cycle", "unit"),
        ("tests/engine/images/test_build.py::test_b[x]", "engine"),
        ("tests/engine/grading/test_course.py::test_c", "grading"),
        ("tests/unit/grading/labs/test_lab1.py::T::test_d", "grading"),
        (f"{NB}::test_notebook_runs_with_engine[notebooks/01-a.ipynb]", "notebooks: with engine"),
        (f"{NB}::test_notebook_runs_without_engine[x]", "notebooks: without engine"),
        (f"{NB}::test_notebook_runs_from_prebuilt_archives[x]", "notebooks: prebuilt archives"),
        (f"{NB}::test_release_notebook_fails_only_on_stubs[x]", "notebooks: release"),
        (f"{NB}::test_release_matches_fresh_generation[lab1]", "notebooks: other checks"),
        (f"{NB}::test_index_is_generated_and_current", "notebooks: other checks"),
        # a name that only starts like a mode is not that mode
        (f"{NB}::test_notebook_runs_with_engine_extra[x]", "notebooks: other checks"),
        ("tests/unitx/test_a.py::test_a", "other"),
        ("tests/engine_grading/test_a.py::test_a", "other"),
        ("tests\\unit\\kit\\test_a.py::test_a", "unit"),
        ("", "other"),
    ],
)
def test_phase_of(nodeid, phase):
    """Is every test put in its phase, and nothing outside the tree in a named one?"""
    assert phase_of(nodeid) == phase


def test_counts_each_test_once_by_its_worst_outcome():
    """Are three reports one test, and a teardown error after a pass a failure, counted once?"""
    rec = Recorder()
    _test(rec, "tests/unit/a.py::ok", 0)
    _test(rec, "tests/unit/a.py::bad_teardown", 3, ("passed", "passed", "failed"))
    _test(rec, "tests/unit/a.py::skip", 6, ("skipped", "passed", "passed"))
    rec.add(_report("tests/unit/a.py::setup_error", "setup", "failed", 1.0, 9))
    rec.add(_report("tests/unit/a.py::setup_error", "teardown", "passed", 1.0, 10))
    rec.close()
    unit = rec.phases["unit"]
    assert (unit.run, unit.passed, unit.failed, unit.skipped) == (4, 1, 2, 1)
    assert unit.summed == pytest.approx(11.0)
    assert unit.wall == pytest.approx(11.0)


def test_wall_time_is_summed_over_consecutive_runs_only():
    """When grading tests sit between engine tests, is the gap left out of the engine's wall time?"""
    rec = Recorder()
    _test(rec, "tests/engine/a/test_a.py::t", 0)  # 0..3
    _test(rec, "tests/engine/grading/test_g.py::t", 10)  # 10..13
    _test(rec, "tests/engine/b/test_b.py::t", 20)  # 20..23
    rec.close()
    assert rec.phases["engine"].wall == pytest.approx(6.0)
    assert rec.phases["grading"].wall == pytest.approx(3.0)
    assert rec.phases["engine"].span == pytest.approx(23.0)  # first start to last end, gap included
    assert rec.phases["grading"].span == pytest.approx(3.0)
    rec.close()  # closing twice adds nothing
    assert rec.phases["engine"].wall == pytest.approx(6.0)


def test_notebook_runs_count_executed_calls_only():
    """Is a notebook run counted when its call ran (passed or failed), not when it was skipped?"""
    rec = Recorder()
    mode = f"{NB}::test_notebook_runs_without_engine"
    _test(rec, f"{mode}[a]", 0, keywords=("notebook",))
    _test(rec, f"{mode}[b]", 3, ("passed", "failed", "passed"), keywords=("notebook",))
    rec.add(_report(f"{mode}[c]", "setup", "skipped", 0.0, 6, ("notebook",)))
    rec.add(_report(f"{mode}[d]", "call", "skipped", 0.0, 6, ("notebook",)))  # pytest.skip() in the body
    _test(rec, f"{NB}::test_index_is_generated_and_current", 7)
    rec.close()
    stats = rec.phases["notebooks: without engine"]
    assert (stats.run, stats.passed, stats.failed, stats.skipped, stats.notebook_runs) == (4, 1, 1, 2, 2)
    assert rec.phases["notebooks: other checks"].notebook_runs == 0


def test_report_without_start_uses_its_duration():
    """Does a report with no start/stop (older pytest, xdist) still count, with its duration?"""
    rec = Recorder()
    report = SimpleNamespace(nodeid="tests/unit/a.py::t", when="call", outcome="passed", duration=2.0)
    rec.add(report)
    rec.close()
    assert rec.phases["unit"].wall == pytest.approx(2.0)
    assert rec.phases["unit"].run == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("setup\t1.5\nlint\t2.25\nenv\t30\n", {"setup": 1.5, "lint": 2.25, "env": 30.0}),
        ("lint 2\n", {"setup": None, "lint": 2.0, "env": None}),
        ("setup\tabc\nlint\t-1\nenv 1 2\nother\t4\n\n", {"setup": None, "lint": None, "env": None}),
        ("env\t1\nenv\t5\n", {"setup": None, "lint": None, "env": 5.0}),
        ("setup\tnan\nlint\tinf\n", {"setup": None, "lint": None, "env": None}),
    ],
)
def test_read_setup_phases(tmp_path, text, expected):
    """Are good lines read, and malformed, negative or unknown ones left "not measured"?"""
    f = tmp_path / "phases.tsv"
    f.write_text(text)
    assert read_setup_phases(f) == expected


def test_read_setup_phases_absent(tmp_path):
    """No file, a directory, or no path at all: is every set-up step "not measured"?"""
    none = {"setup": None, "lint": None, "env": None}
    assert read_setup_phases(tmp_path / "missing.tsv") == none
    assert read_setup_phases(tmp_path) == none
    assert read_setup_phases(None) == none


def _data(setup=None):
    phases = {
        "unit": PhaseStats(summed=10.0, wall=11.0, run=5, passed=4, failed=1, skipped=0),
        "notebooks: release": PhaseStats(summed=60.0, wall=61.0, run=2, passed=2, notebook_runs=2),
    }
    setup = {"setup": 1.0, "lint": 2.0, "env": 3.0} if setup is None else setup
    return summary(setup, phases, session_wall=80.0)


def test_summary_totals():
    """Is the total the set-up steps plus the pytest session, with the counts summed?"""
    data = _data()
    assert data["total_wall"] == pytest.approx(86.0)
    assert (data["tests"], data["notebook_runs"], data["setup_complete"]) == (7, 2, True)
    assert list(data["phases"]) == ["unit", "notebooks: release"]  # the table's order, empty phases left out
    json.dumps(data)  # plain data


def test_table_has_every_phase_and_the_total():
    """One header, the three set-up rows, one row per phase that ran, the session and the total?"""
    lines = format_table(_data())
    assert len(lines) == 1 + 3 + 2 + 2
    assert lines[0].split()[:3] == ["phase", "wall", "s"]
    release = next(line for line in lines if line.startswith("notebooks: release"))
    assert release.split()[2:] == ["61.0", "60.0", "2", "2", "0", "0", "2"]
    assert lines[-1].startswith("total") and lines[-1].split()[1:] == ["86.0", "2"]
    unit = next(line for line in lines if line.startswith("unit"))
    assert unit.split()[1:] == ["11.0", "10.0", "5", "4", "1", "0"]  # no notebook-run cell outside notebooks
    assert lines[0].index("wall s") + len("wall s") == unit.index("11.0") + len("11.0")  # right-aligned numbers


def test_table_says_not_measured():
    """With no set-up file, do the set-up rows say so, and the total say it lacks them?"""
    lines = format_table(_data({"setup": None, "lint": None, "env": None}))
    assert all(line.split()[-2:] == NOT_MEASURED.split() for line in lines[1:4])
    assert "set-up not measured" in lines[-1] and "80.0" in lines[-1]
    lines = format_table(_data({"setup": 1.0, "lint": None, "env": None}))
    assert "partly" in lines[-1] and "81.0" in lines[-1]


class _Terminal:
    def __init__(self):
        self.lines = []

    def write_sep(self, sep, title):
        self.lines.append(title)

    def write_line(self, line):
        self.lines.append(line)


def test_plugin_prints_and_writes_json(tmp_path):
    """Does the plugin print one table and write the same data as JSON?"""
    phases = tmp_path / "phases.tsv"
    phases.write_text("setup\t1\nlint\t2\nenv\t3\n")
    plugin = TimingPlugin(tmp_path / "state" / "timing" / "last.json", phases)
    _test(plugin.recorder, "tests/unit/a.py::t", 0)
    term = _Terminal()
    plugin.pytest_terminal_summary(term)
    data = json.loads((tmp_path / "state" / "timing" / "last.json").read_text())
    assert data["setup"] == {"setup": 1.0, "lint": 2.0, "env": 3.0}
    assert data["phases"]["unit"]["run"] == 1
    assert any(line.startswith("unit") for line in term.lines)


def test_plugin_never_raises(tmp_path):
    """A report it cannot read, and a JSON path it cannot write: one line each, no exception?"""
    blocker = tmp_path / "file"
    blocker.write_text("")
    plugin = TimingPlugin(blocker / "last.json", None)
    plugin.pytest_runtest_logreport(SimpleNamespace(nodeid="tests/unit/a.py::t"))  # no duration
    term = _Terminal()
    plugin.pytest_terminal_summary(term)
    assert any("not counted" in line for line in term.lines)
    assert any("could not write" in line for line in term.lines)


def _lane(setup, phases, wall, files):
    return json.loads(json.dumps(summary(setup, phases, wall, files)))  # as read back from a lane's JSON


def test_merge_adds_counts_and_takes_the_longest_wall():
    """Two lanes that ran at once: are counts and summed seconds added, and wall and span the longer lane's?"""
    unmeasured = {"setup": None, "lint": None, "env": None}
    grading = _lane(
        unmeasured,
        {"grading": PhaseStats(summed=50.0, wall=52.0, span=60.0, run=3, passed=2, failed=1)},
        70.0,
        {"tests/engine/grading/test_a.py": 50.0},
    )
    main = _lane(
        {"setup": 1.0, "lint": 2.0, "env": None},
        {
            "grading": PhaseStats(summed=5.0, wall=6.0, span=6.0, run=4, passed=3, skipped=1),
            "notebooks: release": PhaseStats(summed=80.0, wall=81.0, span=81.0, run=2, passed=2, notebook_runs=2),
        },
        90.0,
        {"tests/unit/grading/test_b.py": 5.0, "tests/test_notebooks.py": 80.0},
    )
    data = merge([grading, main])
    g = data["phases"]["grading"]
    assert (g["run"], g["passed"], g["failed"], g["skipped"]) == (7, 5, 1, 1)
    assert (g["summed"], g["wall"], g["span"]) == (55.0, 52.0, 60.0)
    assert data["phases"]["notebooks: release"]["notebook_runs"] == 2
    assert (data["tests"], data["notebook_runs"]) == (9, 2)
    assert data["setup"] == {"setup": 1.0, "lint": 2.0, "env": None} and not data["setup_complete"]
    assert data["pytest_wall"] == 90.0 and data["total_wall"] == 93.0
    assert set(data["files"]) == {"tests/engine/grading/test_a.py", "tests/unit/grading/test_b.py", NB}
    assert merge([grading, main], pytest_wall=95.5)["total_wall"] == 98.5  # the real time of the whole run
    assert format_table(data)[-1].split()[-1] == "2"


def test_recorder_sums_seconds_per_file():
    """Does the JSON give each test file's summed seconds (what tests/lanes.py balances the lanes with)?"""
    rec = Recorder()
    _test(rec, "tests/unit/a.py::t1", 0)
    _test(rec, "tests/unit/a.py::t2[x]", 3)
    _test(rec, "tests/engine/b.py::t", 6)
    rec.close()
    data = summary({}, rec.phases, 9.0, rec.files)
    assert data["files"] == {"tests/engine/b.py": 3.0, "tests/unit/a.py": 6.0}


def test_a_lane_writes_its_own_json_and_prints_no_table(tmp_path, monkeypatch):
    """With COURSE_TIMING_JSON set, is the report written there (not last.json) with no table printed?"""
    monkeypatch.setenv("COURSE_TIMING_JSON", str(tmp_path / "lane" / "main.json"))
    monkeypatch.delenv("COURSE_TIMING_PHASES", raising=False)
    plugin = make_plugin(tmp_path / "state")
    _test(plugin.recorder, "tests/unit/a.py::t", 0)
    term = _Terminal()
    plugin.pytest_terminal_summary(term)
    assert json.loads((tmp_path / "lane" / "main.json").read_text())["tests"] == 1
    assert not (tmp_path / "state").exists()
    assert term.lines == []
    monkeypatch.delenv("COURSE_TIMING_JSON")
    assert make_plugin(tmp_path / "state").json_path == tmp_path / "state" / "timing" / "last.json"
