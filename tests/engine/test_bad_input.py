"""Bad input on the real engine: each gives one clear message with the relevant lines, nothing left behind."""

from __future__ import annotations

import pytest

from helpers.engine.client import LABEL, SESSION_LABEL
from helpers.errors import BuildError, DockerfileError
from helpers.grading.labs.common import check_dockerfile
from helpers.grading.labs.lab2 import context_leaks
from helpers.images.build import build
from helpers.kit.sampleapp import reference_dockerignore

pytestmark = pytest.mark.engine


def _mine(engine, kit_session):
    return engine.containers.list(all=True, filters={"label": [f"{LABEL}=true", f"{SESSION_LABEL}={kit_session}"]})


def test_dockerfile_that_does_not_parse(tmp_path, engine):
    """Does a misspelt instruction give a DockerfileError naming the line and the instruction?"""
    text = "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\nWORKDIR /app\nRUNN echo hi\n"
    with pytest.raises(DockerfileError) as err:
        build(tmp_path, dockerfile_text=text, tags=["course-test/bad:parse"])
    assert err.value.line == 4 and "RUNN" in str(err.value)


def test_failing_step_names_the_step_and_its_error_line(tmp_path, engine):
    """Does a failing RUN give a BuildError with that step and its own error output (not BuildKit noise)?"""
    text = (
        "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\n"
        "RUN echo preparing && python3 -c \"raise SystemExit('no module named sample_app_missing')\"\n"
    )
    with pytest.raises(BuildError) as err:
        build(tmp_path, dockerfile_text=text, tags=["course-test/bad:step"])
    assert err.value.step.startswith("RUN echo preparing")
    assert "no module named sample_app_missing" in err.value.log_tail
    assert "transferring" not in err.value.log_tail and "sha256:" not in err.value.log_tail


def test_slim_base_without_compiler_fails_with_the_pg_config_line(engine):
    """Building the sample app on the slim base alone: is the psycopg2 cause (pg_config) in the message?"""
    from helpers.engine.baseimages import base_image
    from helpers.kit.sampleapp import app_dir, reference_dockerfile

    with pytest.raises(BuildError) as err:
        build(
            app_dir(),
            dockerfile_text=reference_dockerfile("naive"),
            build_args={"BASE_IMAGE": base_image("slim")},
            tags=["course-test/bad:slim"],
        )
    assert "pg_config" in err.value.log_tail


def test_lab_check_records_an_app_that_never_gets_healthy(engine, kit_session):
    """A Dockerfile whose app never answers: is it reported with its log, and no container left?"""
    before = len(_mine(engine, kit_session))
    text = (
        "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\nEXPOSE 8000\n"
        'CMD ["python3", "-c", "print(\'starting on 9999\', flush=True); import time; time.sleep(600)"]\n'
    )
    import helpers.grading.labs.common as lc

    old = lc.LAB_TIMEOUT
    rep = check_dockerfile(text, "course-test/bad:never-healthy", timeout=4)
    lc.LAB_TIMEOUT = old
    assert rep.built and rep.health_status == 0
    assert "not ready after 4 s" in rep.run_error and "starting on 9999" in rep.run_error
    assert len(_mine(engine, kit_session)) == before


def test_context_leaks_are_measured_by_the_engine(engine):
    """Does an empty .dockerignore let .git/.venv/tests through, and the reference one keep them out?"""
    assert context_leaks("") == [".git", ".venv", "tests"]
    assert context_leaks(".git\n") == [".venv", "tests"]
    assert context_leaks(reference_dockerignore()) == []
