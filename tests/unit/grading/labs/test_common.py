"""Pure logic of helpers.grading.labs.common (the Dockerfile as the checks read it, the checklist),
and of the image helpers the lab checks use: ARG filling, helpers.images.run and helpers.images.widgets (no engine)."""

from __future__ import annotations

import socket

from helpers.engine.baseimages import official_arg_defaults
from helpers.images.buildmodel import BuildResult, BuildStep
from helpers.images.running import http_get, port_free
from helpers.images.widgets import BuildProgress
from helpers.review.dockerfile import parse_dockerfile


def test_instructions_join_continuations_and_drop_comments():
    """Do the lab checks read instructions with continuations joined and comments dropped, like Docker does?"""
    text = '# c\nARG BASE_IMAGE=python:3.12\nFROM ${BASE_IMAGE} AS b\nRUN a \\\n && b\ncmd ["x"]\n'
    assert [(i.keyword, i.args) for i in parse_dockerfile(text).instructions] == [
        ("ARG", "BASE_IMAGE=python:3.12"),
        ("FROM", "${BASE_IMAGE} AS b"),
        ("RUN", "a && b"),
        ("CMD", '["x"]'),
    ]


def test_official_arg_defaults_map_to_base_kinds():
    """Do ARG defaults naming official Python images map to the slim or full base, and nothing else?"""
    text = 'ARG BUILDER_IMAGE=python:3.12\nARG BASE_IMAGE="python:3.12-slim"\nARG OTHER=debian:12\nARG NODEF\n'
    assert official_arg_defaults(text) == {"BUILDER_IMAGE": "full", "BASE_IMAGE": "slim"}


def test_build_result_step_finds_the_last_match():
    """Does BuildResult.step find a step by part of its instruction, case-insensitively?"""
    r = BuildResult(
        "id",
        [],
        1.0,
        "x",
        [
            BuildStep(1, "COPY requirements.txt .", True, 0),
            BuildStep(2, "RUN pip install -r requirements.txt", True, 0),
            BuildStep(3, "COPY app ./app", False, 0),
        ],
    )
    assert r.step("PIP INSTALL").number == 2 and r.step("nothing") is None and r.cache_hits == 2


def test_port_free_sees_a_listening_socket():
    """Is a port with a listener reported as taken, and is it free again once closed?"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    assert not port_free(port)
    s.close()
    assert port_free(port)


def test_http_get_never_raises_on_refused_connection():
    """Does a GET to a closed port come back as status 0 with a reason instead of raising?"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    answer = http_get(f"http://127.0.0.1:{port}/health", timeout=1)
    assert answer.status == 0 and answer.error


def test_build_progress_tracks_steps_without_widgets(capsys):
    """Does the progress callback report each new step once, with stage names, and count cache hits?"""
    p = BuildProgress("img", use_widgets=False)
    for line in [
        "#5 [builder 1/3] FROM x",
        "#5 CACHED",
        "#6 [runtime 2/3] RUN pip install -r r.txt",
        "#6 0.5 Collecting fastapi",
        "#6 [runtime 2/3] RUN pip install -r r.txt",
    ]:
        p(line)
    out = capsys.readouterr().out.splitlines()
    assert out == ["img: [builder 1/3] FROM x", "img: [runtime 2/3] RUN pip install -r r.txt"]
    assert p.cached == 1 and p.current.endswith("RUN pip install -r r.txt")


def test_static_checks_tell_the_naive_and_the_optimized_reference_apart():
    """Does the text-only checklist fail the naive reference where Lab 2 improves it, and pass the optimized one?"""
    from helpers.grading.labs.common import static_checks
    from helpers.kit.sampleapp import reference_dockerfile

    naive = static_checks(reference_dockerfile("naive"))["ok"]
    assert not naive["multi-stage build (2+ FROM)"] and not naive["final stage has a non-root USER"]
    assert not naive["dependencies installed before the source is copied"] and naive["CMD/ENTRYPOINT in exec form"]
    assert static_checks(reference_dockerfile("optimized"))["ok"].all()


def test_static_checks_see_shell_form_and_root_user():
    """Is a shell-form CMD and `USER root` in the final stage flagged?"""
    from helpers.grading.labs.common import static_checks

    ok = static_checks("FROM a AS b\nUSER app\nFROM c\nUSER root\nCMD python -m app\n")["ok"]
    assert not ok["final stage has a non-root USER"] and not ok["CMD/ENTRYPOINT in exec form"]
