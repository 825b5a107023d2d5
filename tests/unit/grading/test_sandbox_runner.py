"""The sandbox runner against hostile notebooks, without Docker: a real kernel from this venv.

Each hostile notebook installs, in a solution cell, a hook that would make a failing test cell look
passed. The runner must record that test as failed (an error, or a non-``ok`` status that the
trusted side turns into one) while the honest test cells still pass. The last tests run the runner
as a process with the real stdin/stdout protocol, to show a forged result line is never accepted.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import nbformat
import pytest
from ci_rules import unavailable
from nbformat.v4 import new_code_cell, new_notebook

import helpers
from helpers.grading import sandbox_runner
from helpers.grading.sandbox import MARKER, _read_output, _tar_input, merge_outputs

ROOT = Path(helpers.__file__).resolve().parent.parent


def _test(source: str, grade_id: str) -> nbformat.NotebookNode:
    meta = {"nbgrader": {"grade": True, "solution": False, "points": 1, "grade_id": grade_id}}
    return new_code_cell(source, metadata=meta)


FAILING = "assert add(1, 2) == 4, 'wrong on purpose'\ndone = True"


def _notebook(hostile: str, failing: str = FAILING) -> nbformat.NotebookNode:
    """Honest test, hostile solution cell, a failing test, then an honest test that must still pass."""
    return new_notebook(
        cells=[
            new_code_cell("def add(a, b):\n    return a + b", metadata={"nbgrader": {"solution": True}}),
            _test("assert add(1, 2) == 3", "honest_before"),
            new_code_cell(hostile, metadata={"nbgrader": {"solution": True}}),
            _test(failing, "failing"),
            _test("assert add(2, 2) == 4\nassert len([1]) == 1", "honest_after"),
        ]
    )


def _verdicts(executed: nbformat.NotebookNode, trusted: nbformat.NotebookNode) -> dict[str, bool]:
    """grade_id -> passed, as nbgrader decides it (no error output) on the trusted side's merge."""
    merged = merge_outputs(trusted, executed)
    return {
        c.metadata["nbgrader"]["grade_id"]: not any(o["output_type"] == "error" for o in c.outputs)
        for c in merged.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


HOSTILE = {
    "custom_exc": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
    "custom_exc_and_result": (
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
        "def _clear(result):\n    result.error_in_exec = None\n    result.error_before_exec = None\n"
        "get_ipython().events.register('post_run_cell', _clear)"
    ),
    "input_transformer": (
        "def _to_pass(lines):\n    return ['pass\\n'] if any('assert' in ln for ln in lines) else lines\n"
        "get_ipython().input_transformers_post.append(_to_pass)"
    ),
    "cleanup_transformer": (
        "get_ipython().input_transformers_cleanup.append("
        "lambda lines: ['pass\\n'] if any('assert' in ln for ln in lines) else lines)"
    ),
    "ast_transformer": (
        "import ast\nclass _NoAssert(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(_NoAssert())"
    ),
    "excepthook": "import sys\nsys.excepthook = lambda *a: None",
    "builtins": (
        "import builtins\nclass _Never(Exception):\n    pass\n"
        "builtins.AssertionError = _Never\nbuiltins.print = lambda *a, **k: None\n"
        "builtins.abs = lambda x, _abs=abs: 4 if x == 3 else _abs(x)\n"
        "builtins.len = lambda x, _len=len: 2 if type(x) is list and x == [1] else _len(x)"
    ),
    "shadow_globals": "len = lambda x: 2\nisinstance = lambda *a: True\nprint(len([1]))",
    "run_cell_patched": (
        "ip = get_ipython()\n_orig = ip.showtraceback\nip.showtraceback = lambda *a, **k: None\n"
        "type(ip)._showtraceback = lambda *a, **k: None"
    ),
}
#: Failing tests that the hook would turn into passes (the others use :data:`FAILING`).
FAILING_FOR = {
    "builtins": "assert abs(add(1, 2)) == 4\ndone = True",
    "shadow_globals": "assert isinstance(add(1, 2), str)\ndone = True",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_hook_does_not_hide_a_failing_test(name, tmp_path):
    """Is the failing test scored failed, and do the honest tests before and after still pass?"""
    trusted = _notebook(HOSTILE[name], FAILING_FOR.get(name, FAILING))
    executed = sandbox_runner.execute(nbformat.from_dict(trusted), str(tmp_path), cell_timeout=15)
    got = _verdicts(executed, trusted)
    assert got == {"honest_before": True, "failing": False, "honest_after": True}, (name, executed.cells[3])


def test_statuses_come_from_the_kernel_reply(tmp_path):
    """Does every code cell carry the kernel's reply status, even one whose error output was swallowed?"""
    nb = _notebook(HOSTILE["custom_exc_and_result"])
    nb.cells[1].metadata["sandbox"] = {"status": "ok"}  # what a submission may claim: overwritten
    nb.cells.append(_test("raise SystemExit", "exits"))
    executed = sandbox_runner.execute(nb, str(tmp_path), cell_timeout=15)
    statuses = [c.metadata["sandbox"]["status"] for c in executed.cells]
    assert statuses[:3] == ["ok", "ok", "ok"] and statuses[3] == "error"


def test_a_guard_that_cannot_run_fails_the_test(tmp_path):
    """If the student breaks what the guard needs (``__import__``), is the next test failed, not passed?"""
    trusted = _notebook("import builtins\nbuiltins.__import__ = None")
    executed = sandbox_runner.execute(nbformat.from_dict(trusted), str(tmp_path), cell_timeout=15)
    got = _verdicts(executed, trusted)
    assert got["honest_before"] and not got["failing"]
    assert executed.cells[3].metadata["sandbox"]["status"] == "guard-failed"


def test_submission_files_do_not_run_at_kernel_start(tmp_path):
    """Do a shadowing ``ipykernel_launcher.py`` and an ``ipython_kernel_config.py`` stay unused (before the guard)?"""
    hook = "import builtins\nbuiltins.HIJACKED = True\n"
    launcher = "from ipykernel import kernelapp\nkernelapp.launch_new_instance()\n"
    (tmp_path / "ipykernel_launcher.py").write_text(hook + launcher)
    (tmp_path / "ipython_kernel_config.py").write_text(hook)
    (tmp_path / "mymod.py").write_text("X = 42\n")
    check = "import builtins, os, mymod\nassert not hasattr(builtins, 'HIJACKED')\nassert os.getcwd() == {!r}\n"
    nb = new_notebook(cells=[_test(check.format(str(tmp_path)) + "assert mymod.X == 42", "t")])
    executed = sandbox_runner.execute(nb, str(tmp_path), cell_timeout=15)
    assert executed.cells[0].metadata["sandbox"]["status"] == "ok", executed.cells[0].outputs


def test_the_guard_output_is_not_stored(tmp_path):
    """Do test cells keep only their own outputs (nothing printed by the guard)?"""
    nb = new_notebook(cells=[_test("print('mine')", "t")])
    executed = sandbox_runner.execute(nb, str(tmp_path), cell_timeout=15)
    assert [o.get("text") for o in executed.cells[0].outputs] == ["mine\n"]


def _without_ptrace() -> list[str] | None:
    """A prefix that runs the runner without CAP_SYS_PTRACE, as in the sandbox (None: cannot here)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace"] if setpriv else None


def _run_runner(nb, tmp_path: Path, key: bytes) -> bytes:
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SANDBOX_TMP": str(tmp), "SANDBOX_CELL_TIMEOUT": "30"}
    proc = subprocess.run(
        [*(_without_ptrace() or []), sys.executable, "-m", "helpers.grading.sandbox_runner"],
        input=_tar_input(nb, None, key),
        cwd=work,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


FORGE = (
    "import json, os\n"
    "nb = {'cells': [], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}\n"
    f"line = {MARKER!r} + '0' * 64 + ' ' + json.dumps(nb) + '\\n'\n"
    "print(line)\n"
    "for fd in ('1', '3', '4', '5'):\n"
    "    try:\n"
    "        with open(f'/proc/{os.getppid()}/fd/{fd}', 'w') as f:\n"
    "            f.write(line)\n"
    "        print('WROTE', fd)\n"
    "    except OSError as e:\n"
    "        print('refused', fd, e.errno)\n"
)


def test_forged_result_lines_are_ignored(tmp_path):
    """A cell prints a fake result line and writes one to the runner's stdout via /proc: is only the real one read?"""
    trusted = _notebook(FORGE)
    key = os.urandom(32)
    raw = _run_runner(trusted, tmp_path, key)
    executed = _read_output(raw, key)
    assert executed is not None and len(executed.cells) == len(trusted.cells)
    assert _verdicts(executed, trusted) == {"honest_before": True, "failing": False, "honest_after": True}
    text = "".join(o.get("text", "") for o in executed.cells[2].outputs)
    if _without_ptrace() is None:
        unavailable("running the runner without CAP_SYS_PTRACE, as in the sandbox, needs root and setpriv")
    # the runner is not dumpable: its /proc fds are closed to the kernel
    assert "WROTE" not in text and "refused 1 13" in text, text


def test_a_result_without_the_key_is_refused(tmp_path):
    """Is a result line signed with another key (or unsigned) rejected, leaving no notebook?"""
    trusted = new_notebook(cells=[_test("assert True", "t")])
    raw = _run_runner(trusted, tmp_path, b"k" * 32)
    assert _read_output(raw, b"k" * 32) is not None
    assert _read_output(raw, b"x" * 32) is None
    unsigned = (MARKER + nbformat.writes(trusted).replace("\n", "") + "\n").encode()
    assert _read_output(unsigned, b"k" * 32) is None


def test_the_key_never_reaches_the_work_folder(tmp_path):
    """Is ``__key__`` kept in memory (not unpacked), a student's own ``__key__`` file never sent, and does the
    sandbox get nothing but the key, the notebook and the submission's files (no facts, nothing of the grader)?"""
    files = tmp_path / "files"
    files.mkdir()
    (files / "__key__").write_bytes(b"student")
    (files / "data.txt").write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    payload = _tar_input(new_notebook(), files, b"k" * 32)
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        assert sorted(tar.getnames()) == ["__key__", "__notebook__.ipynb", "data.txt"]
    key = sandbox_runner._unpack(str(out), io.BytesIO(payload))
    assert key == b"k" * 32
    assert sorted(p.name for p in out.iterdir()) == ["__notebook__.ipynb", "data.txt"]


def test_merge_fails_a_test_whose_reply_was_not_ok():
    """A graded test with no error output but status error, or no status: is it failed on the trusted side?"""
    trusted = new_notebook(cells=[_test("assert f()", "a"), _test("assert g()", "b"), _test("assert h()", "c")])
    executed = nbformat.from_dict(trusted)
    for cell, status in zip(executed.cells, ("error", None, "ok")):
        cell.execution_count = 1
        if status:
            cell.metadata["sandbox"] = {"status": status}
    assert _verdicts(executed, trusted) == {"a": False, "b": False, "c": True}


@pytest.mark.parametrize(
    "hostile",
    [
        "import os\ndel os.environ['NBGRADER_EXECUTION']\nos.environ.pop('COURSE_ID')\nos.environ['COURSE_X'] = '1'",
        "import os\nos.environ = {}\nos.getenv = lambda *a, **k: None",
    ],
)
def test_kit_environment_is_put_back_before_tests(hostile, tmp_path, monkeypatch):
    """Does a test cell see the grader's variables, whatever a solution cell did to os.environ?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("COURSE_ID", "graded-course")
    check = (
        "import os\nassert os.environ.get('NBGRADER_EXECUTION') == 'autograde'\n"
        "assert os.getenv('COURSE_ID') == 'graded-course' and 'COURSE_X' not in os.environ"
    )
    trusted = _notebook(hostile, check)
    executed = sandbox_runner.execute(nbformat.from_dict(trusted), str(tmp_path), cell_timeout=15)
    assert _verdicts(executed, trusted) == {"honest_before": True, "failing": True, "honest_after": True}
