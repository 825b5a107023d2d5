"""Python base images compared live: slim versus full (size, what slim lacks, what a compiled
dependency needs), a non-root user, ``.dockerignore`` and pinned requirements.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client
from helpers.errors import BuildError
from helpers.images.build import build
from helpers.lessons.caching import remove_images
from helpers.lessons.common import lesson_image, lesson_tag, run_once
from helpers.paths import course_root

__all__ = [
    "base_sizes",
    "tool_presence",
    "psycopg2_pin",
    "CompiledDepResult",
    "compiled_dependency_demo",
    "nonroot_demo",
    "dockerignore_demo",
    "pinned_requirements",
]

#: What a source build of a C extension may need; checked in each base image.
TOOLS = {
    "gcc": "command -v gcc",
    "make": "command -v make",
    "pg_config (libpq-dev)": "command -v pg_config",
    "Python.h (python3-dev)": "test -f "
    "$(python3 -c 'import sysconfig;print(sysconfig.get_paths()[\"include\"])')/Python.h",
    "libpq.so.5 (libpq5)": "ldconfig -p | grep -q libpq.so.5",
    "git": "command -v git",
    "curl": "command -v curl",
}


def base_sizes(client: Any = None) -> Any:
    """DataFrame: kind, image, size_mb of the slim and full Python bases on the engine."""
    import pandas as pd

    c = get_client(client)
    rows = []
    for kind in ("slim", "full"):
        ref = lesson_image(kind, c)
        rows.append({"kind": kind, "image": ref, "size_mb": round(c.images.get(ref).attrs["Size"] / 1e6, 1)})
    return pd.DataFrame(rows, columns=["kind", "image", "size_mb"])


def tool_presence(client: Any = None) -> Any:
    """DataFrame: one row per tool of :data:`TOOLS`, a yes/no column per base image (checked live)."""
    import pandas as pd

    c = get_client(client)
    script = "; ".join(
        f"if {test} >/dev/null 2>&1; then echo 'Y {i}'; else echo 'N {i}'; fi" for i, test in enumerate(TOOLS.values())
    )
    table: dict[str, list[bool]] = {}
    for kind in ("slim", "full"):
        out = run_once(script, image=lesson_image(kind, c), client=c).output
        found = {int(m.group(2)): m.group(1) == "Y" for m in re.finditer(r"^([YN]) (\d+)$", out, re.M)}
        table[kind] = [found.get(i, False) for i in range(len(TOOLS))]
    return pd.DataFrame({"tool": list(TOOLS), **table})


def psycopg2_pin(default: str = "psycopg2==2.9.13") -> str:
    """The psycopg2 pin of the sample app's requirements.txt (``default`` when it is absent)."""
    req = course_root() / "sample_python_app" / "requirements.txt"
    if req.is_file():
        for line in req.read_text().splitlines():
            if re.match(r"^psycopg2==", line.strip()):
                return line.strip()
    return default


@dataclass
class CompiledDepResult:
    """``pip install psycopg2`` (a source-only package) on each base.

    Attributes:
        pin: The requirement installed.
        results: DataFrame: variant, ok, seconds, steps from cache, size_mb, error (first telling line of the failure).
    """

    pin: str
    results: Any


_VARIANTS = {
    "slim": "ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\nRUN pip install --no-cache-dir {pin}\n"
    "RUN python3 -c 'import psycopg2; print(psycopg2.__version__)'\n",
    "full": "ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\nRUN pip install --no-cache-dir {pin}\n"
    "RUN python3 -c 'import psycopg2; print(psycopg2.__version__)'\n",
    "full builds, slim runs": "ARG BASE_IMAGE\nARG FULL_IMAGE\nFROM ${{FULL_IMAGE}} AS build\n"
    "RUN pip wheel --no-cache-dir --wheel-dir /wheels {pin}\n"
    "FROM ${{BASE_IMAGE}}\nRUN apt-get update && apt-get install -y --no-install-recommends libpq5 "
    "&& rm -rf /var/lib/apt/lists/*\n"
    "COPY --from=build /wheels /wheels\nRUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels\n"
    "RUN python3 -c 'import psycopg2; print(psycopg2.__version__)'\n",
}
#: Tried in order on the failed build's whole log: the first match is the line shown.
_TELLING = [
    re.compile(p, re.I)
    for p in (
        r"pg_config executable not found\.?",
        r"[\w./-]*Python\.h: No such file or directory",
        r"[\w./-]*libpq-fe\.h: No such file or directory",
        r"error: command '[^']+' failed[^\n]*",
        r"gcc[^\n]*not found",
        r"ERROR: [^\n]+",
    )
]


def _telling_line(log: str) -> str:
    for pat in _TELLING:
        if m := pat.search(log):
            return m.group(0).strip()
    return log.strip().splitlines()[-1] if log.strip() else ""


