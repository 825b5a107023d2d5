"""tests/lanes.py: which lane runs each test file, what a path argument runs, the exit code, stopping both lanes."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time

import lanes
import pytest
from kitroot import ROOT, TESTS

#: The calls the brief names: a file with one of them starts or uses the grading engine.
USES = re.compile(r"ensure_grading_engine|course\.autograde|autograde\(")


def test_every_test_file_is_in_exactly_one_lane():
    """Is each test file pytest would collect under tests/ in one lane, and in one only (measured or not)?"""
    files = sorted(p.relative_to(ROOT).as_posix() for p in TESTS.rglob("test_*.py"))
    assert lanes.test_files() == files
    measured = {f: float(len(f)) for f in files[::2]}  # some measured, some estimated
    for times in ({}, measured):
        plan = lanes.plan(files, times)
        assert sorted(plan["grading"] + plan["main"]) == files
        assert not set(plan["grading"]) & set(plan["main"])


def test_grading_engine_users_are_in_the_grading_lane_and_the_notebooks_in_main():
    """Does every file that calls the grading engine or autograde run in the grading lane, never beside it?"""
    files = lanes.test_files()
    users = [f for f in files if USES.search((ROOT / f).read_text())]
    assert "tests/engine/grading/test_labs_graded.py" in users and len(users) >= 4
    times = dict.fromkeys(files, 1.0)  # the lanes' times alone would spread them over both
    plan = lanes.plan(files, times)
    assert set(users) <= set(plan["grading"])
    assert "tests/test_notebooks.py" in plan["main"]


def _tree(tmp_path, files: dict[str, str]):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_graded_names_go_to_grading_and_free_files_balance_by_measured_time(tmp_path):
    """Grading files by folder, name or text; the free files go where the lanes' time is smallest."""
    root = _tree(
        tmp_path,
        {
            "tests/unit/labs/test_lab9_graded.py": "def test_a():\n    pass\n",
            "tests/engine/grading/test_plain.py": "def test_a():\n    pass\n",
            "tests/engine/test_uses.py": "from helpers.grading import course\ncourse.autograde('x')\n",
            "tests/test_notebooks.py": "",
            "tests/engine/test_big.py": "",
            "tests/engine/test_mid.py": "",
            "tests/unit/test_small.py": "",
        },
    )
    times = {
        "tests/test_notebooks.py": 100.0,
        "tests/unit/labs/test_lab9_graded.py": 30.0,
        "tests/engine/grading/test_plain.py": 5.0,
        "tests/engine/test_uses.py": 5.0,
        "tests/engine/test_big.py": 50.0,
        "tests/engine/test_mid.py": 20.0,
        "tests/unit/test_small.py": 5.0,
    }
    plan = lanes.plan(lanes.test_files(root), times, root)
    # grading 40 + big 50 = 90 < main 100, then mid goes to grading's 90 -> 110, small to main's 100
    assert plan["grading"] == [
        "tests/engine/grading/test_plain.py",
        "tests/engine/test_big.py",
        "tests/engine/test_mid.py",
        "tests/engine/test_uses.py",
        "tests/unit/labs/test_lab9_graded.py",
    ]
    assert plan["main"] == ["tests/test_notebooks.py", "tests/unit/test_small.py"]


def test_options_go_to_both_lanes_and_a_path_only_to_its_own():
    """Is `-k VALUE` an option even if VALUE names a path, and does each path run only in its lane?"""
    options, paths = lanes.split_args(["-q", "-k", "tests", "tests/unit/test_lanes.py::test_x", "-x", "nosuch"])
    assert options == ["-q", "-k", "tests", "-x", "nosuch"]
    assert paths == ["tests/unit/test_lanes.py::test_x"]
    plan = {"grading": ["tests/engine/grading/test_a.py", "tests/unit/test_b.py"], "main": ["tests/unit/test_lanes.py"]}
    chosen = lanes.targets(plan, ["tests/unit/test_lanes.py::test_x"])
    assert chosen == {"grading": [], "main": ["tests/unit/test_lanes.py::test_x"]}
    chosen = lanes.targets(plan, ["tests/unit"])
    assert chosen == {"grading": ["tests/unit/test_b.py"], "main": ["tests/unit/test_lanes.py"]}
    assert lanes.targets(plan, []) == plan


@pytest.mark.parametrize(
    "codes, expected",
    [([0, 0], 0), ([1, 0], 1), ([0, 2], 1), ([5, 0], 0), ([5, 5], 5), ([None, 1], 1), ([None, 0], 0)],
)
def test_exit_code(codes, expected):
    """Does a failing lane fail the run, and a lane that collected nothing (pytest's 5) not?"""
    assert lanes.exit_code(codes) == expected


