"""Sandboxed autograding: student notebooks run in throwaway, locked-down containers.

Design (details in docs/INSTRUCTOR.md): nbgrader's ``autograde`` runs on the trusted side and
keeps the gradebook there. Its ``Execute`` step is replaced by :class:`SandboxExecute`, which
sends the sanitized notebook (test cells already restored from the gradebook) and that one
submission's files into a container (not root, no network, CPU/memory/pids/time limits,
read-only root, every capability dropped, no-new-privileges, a small tmpfs as the only
writable place), and takes back only the cells' outputs. Cells that did not run are scored as
failing; nothing from the sandbox can change which tests run.

The result is authenticated: each run's fresh random key goes in the input tar (never argv or the
environment), and only a result line whose HMAC verifies under it is read (a forged line is ignored).
A graded test cell whose kernel reply was not ``ok``, that did not run, or that the kernel guard could
not protect gets an error output here, so nbgrader scores it 0 (see :mod:`helpers.grading.sandbox_runner`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import kit_labels
from helpers.errors import CourseError
from helpers.grading.sandbox_image import IMAGE_ENV, grader_image

__all__ = [
    "SandboxLimits",
    "SandboxResult",
    "sandbox_command",
    "run_in_sandbox",
    "merge_outputs",
]

MARKER = "@@COURSE-SANDBOX-RESULT@@ "
MAX_RESULT_BYTES = 64 * 1024 * 1024
KEY_MEMBER = "__key__"
_RESERVED = frozenset({"__notebook__.ipynb", KEY_MEMBER})


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandbox run (defaults fit the course labs on a 2-core machine).

    Attributes:
        memory: Memory limit (``docker run --memory``), swap included.
        cpus: CPU share (``--cpus``).
        pids: Most processes at once (``--pids-limit``): a fork bomb stops here.
        disk: Size of the writable tmpfs holding the submission (``/work``); ``/tmp`` gets the same.
        timeout: Seconds for the whole notebook before the container is killed.
        cell_timeout: Seconds per cell before the kernel is interrupted.
        network: ``none`` (default) or a network name for labs that need one.
        user: uid:gid the student code runs as (never root).
    """

    memory: str = "768m"
    cpus: float = 1.0
    pids: int = 128
    disk: str = "64m"
    timeout: int = 300
    cell_timeout: int = 60
    network: str = "none"
    user: str = "1000:1000"

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> SandboxLimits:
        """Limits from a lab's ``grading.yml`` ``sandbox:`` section (unknown keys are an error)."""
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise CourseError(
                f"Unknown sandbox settings: {', '.join(sorted(unknown))}.",
                f"Use only: {', '.join(cls.__dataclass_fields__)}.",
            )
        return cls(**spec)


@dataclass
class SandboxResult:
    """What came back from one sandbox run."""

    notebook: Any
    seconds: float
    exit_code: int | None
    timed_out: bool = False
    error: str = ""
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def sandbox_command(image: str, name: str, limits: SandboxLimits, docker: str = "docker") -> list[str]:
    """The ``docker run`` command line of one sandbox (pure: no engine needed)."""
    tmp_size = limits.disk
    cmd = [
        docker,
        "run",
        "--rm",
        "-i",
        "--name",
        name,
        "--network",
        limits.network,
        "--memory",
        limits.memory,
        "--memory-swap",
        limits.memory,
        "--cpus",
        str(limits.cpus),
        "--pids-limit",
        str(limits.pids),
        "--ulimit",
        "nofile=1024:1024",
        "--read-only",
        "--tmpfs",
        f"/work:rw,exec,size={limits.disk},uid=1000,gid=1000,mode=0700",
        "--tmpfs",
        f"/tmp:rw,size={tmp_size},mode=1777",
        "--shm-size",
        "8m",
        "--user",
        limits.user,
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "-e",
        f"SANDBOX_CELL_TIMEOUT={limits.cell_timeout}",
    ]
    for k, v in kit_labels("grading").items():
        cmd += ["--label", f"{k}={v}"]
    return cmd + [image]


