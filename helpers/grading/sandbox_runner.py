"""Runs INSIDE the grading sandbox (a throwaway container): execute one notebook, print the result.

Protocol: stdin is a tar stream holding the submission's files, the notebook to execute as
``__notebook__.ipynb`` and, for engine labs, ``__facts__.json``. The files are unpacked into the
working directory (a size-limited tmpfs), the notebook is executed with nbclient (errors allowed,
each cell with a time limit), and the executed notebook is written to the original stdout as one
line prefixed with :data:`MARKER`, preceded by the trusted queries the notebook asked for (see
:mod:`helpers.grading.queries`) as one line prefixed with :data:`REQUESTS_MARKER` (a JSON string, size-limited).
The kernel's own stdout/stderr go to a log file, so student code
printing to the process streams cannot garble the result. Cells that never ran (dead kernel,
memory limit) get an error output, so the grader scores them as failing.

This file is standard-library + nbclient only; it is not imported by the kit on the trusted side.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile

MARKER = "@@COURSE-SANDBOX-RESULT@@ "
REQUESTS_MARKER = "@@COURSE-SANDBOX-REQUESTS@@ "
MAX_REQUEST_BYTES = 256 * 1024


def _unpack(dest: str) -> None:
    with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as tar:
        for member in tar:
            name = os.path.normpath(member.name)
            if name.startswith(("/", "..")) or not (member.isfile() or member.isdir()):
                continue  # the trusted side only sends plain files; refuse anything else
            target = os.path.join(dest, name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            src = tar.extractfile(member)
            with open(target, "wb") as out:
                out.write(src.read() if src else b"")


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


def main() -> int:
    work = os.getcwd()
    result_fd = os.dup(1)  # keep the real stdout for the result only
    log = os.open(os.path.join("/tmp", "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    _unpack(work)
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb_path = os.path.join(work, "__notebook__.ipynb")
    nb = nbformat.read(nb_path, as_version=4)
    os.remove(nb_path)
    facts = os.path.join(work, "__facts__.json")
    requests = os.path.join("/tmp", "grading-requests.jsonl")
    if os.path.exists(facts):
        os.environ["GRADING_FACTS"] = facts
        os.environ["GRADING_REQUESTS"] = requests
        with open(facts) as f:
            if json.load(f).get("final"):
                os.environ["GRADING_FINAL_ROUND"] = "1"
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    client = NotebookClient(
        nb,
        timeout=int(os.environ.get("SANDBOX_CELL_TIMEOUT", "60")),
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": work}},
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "CellTimeoutError",
            "evalue": "the cell ran past its time limit",
            "traceback": ["CellTimeoutError: the cell ran past its time limit"],
        },
    )
    try:
        client.execute()
    except DeadKernelError:
        _fail_unexecuted(nb, "the kernel died (memory limit, or the process was killed)")
    except Exception as e:  # noqa: BLE001  (any failure: the cells not run are scored as failing)
        _fail_unexecuted(nb, f"{type(e).__name__}: {e}"[:300])
    _fail_unexecuted(nb, "this cell did not run")
    if os.path.exists(requests):
        with open(requests, "rb") as f:
            asked = f.read(MAX_REQUEST_BYTES + 1)
        os.write(result_fd, (REQUESTS_MARKER + json.dumps(asked.decode("utf-8", errors="replace")) + "\n").encode())
    os.write(result_fd, (MARKER + json.dumps(nb) + "\n").encode())
    os.close(result_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
