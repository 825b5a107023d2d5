"""Run a container CI pipeline on the local engine, the way the GitHub workflow runs it.

Stages: build the app image and the test image, create a labelled network, start the
app, wait until it is healthy, run the integration tests from a separate test container
on the same network, collect the logs, tear everything down (always), and on the
``main`` branch push a versioned tag to the local registry. The result is a
:class:`PipelineReport` with an exit status and a readable text.
"""

from __future__ import annotations

import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.ci.workflow import _BUILD, load_workflow, workflow_steps
from helpers.engine.client import get_client, kit_labels
from helpers.engine.registry import local_registry
from helpers.errors import CourseError, HealthTimeout
from helpers.images.build import build
from helpers.paths import DATA_DIR, course_root

__all__ = ["Stage", "PipelineReport", "run_pipeline", "build_from_workflow", "wait_healthy", "REFERENCE"]

#: The kit's reference Dockerfiles for sample_python_app.
REFERENCE = DATA_DIR / "sample_app"
Log = Callable[[str], None]


@dataclass
class Stage:
    """One stage of the pipeline."""

    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class PipelineReport:
    """What :func:`run_pipeline` did."""

    stages: list[Stage] = field(default_factory=list)
    app_log: str = ""
    test_log: str = ""
    image: str = ""
    pushed: str = ""
    run_id: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.stages) and all(s.ok for s in self.stages)

    @property
    def exit_code(self) -> int:
        """0 when every stage passed, 1 otherwise (what a CI runner reports)."""
        return 0 if self.ok else 1

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([s.__dict__ for s in self.stages], columns=["name", "ok", "seconds", "detail"])

    def text(self) -> str:
        """A readable report: one line per stage, the test summary, the exit status."""
        lines = [f"{'ok  ' if s.ok else 'FAIL'}  {s.name:<18} {s.seconds:6.1f} s  {s.detail}" for s in self.stages]
        summary = [ln for ln in self.test_log.splitlines() if " passed" in ln or " failed" in ln or "error" in ln]
        if summary:
            lines.append("tests: " + summary[-1].strip("= "))
        lines.append(f"exit status {self.exit_code}: " + ("pipeline passed" if self.ok else "pipeline FAILED"))
        return "\n".join(lines)


def build_from_workflow(workflow: str | Path, root: str | Path | None = None) -> tuple[Path, Path]:
    """The Dockerfile and build context named by the workflow's ``docker build`` step.

    Returns:
        (dockerfile, context), resolved against ``root`` (the repository root).

    Raises:
        CourseError: No step runs ``docker build`` with a context the kit can find.
    """

    root = Path(root or course_root())
    for step in workflow_steps(load_workflow(workflow)):
        for line in step.run.replace("\\\n", " ").splitlines():
            if not _BUILD.search(line):
                continue
            words = shlex.split(line[_BUILD.search(line).start() :])  # type: ignore[union-attr]
            words = [w for w in words if w not in ("docker", "buildx", "build")]
            dockerfile, args, i = None, [], 0
            while i < len(words):
                w = words[i]
                if w in ("-f", "--file"):
                    dockerfile, i = words[i + 1], i + 2
                    continue
                if w.startswith("--file="):
                    dockerfile = w.split("=", 1)[1]
                elif w in ("-t", "--tag", "--build-arg", "--label", "--target", "--cache-from", "--platform"):
                    i += 1
                elif not w.startswith("-"):
                    args.append(w)
                i += 1
            if args:
                context = root / args[-1]
                return (root / dockerfile if dockerfile else context / "Dockerfile"), context
    raise CourseError(
        "The workflow has no `docker build ... CONTEXT` step the kit can run.",
        "Add a step like `docker build -t sample-app:ci sample_python_app`.",
    )


def wait_healthy(container: Any, timeout: float = 60) -> str:
    """Wait until a container is healthy (or, without a HEALTHCHECK, runs for 2 s).

    Returns:
        "healthy", or "running" for an image with no health check.

    Raises:
        HealthTimeout: It exited, became unhealthy for good, or the time ran out.
    """

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        container.reload()
        state = container.attrs["State"]
        health = (state.get("Health") or {}).get("Status")
        if state["Status"] == "exited":
            raise HealthTimeout(
                "The app container exited before it became healthy.",
                container.name,
                state.get("ExitCode"),
                _tail(container),
            )
        if health == "unhealthy":
            raise HealthTimeout(
                "The app container reports `unhealthy`.",
                container.name,
                log_tail=_tail(container),
                hint="Its HEALTHCHECK keeps failing: read the log above (is the database reachable?).",
            )
        if health == "healthy" or (health is None and time.monotonic() - start > 2):
            return health or "running"
        time.sleep(0.5)
    raise HealthTimeout(
        f"The app container was not healthy after {timeout:.0f} s.",
        container.name,
        log_tail=_tail(container),
        hint="Check /health and the HEALTHCHECK; read the log above.",
    )


def _tail(container: Any, n: int = 20) -> str:
    try:
        return container.logs(tail=n).decode(errors="replace")
    except Exception:  # noqa: BLE001 - best effort while reporting another error
        return ""


