"""Do the self-checks of lessons 04 and 05 say PASS when a student types the exercise's commands the right
way, and NOT YET, naming what is missing, for the usual wrong ways?

Every command goes through the docker CLI, as a student types it, under names with a unique prefix
(``t1a2b3c-ex04-init`` instead of ``ex04-init``), so parallel runs and the notebooks never share them.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from helpers.engine.client import SESSION_LABEL, session_id
from helpers.lessons.common import lesson_image
from helpers.lessons.exercises import EXERCISES, check_exercise, exercise_cleanup, exercise_names

pytestmark = pytest.mark.engine

KIT = ["--label", "org.dockercourse.kit=true"]


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``docker ARGS`` as typed in a terminal."""
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=180)


@pytest.fixture
def image(engine):
    return lesson_image(client=engine)


@pytest.fixture
def prefix(engine):
    """A unique name prefix per test; afterwards everything under it is removed by name (the test made it)."""
    base = f"t{uuid.uuid4().hex[:6]}"
    yield base
    for lesson in ("04", "05"):
        names = {k: [] for k in ("containers", "networks", "images")}
        for key, ex in EXERCISES.items():
            if ex.lesson == lesson:
                for kind, found in exercise_names(key, f"{base}-ex{lesson}").items():
                    names[kind] += found
        if names["containers"]:
            docker("rm", "-f", *names["containers"], check=False)
        for net in names["networks"]:
            docker("network", "rm", net, check=False)
        if names["images"]:
            docker("rmi", "-f", *names["images"], check=False)


def session() -> list[str]:
    """The test session's label too, so the session clean-up finds anything a failed test left."""
    return ["--label", f"{SESSION_LABEL}={session_id()}"]


def test_init_right_way(prefix, image, engine):
    """Started with --init and stopped: PASS, exit 143, a stop well under 2 s?"""
    p = f"{prefix}-ex04"
    docker("run", "-d", "--name", f"{p}-init", "--init", *KIT, *session(), image, "sleep", "300")
    running = check_exercise("ex04-init", prefix=p, client=engine)
    assert running.status == "NOT YET" and "docker stop" in " ".join(running.missing)
    t0 = time.monotonic()
    docker("stop", f"{p}-init")
    assert time.monotonic() - t0 < 2
    r = check_exercise("ex04-init", prefix=p, client=engine)
    assert r.passed, str(r)
    assert "code 143" in r.saw and "Init=True" in r.saw
    assert str(r).startswith("PASS ex04-init:")


def test_init_without_init(prefix, image, engine):
    """Without --init, sleep as PID 1 ignores SIGTERM and is killed: NOT YET naming --init and 137?"""
    p = f"{prefix}-ex04"
    docker("run", "-d", "--name", f"{p}-init", *KIT, *session(), image, "sleep", "300")
    docker("stop", "-t", "1", f"{p}-init")
    r = check_exercise("ex04-init", prefix=p, client=engine)
    assert r.status == "NOT YET"
    missing = " ".join(r.missing)
    assert "`--init`" in missing and "137" in missing
    assert str(r).startswith("NOT YET ex04-init: saw ")


def test_network_right_way(prefix, image, engine):
    """A labelled user network, the server on it with 127.0.0.1::8000: PASS with an HTTP answer by name?"""
    p = f"{prefix}-ex04"
    docker("network", "create", *KIT, *session(), f"{p}-net")
    docker(
        "run", "-d", "--name", f"{p}-api", "--network", f"{p}-net", "-p", "127.0.0.1::8000", *KIT, *session(),
        image, "python3", "-m", "http.server", "8000",
    )  # fmt: skip
    r = check_exercise("ex04-net", prefix=p, client=engine)
    assert r.passed, str(r)
    assert "HTTP 200" in r.saw and "127.0.0.1:" in r.saw


def test_network_default_bridge(prefix, image, engine):
    """The server on the default bridge, published on every interface: NOT YET naming the network and 127.0.0.1?"""
    p = f"{prefix}-ex04"
    docker("network", "create", *KIT, *session(), f"{p}-net")
    docker(
        "run", "-d", "--name", f"{p}-api", "-p", "8000", *KIT, *session(),
        image, "python3", "-m", "http.server", "8000",
    )  # fmt: skip
    r = check_exercise("ex04-net", prefix=p, client=engine)
    assert r.status == "NOT YET"
    missing = " ".join(r.missing)
    assert f"--network {p}-net" in missing and "127.0.0.1 only" in missing
    assert "on bridge" in r.saw and "no answer" in r.saw


