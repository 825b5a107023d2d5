"""Does the base-image lesson measure slim versus full on the real engine?"""

from __future__ import annotations

import pytest

from helpers.lessons import basecompare

pytestmark = pytest.mark.engine


def test_full_is_bigger_and_has_the_tools(engine):
    """Is full bigger than slim, with gcc and pg_config where slim has neither?"""
    sizes = basecompare.base_sizes(engine).set_index("kind")
    assert sizes.loc["full", "size_mb"] > sizes.loc["slim", "size_mb"]
    tools = basecompare.tool_presence(engine).set_index("tool")
    assert not tools.loc["gcc", "slim"] and tools.loc["gcc", "full"]
    assert not tools.loc["pg_config (libpq-dev)", "slim"]


@pytest.mark.slow
def test_psycopg2_needs_the_build_tools(engine):
    """Does psycopg2 fail on slim for lack of pg_config, build on full, and multi-stage end smaller than full?"""
    r = basecompare.compiled_dependency_demo(client=engine).results.set_index("variant")
    assert not r.loc["slim", "ok"] and "pg_config" in r.loc["slim", "error"]
    assert r.loc["full", "ok"] and r.loc["full builds, slim runs", "ok"]
    assert r.loc["full builds, slim runs", "size_mb"] < r.loc["full", "size_mb"]
    assert not engine.images.list(name="course-lesson/psycopg2")  # every variant removed


def test_nonroot_user(engine):
    """Does USER app run as uid 10001 without write access to /usr/local/lib, unlike root?"""
    df = basecompare.nonroot_demo(engine).set_index("image")
    assert df.loc["USER app", "id"].startswith("uid=10001(app)")
    assert not df.loc["USER app", "can write /usr/local/lib"]
    assert df.loc["base image (root)", "can write /usr/local/lib"]


def test_dockerignore_shrinks_the_context(engine):
    """Does .dockerignore keep the junk out of both the context and the image?"""
    df = basecompare.dockerignore_demo(junk_mb=5, client=engine).set_index("build")
    assert df.loc["without .dockerignore", "context_kb"] > 5000
    assert df.loc["with .dockerignore", "context_kb"] < 100
    assert df.loc["with .dockerignore", "image_mb"] < df.loc["without .dockerignore", "image_mb"]
