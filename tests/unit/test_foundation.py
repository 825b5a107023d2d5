"""Pure-logic tests of the foundation: errors, build-log parsing, CLI help, ports, the cheap import."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from helpers.cli import build_parser, main
from helpers.errors import BuildError, CourseError, DockerfileError, EngineUnavailable, PortInUse
from helpers.images.progress import parse_plain_progress
from helpers.kit.labserver import free_port

PLAIN_LOG = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#5 [1/4] FROM docker.io/library/python:3.12-slim
#5 DONE 0.1s
#6 [2/4] WORKDIR /app
#6 CACHED
#7 [3/4] RUN pip install -r requirements.txt
#7 12.3 Successfully installed x
#7 DONE 12.4s
#8 [4/4] COPY . .
#8 ERROR: failed to compute cache key: "/app.py" not found
"""


def test_plain_progress_gives_steps_cache_hits_times_and_failure():
    """Does the BuildKit log parser find each step, which were cached, their times, and the failing one?"""
    steps, failed = parse_plain_progress(PLAIN_LOG)
    assert [s.instruction for s in steps] == [
        "FROM docker.io/library/python:3.12-slim",
        "WORKDIR /app",
        "RUN pip install -r requirements.txt",
        "COPY . .",
    ]
    assert [s.cached for s in steps] == [False, True, False, False]
    assert steps[2].seconds == 12.4
    assert failed == "COPY . ."


def test_multistage_step_names_are_parsed():
    """Are steps of named stages (`[builder 2/3]`) parsed too?"""
    steps, _ = parse_plain_progress("#9 [builder 2/3] RUN make\n#9 DONE 1.5s\n")
    assert steps[0].instruction == "RUN make" and steps[0].seconds == 1.5


def test_every_error_says_what_to_do():
    """Does every kit error carry a hint line the student can act on?"""
    for err in (
        EngineUnavailable(),
        PortInUse(8888),
        BuildError("x", step="RUN y", log_tail="a\nb"),
        DockerfileError("bad", line=3),
    ):
        text = str(err)
        assert "\n-> " in text and isinstance(err, CourseError)
    assert "line 3" in str(DockerfileError("bad", line=3))
    assert "RUN y" in str(BuildError("x", step="RUN y"))


def test_every_cli_command_has_help():
    """Does every sub-command (and verb) of `python -m helpers` have help text?"""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sub.choices, "no commands registered"
    for name, p in sub.choices.items():
        helps = {a.dest: a.help for a in sub._choices_actions}
        assert helps.get(name), f"command {name} has no help"
        assert p.description, f"command {name} has no description"


def test_cli_turns_course_errors_into_short_messages(capsys, monkeypatch):
    """Does a CourseError come out as one short message and exit code 2, not a traceback?"""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent-course.sock")
    import helpers.commands.env as env_cmd

    def boom(args):
        raise EngineUnavailable("test")

    monkeypatch.setattr(env_cmd, "_up", boom)
    assert main(["env", "up"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No Docker Engine answers") and "Traceback" not in err


def test_free_port_skips_a_busy_port():
    """When the preferred port is taken, is the next free one chosen?"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        assert free_port(busy, tries=5) != busy
        with pytest.raises(PortInUse):
            free_port(busy, tries=1)


def test_importing_helpers_is_cheap():
    """Does `import helpers` leave the engine, docker-py and pandas untouched?"""
    code = "import sys, helpers; print(sorted(m for m in ('docker', 'pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_exported_name_resolves():
    """Does every name in helpers.__all__ load from its module?"""
    import helpers

    for name in helpers.__all__:
        assert getattr(helpers, name) is not None, name