def run_pipeline(
    context: str | Path | None = None,
    dockerfile: str | Path | None = None,
    test_dockerfile: str | Path | None = None,
    branch: str = "feature",
    version: str | None = None,
    health_timeout: float = 90,
    test_timeout: float = 120,
    app_env: dict[str, str] | None = None,
    log: Log | None = None,
    client: Any = None,
) -> PipelineReport:
    """Build, start, wait for health, test from a second container, collect logs, tear down.

    Args:
        context: The app's build context (default: ``sample_python_app`` of the course).
        dockerfile: The app's Dockerfile (default: the kit's reference Dockerfile).
        test_dockerfile: The test image's Dockerfile (default: the kit's, runs tests/integration).
        branch: The branch this run stands for; only ``"main"`` pushes.
        version: The tag to push (default: a short unique id, like a commit sha).
        health_timeout: Seconds to wait for the app to become healthy.
        test_timeout: Seconds the tests may take.
        app_env: Extra environment for the app container.
        log: Called with one line per stage as it finishes.
        client: docker-py client (connects lazily).

    Returns:
        A :class:`PipelineReport`; stage failures are recorded there, not raised.

    Raises:
        EngineUnavailable: No engine answers.
    """

    c = get_client(client)
    context = Path(context or course_root() / "sample_python_app")
    dockerfile = Path(dockerfile or REFERENCE / "optimized.Dockerfile")
    test_dockerfile = Path(test_dockerfile or REFERENCE / "test.Dockerfile")
    run_id = uuid.uuid4().hex[:8]
    report = PipelineReport(image=f"course-kit/pipeline-app:{run_id}", run_id=run_id)
    labels = kit_labels("pipeline", **{"org.dockercourse.pipeline": run_id})
    created: list[Any] = []
    app_box: list[Any] = []

    def stage(name: str, fn: Callable[[], str]) -> bool:
        t0 = time.monotonic()
        try:
            detail, ok = fn(), True
        except CourseError as e:
            detail, ok = e.message.splitlines()[0], False
            if getattr(e, "log_tail", ""):
                report.app_log = report.app_log or e.log_tail  # type: ignore[attr-defined]
        report.stages.append(Stage(name, ok, time.monotonic() - t0, detail))
        if log:
            log(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        return ok

    def build_app() -> str:
        r = build(context, dockerfile=dockerfile, tags=[report.image], labels=labels, client=c)
        return f"{report.image} ({r.cache_hits}/{len(r.steps)} steps cached)"

    def build_tests() -> str:
        r = build(
            context, dockerfile=test_dockerfile, tags=[f"course-kit/pipeline-tests:{run_id}"], labels=labels, client=c
        )
        return f"course-kit/pipeline-tests:{run_id} ({r.cache_hits}/{len(r.steps)} steps cached)"

    net_name = f"ci-{run_id}"

    def start() -> str:
        net = c.networks.create(net_name, labels=labels)
        created.append(net)
        app = c.containers.create(
            report.image, name=f"ci-app-{run_id}", labels=labels, environment=app_env or {}, network=net_name
        )
        created.insert(0, app)
        app_box.append(app)
        net.disconnect(app)
        net.connect(app, aliases=["app"])
        app.start()
        return f"container {app.name} on network {net_name} (as `app`)"

    def healthy() -> str:
        return wait_healthy(app_box[0], health_timeout) + " (GET /health answers 200 inside the container)"

    def tests() -> str:
        t = c.containers.create(
            f"course-kit/pipeline-tests:{run_id}",
            ["--app-url", "http://app:8000"],
            name=f"ci-tests-{run_id}",
            labels=labels,
            network=net_name,
        )
        created.insert(0, t)
        t.start()
        try:
            code = t.wait(timeout=test_timeout)["StatusCode"]
        except Exception as e:  # requests ReadTimeout
            raise CourseError(f"The tests ran past {test_timeout:.0f} s.", "Look for a hanging request.") from e
        report.test_log = t.logs().decode(errors="replace")
        if code != 0:
            raise CourseError(f"integration tests failed (exit code {code})")
        return "integration tests passed (from a separate container on the same network)"

    def push() -> str:

        reg = local_registry()
        ref = f"{reg.address}/sample-app:{version or run_id}"
        c.images.get(report.image).tag(ref)
        try:
            out = c.images.push(ref, auth_config=reg.auth_config(), stream=True, decode=True)
            errors = [x["error"] for x in out if "error" in x]
        finally:
            c.images.remove(ref)
        if errors:
            raise CourseError(f"push to {reg.address} failed: {errors[0]}", "Run `make lab` to start the registry.")
        report.pushed = ref
        return f"pushed {ref}"

    try:
        ok = stage("build app image", build_app) and stage("build test image", build_tests)
        ok = ok and stage("start app", start) and stage("wait healthy", healthy)
        ok = ok and stage("integration tests", tests)
        if app_box:
            report.app_log = _tail(app_box[0], 200) or report.app_log
        if ok and branch == "main":
            stage("push (main only)", push)
        elif ok:
            report.stages.append(Stage("push (main only)", True, 0.0, f"skipped: branch {branch!r} is not main"))
    finally:
        t0 = time.monotonic()
        removed = _teardown(c, created, [report.image, f"course-kit/pipeline-tests:{run_id}"])
        report.stages.append(Stage("tear down", True, time.monotonic() - t0, f"removed {removed}"))
    return report


def _teardown(c: Any, created: list[Any], tags: list[str]) -> str:
    from docker.errors import APIError, NotFound

    names = []
    for obj in created:
        try:
            obj.remove(force=True) if hasattr(obj, "start") else obj.remove()
            names.append(obj.name)
        except (NotFound, APIError):
            pass
    for tag in tags:  # the layers stay in the build cache; only this run's tags go
        try:
            c.images.remove(tag)
            names.append(tag)
        except (NotFound, APIError):
            pass
    return ", ".join(names) or "nothing"
