"""Does the Dockerfile parser handle real-world files and reject what is not a Dockerfile?"""

from __future__ import annotations

import pytest

from helpers.errors import CourseError, DockerfileError
from helpers.review.dockerfile import parse_dockerfile, read_dockerfile


def test_multistage_arg_before_from_and_names():
    """Are stages, their names and the global ARG defaults found?"""
    df = parse_dockerfile("ARG BASE=python:3.12-slim\nFROM ${BASE} AS build\nRUN echo hi\nFROM build\nUSER 10001\n")
    assert [s.name for s in df.stages] == ["build", ""]
    assert df.global_args == {"BASE": "python:3.12-slim"}
    assert df.resolve(df.stages[0].base) == "python:3.12-slim"
    assert df.final.instructions[-1].keyword == "USER"
    assert df.instructions[0].stage == -1


def test_continuations_comments_and_crlf():
    """Are continuations joined across comments and blank lines, with CRLF line endings and line numbers kept?"""
    text = 'FROM x\r\nRUN apt-get update \\\r\n# a comment\r\n\r\n    && apt-get install -y curl\r\nCMD ["a"]\r\n'
    df = parse_dockerfile(text)
    run = df.instructions[1]
    assert run.args == "apt-get update && apt-get install -y curl"
    assert (run.line, run.end_line) == (2, 5)
    assert df.instructions[2].line == 6


def test_heredoc_lowercase_flags_and_json_form():
    """Are heredoc bodies, lower-case keywords, --mount flags and the JSON form recognised?"""
    text = (
        "# syntax=docker/dockerfile:1\nfrom x\nrun --mount=type=cache,target=/root/.cache <<-EOF\n"
        '\tpip install flask\n\tEOF\ncmd ["python", "app.py"]\n'
    )
    df = parse_dockerfile(text)
    assert df.directives == {"syntax": "docker/dockerfile:1"}
    run = df.instructions[1]
    assert run.keyword == "RUN" and run.flags["mount"] == "type=cache,target=/root/.cache"
    assert run.heredocs == ["pip install flask"] and "pip install flask" in run.command
    assert df.instructions[2].json_args == ["python", "app.py"] and df.instructions[2].line == 6


def test_escape_directive():
    """Does `# escape=`` ` change the continuation character?"""
    df = parse_dockerfile("# escape=`\nFROM x\nRUN dir `\n  c:\\\n")
    assert df.instructions[1].args == "dir c:\\"


@pytest.mark.parametrize(
    "text,line,words",
    [
        ("", 0, "empty"),
        ("# only a comment\n\n", 0, "empty"),
        ("import os\nprint(os.getcwd())\n", 1, "does not look like a Dockerfile"),
        ("FROM x\nRUNN echo\n", 2, "unknown instruction"),
        ("FROM x\nRUN echo \\\n", 2, "continuation"),
        ("FROM x\nRUN <<EOF\necho\n", 2, "never closed"),
        ("RUN echo\nFROM x\n", 1, "before the first FROM"),
    ],
)
def test_bad_input_is_a_clear_error(text, line, words):
    """Does bad input give a DockerfileError with the line and a readable message?"""
    with pytest.raises(DockerfileError) as e:
        parse_dockerfile(text)
    assert e.value.line == line
    assert words in str(e.value)
    assert isinstance(e.value, CourseError)


def test_binary_and_missing_files(tmp_path):
    """Do a binary file and a missing path give DockerfileError too?"""
    (tmp_path / "bin").write_bytes(b"\x00\xff\xfe\x80")
    with pytest.raises(DockerfileError):
        read_dockerfile(tmp_path / "bin")
    with pytest.raises(DockerfileError):
        read_dockerfile(tmp_path / "nope")


def test_directive_value_is_stripped_and_keeps_inner_blanks():
    """Is a directive's value read whole and stripped (blanks around `=` and at the end dropped)?"""
    df = parse_dockerfile("#  syntax =  docker/dockerfile:1  \n# check=skip=a b\nFROM scratch\n")
    assert df.directives == {"syntax": "docker/dockerfile:1", "check": "skip=a b"}


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("${A}:${B}", "1:${B}"),
        ("$A-$A_X-${A:-x}", "1-$A_X-1"),
        ("${B:-x}", "${B:-x}"),
        ("${A:-${A:-${A:-}", "1"),  # one `}` closes the first `${`, as docker's own regex read
        ("${A:-x", "${A:-x"),
        ("${A:-x $A", "${A:-x 1"),
        ("$", "$"),
        ("a$}b${A}", "a$}b1"),
    ],
)
def test_resolve_replaces_global_args_and_leaves_the_rest(text, resolved):
    """Are `${A}`, `$A` and `${A:-...}` replaced by a global ARG's default, and anything else kept as written?"""
    assert parse_dockerfile("ARG A=1\nFROM scratch\n").resolve(text) == resolved