def _tar_input(nb: Any, files_dir: Path | None, key: bytes = b"") -> bytes:
    import nbformat

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        if files_dir and files_dir.is_dir():
            for p in sorted(files_dir.rglob("*")):
                if p.is_symlink() or not p.is_file() or p.suffix == ".ipynb" or "__pycache__" in p.parts:
                    continue  # only plain files; other notebooks of the submission are graded on their own
                if str(p.relative_to(files_dir)) in _RESERVED:
                    continue  # the protocol's own names (a student's ``__key__`` would replace the key)
                tar.add(p, arcname=str(p.relative_to(files_dir)), recursive=False)
        for name, data in (
            (KEY_MEMBER, key or None),
            ("__notebook__.ipynb", nbformat.writes(nb).encode()),
        ):
            if data is None:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def run_in_sandbox(
    nb: Any,
    files_dir: str | os.PathLike[str] | None = None,
    limits: SandboxLimits | None = None,
    image: str | None = None,
    client: Any = None,
) -> SandboxResult:
    """Execute a notebook in a throwaway container and return it executed.

    Args:
        nb: The notebook (nbformat node), already sanitized by nbgrader.
        files_dir: The submission's folder; its plain files are copied in (nothing is mounted).
        limits: :class:`SandboxLimits` (defaults when None).
        image: Sandbox image (default :func:`grader_image`).

    Returns:
        A :class:`SandboxResult`; on any failure ``error`` says what and every cell that did not
        run carries an error output (so it is scored as failing). Never raises for student faults.
    """
    limits = limits or SandboxLimits()
    image = image or os.environ.get(IMAGE_ENV) or grader_image(client=client)
    name = f"course-sandbox-{uuid.uuid4().hex[:10]}"
    key = secrets.token_bytes(32)  # this run's result key: only this run's sandbox knows it
    payload = _tar_input(nb, Path(files_dir) if files_dir else None, key)
    start = time.monotonic()
    raw, size, code, timed_out, log_tail = _run_container(sandbox_command(image, name, limits), name, payload, limits)
    seconds = time.monotonic() - start
    executed, error = None, ""
    if timed_out:
        error = f"the notebook ran past {limits.timeout} s and was stopped"
    elif size > MAX_RESULT_BYTES:
        error = "the notebook's output is too large"
    else:
        executed = _read_output(raw, key)
        if executed is None:
            error = (
                f"the sandbox returned no authentic result (exit code {code}; memory limit {limits.memory}?, "
                "or the notebook's code tampered with the grader): every cell is scored as failing"
            )
    merged = merge_outputs(nb, executed, error)
    return SandboxResult(merged, seconds, code, timed_out, error, log_tail)


def _run_container(
    cmd: list[str], name: str, payload: bytes, limits: SandboxLimits
) -> tuple[bytes, int, int | None, bool, str]:
    """Run the sandbox, feeding it ``payload``: (stdout up to the limit, its size, exit code, timed out, log tail)."""
    timed_out = False
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=err)
        try:
            proc.communicate(payload, timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
            proc.kill()
            proc.wait()
        size = out.tell()
        out.seek(0)
        raw = out.read(MAX_RESULT_BYTES) if size <= MAX_RESULT_BYTES else b""
        err.seek(0)
        log_tail = err.read()[-2000:].decode(errors="replace")
    return raw, size, proc.returncode, timed_out, log_tail


def _verified(lines: list[str], marker: str, key: bytes) -> str | None:
    """The payload of the last ``marker`` line whose MAC verifies under ``key`` (forged lines: ignored)."""
    for ln in reversed(lines):
        if not ln.startswith(marker):
            continue
        mac, _, payload = ln[len(marker) :].partition(" ")
        want = hmac.new(key, marker.encode() + b"\n" + payload.encode(), hashlib.sha256).hexdigest()
        if key and hmac.compare_digest(mac.encode(), want.encode()):
            return payload
    return None


def _read_output(raw: bytes, key: bytes) -> Any:
    """The executed notebook from the sandbox's output (None when garbled or not authentic).

    Only a line signed with this run's ``key`` counts. Untrusted even then (the student's code ran in
    there): only its cells' outputs are taken (:func:`merge_outputs`).
    """
    import nbformat

    line = _verified(raw.decode(errors="replace").splitlines(), MARKER, key)
    try:
        return nbformat.reads(line, as_version=4) if line else None
    except Exception:  # noqa: BLE001  (garbage from the sandbox)
        return None


def merge_outputs(nb: Any, executed: Any, error: str = "") -> Any:
    """Copy outputs from the executed notebook onto the trusted one, cell by cell.

    Sources and metadata always come from ``nb``: if the cells do not line up (the sandbox
    changed them) nothing is taken. Code cells without an execution count get an error output, and
    so does every graded test cell (``grade: true``, ``solution: false`` in ``nb``) whose status from
    the kernel's reply (``metadata["sandbox"]["status"]``, recorded by the runner) is not ``ok``.
    """
    import copy

    import nbformat

    out = copy.deepcopy(nb)
    if executed is not None and (
        len(executed.cells) != len(out.cells)
        or any(a.source != b.source or a.cell_type != b.cell_type for a, b in zip(out.cells, executed.cells))
    ):
        executed, error = None, error or "the notebook came back with different cells"
    for i, cell in enumerate(out.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue  # nbclient does not run empty cells
        done = executed.cells[i] if executed is not None else None
        status = _status(done)
        if done is not None and done.get("execution_count") is not None:
            cell.outputs, cell.execution_count = done.outputs, done.execution_count
            hidden = not any(o.get("output_type") == "error" for o in cell.outputs)
            if _is_graded_test(cell) and status != "ok" and hidden:
                cell.outputs = [*cell.outputs, _error(f"the kernel reported this test as {status!r}: scored as failed")]
        else:
            why = "the kernel guard could not run before this test" if status == "guard-failed" else ""
            cell.execution_count, cell.outputs = None, [_error(error or why or "this cell did not run")]
    return nbformat.from_dict(out)


def _error(reason: str) -> dict[str, Any]:
    return {"output_type": "error", "ename": "SandboxError", "evalue": reason, "traceback": [f"SandboxError: {reason}"]}


def _is_graded_test(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader")
    return isinstance(meta, Mapping) and meta.get("grade") is True and not meta.get("solution")


def _status(cell: Any) -> str:
    """The runner's record of the kernel's reply for ``cell`` (``missing`` when there is none)."""
    meta = cell.get("metadata", {}).get("sandbox") if cell is not None else None
    status = meta.get("status") if isinstance(meta, Mapping) else None
    return status if isinstance(status, str) else "missing"
