"""Unit tests for helpers.ci.buildcache and helpers.supplychain.tags (no engine)."""

from __future__ import annotations

from helpers.ci.buildcache import tagged_dockerfile
from helpers.ci.buildtimeline import StepTiming, TimedBuild, stage_graph
from helpers.paths import course_root
from helpers.supplychain.tags import TagState, tag_table


def test_stage_graph_of_the_demo():
    """Are the demo's three first stages independent and the runtime stage dependent on all of them?"""
    text = (course_root() / "helpers/data/buildkit/parallel.Dockerfile").read_text()
    graph = stage_graph(text)
    assert graph["wheels"] == graph["os-packages"] == graph["checksums"] == []
    assert sorted(graph["runtime"]) == ["checksums", "os-packages", "wheels"]


def test_stage_graph_follows_from_stage():
    """Does `FROM builder AS test` count as a dependency on builder?"""
    assert stage_graph("FROM python AS builder\nRUN x\nFROM builder AS test\n") == {"builder": [], "test": ["builder"]}


def test_tagged_dockerfile_marks_every_run_and_drops_cache_mounts():
    """Does every RUN line carry the run id, with cache mounts removed and other lines untouched?"""
    out = tagged_dockerfile("FROM a\nRUN --mount=type=cache,target=/c pip install x\nCOPY . .\nRUN make\n", "r1")
    assert out.splitlines() == [
        "FROM a",
        "RUN : cache-run-r1 && pip install x",
        "COPY . .",
        "RUN : cache-run-r1 && make",
    ]


def test_timeline_overlap_and_serial_time():
    """Do two stages that run side by side show overlap, and serial time exceed wall time?"""
    tb = TimedBuild(6.0, [StepTiming(1, "a", "RUN x", 0.0, 5.0, False), StepTiming(2, "b", "RUN y", 1.0, 6.0, False)])
    assert tb.serial_seconds == 10.0 and tb.overlap_seconds() == 4.0
    assert tb.stage_spans() == {"a": (0.0, 5.0), "b": (1.0, 6.0)}


def test_tag_table_moved():
    """Is a rolling tag that now names another image marked moved, and a new tag not?"""
    df = tag_table(
        [
            TagState("r:latest", "rolling", "sha256:" + "a" * 64, "sha256:" + "b" * 64),
            TagState("r:1.0.0", "immutable", "sha256:" + "a" * 64, "sha256:" + "a" * 64),
            TagState("r:1.1.0", "new", "", "sha256:" + "b" * 64),
        ]
    )
    assert df["moved"].tolist() == [True, False, False]
