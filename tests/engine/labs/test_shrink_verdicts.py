"""The shrink activity's verdicts on the lab engine: the reference, the starter, and wrong answers.

Each case is an activity folder holding one ``Dockerfile``; :func:`helpers.grading.verdicts.compute` builds it
with no context and decides the two Dockerfile cells. A wrong answer must fail exactly the cells it gets wrong.
"""

from __future__ import annotations

import pytest
from kitroot import ROOT
from labfolder import handed_in

from helpers.grading.verdicts import compute

pytestmark = [pytest.mark.engine]

LAB = "activity-shrink-image"
REFERENCE = (ROOT / "tests" / "data" / "labs" / LAB / "reference" / "Dockerfile").read_text()
STARTER = (ROOT / "source" / LAB / "Dockerfile").read_text()

HEAD = "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\nWORKDIR /app\n"
FILES = (
    "RUN printf 'print(\"ok\")\\n' > /app/app.py && head -c 1000000 /dev/urandom > /app/data.bin \\\n"
    " && head -c 15000000 /dev/urandom > /app/model.bin"
)

#: name -> (Dockerfile, the cells it must fail, words the failed passes_ci verdict says).
WRONG = {
    # merges the RUNs but keeps the chmod in a layer of its own: the 15 MB file ships twice
    "chmod in its own layer": (
        HEAD + FILES + '\nRUN chmod 600 /app/model.bin\nCMD ["python", "/app/app.py"]\n',
        {"dockerfile_passes_ci"},
        "CI rules fail",
    ),
    # shrinks the data instead of the waste
    "smaller data.bin": (
        HEAD + FILES.replace("1000000", "500000") + ' && chmod 600 /app/model.bin\nCMD ["python", "/app/app.py"]\n',
        {"dockerfile_passes_ci"},
        "Keep /app/data.bin",
    ),
    # lean, but the command no longer starts the app
    "app does not run": (
        REFERENCE.replace('"/app/app.py"]', '"/app/main.py"]'),
        {"dockerfile_passes_ci"},
        "does not print ok",
    ),
    # lean, but the model is left world-readable (no chmod, no umask, no install -m)
    "model left readable": (HEAD + FILES + '\nCMD ["python", "/app/app.py"]\n', {"dockerfile_passes_ci"}, "mode 600"),
    # another base without Python: not FROM ${BASE_IMAGE}, and the app cannot run
    "debian base": (
        REFERENCE.replace("FROM ${BASE_IMAGE}", "FROM course-base/debian:bookworm"),
        {"dockerfile_parses", "dockerfile_passes_ci"},
        "does not print ok",
    ),
}


#: Right answers as three other practitioners write them: both cells pass.
RIGHT = {
    # the chmod moved into the RUN that writes the file
    "chmod in the same RUN": HEAD + FILES + ' && chmod 600 /app/model.bin\nCMD ["python", "/app/app.py"]\n',
    # the files made in a stage of their own and copied over in one layer (COPY keeps the mode)
    "multi-stage": "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE} AS files\nWORKDIR /app\n"
    + FILES
    + " && chmod 600 /app/model.bin\n"
    'FROM ${BASE_IMAGE}\nCOPY --from=files /app /app\nCMD ["python", "/app/app.py"]\n',
    # dd and a umask instead of head and chmod; ENTRYPOINT + CMD
    "dd with a umask": "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\n"
    "RUN mkdir /app && echo 'print(\"ok\")' > /app/app.py \\\n"
    " && dd if=/dev/urandom of=/app/data.bin bs=1000000 count=1 status=none \\\n"
    " && (umask 077 && dd if=/dev/urandom of=/app/model.bin bs=1000000 count=15 status=none)\n"
    'ENTRYPOINT ["python"]\nCMD ["/app/app.py"]\n',
}


def _grade(tmp_path, text: str | None):
    return compute(LAB, handed_in(tmp_path, LAB, {"Dockerfile": text}))


def test_reference_passes_both_cells(tmp_path):
    """Does the lean reference Dockerfile pass both cells?"""
    got = _grade(tmp_path, REFERENCE)
    assert set(got) == {"dockerfile_parses", "dockerfile_passes_ci"}
    assert all(v.passed for v in got.values()), got
    assert "prints ok" in got["dockerfile_passes_ci"].said


def test_starter_and_missing_file_fail_both(tmp_path):
    """Does the wasteful starter as released (comments aside) score nothing, and a missing Dockerfile neither?"""
    got = _grade(tmp_path, STARTER)
    assert not any(v.passed for v in got.values()) and "unchanged" in got["dockerfile_parses"].said
    relaid = _grade(tmp_path / "relaid", STARTER.replace("\nRUN", "\n\nRUN   ").replace("# a pip", "# my pip"))
    assert not any(v.passed for v in relaid.values()), "blank lines and comments do not make it another answer"
    missing = _grade(tmp_path / "none", None)
    assert not any(v.passed for v in missing.values()) and "No Dockerfile" in missing["dockerfile_parses"].said


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_answers_fail_exactly_their_cells(tmp_path, name):
    """Does each mistake fail the cells it gets wrong, and only those, saying why?"""
    text, failing, words = WRONG[name]
    got = _grade(tmp_path, text)
    assert {g for g, v in got.items() if not v.passed} == failing, got
    assert words in got["dockerfile_passes_ci"].said, got


@pytest.mark.parametrize("name", list(RIGHT))
def test_other_right_answers_pass_both_cells(tmp_path, name):
    """Does each other practitioner's lean Dockerfile (chmod in the same RUN, a file stage, dd with umask) pass?"""
    got = _grade(tmp_path, RIGHT[name])
    assert all(v.passed for v in got.values()), got
