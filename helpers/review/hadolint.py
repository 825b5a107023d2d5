"""hadolint's findings on a Dockerfile, as :class:`~helpers.review.findings.Finding` records.

Runs the ``hadolint`` binary (found through :mod:`helpers.engine.tools`) on the text and adds,
for the codes students meet most, a one-line fix in the course's words.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from helpers.engine.tools import require_tool
from helpers.review.findings import Finding

__all__ = ["hadolint_findings"]

_HADOLINT_FIX = {
    "DL1000": "hadolint could not parse this file (the course parser could): its findings are missing here.",
    "DL3002": "Switch to a non-root USER at the end of the final stage.",
    "DL3003": "Use WORKDIR instead of `cd`.",
    "DL3006": "Tag the base image (python:3.12-slim).",
    "DL3007": "Pin a real version instead of latest.",
    "DL3008": "Pin apt packages (`pkg=1.2.3-1`), or accept the trade-off knowingly.",
    "DL3009": "Add `&& rm -rf /var/lib/apt/lists/*` to the same RUN.",
    "DL3013": "Pin pip packages, or install from a pinned requirements.txt.",
    "DL3015": "Add `--no-install-recommends` to apt-get install.",
    "DL3020": "Use COPY for local files; ADD only for URLs and archives.",
    "DL3025": 'Use the JSON form: CMD ["python", "app.py"] (signals reach the app).',
    "DL3042": "Use `pip install --no-cache-dir`.",
    "DL3059": "Join consecutive RUN instructions with &&.",
    "DL3066": "Use a numeric USER (10001) so Kubernetes' runAsNonRoot can check it.",
    "DL4006": 'Add `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` before a RUN with a pipe.',
}


def hadolint_findings(text: str, timeout: int = 60) -> list[Finding]:
    """Run ``hadolint --format json`` on Dockerfile text.

    Args:
        text: The Dockerfile's contents.
        timeout: Seconds hadolint may take.

    Returns:
        One :class:`Finding` per hadolint result (source "hadolint").

    Raises:
        ToolMissing: hadolint is not installed.
    """
    with tempfile.TemporaryDirectory(prefix="course-review-") as tmp:
        path = Path(tmp) / "Dockerfile"
        path.write_text(text, encoding="utf-8")
        proc = subprocess.run(
            [require_tool("hadolint").path, "--no-fail", "--format", "json", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    try:
        raw = json.loads(proc.stdout or "[]")
    except ValueError:
        raw = []
    return [
        Finding(
            r["code"],
            int(r.get("line", 0)),
            r.get("level", "warning"),
            r["message"].splitlines()[0],
            _HADOLINT_FIX.get(r["code"], f"See https://github.com/hadolint/hadolint/wiki/{r['code']}"),
            "hadolint",
        )
        for r in raw
    ]
