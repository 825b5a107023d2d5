"""Lab 2's verdicts on the lab engine: the reference passes every cell, the starter none, and each wrong answer
(written the way a different practitioner would) fails exactly the cells it should.

Each case builds once (the checks reuse the build); the Lab 1 reference is measured once per engine and cached.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.grading.facts import load_spec
from helpers.grading.labs import lab2
from helpers.grading.verdicts import compute
from helpers.paths import course_root

pytestmark = [pytest.mark.engine]

LAB = "lab2-improve-dockerfile"
ROOT = course_root()
REFERENCE = ROOT / "tests" / "data" / "labs" / LAB / "reference"
CELLS = set(load_spec(LAB, root=ROOT).verdicts)
IMAGE_CELLS = CELLS - {"test_dockerignore"}
GOOD_IGNORE = (REFERENCE / "Dockerfile.dockerignore").read_text()

#: Practitioner 1: one stage on the slim base, compilers installed and left in: not multi-stage, a compiler ships.
SINGLE_STAGE_SLIM = """\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
# Python's headers: in the official image already; the kit's Debian-built stand-in needs python3-dev
RUN headers=$(python -c "import os, sysconfig; print(os.path.exists(sysconfig.get_path('include') + '/Python.h'))") \\
 && apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \\
    $([ "$headers" = True ] || echo python3-dev) \\
 && rm -rf /var/lib/apt/lists/* && useradd --uid 1000 --create-home app
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app ./app
RUN mkdir -p /data && chown app /data
ENV PORT=8000 DATA_DIR=/data
USER app
EXPOSE 8000
HEALTHCHECK --interval=2s --start-period=5s CMD ["python", "-c", \
"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["python", "-m", "app"]
"""

#: Practitioner 2: multi-stage, but the whole context is copied before pip runs, no USER, and no ignore file.
ROOT_COPY_FIRST = """\
ARG BUILDER_IMAGE=python:3.12
ARG BASE_IMAGE=python:3.12-slim
FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip python -m venv /venv && /venv/bin/pip install -r requirements.txt
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
COPY --from=build /venv /venv
WORKDIR /app
COPY --from=build /src/app ./app
ENV PATH=/venv/bin:$PATH PORT=8000 DATA_DIR=/tmp
EXPOSE 8000
HEALTHCHECK --interval=2s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health')"
ENTRYPOINT ["python"]
CMD ["-m", "app"]
"""

#: Practitioner 3: the reference's shape with a curl health check (the slim image has no curl), and an ignore
#: file that forgets the tests.
CURL_HEALTH = (REFERENCE / "Dockerfile").read_text().split("HEALTHCHECK")[0] + (
    "HEALTHCHECK --interval=2s --timeout=2s --retries=2 CMD curl -fsS http://127.0.0.1:8000/health || exit 1\n"
    'CMD ["python", "-m", "app"]\n'
)

#: Practitioner 4: alpine, where psycopg2 has no wheel and no pg_config (offline: the base cannot even be pulled).
ALPINE = """\
FROM python:3.12-alpine
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app ./app
USER nobody
CMD ["python", "-m", "app"]
"""


#: Right answers as three other practitioners write them (each with its own ignore-file style): all seven cells.
RIGHT = {
    # wheels built in a builder stage, installed in the runtime through a bind mount (no wheel left in a layer);
    # the ignore file is an allow-list
    "wheels through a bind mount": (
        """\
ARG BUILDER_IMAGE=python:3.12
ARG BASE_IMAGE=python:3.12-slim
FROM ${BUILDER_IMAGE} AS wheels
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip wheel --wheel-dir /wheels -r requirements.txt

FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \\
    pip install --no-cache-dir --no-index --find-links=/wheels -r /tmp/requirements.txt
RUN useradd --system --uid 999 api && mkdir /data && chown api /data
WORKDIR /app
COPY app ./app
ENV PORT=8000 DATA_DIR=/data
USER api
EXPOSE 8000
HEALTHCHECK --interval=2s --start-period=5s \\
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
CMD ["python", "-m", "app"]
""",
        "*\n!app\n!requirements.txt\n**/__pycache__\n",
    ),
    # a virtualenv copied over, other stage names, a numeric USER, ENTRYPOINT; an ignore file with trailing slashes
    "venv, numeric user": (
        """\
ARG BUILDER_IMAGE=python:3.12
ARG BASE_IMAGE=python:3.12-slim
FROM ${BUILDER_IMAGE} AS deps
RUN python -m venv /venv
COPY requirements.txt .
RUN /venv/bin/pip install --no-cache-dir -r requirements.txt

FROM ${BASE_IMAGE} AS final
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/* \\
 && mkdir /data && chown 10001:10001 /data
COPY --from=deps /venv /venv
ENV PATH=/venv/bin:$PATH PORT=8000 DATA_DIR=/data
WORKDIR /app
COPY app app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=3s --retries=5 CMD ["python", "-c", \\
"import urllib.request as r; r.urlopen('http://localhost:8000/health', timeout=2)"]
ENTRYPOINT ["python", "-m", "app"]
""",
        ".git/\n.venv/\ntests/\n*.pyc\n__pycache__/\n.pytest_cache/\n",
    ),
    # pip --target in the builder and PYTHONPATH in the runtime
    "pip --target": (
        """\
ARG BUILDER_IMAGE=python:3.12
ARG BASE_IMAGE=python:3.12-slim
FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install --target /deps -r requirements.txt

FROM ${BASE_IMAGE} AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/* \\
 && useradd --create-home app
COPY --from=build /deps /deps
ENV PYTHONPATH=/deps PORT=8000 DATA_DIR=/home/app/data
WORKDIR /home/app
COPY app ./app
USER app
EXPOSE 8000
HEALTHCHECK --interval=2s --timeout=3s CMD python -c \\
  "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)" || exit 1
CMD ["python", "-m", "app"]
""",
        GOOD_IGNORE,
    ),
}