def test_logs_right_way(prefix, image, engine):
    """json-file with max-size and max-file, a line on each stream: PASS?"""
    p = f"{prefix}-ex04"
    docker(
        "run", "--name", f"{p}-logs", *KIT, *session(), "--log-driver", "json-file",
        "--log-opt", "max-size=1m", "--log-opt", "max-file=3", image, "sh", "-c", "echo out; echo err >&2",
    )  # fmt: skip
    r = check_exercise("ex04-logs", prefix=p, client=engine)
    assert r.passed, str(r)
    assert "max-size=1m" in r.saw and "1 line(s) on stdout, 1 on stderr" in r.saw


def test_logs_not_rotated(prefix, image, engine):
    """No log options and nothing on stderr: NOT YET naming max-size, max-file and stderr?"""
    p = f"{prefix}-ex04"
    docker("run", "--name", f"{p}-logs", *KIT, *session(), image, "echo", "only stdout")
    r = check_exercise("ex04-logs", prefix=p, client=engine)
    missing = " ".join(r.missing)
    assert r.status == "NOT YET"
    assert "max-size" in missing and "max-file" in missing and "stderr" in missing


RIGHT_DOCKERFILE = """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE} AS base
WORKDIR /app
COPY slug.py .

FROM base AS test
COPY test_slug.py .
RUN python3 -m unittest -v test_slug

FROM base AS runtime
USER 10001
CMD ["python3", "slug.py"]
"""

#: The usual mistakes: the release built FROM test (tests ship), shell-form CMD, root.
WRONG_DOCKERFILE = """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE} AS base
WORKDIR /app
COPY slug.py .

FROM base AS test
COPY test_slug.py .
RUN python3 -m unittest -v test_slug

FROM test AS runtime
CMD python3 slug.py
"""


def _app(folder, dockerfile: str):
    (folder / "slug.py").write_text(
        "def slug(t):\n    return t.lower()\n\n\nif __name__ == '__main__':\n    print(slug('X'))\n"
    )
    (folder / "test_slug.py").write_text(
        "import unittest\n\nfrom slug import slug\n\n\nclass T(unittest.TestCase):\n"
        "    def test_slug(self):\n        self.assertEqual(slug('A'), 'a')\n"
    )
    (folder / "Dockerfile").write_text(dockerfile)


def test_test_stage_right_way(prefix, image, engine, tmp_path):
    """--target test then the default stage: PASS (tests ran in :test, not in :latest; exec form; uid 10001)?"""
    p = f"{prefix}-ex05"
    _app(tmp_path, RIGHT_DOCKERFILE)
    common = ["--build-arg", f"BASE_IMAGE={image}", *KIT, *session()]
    docker("build", "--target", "test", *common, "-t", f"{p}-app:test", str(tmp_path))
    docker("build", *common, "-t", f"{p}-app:latest", str(tmp_path))
    r = check_exercise("ex05-test-stage", prefix=p, client=engine)
    assert r.passed, str(r)
    assert "ran tests" in r.saw and "as user 10001" in r.saw


def test_test_stage_wrong_way(prefix, image, engine, tmp_path):
    """No test image, a release FROM test in shell form as root: NOT YET naming each of them?"""
    p = f"{prefix}-ex05"
    _app(tmp_path, WRONG_DOCKERFILE)
    docker("build", "--build-arg", f"BASE_IMAGE={image}", *KIT, *session(), "-t", f"{p}-app:latest", str(tmp_path))
    r = check_exercise("ex05-test-stage", prefix=p, client=engine)
    missing = " ".join(r.missing)
    assert r.status == "NOT YET"
    for phrase in (f"built as {p}-app:test", "FROM base", "exec-form", "non-root USER"):
        assert phrase in missing, (phrase, str(r))


