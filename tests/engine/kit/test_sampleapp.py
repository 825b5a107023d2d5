"""The reference images of the sample app on the real engine (what later notebooks build)."""

from __future__ import annotations

import pytest

from helpers.engine.baseimages import base_image
from helpers.images.inspect import inspect_image
from helpers.images.run import run_container
from helpers.kit.sampleapp import build_sample_image

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_optimized_reference_is_small_non_root_healthy_and_has_libpq(engine):
    """Is the optimized image on the slim base, non-root, healthy, without gcc, with psycopg2 importable?"""
    result = build_sample_image("optimized", tag="course-test/sample-api:optimized")
    facts = inspect_image("course-test/sample-api:optimized")
    assert facts.base == base_image("slim") and not facts.runs_as_root and facts.healthcheck
    assert result.build_args["BUILDER_IMAGE"] == base_image("full")
    with run_container(
        "course-test/sample-api:optimized", ports=[8000], wait_healthy=True, timeout=60, sandbox=True
    ) as app:
        assert app.get("/health").json()["status"] == "ok"
        assert app.exec(["sh", "-c", "command -v gcc"]).exit_code != 0
        assert app.exec(["python", "-c", "import psycopg2"]).exit_code == 0


def test_naive_reference_is_on_the_full_base_and_at_least_twice_as_big(engine):
    """Is the naive image on the full base and more than 2.5 times the optimized one (same base family)?"""
    build_sample_image("naive", tag="course-test/sample-api:naive")
    build_sample_image("optimized", tag="course-test/sample-api:optimized")
    naive, opt = inspect_image("course-test/sample-api:naive"), inspect_image("course-test/sample-api:optimized")
    assert naive.base == base_image("full")
    assert opt.size / naive.size <= 0.4
