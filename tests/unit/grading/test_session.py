"""helpers/grading/session.py without an engine: the tags a submission's checks build under, and their cleanup."""

from __future__ import annotations

from helpers.grading.session import GradingSession, current_session


def test_tags_are_unique_to_the_session_and_stable_within_it():
    """Does each session give a lab's logical tag its own real tag (the same on every call), removed on close?"""
    a, b = GradingSession(), GradingSession()
    assert a.tag("lab1-sample-api:mine") == a.tag("lab1-sample-api:mine") == f"lab1-sample-api:mine-g{a.id}"
    assert a.tag("lab1-sample-api:mine") != b.tag("lab1-sample-api:mine")
    assert a.tag("course-lab3/sample-api") == f"course-lab3/sample-api:latest-g{a.id}"
    assert a.tag("localhost:5000/x") == f"localhost:5000/x:latest-g{a.id}"  # a registry port is not a tag
    assert len(a._cleanups) == 3  # one image removal per real tag


def test_cleanups_run_once_last_first_and_failures_do_not_stop_them():
    """Does close() run every cleanup once, newest first, whatever one of them raises?"""
    ran: list[str] = []
    session = GradingSession()
    session.on_close(lambda: ran.append("first"))
    session.on_close(lambda: 1 / 0)
    session.on_close(lambda: ran.append("last"))
    session.close()
    session.close()
    assert ran == ["last", "first"]


def test_the_session_is_current_only_inside_active():
    """Is current_session() the session within active() only (the checks tag after it there, nowhere else)?"""
    session = GradingSession(build_timeout=42)
    assert current_session() is None
    with session.active() as s:
        assert current_session() is s is session and s.build_timeout == 42
    assert current_session() is None