def compiled_dependency_demo(
    pin: str | None = None, tag_prefix: str = "course-lesson/psycopg2", client: Any = None
) -> CompiledDepResult:
    """Install a source-only dependency on slim, on full, and full-builds/slim-runs (multi-stage)."""
    import pandas as pd

    c = get_client(client)
    pin = pin or psycopg2_pin()
    slim, full = lesson_image("slim", c), lesson_image("full", c)
    rows = []
    tags = []
    with tempfile.TemporaryDirectory(prefix="course-compiled-") as tmp:
        for variant, text in _VARIANTS.items():
            tag = lesson_tag(tag_prefix, re.sub(r"[^a-z0-9]+", "-", variant))
            args = {"BASE_IMAGE": full if variant == "full" else slim, "FULL_IMAGE": full}
            lines: list[str] = []
            try:
                res = build(
                    tmp,
                    dockerfile_text=text.format(pin=pin),
                    tags=[tag],
                    build_args=args,
                    client=c,
                    on_line=lines.append,
                )
                size = c.images.get(tag).attrs["Size"] / 1e6
                rows.append(
                    {
                        "variant": variant,
                        "ok": True,
                        "seconds": round(res.seconds, 1),
                        "steps from cache": f"{res.cache_hits}/{len(res.steps)}",
                        "size_mb": round(size, 1),
                        "error": "",
                    }
                )
                tags.append(tag)
            except BuildError as e:
                rows.append(
                    {
                        "variant": variant,
                        "ok": False,
                        "seconds": None,
                        "steps from cache": "",
                        "size_mb": None,
                        "error": _telling_line("\n".join(lines) or e.log_tail)[:160],
                    }
                )
    remove_images(tags, client=c)
    return CompiledDepResult(
        pin, pd.DataFrame(rows, columns=["variant", "ok", "seconds", "steps from cache", "size_mb", "error"])
    )


def nonroot_demo(client: Any = None) -> Any:
    """DataFrame: who the process runs as, and whether it can write to /usr/local, as root and as ``USER app``."""
    import pandas as pd

    c = get_client(client)
    tag = lesson_tag("course-lesson/nonroot", "app")
    text = (
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN useradd --create-home --uid 10001 app\nWORKDIR /home/app\nUSER app\n"
    )
    probe = "id; touch /usr/local/lib/probe 2>/dev/null && echo WRITABLE || echo READONLY"
    rows = []
    with tempfile.TemporaryDirectory(prefix="course-nonroot-") as tmp:
        build(tmp, dockerfile_text=text, tags=[tag], client=c)
    try:
        for name, image in (("base image (root)", lesson_image("slim", c)), ("USER app", tag)):
            out = run_once(probe, image=image, client=c).output
            rows.append(
                {
                    "image": name,
                    "id": out.splitlines()[0].strip() if out else "",
                    "can write /usr/local/lib": "WRITABLE" in out,
                }
            )
    finally:
        remove_images([tag], client=c)
    return pd.DataFrame(rows, columns=["image", "id", "can write /usr/local/lib"])


_CONTEXT = re.compile(r"transferring context: ([\d.]+)([kMG]?B)")


def _context_bytes(log: str) -> float:
    sizes = [float(v) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[u] for v, u in _CONTEXT.findall(log)]
    return max(sizes) if sizes else 0.0


def dockerignore_demo(junk_mb: int = 20, client: Any = None) -> Any:
    """Build ``COPY . /app`` with and without a ``.dockerignore`` next to a ``.venv`` of ``junk_mb`` MB.

    Returns:
        DataFrame: build, context_kb (sent to the builder, from BuildKit's log), image_mb.
    """
    import os

    import pandas as pd

    c = get_client(client)
    text = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\n"
    rows = []
    tags = []
    with tempfile.TemporaryDirectory(prefix="course-ignore-") as tmp:
        ctx = Path(tmp) / "ctx"
        (ctx / ".venv").mkdir(parents=True)
        (ctx / "app.py").write_text("print('hello')\n")
        (ctx / ".venv" / "big.bin").write_bytes(os.urandom(junk_mb * 1024 * 1024))
        for name in ("without .dockerignore", "with .dockerignore"):
            if name.startswith("with "):
                (ctx / ".dockerignore").write_text(".venv/\n__pycache__/\n*.pyc\n.git/\n")
            tag = lesson_tag("course-lesson/dockerignore", "with" if name.startswith("with ") else "without")
            res = build(ctx, dockerfile_text=text, tags=[tag], client=c)
            tags.append(tag)
            rows.append(
                {
                    "build": name,
                    "context_kb": round(_context_bytes(res.log) / 1e3, 1),
                    "image_mb": round(c.images.get(tag).attrs["Size"] / 1e6, 1),
                }
            )
    remove_images(tags, client=c)
    return pd.DataFrame(rows, columns=["build", "context_kb", "image_mb"])


def pinned_requirements(path: str | Path | None = None) -> Any:
    """DataFrame: requirement, pinned (``==``) for a requirements file (default: the sample app's).

    Works without an engine.
    """
    import pandas as pd

    path = Path(path) if path else course_root() / "sample_python_app" / "requirements.txt"
    rows = []
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                rows.append({"requirement": line, "pinned": bool(re.match(r"^[A-Za-z0-9_.\-\[\],]+==[^*]+$", line))})
    return pd.DataFrame(rows, columns=["requirement", "pinned"])
