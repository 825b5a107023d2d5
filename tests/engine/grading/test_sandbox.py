"""Hostile submissions: each is contained and scored as failing, and the others are graded correctly."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from course_fixture import make_course, scores
from students import Student

from helpers.grading import course
from helpers.grading.sandbox import SandboxLimits, sandbox_command

pytestmark = [pytest.mark.engine, pytest.mark.slow]

GOOD = {"add": "def add(a, b):\n    return a + b", "greet": 'def greet(name):\n    return f"hello {name}"'}


def hostile(dirs) -> dict[str, dict[str, str]]:
    gradebook = dirs.root / "gradebook.db"
    escape = dirs.root / "ESCAPED"
    return {
        "reader": {
            "add": "import glob, os\n"
            "found = glob.glob('/*/gradebook.db') + glob.glob('/*/*/gradebook.db') + "
            f"[p for p in ['{gradebook}', '../../gradebook.db', '../gradebook.db'] if os.path.exists(p)]\n"
            "def add(a, b):\n    return open(found[0], 'rb').read()"
        },
        "writer": {
            "add": f"for p in ['{escape}', '../../ESCAPED', '/ESCAPED', '/home/ESCAPED']:\n"
            "    try:\n        open(p, 'w').write('x')\n    except OSError:\n        pass\n"
            f"def add(a, b):\n    open('{escape}', 'w').write('x')\n    return a + b"
        },
        "looper": {"add": "while True:\n    pass\ndef add(a, b):\n    return a + b"},
        "filler": {
            "add": "import os\ndef add(a, b):\n    with open('big.bin', 'wb') as f:\n"
            "        while True:\n            f.write(os.urandom(1 << 20))\n    return a + b"
        },
        "forker": {
            "add": "import os, time\ndef add(a, b):\n    while True:\n        if os.fork() == 0:\n"
            "            time.sleep(3600)\n            os._exit(0)"
        },
    }


#: Wrong ``add`` (both add tests fail) behind a hook that hides failing tests; ``greet`` honest (1 point).
SWALLOWERS = {
    "swallower": {
        "add": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\ndef add(a, b):\n    return a - b",
        "greet": GOOD["greet"],
    },
    "rewriter": {
        "add": "def _no_asserts(lines):\n    return ['pass\\n'] if any('assert' in ln for ln in lines) else lines\n"
        "get_ipython().input_transformers_post.append(_no_asserts)\n"
        "def add(a, b):\n    return a - b",
        "greet": GOOD["greet"],
    },
}


@pytest.fixture(scope="module")
def graded(engine):
    dirs, base = make_course(("ps1",))
    homes = base / "homes"
    answers = {"good1": GOOD, "good2": GOOD, **hostile(dirs), **SWALLOWERS}
    for sid, ans in answers.items():
        s = Student(sid, homes, dirs.exchange)
        s.fetch("ps1")
        s.answer("ps1", ans)
        assert s.submit("ps1").returncode == 0
    assert course.collect("ps1", dirs)["ok"].iloc[0]
    result = course.autograde("ps1", dirs=dirs)
    yield dirs, result
    shutil.rmtree(base, ignore_errors=True)


def test_hostile_submissions_score_zero_and_good_ones_full(graded):
    """Is every hostile submission scored as failing while the good ones get every point?"""
    dirs, result = graded
    assert result["ok"].all(), result.to_string()
    got = scores(dirs, "ps1")
    assert got["good1"] == got["good2"] == 4.0
    for sid in ("reader", "writer", "looper", "filler", "forker"):
        assert got[sid] == 0.0, (sid, got)


def test_hooks_that_hide_errors_do_not_earn_points(graded):
    """Does a custom exception handler or input transformer leave the failing add tests at 0 (greet: 1 point)?"""
    dirs, _ = graded
    got = scores(dirs, "ps1")
    assert got["swallower"] == got["rewriter"] == 1.0, got


def test_nothing_escaped_the_sandbox(graded):
    """Did no submission write outside its own folder on the host?"""
    dirs, _ = graded
    assert not (dirs.root / "ESCAPED").exists()
    assert not list(dirs.root.parent.rglob("ESCAPED"))
    assert not list((dirs.root / "autograded").rglob("big.bin"))


def test_gradebook_was_not_readable(graded):
    """Did the reader's code fail to find the gradebook (so its test cells errored)?"""
    dirs, _ = graded
    text = (dirs.root / "autograded" / "reader" / "ps1" / "ps1.ipynb").read_text()
    assert "IndexError" in text or "FileNotFoundError" in text


def test_the_loop_and_the_fork_bomb_were_stopped(graded):
    """Were the endless loop interrupted by the cell limit and the fork bomb held by the pids limit?"""
    dirs, result = graded
    loop = (dirs.root / "autograded" / "looper" / "ps1" / "ps1.ipynb").read_text()
    assert "CellTimeoutError" in loop or "KeyboardInterrupt" in loop or "SandboxError" in loop
    fork = (dirs.root / "autograded" / "forker" / "ps1" / "ps1.ipynb").read_text()
    assert any(
        w in fork for w in ("BlockingIOError", "Resource temporarily unavailable", "SandboxError", "CellTimeoutError")
    )
    secs = dict(zip(result["student"], result["seconds"]))
    assert secs["looper"] < 120 and secs["forker"] < 120


def test_the_sandbox_really_has_its_limits(engine):
    """Does a container started with the sandbox's command line run as non-root, offline, read-only?"""
    from helpers.grading.sandbox_image import grader_image

    cmd = sandbox_command(grader_image(), "course-sandbox-probe", SandboxLimits())
    i = cmd.index(cmd[-1])
    probe = (
        "import os, socket\nprint(os.getuid())\n"
        "try:\n    open('/etc/x', 'w')\nexcept OSError as e:\n    print('ro', e.errno)\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\nexcept OSError:\n    print('offline')\n"
        "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])"
    )
    out = subprocess.run(
        cmd[:i] + [cmd[i], "python", "-c", probe], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    lines = out.stdout.split()
    assert lines[0] == "1000" and "ro" in lines and "offline" in lines and lines[-1] == "0000000000000000", out
