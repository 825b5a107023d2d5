"""The one rule for tests that need something of the machine: skip on a developer's laptop, fail in CI.

``make test`` and ``.ci/run`` set ``COURSE_REQUIRE_ENGINE`` / ``CI``: there the project's own
set-up (``make env``) must have installed and started everything, so a missing piece is a failure.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def engine_required() -> bool:
    """True in CI and under ``make test``: nothing a test needs may be missing."""
    return bool(os.environ.get("CI") or os.environ.get("COURSE_REQUIRE_ENGINE"))


def unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason`` (a developer's machine), or fail it in CI."""
    if engine_required():
        pytest.fail(f"{reason} (required in CI: `make env` installs and starts it)")
    pytest.skip(reason)