CONFTEST = """
from timing import make_plugin
from helpers.paths import state_dir

def pytest_configure(config):
    config.pluginmanager.register(make_plugin(state_dir(create=False)), "course-timing")
"""

SLOW_FAILURE = "import time\n\ndef test_bad():\n    time.sleep(3)\n    assert 1 == 2\n"


def test_a_failing_lane_fails_the_run_and_both_reports_are_merged(tmp_path, monkeypatch, capsys):
    """One lane fails (slowly), the other passes: exit 1, both lanes' prefixed output and times, one last.json."""
    root = _tree(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "tests/conftest.py": CONFTEST,
            "tests/engine/grading/test_x_graded.py": SLOW_FAILURE,
            "tests/test_notebooks.py": "def test_ok():\n    pass\n\ndef test_ok_too():\n    pass\n",
        },
    )
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PYTHONPATH", f"{TESTS}:{ROOT}")
    monkeypatch.delenv("COURSE_TIMING_PHASES", raising=False)
    assert lanes.main(["-p", "no:cacheprovider"], root=root) == 1
    out = capsys.readouterr().out
    assert "[grading] " in out and "[main] " in out and "slowest 15 durations" in out
    said = re.search(r"lanes: grading exit 1 after (\d+) s, main exit 0 after (\d+) s", out)
    assert said and int(said[2]) < int(said[1]), "each lane's own time, not the time until the run ended"
    data = json.loads((tmp_path / "state" / "timing" / "last.json").read_text())
    assert data["tests"] == 3
    assert data["phases"]["grading"]["failed"] == 1 and data["phases"]["notebooks: other checks"]["passed"] == 2


def _alive_in_group(pgid: int) -> list[str]:
    """Processes of the group that still run (a zombie waiting for init to reap it has ended)."""
    rows = subprocess.run(["ps", "-eo", "pid=,pgid=,stat="], capture_output=True, text=True).stdout.splitlines()
    return [r for r in rows if r.split()[1] == str(pgid) and not r.split()[2].startswith("Z")]


def test_ctrl_c_ends_both_lanes_process_groups(monkeypatch):
    """Does the stop handler end each lane's whole group, grandchildren too, after the grace period?"""
    monkeypatch.setattr(lanes, "GRACE", 0.5)
    lock = threading.Lock()
    # a non-interactive shell's background child ignores SIGINT: only the group kill can end it
    script = "sleep 60 & echo started; wait"
    running = {name: lanes.Lane(name, ["sh", "-c", script], {}, lock, ROOT) for name in lanes.LANES}
    time.sleep(0.3)
    assert all(len(_alive_in_group(lane.proc.pid)) == 2 for lane in running.values())
    signals: list[int] = []
    lanes._stopper(running, signals)(signal.SIGTERM, None)
    assert signals == [signal.SIGTERM]
    t0 = time.monotonic()
    for lane in running.values():
        lane.wait()  # returns once the sleep, holding the output pipe, is gone too
    while any(_alive_in_group(lane.proc.pid) for lane in running.values()) and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    assert time.monotonic() - t0 < 10, [_alive_in_group(lane.proc.pid) for lane in running.values()]


def test_a_fresh_clone_plans_from_the_shipped_times_and_this_machine_overrides_them(tmp_path, monkeypatch):
    """With no measurements here, are the shipped seconds used; do this machine's override them; and does a whole
    run write back only what was measured here?"""
    shipped = tmp_path / "lane_times.json"
    shipped.write_text(json.dumps({"tests/a.py": 10.0, "tests/b.py": 20.0}))
    monkeypatch.setattr(lanes, "SHIPPED_TIMES", shipped)
    timing = tmp_path / "timing"
    timing.mkdir()
    assert lanes.remember_times(timing, whole_run=False) == {"tests/a.py": 10.0, "tests/b.py": 20.0}
    (timing / "last.json").write_text(json.dumps({"files": {"tests/b.py": 5.0}}))
    assert lanes.remember_times(timing, whole_run=True) == {"tests/a.py": 10.0, "tests/b.py": 5.0}
    assert json.loads((timing / lanes.FILE_TIMES).read_text()) == {"tests/b.py": 5.0}
    assert json.loads(lanes.SHIPPED_TIMES.read_text())["tests/b.py"] == 20.0


def test_shipped_times_name_existing_test_files():
    """Does every file of tests/lane_times.json still exist (a renamed file would silently fall back)?"""
    shipped = json.loads(lanes.SHIPPED_TIMES.read_text())
    assert shipped and all((lanes.ROOT / rel).is_file() for rel in shipped), [
        rel for rel in shipped if not (lanes.ROOT / rel).is_file()
    ]