def _grade(tmp_path: Path, files: dict[str, str | None]) -> dict[str, bool]:
    """The lab folder as the student hands it in (release starters, then the student's files); cell -> passed."""
    folder = tmp_path / LAB
    shutil.copytree(ROOT / "source" / LAB, folder)
    for name, text in files.items():
        if text is None:
            (folder / name).unlink()
        else:
            (folder / name).write_text(text)
    got = compute(LAB, folder)
    assert set(got) == CELLS
    for cell, verdict in got.items():
        assert verdict.said.strip(), cell  # every verdict says what the grader saw
    return {cell: v.passed for cell, v in got.items()}


def _failing(got: dict[str, bool]) -> set[str]:
    return {cell for cell, ok in got.items() if not ok}


def test_reference_passes_every_cell(tmp_path):
    files = {p.name: p.read_text() for p in REFERENCE.iterdir()}
    assert _failing(_grade(tmp_path, files)) == set()


def test_starter_fails_every_cell(tmp_path):
    assert _failing(_grade(tmp_path, {})) == CELLS


def test_single_stage_slim_fails_the_runtime_stage(tmp_path):
    got = _grade(tmp_path, {"Dockerfile": SINGLE_STAGE_SLIM, "Dockerfile.dockerignore": GOOD_IGNORE})
    # the compilers left in cost ~150 MB on the official slim image (it passes the size bound) and ~400 MB on
    # the kit's Debian-built stand-in, which also needs python3-dev (it fails it): the size decides
    assert "test_runtime_stage" in _failing(got) <= {"test_runtime_stage", "test_smaller"}


def test_root_copy_first_without_ignore_file(tmp_path):
    got = _grade(tmp_path, {"Dockerfile": ROOT_COPY_FIRST, "Dockerfile.dockerignore": None})
    assert _failing(got) == {"test_non_root", "test_dependency_layer_cached", "test_dockerignore"}


def test_curl_healthcheck_and_tests_left_in_the_context(tmp_path):
    ignore = "\n".join(line for line in GOOD_IGNORE.splitlines() if line.strip() != "tests") + "\n"
    got = _grade(tmp_path, {"Dockerfile": CURL_HEALTH, "Dockerfile.dockerignore": ignore})
    assert _failing(got) == {"test_healthcheck", "test_dockerignore"}


def test_alpine_does_not_build(tmp_path):
    got = _grade(tmp_path, {"Dockerfile": ALPINE, "Dockerfile.dockerignore": GOOD_IGNORE})
    assert _failing(got) == IMAGE_CELLS


def test_reference_size_is_measured_once_per_engine(tmp_path, monkeypatch):
    """Is the Lab 1 reference's size read from the cache the second time (no build)?"""
    first = lab2.reference_size()
    monkeypatch.setattr(lab2, "check_dockerfile", lambda *a, **k: pytest.fail("rebuilt the reference"))
    assert lab2.reference_size() == first > 0


@pytest.mark.parametrize("name", list(RIGHT))
def test_other_right_answers_pass_every_cell(tmp_path, name):
    """Does each other practitioner's right answer (bind-mounted wheels, a copied venv, pip --target) score fully?"""
    dockerfile, ignore = RIGHT[name]
    assert _failing(_grade(tmp_path, {"Dockerfile": dockerfile, "Dockerfile.dockerignore": ignore})) == set()
