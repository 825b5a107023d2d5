"""A build's deadline holds even when a step prints nothing (the grader's bound on a student's RUN step)."""

from __future__ import annotations

import time

import pytest

from helpers.engine.baseimages import base_image
from helpers.errors import BuildError
from helpers.images.build import build

pytestmark = pytest.mark.engine

SILENT = """\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
RUN sleep 120
"""


def test_silent_step_is_stopped_at_the_deadline(engine, tmp_path):
    start = time.monotonic()
    with pytest.raises(BuildError, match="ran past 8 s"):
        build(
            tmp_path,
            dockerfile_text=SILENT,
            tags=["course-test/silent:timeout"],
            build_args={"BASE_IMAGE": base_image("slim", engine)},
            timeout=8,
        )
    assert time.monotonic() - start < 40  # not the 120 s of the step
