"""The course's own Dockerfile rules (``CR0xx``): what hadolint does not look at, with the "why".

The rules cover the final stage running as root, source copied before dependencies are
installed, build tools left in the final image, a missing or thin ``.dockerignore``, secrets in
ENV/ARG, an unpinned base image, no HEALTHCHECK, pip's cache and apt lists left in layers. Each
rule is one function over the parsed :class:`~helpers.review.dockerfile.Dockerfile`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from helpers.review.dockerfile import Dockerfile
from helpers.review.findings import Finding

__all__ = ["COURSE_RULES", "course_findings"]

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
# The command is a student's text: every search below is linear. A shell command is split on `;`, `&`
# and `|` first and each part searched once (`manager[^;&|]*install` rescans to the part's end from
# every `manager`), and package names are whole tokens (`[a-z0-9.+-]+-dev` backtracks on every `-`).
_SEGMENT = re.compile(r"[;&|]")
_TOKEN = re.compile(r"[A-Za-z0-9_.+-]+")
_DEV_PACKAGE = re.compile(r"[a-z0-9][a-z0-9.+-]*-dev")
_BUILD_TOOLS = frozenset({"build-essential", "gcc", "g++", "make", "clang", "cargo", "rustc"})
_PKG_MANAGER = re.compile(r"\b(?:apt-get|apt|apk|yum|dnf)\b")
_INSTALL_OR_ADD = re.compile(r"\b(?:install|add)\b")
_INSTALL = re.compile(r"\binstall\b")
_MAKE = re.compile(r"\bmake\b")
_REMOVE = re.compile(r"\b(?:purge|remove|del)\b")
_APT_GET = re.compile(r"\bapt-get\s+")
_OPTIONS = re.compile(r"(?:-\S+\s+)*")
_APT_INSTALL = re.compile(r"\bapt\s+install\b")
_PIP = re.compile(r"\bpip3?\s+install\b|\bpython3?\s+-m\s+pip\s+install\b")
_DEP_INSTALL = re.compile(
    r"\bpip3?\s+install\b|-m\s+pip\s+install\b|\bpoetry\s+install\b|\bpipenv\s+install\b|\buv\s+(pip\s+install|sync)\b"
)


def course_findings(df: Dockerfile, dockerignore: str | None = None) -> list[Finding]:
    """The course rules on a parsed Dockerfile.

    Args:
        df: The parsed Dockerfile.
        dockerignore: Text of the context's .dockerignore; None when there is none;
            False to skip that rule.

    Returns:
        The findings, rule by rule (CR001 first).
    """
    out: list[Finding] = []
    out += _root_user(df)
    out += _source_before_dependencies(df)
    out += _build_tools(df)
    if dockerignore is not False:
        out += _dockerignore(dockerignore)
    out += _secrets(df)
    out += _unpinned_bases(df)
    out += _healthcheck(df)
    out += _layer_caches(df)
    return out


def _finding(rule: str, line: int, detail: str = "") -> Finding:
    """A finding of course rule ``rule`` on ``line``, its message followed by ``detail``."""
    sev, msg, fix, _ = COURSE_RULES[rule]
    return Finding(rule, line, sev, msg + (f" {detail}" if detail else ""), fix, "course")


def _root_user(df: Dockerfile) -> Iterator[Finding]:
    """CR001: the final stage has no USER, or its last USER is root."""
    users = [i for i in df.final.instructions if i.keyword == "USER"]
    if not users or users[-1].args.split(":")[0].strip() in ("root", "0"):
        yield _finding("CR001", users[-1].line if users else df.final.line)


def _source_before_dependencies(df: Dockerfile) -> Iterator[Finding]:
    """CR002: in a stage, ``COPY .`` comes before the dependency install."""
    for stage in df.stages:
        copied = None
        for ins in stage.instructions:
            if _copies_everything(ins) and copied is None:
                copied = ins
            if ins.keyword == "RUN" and copied is not None and _DEP_INSTALL.search(ins.command):
                yield _finding("CR002", copied.line, f"(the install is on line {ins.line})")
                break


def _build_tools(df: Dockerfile) -> Iterator[Finding]:
    """CR003: the final stage installs compilers or -dev packages and never removes them."""
    for ins in df.final.instructions:
        cmd = ins.command
        if ins.keyword != "RUN" or not any(_INSTALL_OR_ADD.search(t) for t in _tails(cmd, _PKG_MANAGER)):
            continue
        tools = {w for w in _words(cmd) if w in _BUILD_TOOLS or _DEV_PACKAGE.fullmatch(w)} - {"make"}
        if any(_MAKE.search(t) for t in _tails(cmd, _INSTALL)):
            tools.add("make")
        removed = set().union(*(_words(t) for t in _tails(cmd, _REMOVE)))
        if tools and not tools & removed:
            yield _finding("CR003", ins.line, f"({', '.join(sorted(tools)[:4])})")


def _tails(cmd: str, word: re.Pattern[str]) -> list[str]:
    """For each part of a shell command between ``;``, ``&`` and ``|``, the text after the first ``word`` in it."""
    return [part[m.end() :] for part in _SEGMENT.split(cmd) if (m := word.search(part))]


def _words(text: str) -> set[str]:
    """The package-like tokens of ``text`` and their ``-`` separated parts (``gcc-12`` names ``gcc``)."""
    words = set()
    for token in _TOKEN.findall(text):
        words.add(token)
        words.update(token.split("-"))
    return words


def _apt_installs(cmd: str) -> bool:
    """The command runs ``apt-get [options] install`` or ``apt install``, found in linear time.

    An ``apt-get`` inside the options of an earlier one (``apt-get -apt-get -apt-get ...``) has the
    same options after it, so each run of options is read once.
    """
    if _APT_INSTALL.search(cmd):
        return True
    end = -1
    for m in _APT_GET.finditer(cmd):
        if m.start() < end:
            continue
        end = _OPTIONS.match(cmd, m.end()).end()  # type: ignore[union-attr]  # `*` always matches
        if _INSTALL.match(cmd, end):
            return True
    return False


def _dockerignore(dockerignore: str | None) -> Iterator[Finding]:
    """CR004: there is no .dockerignore, or it lets .git, __pycache__ or .venv into the context."""
    if dockerignore is None:
        yield _finding("CR004", 0, "(there is none)")
        return
    patterns = {
        p.strip().lstrip("/").rstrip("/") for p in dockerignore.splitlines() if p.strip() and not p.startswith("#")
    }
    missing = [p for p in (".git", "__pycache__", ".venv") if not ({p, f"**/{p}", "*"} & patterns)]
    if missing:
        yield _finding("CR004", 0, f"(it does not exclude {', '.join(missing)})")


def _secrets(df: Dockerfile) -> Iterator[Finding]:
    """CR005: an ENV with a secret-looking name and a value, or an ARG with one."""
    for ins in df.instructions:
        if ins.keyword in ("ENV", "ARG"):
            for key, value in _pairs(ins.args, ins.keyword):
                if _SECRET.search(key) and (value or ins.keyword == "ARG"):
                    yield _finding("CR005", ins.line, f"({ins.keyword} {key})")


def _unpinned_bases(df: Dockerfile) -> Iterator[Finding]:
    """CR006: a base image with no tag, or ``latest`` (stages, scratch and ARG-built names excepted)."""
    stage_names = {s.name for s in df.stages if s.name}
    for stage in df.stages:
        base = df.resolve(stage.base)
        if base in stage_names or base == "scratch" or "$" in base:
            continue
        last = base.rsplit("/", 1)[-1]
        if "@" not in base and (":" not in last or last.endswith(":latest")):
            yield _finding("CR006", stage.line, f"({base})")


def _healthcheck(df: Dockerfile) -> Iterator[Finding]:
    """CR007: the final stage has no HEALTHCHECK (or ``HEALTHCHECK NONE``)."""
    final = df.final
    if not any(i.keyword == "HEALTHCHECK" and not i.args.upper().startswith("NONE") for i in final.instructions):
        yield _finding("CR007", final.line)


def _layer_caches(df: Dockerfile) -> Iterator[Finding]:
    """CR008 and CR009: pip's download cache, or apt's lists, left in a RUN's layer."""
    for ins in df.instructions:
        if ins.keyword != "RUN":
            continue
        cmd, cache_mount = ins.command, "type=cache" in ins.flags.get("mount", "")
        if (
            _PIP.search(cmd)
            and "--no-cache-dir" not in cmd
            and "PIP_NO_CACHE_DIR" not in cmd
            and not cache_mount
            and not _env_has(df, ins.stage, "PIP_NO_CACHE_DIR")
        ):
            yield _finding("CR008", ins.line)
        if _apt_installs(cmd) and "/var/lib/apt/lists" not in cmd and not cache_mount:
            yield _finding("CR009", ins.line)


def _copies_everything(ins: Any) -> bool:
    """The instruction copies the whole build context (``COPY . ...``), not from another stage."""
    if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
        return False
    srcs = (ins.json_args or ins.command.split())[:-1]
    return any(s in (".", "./", "*", "./*") for s in srcs)


def _env_has(df: Dockerfile, stage: int, key: str) -> bool:
    """Stage ``stage`` sets ``key`` with ENV."""
    return any(i.keyword == "ENV" and key in i.args for i in df.stages[stage].instructions) if stage >= 0 else False


def _pairs(args: str, keyword: str) -> list[tuple[str, str]]:
    """(name, value) pairs of an ENV or ARG (``KEY=value ...``, or the legacy ``ENV KEY value``)."""
    words = args.split()
    if keyword == "ENV" and words and "=" not in words[0]:  # legacy `ENV KEY value`
        return [(words[0], " ".join(words[1:]))]
    return [(w.partition("=")[0], w.partition("=")[2].strip("\"'")) for w in words]
