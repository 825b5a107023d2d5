"""Run a container CI pipeline on the local engine, the way the GitHub workflow runs it.

Stages: build the app image and the test image, create a labelled network, start the
app, wait until it is healthy, run the integration tests from a separate test container
on the same network, collect the logs, tear everything down (always), and on the
``main`` branch push a versioned tag to the local registry. The result is a
:class:`PipelineReport` with an exit status and a readable text.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.ci.pipelinereport import PipelineReport, Stage
from helpers.engine.client import get_client, kit_labels
from helpers.engine.registry import local_registry
from helpers.errors import CourseError, HealthTimeout
from helpers.images.build import build
from helpers.images.health import HealthState, log_tail, wait_health
from helpers.kit.sampleapp import sample_dockerfile_path
from helpers.paths import DATA_DIR, course_root

__all__ = ["run_pipeline", "wait_healthy", "REFERENCE"]

#: The kit's Dockerfiles for sample_python_app (the integration-test image; Lab 1's naive one). Lab 2's reference,
#: the app image a pipeline builds by default, is :func:`helpers.kit.sampleapp.sample_dockerfile_path`.
REFERENCE = DATA_DIR / "sample_app"
Log = Callable[[str], None]


def wait_healthy(container: Any, timeout: float = 60) -> str:
    """Wait until a container is healthy (or, without a HEALTHCHECK, runs for 2 s).

    Returns:
        "healthy", or "running" for an image with no health check.

    Raises:
        HealthTimeout: It exited, became unhealthy for good, or the time ran out.
    """

    def decided(s: HealthState, waited: float) -> bool:
        return s.status == "exited" or s.health in ("healthy", "unhealthy") or (s.health == "none" and waited > 2)

    wait = wait_health(container, timeout, until=decided, poll=0.5)
    state = wait.state
    if state.status == "exited":
        raise HealthTimeout(
            "The app container exited before it became healthy.",
            container.name,
            state.exit_code,
            log_tail(container),
        )
    if state.health == "unhealthy":
        raise HealthTimeout(
            "The app container reports `unhealthy`.",
            container.name,
            log_tail=log_tail(container),
            hint="Its HEALTHCHECK keeps failing: read the log above (is the database reachable?).",
        )
    if wait.timed_out:
        raise HealthTimeout(
            f"The app container was not healthy after {timeout:.0f} s.",
            container.name,
            log_tail=log_tail(container),
            hint="Check /health and the HEALTHCHECK; read the log above.",
        )
    return "healthy" if state.health == "healthy" else "running"


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
        dockerfile: The app's Dockerfile (default: Lab 2's reference; in the students' copy, their Lab 2 file).
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
    run = _PipelineRun(
        get_client(client),
        Path(context or course_root() / "sample_python_app"),
        Path(dockerfile or sample_dockerfile_path("optimized")),
        Path(test_dockerfile or REFERENCE / "test.Dockerfile"),
        log,
    )
    run.version, run.health_timeout, run.test_timeout, run.app_env = version, health_timeout, test_timeout, app_env
    return run.run(branch)


class _PipelineRun:
    """One run of :func:`run_pipeline`: each stage is a method; all share the engine, labels and what was created."""

    def __init__(self, c: Any, context: Path, dockerfile: Path, test_dockerfile: Path, log: Log | None) -> None:
        self.c, self.context, self.dockerfile, self.test_dockerfile, self.log = (
            c,
            context,
            dockerfile,
            test_dockerfile,
            log,
        )
        self.run_id = uuid.uuid4().hex[:8]
        self.report = PipelineReport(image=f"course-kit/pipeline-app:{self.run_id}", run_id=self.run_id)
        self.test_image = f"course-kit/pipeline-tests:{self.run_id}"
        self.net_name = f"ci-{self.run_id}"
        self.labels = kit_labels("pipeline", **{"org.dockercourse.pipeline": self.run_id})
        self.created: list[Any] = []
        self.app: Any = None
        self.version: str | None = None
        self.health_timeout, self.test_timeout = 90.0, 120.0
        self.app_env: dict[str, str] | None = None

    def run(self, branch: str) -> PipelineReport:
        """Run the stages in order (each only after the previous passed), then always tear down."""
        report = self.report
        try:
            ok = self.stage("build app image", self.build_app) and self.stage("build test image", self.build_tests)
            ok = ok and self.stage("start app", self.start) and self.stage("wait healthy", self.healthy)
            ok = ok and self.stage("integration tests", self.tests)
            if self.app is not None:
                report.app_log = log_tail(self.app, 200) or report.app_log
            if ok and branch == "main":
                self.stage("push (main only)", self.push)
            elif ok:
                report.stages.append(Stage("push (main only)", True, 0.0, f"skipped: branch {branch!r} is not main"))
        finally:
            t0 = time.monotonic()
            removed = _teardown(self.c, self.created, [report.image, self.test_image])
            report.stages.append(Stage("tear down", True, time.monotonic() - t0, f"removed {removed}"))
        return report

    def stage(self, name: str, fn: Callable[[], str]) -> bool:
        """Run one stage; record it (a CourseError fails the stage instead of propagating)."""
        t0 = time.monotonic()
        try:
            detail, ok = fn(), True
        except CourseError as e:
            detail, ok = e.message.splitlines()[0], False
            if getattr(e, "log_tail", ""):
                self.report.app_log = self.report.app_log or e.log_tail  # type: ignore[attr-defined]
        self.report.stages.append(Stage(name, ok, time.monotonic() - t0, detail))
        if self.log:
            self.log(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        return ok

    def build_app(self) -> str:
        image = self.report.image
        r = build(self.context, dockerfile=self.dockerfile, tags=[image], labels=self.labels, client=self.c)
        return f"{image} ({r.cache_hits}/{len(r.steps)} steps cached)"

    def build_tests(self) -> str:
        tags = [self.test_image]
        r = build(self.context, dockerfile=self.test_dockerfile, tags=tags, labels=self.labels, client=self.c)
        return f"{self.test_image} ({r.cache_hits}/{len(r.steps)} steps cached)"

    def start(self) -> str:
        net = self.c.networks.create(self.net_name, labels=self.labels)
        self.created.append(net)
        app = self.c.containers.create(
            self.report.image,
            name=f"ci-app-{self.run_id}",
            labels=self.labels,
            environment=self.app_env or {},
            network=self.net_name,
        )
        self.created.insert(0, app)
        self.app = app
        net.disconnect(app)
        net.connect(app, aliases=["app"])
        app.start()
        return f"container {app.name} on network {self.net_name} (as `app`)"

    def healthy(self) -> str:
        return wait_healthy(self.app, self.health_timeout) + " (GET /health answers 200 inside the container)"

    def tests(self) -> str:
        t = self.c.containers.create(
            self.test_image,
            ["--app-url", "http://app:8000"],
            name=f"ci-tests-{self.run_id}",
            labels=self.labels,
            network=self.net_name,
        )
        self.created.insert(0, t)
        t.start()
        try:
            code = t.wait(timeout=self.test_timeout)["StatusCode"]
        except Exception as e:  # requests ReadTimeout
            raise CourseError(f"The tests ran past {self.test_timeout:.0f} s.", "Look for a hanging request.") from e
        self.report.test_log = log_tail(t, 500)  # bounded: the tests' output is the student's (summary at the end)
        if code != 0:
            raise CourseError(f"integration tests failed (exit code {code})")
        return "integration tests passed (from a separate container on the same network)"

    def push(self) -> str:
        reg = local_registry()
        ref = f"{reg.address}/sample-app:{self.version or self.run_id}"
        self.c.images.get(self.report.image).tag(ref)
        try:
            out = self.c.images.push(ref, auth_config=reg.auth_config(), stream=True, decode=True)
            errors = [x["error"] for x in out if "error" in x]
        finally:
            self.c.images.remove(ref)
        if errors:
            raise CourseError(f"push to {reg.address} failed: {errors[0]}", "Run `make lab` to start the registry.")
        self.report.pushed = ref
        return f"pushed {ref}"


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
