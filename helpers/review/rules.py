"""Best-practice review of a Dockerfile: hadolint's findings plus the course's own rules.

The course rules (``CR0xx``) cover what hadolint does not look at, or looks at without the
"why" a student needs: the final stage running as root, source copied before dependencies
are installed, build tools left in the final image, a missing or thin ``.dockerignore``,
secrets in ENV/ARG, an unpinned base image, no HEALTHCHECK, pip's cache and apt lists left
in layers. Where hadolint already reports the same thing on the same line, the course rule
is left out.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from helpers.engine.tools import require_tool
from helpers.review.dockerfile import Dockerfile, parse_dockerfile, read_dockerfile

__all__ = ["Finding", "COURSE_RULES", "review_dockerfile", "course_findings", "hadolint_findings", "findings_frame"]

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "style": 3}


@dataclass
class Finding:
    """One finding: rule id, 1-based line (0: the whole file), severity, one-line message, the fix."""

    rule: str
    line: int
    severity: str
    message: str
    fix: str
    source: str = "course"


#: rule id -> (severity, message, fix, hadolint codes that say the same)
COURSE_RULES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "CR001": (
        "warning",
        "The final stage runs as root (no USER after its FROM).",
        "Create a user (`RUN useradd -r app`) and add `USER app` before CMD.",
        ("DL3002",),
    ),
    "CR002": (
        "warning",
        "The source is copied before the dependencies are installed: any code change re-runs the install.",
        "COPY requirements.txt first, RUN pip install, then COPY the rest.",
        (),
    ),
    "CR003": (
        "warning",
        "Build tools (compilers, -dev headers) stay in the final image.",
        "Compile in a builder stage and COPY --from=builder only the results (wheels or a venv).",
        (),
    ),
    "CR004": (
        "warning",
        "No .dockerignore, or one that does not exclude .git, caches and virtualenvs.",
        "Add a .dockerignore with at least: .git, __pycache__, *.pyc, .venv, .env.",
        (),
    ),
    "CR005": (
        "error",
        "A secret is set with ENV/ARG: it stays in the image config and history.",
        "Use `RUN --mount=type=secret,id=...` at build time, or pass it at run time (env/secret store).",
        ("DL3064",),
    ),
    "CR006": (
        "warning",
        "The base image is not pinned (no tag, or `latest`): builds are not reproducible.",
        "Pin a tag (python:3.12-slim) and, for releases, a digest (@sha256:...).",
        ("DL3006", "DL3007"),
    ),
    "CR007": (
        "info",
        "No HEALTHCHECK in the final stage: the engine cannot tell a hung service from a healthy one.",
        "Add e.g. `HEALTHCHECK CMD python -c \"import urllib.request as u; u.urlopen('http://localhost:8000/health')\"`.",
        (),
    ),
    "CR008": (
        "warning",
        "pip keeps its download cache in the layer.",
        "Use `pip install --no-cache-dir`, or `RUN --mount=type=cache,target=/root/.cache/pip`.",
        ("DL3042",),
    ),
    "CR009": (
        "warning",
        "apt-get lists stay in the layer (tens of MB).",
        "End the same RUN with `&& rm -rf /var/lib/apt/lists/*` (or use a cache mount).",
        ("DL3009",),
    ),
}

_SECRET = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)", re.I)
_BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|make|clang|[a-z0-9.+-]+-dev|cargo|rustc)\b")
_PIP = re.compile(r"\bpip3?\s+install\b|\bpython3?\s+-m\s+pip\s+install\b")
_DEP_INSTALL = re.compile(
    r"\bpip3?\s+install\b|-m\s+pip\s+install\b|\bpoetry\s+install\b|\bpipenv\s+install\b|\buv\s+(pip\s+install|sync)\b"
)


def _finding(rule: str, line: int, detail: str = "") -> Finding:
    sev, msg, fix, _ = COURSE_RULES[rule]
    return Finding(rule, line, sev, msg + (f" {detail}" if detail else ""), fix, "course")


def _copies_everything(ins: Any) -> bool:
    if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
        return False
    srcs = (ins.json_args or ins.command.split())[:-1]
    return any(s in (".", "./", "*", "./*") for s in srcs)


def course_findings(df: Dockerfile, dockerignore: str | None = None) -> list[Finding]:
    """The course rules on a parsed Dockerfile.

    Args:
        df: The parsed Dockerfile.
        dockerignore: Text of the context's .dockerignore; None when there is none;
            False to skip that rule.
    """
    out: list[Finding] = []
    final = df.final
    stage_names = {s.name for s in df.stages if s.name}
    users = [i for i in final.instructions if i.keyword == "USER"]
    if not users or users[-1].args.split(":")[0].strip() in ("root", "0"):
        out.append(_finding("CR001", users[-1].line if users else final.line))
    for stage in df.stages:
        copied = None
        for ins in stage.instructions:
            if _copies_everything(ins) and copied is None:
                copied = ins
            if ins.keyword == "RUN" and copied is not None and _DEP_INSTALL.search(ins.command):
                out.append(_finding("CR002", copied.line, f"(the install is on line {ins.line})"))
                break
    for ins in final.instructions:
        if ins.keyword == "RUN" and re.search(r"\b(apt-get|apt|apk|yum|dnf)\b[^;&|]*\b(install|add)\b", ins.command):
            tools = sorted(
                {m.group(1) for m in _BUILD_TOOLS.finditer(ins.command)} - {"make"}
                | ({"make"} if re.search(r"\binstall\b[^&;|]*\bmake\b", ins.command) else set())
            )
            if tools and not re.search(
                r"\b(purge|remove|del)\b[^&;|]*(" + "|".join(map(re.escape, tools)) + ")", ins.command
            ):
                out.append(_finding("CR003", ins.line, f"({', '.join(tools[:4])})"))
    if dockerignore is not False:
        if dockerignore is None:
            out.append(_finding("CR004", 0, "(there is none)"))
        else:
            patterns = {
                p.strip().lstrip("/").rstrip("/")
                for p in dockerignore.splitlines()
                if p.strip() and not p.startswith("#")
            }
            missing = [p for p in (".git", "__pycache__", ".venv") if not ({p, f"**/{p}", "*"} & patterns)]
            if missing:
                out.append(_finding("CR004", 0, f"(it does not exclude {', '.join(missing)})"))
    for ins in df.instructions:
        if ins.keyword in ("ENV", "ARG"):
            for key, value in _pairs(ins.args, ins.keyword):
                if _SECRET.search(key) and (value or ins.keyword == "ARG"):
                    out.append(_finding("CR005", ins.line, f"({ins.keyword} {key})"))
    for stage in df.stages:
        base = df.resolve(stage.base)
        if base in stage_names or base == "scratch" or "$" in base:
            continue
        last = base.rsplit("/", 1)[-1]
        if "@" not in base and (":" not in last or last.endswith(":latest")):
            out.append(_finding("CR006", stage.line, f"({base})"))
    if not any(i.keyword == "HEALTHCHECK" and not i.args.upper().startswith("NONE") for i in final.instructions):
        out.append(_finding("CR007", final.line))
    for ins in df.instructions:
        if ins.keyword != "RUN":
            continue
        cmd = ins.command
        if (
            _PIP.search(cmd)
            and "--no-cache-dir" not in cmd
            and "PIP_NO_CACHE_DIR" not in cmd
            and "type=cache" not in ins.flags.get("mount", "")
            and not _env_has(df, ins.stage, "PIP_NO_CACHE_DIR")
        ):
            out.append(_finding("CR008", ins.line))
        if (
            re.search(r"\bapt-get\s+(-\S+\s+)*install\b|\bapt\s+install\b", cmd)
            and "/var/lib/apt/lists" not in cmd
            and "type=cache" not in ins.flags.get("mount", "")
        ):
            out.append(_finding("CR009", ins.line))
    return out


def _env_has(df: Dockerfile, stage: int, key: str) -> bool:
    return any(i.keyword == "ENV" and key in i.args for i in df.stages[stage].instructions) if stage >= 0 else False


def _pairs(args: str, keyword: str) -> list[tuple[str, str]]:
    words = args.split()
    if keyword == "ENV" and words and "=" not in words[0]:  # legacy `ENV KEY value`
        return [(words[0], " ".join(words[1:]))]
    return [(w.partition("=")[0], w.partition("=")[2].strip("\"'")) for w in words]


def _hadolint() -> str:

    return require_tool("hadolint").path


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

    Raises:
        ToolMissing: hadolint is not installed.
    """
    with tempfile.TemporaryDirectory(prefix="course-review-") as tmp:
        path = Path(tmp) / "Dockerfile"
        path.write_text(text, encoding="utf-8")
        proc = subprocess.run(
            [_hadolint(), "--no-fail", "--format", "json", str(path)], capture_output=True, text=True, timeout=timeout
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


def _dockerignore_for(path: Path) -> str | None:
    for candidate in (path.with_name(path.name + ".dockerignore"), path.parent / ".dockerignore"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8", errors="replace")
    return None


def review_dockerfile(
    path: str | Path | None = None, text: str | None = None, dockerignore: Any = None, hadolint: bool = True
) -> list[Finding]:
    """Review a Dockerfile: hadolint's findings and the course rules, sorted by line.

    Args:
        path: The Dockerfile. Its .dockerignore is ``<path>.dockerignore`` or ``.dockerignore`` beside it.
        text: Dockerfile text instead of a path.
        dockerignore: .dockerignore text (with ``text=``); None: there is none; False: skip that rule.
        hadolint: Also run hadolint.

    Raises:
        DockerfileError: The file is not a Dockerfile (empty, unknown instruction, broken continuation ...).
        ToolMissing: hadolint is requested and not installed.
    """
    if path is not None:
        df = read_dockerfile(path)
        text = Path(path).read_text(encoding="utf-8")
        if dockerignore is None:
            dockerignore = _dockerignore_for(Path(path))
    elif text is not None:
        df = parse_dockerfile(text)
    else:
        raise ValueError("pass path= or text=")
    findings = hadolint_findings(text) if hadolint else []
    same = {(f.line, f.rule) for f in findings}
    for f in course_findings(df, dockerignore):
        if not any((f.line, code) in same for code in COURSE_RULES[f.rule][3]):
            findings.append(f)
    return sorted(findings, key=lambda f: (f.line, _SEVERITY_ORDER.get(f.severity, 9), f.rule))


def findings_frame(findings: list[Finding]) -> Any:
    """The findings as a pandas DataFrame (rule, line, severity, message, fix, source)."""
    import pandas as pd

    return pd.DataFrame([asdict(f) for f in findings], columns=["rule", "line", "severity", "message", "fix", "source"])
