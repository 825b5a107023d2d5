"""Unit tests for helpers.images.progress: the one reader of BuildKit's plain progress (no engine)."""

from __future__ import annotations

from helpers.images.progress import PlainProgress, parse_line, parse_plain_progress

FAILED_LOG = """\
#0 building with "default" instance using docker driver
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#5 [base 1/3] FROM docker.io/library/python:3.12-slim
#5 CACHED
#6 [base 2/3] RUN pip install nope
#6 0.512 Collecting nope
#6 1.020 ERROR: Could not find a version that satisfies the requirement nope
#6 ERROR: process "/bin/sh -c pip install nope" did not complete successfully: exit code: 1
------
ERROR: failed to solve: process "/bin/sh -c pip install nope" did not complete successfully: exit code: 1
"""


def test_lines_are_classified_with_their_vertex_and_step():
    """Does each kind of line (step, output, DONE, CACHED, ERROR, other) come out with its facts?"""
    step = parse_line("#7 [builder 3/4] RUN make")
    assert (step.kind, step.vertex, step.stage, step.index, step.total, step.text) == (
        "step",
        7,
        "builder",
        3,
        4,
        "RUN make",
    )
    assert step.label == "[builder 3/4] RUN make"
    assert parse_line("#7 DONE 1.5s").seconds == 1.5
    assert parse_line("#7 CACHED").kind == "cached"
    assert parse_line("#7 ERROR: boom").kind == "error"
    assert parse_line("#7 0.52 hello").text == "hello"
    assert parse_line("------").kind == "other"


def test_failed_build_names_the_step_and_its_own_error_lines():
    """Does the parser find the failing step, the cached one, and show that step's own output as the tail?"""
    p = PlainProgress().feed_all(FAILED_LOG)
    assert [s.instruction for s in p.steps] == ["FROM docker.io/library/python:3.12-slim", "RUN pip install nope"]
    assert [s.cached for s in p.steps] == [True, False]
    assert p.failed == "RUN pip install nope"
    tail = p.error_tail()
    assert tail[0] == "Collecting nope" and "Could not find a version" in tail[1]
    assert p.parse_error() is None


def test_dockerfile_parse_error_is_found():
    """Is BuildKit's Dockerfile parse error read as (line, message)?"""
    p = PlainProgress().feed_all("ERROR: failed to solve: dockerfile parse error on line 3: unknown instruction: RUNN")
    assert p.parse_error() == (3, "unknown instruction: RUNN")


def test_live_feed_with_a_clock_gives_start_and_end_times():
    """With a clock, does a step start at (DONE time - BuildKit's duration) and end at its DONE line?"""
    now = iter([0.0, 1.0, 5.0])
    p = PlainProgress(clock=lambda: next(now))
    for line in ["#3 [2/2] RUN sleep 3", "#3 0.1 working", "#3 DONE 3.0s"]:
        p.feed(line)
    (step,) = p.steps
    assert (step.started, step.ended, step.seconds, step.output) == (2.0, 5.0, 3.0, ["working"])


def test_whole_log_parse_keeps_its_contract():
    """Does parse_plain_progress still return (BuildStep list, failed instruction)?"""
    steps, failed = parse_plain_progress("#9 [builder 2/3] RUN make\n#9 DONE 1.5s\n")
    assert steps[0].instruction == "RUN make" and steps[0].seconds == 1.5 and failed == ""
