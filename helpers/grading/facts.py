"""What a lab needs at grading time: its ``grading.yml`` and the engine facts the trusted side measures.

Contract for engine labs (student code never gets the Docker socket while graded):

1. The lab declares its engine work in ``source/<lab>/grading.yml``::

       sandbox: {memory: 768m, timeout: 300}        # optional SandboxLimits overrides
       engine:
         - name: app                                # key in the facts file
           dockerfile: Dockerfile                   # the student's file, in the submission folder
           context: sample_python_app               # build context under the course root (default: submission)
           run: true                                # also run the image under limits
           port: 8000                               # container port to probe
           paths: [/health]                         # HTTP GETs to report

   Labs whose graded cells call kit functions instead (``lab1.lab1_report(text)``...) list
   those trusted queries (:mod:`helpers.grading.queries`)::

       queries: [lab1_report, run_in_image]         # names registered with @trusted_query
       prefetch: [reference_size]                   # argument-less queries answered before round 1
       rounds: 3                                    # sandbox runs at most (answers feed the next)
       build_timeout: 600                           # seconds per build the grader does

   Settings a grade depends on (a severity threshold, a scan source) live here, on the instructor's
   side, never in a notebook cell the student's kernel can change; the lab's trusted queries read
   them with :meth:`GradingSpec.setting` (names and allowed values: :data:`GRADED_SETTINGS`)::

       graded: {severity_threshold: HIGH, scan_source: auto}

2. At grading time the trusted side builds the student's Dockerfile (``helpers.build``, with a
   time limit), runs the image (memory/pids limits, capabilities dropped), probes it, removes
   both, and writes the facts as JSON into the sandbox. The notebook finds the file through the
   ``GRADING_FACTS`` environment variable (:func:`read_facts`); when it is unset (a student
   working normally) the notebook uses the engine itself.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.engine.client import get_client, kit_labels
from helpers.errors import CourseError
from helpers.grading.queries import registered
from helpers.grading.sandbox import SandboxLimits
from helpers.images.build import build
from helpers.images.health import log_tail
from helpers.images.running import exec_capped, http_get
from helpers.paths import course_root
from helpers.supplychain.scan import SOURCES
from helpers.supplychain.severity import SEVERITIES

__all__ = ["GradingSpec", "EngineStep", "load_spec", "engine_facts", "read_facts", "FACTS_ENV", "GRADED_SETTINGS"]

FACTS_ENV = "GRADING_FACTS"
#: The graded settings a ``grading.yml`` may hold (``graded:``), each with the values it may take.
GRADED_SETTINGS: dict[str, tuple[str, ...]] = {
    "severity_threshold": tuple(SEVERITIES),
    "scan_source": tuple(SOURCES),
}


@dataclass(frozen=True)
class EngineStep:
    """One engine job the trusted side does for the student (see the module docstring)."""

    name: str
    dockerfile: str = "Dockerfile"
    context: str = ""
    run: bool = False
    port: int = 8000
    paths: tuple[str, ...] = ("/health",)
    env: tuple[tuple[str, str], ...] = ()
    build_timeout: int = 600
    run_seconds: int = 30
    memory: str = "256m"


#: The keys a ``grading.yml`` may have.
KNOWN_KEYS = {
    "sandbox",
    "engine",
    "queries",
    "prefetch",
    "rounds",
    "build_timeout",
    "graded",
    "verdicts",
    "verdict_timeout",
    "answers",
}


@dataclass(frozen=True)
class GradingSpec:
    """A lab's grading settings."""

    assignment: str
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    engine: tuple[EngineStep, ...] = ()
    queries: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()
    rounds: int = 3
    build_timeout: int = 600
    graded: tuple[tuple[str, str], ...] = ()
    verdicts: tuple[str, ...] = ()
    verdict_timeout: int = 1200
    answers: tuple[str, ...] = ()

    def setting(self, name: str, default: str) -> str:
        """A graded setting of the lab's ``grading.yml`` (``default`` when the file does not set it)."""
        if name not in GRADED_SETTINGS:
            raise KeyError(f"{name!r} is not a graded setting ({', '.join(GRADED_SETTINGS)})")
        return dict(self.graded).get(name, default)


