"""Runs INSIDE the grading sandbox (a throwaway container): execute one notebook, print the result.

Protocol: stdin is a tar stream holding the submission's files and the notebook to execute as
``__notebook__.ipynb``. The files are unpacked into the working directory (a size-limited tmpfs), the
notebook is executed with nbclient (errors allowed, each cell with a time limit), and the executed
notebook is written to the original stdout as one line prefixed with :data:`MARKER`.
The kernel's own stdout/stderr go to a log file, so student code
printing to the process streams cannot garble the result. Cells that never ran (dead kernel,
memory limit) get an error output, so the grader scores them as failing.

Authenticity: the tar also holds ``__key__``, a fresh random key kept in memory only (never written to
disk, argv or the environment, and read before the kernel starts). Each result line is
``MARKER + HMAC-SHA256(key, kind + payload) + " " + payload``; the trusted side accepts only a line
whose MAC verifies, so a line the kernel forges (on its cell outputs or by reopening this process's
stdout) is ignored. The kernel is a child of this process: under the usual ptrace rules (Yama's
``ptrace_scope=1``: only ancestors may attach) it cannot read this process's memory, and this process
also makes itself non-dumpable, so without ``CAP_SYS_PTRACE`` (every capability is dropped) the kernel
can open neither ``/proc/<pid>/mem`` nor ``/proc/<pid>/fd/*`` of it.

Hardening (:mod:`helpers.grading.kernelguard`): cells run one by one; each code cell's status from the
kernel's ``execute_reply`` is stored in ``cell.metadata["sandbox"]["status"]`` (the trusted side fails a
graded test cell whose status is not ``ok``), and before each graded test cell a guard undoes hooks a
solution cell may have installed to hide errors. The guard's own output is not stored.

This file is standard-library + nbclient only; it is not imported by the kit on the trusted side.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import tarfile
import tempfile

MARKER = "@@COURSE-SANDBOX-RESULT@@ "
KEY_MEMBER = "__key__"
_GUARD_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernelguard.py")


def sign(key: bytes, marker: str, payload: str) -> str:
    """One result line: ``marker``, the payload's MAC under ``key`` (bound to the marker), the payload."""
    mac = hmac.new(key, marker.encode() + b"\n" + payload.encode(), hashlib.sha256).hexdigest()
    return f"{marker}{mac} {payload}\n"


