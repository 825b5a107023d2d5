"""Student builds on the real grading engine hit its bounds (memory, processes, disk) and the verdict names them.

Each hostile Lab 1 Dockerfile goes through the grader's own path (:func:`helpers.grading.verdicts.compute` on the
grading engine): a RUN step that allocates past the memory bound, one that forks past the process bound, one
that fills the disk. Each must fail every cell with a sentence naming the bound and its number; after each the
grading engine still answers and builds, and its disk is back where it was. A reference submission graded
after all of them keeps full marks.
"""

from __future__ import annotations

import os
import shutil

import pytest
from ci_rules import unavailable
from kitroot import ROOT

from helpers.grading import engine as ge
from helpers.grading import engine_env
from helpers.grading.limits import Bounds
from helpers.grading.verdicts import compute

pytestmark = [pytest.mark.engine]

LAB = "lab1-build-basics"
HEAD = "ARG BASE_IMAGE=python:3.12\nFROM ${BASE_IMAGE}\n"
REFERENCE = (ROOT / "tests" / "data" / "labs" / LAB / "reference" / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def grading(engine):
    """The running grading engine (started if needed), its bounds, and this process pointed at it."""
    if ge.unavailable_reason():
        unavailable(f"no separate grading engine here: {ge.unavailable_reason()}")
    started = ge.ensure_grading_engine(log=lambda m: None)
    bounds = Bounds.load(started.state)
    assert bounds is not None, "the grading engine started without recording its bounds"
    for line in bounds.absent:
        unavailable(f"the grading engine has no {line}")
    old = os.environ.get(engine_env.GRADING_ENV)
    os.environ.update(engine_env.grading_engine_env(started))
    yield started, bounds
    if old is None:
        os.environ.pop(engine_env.GRADING_ENV, None)
    else:
        os.environ[engine_env.GRADING_ENV] = old


def _grade(tmp_path, dockerfile: str):
    folder = tmp_path / LAB
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(dockerfile)
    return compute(LAB, folder)


def _data_used(started) -> int:
    """Bytes used on the grading engine's data filesystem."""
    return shutil.disk_usage(os.path.join(os.path.dirname(started.state), "data")).used


def _memory_hog(bounds: Bounds) -> str:
    """A RUN step that writes 512 MiB more than the memory bound into one Python bytes object."""
    return HEAD + f"RUN python3 -c \"b = b'x' * ({bounds.memory_mb + 512} << 20); print(len(b))\"\n"


def _fork_loop(bounds: Bounds) -> str:
    """A RUN step that starts 100 more sleeping processes than the process bound allows."""
    body = (
        f"import os, time\\nfor i in range({bounds.pids + 100}):\\n"
        "  if os.fork() == 0:\\n    time.sleep(30); os._exit(0)"
    )
    return HEAD + f"RUN python3 -c \"exec('{body}')\"\n"


def _disk_filler(_bounds: Bounds) -> str:
    """A RUN step that reserves all but 64 MiB of the disk (fallocate, no bytes written) then writes 256 MiB."""
    return HEAD + (
        "RUN avail=$(df -B1 --output=avail / | tail -n 1) && fallocate -l $((avail - 67108864)) /fill "
        "&& dd if=/dev/zero of=/more bs=1M count=256\n"
    )


@pytest.mark.parametrize(
    ("dockerfile", "names"),
    [
        (_memory_hog, "the memory bound is {b.memory_mb} MiB"),
        (_fork_loop, "the process bound is {b.pids} processes"),
        (_disk_filler, "the grading engine's disk bound is {b.disk_gb:g} GB"),
    ],
    ids=["memory", "processes", "disk"],
)
def test_a_build_past_a_bound_fails_naming_it_and_the_engine_goes_on(grading, tmp_path, dockerfile, names):
    """Does a RUN step past a bound fail every cell with the bound's name and number, and leave the grading
    engine answering, building, and with its disk back where it was?"""
    started, bounds = grading
    before = _data_used(started)
    got = _grade(tmp_path / "hostile", dockerfile(bounds))
    assert not any(v.passed for v in got.values()), got
    said = got["test_image_builds"].said
    assert "does not build" in said and names.format(b=bounds) in said, said
    client = engine_env.grading_client(started)
    assert client.ping()
    ok = _grade(tmp_path / "honest", HEAD + "RUN echo built > /built\n")  # builds (the starter's checks fail)
    assert "does not build" not in ok["test_image_builds"].said, ok
    assert _data_used(started) - before < 128 * 1024 * 1024, "the grading engine's disk did not return to its level"


def test_a_reference_submission_keeps_full_marks_after_them(grading, tmp_path):
    """Graded after the hostile builds, does the reference Dockerfile still pass every cell?"""
    got = _grade(tmp_path, REFERENCE)
    assert all(v.passed for v in got.values()), got