def _graded_settings(data: Any) -> tuple[tuple[str, str], ...]:
    """The ``graded:`` mapping, checked: known names only, each with one of its allowed values."""
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise TypeError("graded must be a mapping of setting -> value")
    out = []
    for name, value in data.items():
        if name not in GRADED_SETTINGS:
            raise TypeError(f"unknown graded setting {name!r} (known: {', '.join(GRADED_SETTINGS)})")
        allowed = GRADED_SETTINGS[name]
        if not isinstance(value, str) or value.upper() not in {a.upper() for a in allowed}:
            raise TypeError(f"graded setting {name} must be one of {', '.join(allowed)}, not {value!r}")
        out.append((name, next(a for a in allowed if a.upper() == value.upper())))
    return tuple(sorted(out))


def load_spec(assignment: str, root: str | os.PathLike[str] | None = None) -> GradingSpec:
    """Read ``source/<assignment>/grading.yml`` (defaults when the lab has none).

    Raises:
        CourseError: The file exists but is not valid.
    """
    import yaml

    path = Path(root or course_root()) / "source" / assignment / "grading.yml"
    if not path.exists():
        return GradingSpec(assignment)
    try:
        data = yaml.safe_load(path.read_text()) or {}
        steps = []
        for item in data.get("engine") or []:
            item = dict(item)
            item["paths"] = tuple(item.get("paths", ("/health",)))
            item["env"] = tuple(sorted((item.get("env") or {}).items()))
            steps.append(EngineStep(**item))
        unknown = set(data) - KNOWN_KEYS
        if unknown:
            raise TypeError(f"unknown keys {sorted(unknown)}")
        queries = tuple(str(q) for q in data.get("queries") or ())

        prefetch = tuple(str(q) for q in data.get("prefetch") or ())
        missing = (set(queries) | set(prefetch)) - set(registered())
        if missing:
            raise TypeError(f"queries {sorted(missing)} are not registered with @trusted_query")
        rounds = int(data.get("rounds", 3))
        if not 1 <= rounds <= 5:
            raise TypeError("rounds must be 1 to 5")
        return GradingSpec(
            assignment,
            SandboxLimits.from_mapping(data.get("sandbox") or {}),
            tuple(steps),
            queries,
            tuple(q for q in prefetch if q in queries),
            rounds,
            int(data.get("build_timeout", 600)),
            _graded_settings(data.get("graded")),
            tuple(str(v) for v in data.get("verdicts") or ()),
            int(data.get("verdict_timeout", 1200)),
            tuple(str(a) for a in data.get("answers") or ()),
        )
    except (yaml.YAMLError, TypeError, AttributeError, ValueError) as e:
        raise CourseError(f"{path} is not a valid grading spec ({e}).", "See the format in docs/INSTRUCTOR.md.") from e


def read_facts() -> dict[str, Any] | None:
    """For lab notebooks: the facts the grader measured, or None when not being graded."""
    path = os.environ.get(FACTS_ENV)
    if not path or not Path(path).exists():
        return None
    return json.loads(Path(path).read_text())


def engine_facts(spec: GradingSpec, submission: str | os.PathLike[str], client: Any = None) -> dict[str, Any]:
    """Do the lab's engine work for one submission on the trusted side and report the facts.

    Never raises for the student's faults: a failed build or run is a fact (``ok: false``).
    """

    c = get_client(client)
    facts: dict[str, Any] = {"version": 1, "assignment": spec.assignment, "steps": {}}
    for step in spec.engine:
        facts["steps"][step.name] = _one_step(step, Path(submission), course_root(), c)
    return facts


