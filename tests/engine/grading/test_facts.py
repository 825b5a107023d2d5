"""Engine labs: the trusted side builds and runs the student's Dockerfile and the notebook grades the facts."""

from __future__ import annotations

import json
import shutil

import pytest
from course_fixture import make_course, scores
from students import Student

from helpers.engine.client import LABEL, SESSION_LABEL, session_id
from helpers.grading import course

pytestmark = [pytest.mark.engine, pytest.mark.slow]

GOOD = """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
RUN useradd --uid 1234 app
USER app
WORKDIR /tmp
EXPOSE 8000
CMD ["python", "-m", "http.server", "8000"]
"""
AS_ROOT = """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
CMD ["python", "-c", "print('no server')"]
"""
BROKEN = """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
RUN exit 3
"""


@pytest.fixture(scope="module")
def graded(engine):
    dirs, base = make_course(("dockerlab",))
    for sid, text in (("good", GOOD), ("root", AS_ROOT), ("broken", BROKEN)):
        s = Student(sid, base / "homes", dirs.exchange)
        folder = s.fetch("dockerlab")
        (folder / "Dockerfile").write_text(text)
        assert s.submit("dockerlab").returncode == 0
    course.collect("dockerlab", dirs)
    result = course.autograde("dockerlab", dirs=dirs)
    yield dirs, result
    shutil.rmtree(base, ignore_errors=True)


def test_engine_lab_scores_follow_the_facts(graded):
    """Does a good Dockerfile get every point, a root one only the build point, a broken one none?"""
    dirs, result = graded
    assert result["ok"].all(), result.to_string()
    got = scores(dirs, "dockerlab")
    assert got == {"good": 3.0, "root": 1.0, "broken": 0.0}


def test_facts_are_kept_for_the_instructor(graded):
    """Are the measured facts saved next to the autograded notebook, with the build error for the broken one?"""
    dirs, _ = graded
    good = json.loads((dirs.root / "autograded" / "good" / "dockerlab" / "grading_facts.json").read_text())
    assert good["steps"]["app"]["build"]["user"] == "app"
    assert good["steps"]["app"]["run"]["http"]["/"]["status"] == 200
    assert good["steps"]["app"]["run"]["uid"] == 1234
    broken = json.loads((dirs.root / "autograded" / "broken" / "dockerlab" / "grading_facts.json").read_text())
    assert broken["steps"]["app"]["build"]["ok"] is False and "exit" in broken["steps"]["app"]["build"]["error"]


def test_student_images_and_containers_are_removed(graded, engine):
    """Are the images built and the containers run for grading gone afterwards?"""
    assert not [i for i in engine.images.list() if any(t.startswith("course-grading/") for t in i.tags)]
    left = engine.containers.list(all=True, filters={"label": [f"{LABEL}=true", f"{SESSION_LABEL}={session_id()}"]})
    assert not [c for c in left if c.labels.get("org.dockercourse.role") == "grading"]
