"""Is student text parsed in linear time, and is a student's container output read within bounds?

Part 1: each case is 64 KB of text crafted against one regex that used to backtrack on it (seconds
to tens of seconds before the rewrite). The bound, half a second, is far above linear time
(milliseconds) and far below the old quadratic time, so a regression fails here.

Part 2: the trusted side's reads of a container's output (logs, exec) on a container that floods.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from helpers.bounded import LOG_CAP, OUTPUT_CAP
from helpers.ci.workflow import _secret_leaks, _starts
from helpers.ci.workflowfile import Step
from helpers.images.inspect import _short
from helpers.layers.ci_rules import parse_bytes
from helpers.review.courserules import course_findings
from helpers.review.dockerfile import parse_dockerfile

N = 64 * 1024
LIMIT = 0.5


def _step(run: str, env: dict[str, Any] | None = None) -> Step:
    return Step("build", 0, "s", run, "", "", "", {}, env or {}, 1)


def _rules(run: str) -> list[str]:
    return [
        f.rule for f in course_findings(parse_dockerfile(f"FROM python:3.12-slim\nRUN {run}\n"), dockerignore=False)
    ]


def _resolve(text: str) -> str:
    return parse_dockerfile("ARG a=1\nFROM scratch\n").resolve(text)


def _bytes_or_error(text: str) -> str:
    try:
        return str(parse_bytes(text))
    except ValueError as e:
        return str(e)


CASES: dict[str, tuple[Callable[[], Any], Any]] = {
    # review/dockerfile.py: `# name=value` directives, `${X:-...}` in base images
    "directive value": (lambda: parse_dockerfile("#syntax=x" + "\t" * N + "x\nFROM scratch\n").directives, None),
    "resolve unclosed ${": (lambda: _resolve("${a:-" * (N // 5)), "${a:-" * (N // 5)),
    # review/courserules.py: package managers, build tools, removal, apt-get options
    "package manager then install": (lambda: _rules("apt " * (N // 4)), None),
    "-dev package names": (lambda: _rules("apt-get install " + "a-" * (N // 2)), None),
    "install then make": (lambda: _rules("apt-get install x && " + "install " * (N // 8)), None),
    "removal of build tools": (lambda: _rules("apt-get install gcc && " + "del " * (N // 4)), None),
    "apt-get options": (lambda: _rules("apt-get " + "-apt-get " * (N // 9)), None),
    # ci/workflow.py: docker run -d, docker login -p
    "docker run -d": (lambda: _starts("docker run " * (N // 11)), False),
    "docker login -p": (lambda: _secret_leaks([_step("${{ secrets.X }} " + "docker login " * (N // 13))]), []),
    # images/inspect.py: build args in image history; layers/ci_rules.py: sizes in .dive-ci
    "history build args": (lambda: _short("RUN |1 " + "=" * N), None),
    "size with blanks": (lambda: _bytes_or_error("1" + " " * N + "!"), None),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_input_is_parsed_in_linear_time(name: str) -> None:
    """Does 64 KB crafted against this parser's old regex take well under a second (and give the right answer)?"""
    fn, expected = CASES[name]
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT, f"{name}: {elapsed:.2f} s on 64 KB"
    if expected is not None:
        assert out == expected


class Flood:
    """A student's container that prints without end: every stream it gives yields 1 MB chunks, counted."""

    def __init__(self) -> None:
        self.sent = 0
        self.status, self.name, self.short_id, self.id = "running", "flood", "f" * 12, "f" * 64
        self.attrs: dict[str, Any] = {
            "State": {"Status": "running", "Running": True, "Health": {"Status": "unhealthy", "Log": []}},
            "NetworkSettings": {"Ports": {}},
        }
        exec_api = SimpleNamespace(
            exec_create=lambda *a, **k: {"Id": "e" * 64},
            exec_start=lambda *a, **k: iter([b"1000\n"]),
            exec_inspect=lambda *a: {"Running": False, "ExitCode": 0},
        )
        self.client = SimpleNamespace(api=exec_api)

    def logs(self, stream: bool = False, **kwargs: Any) -> Iterator[bytes]:
        assert stream, "a student's log must be read as a stream, not whole"
        return self._endless()

    def _endless(self) -> Iterator[bytes]:
        while True:
            self.sent += 1 << 20
            yield b"x" * (1 << 20)

    def start(self) -> None: ...
    def reload(self) -> None: ...
    def remove(self, **kwargs: Any) -> None: ...
    def wait(self, timeout: float = 0) -> dict[str, int]:
        return {"StatusCode": 0}


def _bounded(text: str, ctr: Flood, cap: int) -> None:
    assert text.startswith("[output cut: kept") and len(text) < cap + 200
    assert ctr.sent <= 2 * max(cap, 1 << 20), "the grader read past the cap"


def test_compose_health_tail_is_capped():
    """Does the compose stack's failure message read at most LOG_CAP of an endless log line?"""
    from helpers.ci.compose import _health_tail

    ctr = Flood()
    text = _health_tail(ctr)
    _bounded(text.split("\nlast health check:")[0], ctr, LOG_CAP)


def test_remediation_health_report_tail_is_capped():
    """Does check_health (labs 3 and 4 grade with it) keep at most LOG_CAP of a flooding image's log?"""
    from helpers.supplychain.remediation import check_health

    ctr = Flood()
    engine = SimpleNamespace(containers=SimpleNamespace(run=lambda *a, **k: ctr))
    report = check_health("student/app", timeout=1, client=engine)
    assert report.status == "unhealthy"
    _bounded(report.log_tail, ctr, LOG_CAP)


def test_pipeline_test_log_is_capped():
    """Does the pipeline (lab 5) keep a bounded test log when the student's tests print without end?"""
    from helpers.ci.pipeline import _PipelineRun

    ctr = Flood()
    client = SimpleNamespace(containers=SimpleNamespace(create=lambda *a, **k: ctr))
    run = _PipelineRun(client, Path("."), Path("Dockerfile"), Path("Dockerfile.test"), None)
    assert "passed" in run.tests()
    _bounded(run.report.test_log, ctr, LOG_CAP)


def test_lesson_run_once_output_is_capped():
    """Does run_once keep at most OUTPUT_CAP of a command that prints without end?"""
    from helpers.lessons.common import run_once

    ctr = Flood()
    client = SimpleNamespace(containers=SimpleNamespace(create=lambda *a, **k: ctr))
    out = run_once("yes", image="python:3.12-slim", client=client)
    _bounded(out.output, ctr, OUTPUT_CAP)