def test_locked_right_way(prefix, image, engine):
    """All four flags and the service still runs: PASS, with an empty CapEff read from PID 1?"""
    p = f"{prefix}-ex05"
    docker(
        "run", "-d", "--name", f"{p}-locked", *KIT, *session(), "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges", "--read-only", "--user", "10001:10001",
        image, "python3", "-m", "http.server", "8000",
    )  # fmt: skip
    r = check_exercise("ex05-locked", prefix=p, client=engine)
    assert r.passed, str(r)
    assert "CapEff: 0000000000000000" in r.saw


def test_locked_half_way(prefix, image, engine):
    """Only --cap-drop ALL and a user: NOT YET naming no-new-privileges and --read-only, not the rest?"""
    p = f"{prefix}-ex05"
    docker(
        "run", "-d", "--name", f"{p}-locked", *KIT, *session(), "--cap-drop", "ALL", "--user", "10001",
        image, "python3", "-m", "http.server", "8000",
    )  # fmt: skip
    r = check_exercise("ex05-locked", prefix=p, client=engine)
    missing = " ".join(r.missing)
    assert r.status == "NOT YET"
    assert "no-new-privileges" in missing and "--read-only" in missing
    assert "--cap-drop ALL" not in missing and "--user" not in missing


def test_cleanup_removes_only_labelled(prefix, image, engine):
    """Does the clean-up remove the labelled network and leave the unlabelled container, saying how to remove it?"""
    p = f"{prefix}-ex04"
    docker("network", "create", *KIT, *session(), f"{p}-net")
    docker("run", "-d", "--name", f"{p}-init", image, "sleep", "300")  # no kit label: the student's own
    lines = exercise_cleanup("04", prefix=p, client=engine)
    assert f"removed network {p}-net" in lines
    assert any(line.startswith(f"left container {p}-init") and f"docker rm -f {p}-init" in line for line in lines)
    assert docker("network", "inspect", f"{p}-net", check=False).returncode != 0
    assert docker("inspect", f"{p}-init", check=False).returncode == 0
    # the test created it: remove it (the fixture would too)
    docker("rm", "-f", f"{p}-init")


def _answers(notebook: str) -> list[tuple[str, str, str]]:
    """(exercise key, the answer's bash, the set-up code cells between) for each exercise of a lesson notebook."""
    import json
    import re
    from pathlib import Path

    cells = json.loads((Path(__file__).parents[3] / "notebooks" / notebook).read_text())["cells"]
    found = []
    for i, cell in enumerate(cells):
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or not text.startswith("### Exercise"):
            continue
        answer = text.split("<summary>Show the answer</summary>", 1)[1]
        bash = re.search(r"```bash\n(.*?)```", answer, re.S).group(1)
        setup, key = [], None
        for later in cells[i + 1 :]:
            src = "".join(later["source"])
            m = re.search(r'check_exercise\("([a-z0-9-]+)"\)', src)
            if m:
                key = m.group(1)
                break
            if later["cell_type"] == "code" and not src.startswith("%%bash"):
                setup.append(src)
        found.append((key, bash, "\n".join(setup)))
    return found


@pytest.mark.parametrize("notebook", ["04-runtime-configuration.ipynb", "05-python-patterns.ipynb"])
def test_notebook_answers_pass(notebook, prefix, image, engine, monkeypatch, tmp_path):
    """Does each answer printed in the notebook, typed as is (under this test's names), make its self-check PASS?"""
    import os
    import re
    import tempfile
    from pathlib import Path
    from types import SimpleNamespace

    answers = _answers(notebook)
    assert len(answers) >= (3 if notebook.startswith("04") else 2)
    monkeypatch.setenv("IMAGE", image)
    monkeypatch.setenv("EX05_DIR", "")  # restored after the test; the set-up cell sets it
    in_tmp = SimpleNamespace(mkdtemp=lambda prefix="": tempfile.mkdtemp(prefix=prefix, dir=tmp_path))
    for key, bash, setup in answers:
        if setup:  # the notebook's own set-up cell (05-A writes the app and its tests to $EX05_DIR)
            exec(setup, {"Path": Path, "tempfile": in_tmp, "os": os})
        p = f"{prefix}-{key[:4]}"
        script = re.sub(r"\bex0([45])-", rf"{prefix}-ex0\1-", bash)
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (key, proc.stderr[-2000:])
        r = check_exercise(key, prefix=p, client=engine)
        assert r.passed, str(r)