def _unpack(dest: str, stream=None) -> bytes:
    """Unpack the submission into ``dest``; return the result key (kept in memory, never on disk)."""
    key = b""
    with tarfile.open(fileobj=stream or sys.stdin.buffer, mode="r|") as tar:
        for member in tar:
            name = os.path.normpath(member.name)
            if name.startswith(("/", "..")) or not (member.isfile() or member.isdir()):
                continue  # the trusted side only sends plain files; refuse anything else
            if name == KEY_MEMBER and member.isfile():
                src = tar.extractfile(member)
                key = src.read(1024) if src else b""
                continue
            target = os.path.join(dest, name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            src = tar.extractfile(member)
            with open(target, "wb") as out:
                out.write(src.read() if src else b"")
    return key


def _fail_unexecuted(nb, reason: str) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None:
            cell.outputs = [
                {
                    "output_type": "error",
                    "ename": "SandboxError",
                    "evalue": reason,
                    "traceback": [f"SandboxError: {reason}"],
                }
            ]


def is_graded_test(cell) -> bool:
    """A cell nbgrader grades as a test: ``grade: true`` and ``solution: false``."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return isinstance(meta, dict) and meta.get("grade") is True and not meta.get("solution")


def _status(cell, status: str) -> None:
    cell.setdefault("metadata", {})["sandbox"] = {"status": status}


async def _silent(client, code: str, expressions: dict | None = None):
    """Run ``code`` in the kernel without storing anything in the notebook; the reply (None on timeout)."""
    from nbclient.util import ensure_async

    msg_id = await ensure_async(
        client.kc.execute(code, silent=True, store_history=False, user_expressions=expressions or {}, allow_stdin=False)
    )
    return await client.async_wait_for_reply(msg_id)


async def _guard(client, name: str, call: str = "run") -> bool:
    """Run the kernel guard (``run`` before a test cell, ``after`` it); True only if it ran and said so.

    The call goes as a *user expression* of an empty cell: IPython evaluates those without its input
    and AST transformers, so a transformer installed by a solution cell cannot rewrite the guard away.
    The guard answers with this call's nonce; a kernel that does not run it fails the test (fail closed).
    """
    nonce = secrets.token_hex(16)
    reply = await _silent(client, "", {"guard": f"__import__('sys').modules[{name!r}].{call}({nonce!r})"})
    content = (reply or {}).get("content", {})
    seen = content.get("user_expressions", {}).get("guard", {})
    return content.get("status") == "ok" and seen.get("data", {}).get("text/plain") == repr(nonce)


async def _install_guard(client, work: str) -> str:
    """Load :mod:`helpers.grading.kernelguard` into the fresh kernel (no student code ran yet); its module name.

    The kernel starts in an empty folder, so no submission file runs at its start (``ipykernel_launcher.py``
    shadowing the launcher, ``ipython_kernel_config.py`` read as config); it moves to ``work`` here.
    """
    name = f"_course_guard_{secrets.token_hex(8)}"
    with open(_GUARD_SOURCE) as f:
        source = f.read()
    code = (
        f"import sys as _s, types as _t, builtins as _b, os as _o\n_o.chdir({work!r})\n"
        f"_m = _t.ModuleType({name!r})\n"
        "_m.__dict__['__builtins__'] = dict(vars(_b))\n"
        f"exec(compile({source!r}, {name!r}, 'exec'), _m.__dict__)\n"
        f"_s.modules[{name!r}] = _m\n"
        "_m.install()\n"
        "del _s, _t, _b, _m, _o\n"
    )
    reply = await _silent(client, code)
    if (reply or {}).get("content", {}).get("status") != "ok":
        raise RuntimeError("the grading guard could not be installed in the kernel")
    return name


async def _execute_cells(client, nb, work: str) -> None:
    """Execute every cell in order (as nbclient does), guarding graded test cells and recording statuses."""
    from nbclient.util import ensure_async

    async with client.async_setup_kernel():
        info = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
        if info is not None and "language_info" in info["content"]:
            nb.metadata["language_info"] = info["content"]["language_info"]
        name = await _install_guard(client, work)
        for index, cell in enumerate(nb.cells):
            test = is_graded_test(cell) and cell.cell_type == "code" and cell.source.strip()
            if test and not await _guard(client, name):
                _status(cell, "guard-failed")
                continue  # not run: the trusted side scores it as failing
            await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            if test:
                await _guard(client, name, "after")


def execute(nb, work: str, cell_timeout: int = 60):
    """Execute ``nb`` in ``work`` with a fresh kernel; return it with outputs and per-cell statuses.

    Every code cell ends with ``metadata["sandbox"]["status"]``: the kernel's reply status (``ok``,
    ``error``, ``aborted``), ``timeout``, ``guard-failed`` (a test cell not run because the guard did not
    run), or ``not-run``. Cells that did not run also get an error output.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    for cell in nb.cells:
        if cell.cell_type == "code":  # whatever the submission said: nothing ran yet
            cell.outputs, cell.execution_count = [], None
            _status(cell, "not-run")

    start = tempfile.mkdtemp(prefix="kernel-start-")

    def on_executed(cell, cell_index, execute_reply):
        _status(cell, execute_reply["content"].get("status", "?") if execute_reply else "timeout")

    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": start}},  # an empty folder: see _install_guard
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "CellTimeoutError",
            "evalue": "the cell ran past its time limit",
            "traceback": ["CellTimeoutError: the cell ran past its time limit"],
        },
        on_cell_executed=on_executed,
    )
    try:
        asyncio.run(_execute_cells(client, nb, work))
    except DeadKernelError:
        _fail_unexecuted(nb, "the kernel died (memory limit, or the process was killed)")
    except Exception as e:  # noqa: BLE001  (any failure: the cells not run are scored as failing)
        _fail_unexecuted(nb, f"{type(e).__name__}: {e}"[:300])
    finally:
        shutil.rmtree(start, ignore_errors=True)
    _fail_unexecuted(nb, "this cell did not run")
    return nb


def _no_dumping() -> None:
    """Make this process non-dumpable: the kernel (same uid, no capabilities) cannot open its /proc files."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass  # not Linux: nothing to harden here (the sandbox always is)


def main() -> int:
    _no_dumping()
    work = os.getcwd()
    tmp = os.environ.get("SANDBOX_TMP", "/tmp")
    result_fd = os.dup(1)  # keep the real stdout for the result only (not inherited by the kernel)
    log = os.open(os.path.join(tmp, "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    key = _unpack(work)
    import nbformat

    nb_path = os.path.join(work, "__notebook__.ipynb")
    nb = nbformat.read(nb_path, as_version=4)
    os.remove(nb_path)
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    execute(nb, work, int(os.environ.get("SANDBOX_CELL_TIMEOUT", "60")))
    os.write(result_fd, sign(key, MARKER, json.dumps(nb)).encode())
    os.close(result_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