def _one_step(step: EngineStep, submission: Path, root: Path, client: Any) -> dict[str, Any]:

    out: dict[str, Any] = {"build": {"ok": False}, "run": None}
    dockerfile = submission / step.dockerfile
    if not dockerfile.is_file() or dockerfile.is_symlink():
        out["build"]["error"] = f"no {step.dockerfile} in the submission"
        return out
    tag = f"course-grading/{step.name}:{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix="course-grading-") as tmp:
        ctx = Path(tmp) / "context"
        src = (root / step.context) if step.context else submission
        shutil.copytree(src, ctx, symlinks=False, ignore=shutil.ignore_patterns("*.ipynb", ".git", "__pycache__"))
        for name in (step.dockerfile, ".dockerignore"):
            if (submission / name).is_file() and not (submission / name).is_symlink():
                shutil.copy(submission / name, ctx / Path(name).name)
        try:
            res = build(
                ctx, dockerfile=ctx / Path(step.dockerfile).name, tags=[tag], timeout=step.build_timeout, client=client
            )
        except CourseError as e:
            out["build"]["error"] = str(e)[-3000:]
            return out
    try:
        img = client.images.get(tag)
        cfg = img.attrs.get("Config") or {}
        out["build"] = {
            "ok": True,
            "seconds": round(res.seconds, 2),
            "size_bytes": img.attrs.get("Size"),
            "layers": len(img.history()),
            "user": cfg.get("User") or "",
            "exposed_ports": sorted(cfg.get("ExposedPorts") or {}),
            "healthcheck": bool(cfg.get("Healthcheck")),
            "cmd": cfg.get("Cmd"),
            "entrypoint": cfg.get("Entrypoint"),
            "env": cfg.get("Env") or [],
            "labels": cfg.get("Labels") or {},
            "steps": [s.instruction for s in res.steps],
            "cache_hits": res.cache_hits,
        }
        if step.run:
            out["run"] = _run(step, tag, client)
    finally:
        try:
            client.images.remove(tag, force=True)
        except Exception:  # noqa: BLE001
            pass
    return out


def _run(step: EngineStep, tag: str, client: Any) -> dict[str, Any]:
    ctr = client.containers.run(
        tag,
        detach=True,
        labels=kit_labels("grading"),
        environment=dict(step.env),
        ports={f"{step.port}/tcp": ("127.0.0.1", None)},
        mem_limit=step.memory,
        memswap_limit=step.memory,
        pids_limit=128,
        nano_cpus=10**9,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
    )
    run: dict[str, Any] = {"ok": False, "http": {}, "exit_code": None}
    try:
        deadline = time.monotonic() + step.run_seconds
        port = None
        while time.monotonic() < deadline:
            ctr.reload()
            if ctr.status != "running":
                break
            binding = (ctr.attrs["NetworkSettings"]["Ports"] or {}).get(f"{step.port}/tcp")
            port = port or (binding[0]["HostPort"] if binding else None)
            if port and all(p in run["http"] for p in step.paths):
                break
            for p in step.paths:
                if port and p not in run["http"]:
                    answer = http_get(f"http://127.0.0.1:{port}{p}", timeout=2, cap=2000)
                    if answer.status:
                        run["http"][p] = {"status": answer.status, "body": answer.body[:2000]}
            time.sleep(0.5)
        ctr.reload()
        run["status"] = ctr.status
        run["exit_code"] = ctr.attrs["State"].get("ExitCode") if ctr.status != "running" else None
        run["health"] = (ctr.attrs["State"].get("Health") or {}).get("Status")
        if ctr.status == "running":
            res = exec_capped(ctr, ["id", "-u"], timeout=10)  # the student's image: bounded output and time
            uid = res.output.strip()
            plain = uid.isascii() and uid.isdigit() and len(uid) <= 10  # int() raises on "²" or 5000 digits
            run["uid"] = int(uid) if res.exit_code == 0 and plain else None
        run["logs_tail"] = log_tail(ctr, 30)
        run["ok"] = (
            ctr.status == "running"
            and all(v["status"] < 500 for v in run["http"].values())
            and len(run["http"]) == len(step.paths)
        )
    finally:
        ctr.remove(force=True)
    return run
