"""Shared fixtures.

Engine tests are marked ``engine`` and use the ``engine`` fixture. Where no engine answers
they are skipped on a developer's laptop, but fail when ``CI`` or ``COURSE_REQUIRE_ENGINE``
is set (``make test`` sets it): in CI a missing engine is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid

import pytest
from ci_rules import unavailable
from timing import make_plugin

from helpers.engine.client import cleanup, engine_available, get_client
from helpers.paths import state_dir


@pytest.fixture(scope="session", autouse=True)
def kit_session():
    """A session id of its own, so this run cleans up only what it created."""
    sid = f"test-{uuid.uuid4().hex[:8]}"
    old = os.environ.get("COURSE_SESSION")
    os.environ["COURSE_SESSION"] = sid
    yield sid
    if engine_available():
        cleanup(session=sid)
    if old is None:
        os.environ.pop("COURSE_SESSION", None)
    else:
        os.environ["COURSE_SESSION"] = old


@pytest.fixture(scope="session")
def engine():
    """A docker-py client for the real engine."""
    if not engine_available():
        unavailable("No Docker Engine answers; run `make test` (it starts one) or `python -m helpers env up`.")
    return get_client()


def pytest_configure(config):
    """Register the per-phase timing report (tests/timing.py), once, in the process that prints."""
    if not hasattr(config, "workerinput") and not config.pluginmanager.has_plugin("course-timing"):
        config.pluginmanager.register(make_plugin(state_dir(create=False)), "course-timing")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("engine") and "engine" not in item.fixturenames:
            item.fixturenames.append("engine")
