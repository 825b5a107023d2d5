"""Lab 1's verdicts on the lab engine: the reference Dockerfile, the starter, wrong answers as practitioners write them.

Each case is a lab folder holding one ``Dockerfile``; :func:`helpers.grading.verdicts.compute` builds it (context:
the kit's sample app) and decides the six graded cells. A wrong answer must fail exactly the cells it gets wrong.
"""

from __future__ import annotations

import pytest
from kitroot import ROOT
from labfolder import handed_in

from helpers.grading.labs.lab1 import GRADE_IDS
from helpers.grading.verdicts import compute

pytestmark = [pytest.mark.engine]

LAB = "lab1-build-basics"
REFERENCE = (ROOT / "tests" / "data" / "labs" / LAB / "reference" / "Dockerfile").read_text()
STARTER = (ROOT / "source" / LAB / "Dockerfile").read_text()

HEAD = "ARG BASE_IMAGE=python:3.12\nFROM ${BASE_IMAGE}\n"

#: name -> (Dockerfile, the cells it must fail). Three practitioners' habits, each wrong in one way.
WRONG = {
    # the one who writes CMD like a shell line
    "shell-form CMD": (
        HEAD + "WORKDIR /app\nCOPY . .\nRUN pip install -r requirements-dev.txt\nEXPOSE 8000\nCMD python -m app\n",
        {"test_cmd_exec_form"},
    ),
    # the one who never documents ports and keeps a token handy
    "no EXPOSE, a token in ENV": (
        HEAD + "WORKDIR /app\nCOPY . .\nRUN pip install -r requirements-dev.txt\n"
        'ENV API_TOKEN=ghp_notarealtoken\nCMD ["python", "-m", "app"]\n',
        {"test_documented_port", "test_good_habits"},
    ),
    # the one who installs the runtime requirements only
    "runtime requirements only": (
        HEAD + "WORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nEXPOSE 8000\n"
        'ENTRYPOINT ["python"]\nCMD ["-m", "app"]\n',
        {"test_tests_pass_inside"},
    ),
    # the one who copies into / (no WORKDIR)
    "copies into /": (
        HEAD + 'COPY . .\nRUN pip install -r requirements-dev.txt\nEXPOSE 8000\nCMD ["python", "-m", "app"]\n',
        {"test_good_habits"},
    ),
}


#: Right answers as three other practitioners write them: each must pass all six cells.
SLIM = "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\n"
RIGHT = {
    # the one who orders for the cache: requirements first, the code last; python3, /srv, 8000/tcp
    "requirements first": HEAD + "WORKDIR /srv\nCOPY requirements.txt requirements-dev.txt ./\n"
    "RUN pip install --no-cache-dir -r requirements-dev.txt\nCOPY . .\n"
    'EXPOSE 8000/tcp\nCMD ["python3", "-m", "app"]\n',
    # the one who splits the command: ENTRYPOINT runs python, CMD names the module
    "ENTRYPOINT plus CMD": HEAD
    + "WORKDIR /app\nCOPY . /app\nRUN python -m pip install -r requirements-dev.txt\nEXPOSE 8000\n"
    'ENTRYPOINT ["python", "-m"]\nCMD ["app"]\n',
    # the one who starts from slim, installs the compilers psycopg2 needs, and runs as a user in its home
    # (a WORKDIR made by root would leave the app no right to create its data folder)
    "slim base, non-root": SLIM
    + "RUN headers=$(python -c \"import os, sysconfig as s; print(os.path.exists(s.get_path('include')+'/Python.h'))\")"
    " \\\n && apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \\\n"
    '    $([ "$headers" = True ] || echo python3-dev) \\\n'
    " && rm -rf /var/lib/apt/lists/* && useradd --create-home app\n"
    "WORKDIR /home/app\nCOPY --chown=app:app . .\nRUN pip install --no-cache-dir -r requirements-dev.txt\n"
    'USER app\nENV PORT=8000\nEXPOSE 8000\nCMD ["python", "-m", "app"]\n',
}


def _grade(tmp_path, text: str | None):
    return compute(LAB, handed_in(tmp_path, LAB, {"Dockerfile": text}))


def test_reference_passes_every_cell(tmp_path):
    """Does the reference Dockerfile pass all six graded cells, each with words for the student?"""
    got = _grade(tmp_path, REFERENCE)
    assert set(got) == set(GRADE_IDS)
    assert all(v.passed for v in got.values()), got
    assert "exec form" in got["test_cmd_exec_form"].said and "passed" in got["test_tests_pass_inside"].said


def test_starter_and_missing_file_fail_every_cell(tmp_path):
    """Does the unedited starter (it builds: FROM only) score nothing, and a missing Dockerfile neither?"""
    got = _grade(tmp_path, STARTER)
    assert not any(v.passed for v in got.values()), got
    assert "no COPY or ADD" in got["test_image_builds"].said
    missing = _grade(tmp_path / "none", None)
    assert not any(v.passed for v in missing.values()) and "No Dockerfile" in missing["test_image_builds"].said


def test_a_dockerfile_that_does_not_build_fails_every_cell(tmp_path):
    """Does a failing RUN step fail all six cells with the build's words?"""
    got = _grade(tmp_path, HEAD + "WORKDIR /app\nCOPY . .\nRUN pip install -r requirement.txt\n")
    assert not any(v.passed for v in got.values())
    assert "does not build" in got["test_image_builds"].said


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_answers_fail_exactly_their_cells(tmp_path, name):
    """Does each practitioner's mistake fail the cells it gets wrong, and only those?"""
    text, failing = WRONG[name]
    got = _grade(tmp_path, text)
    assert {g for g, v in got.items() if not v.passed} == failing, got


@pytest.mark.parametrize("name", list(RIGHT))
def test_other_right_answers_pass_every_cell(tmp_path, name):
    """Does each other practitioner's right answer (cache order, ENTRYPOINT + CMD, slim and non-root) score fully?"""
    got = _grade(tmp_path, RIGHT[name])
    assert {g for g, v in got.items() if not v.passed} == set(), got
