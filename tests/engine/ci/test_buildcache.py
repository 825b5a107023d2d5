"""Engine tests for helpers.ci.buildcache and helpers.supplychain.tags: timelines, cache round trip, digests."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from helpers.ci.buildcache import cache_roundtrip, prune_run_cache, tagged_dockerfile
from helpers.ci.buildtimeline import timed_build
from helpers.paths import course_root

pytestmark = pytest.mark.engine
DEMO = course_root() / "helpers" / "data" / "buildkit"


def test_independent_stages_overlap(engine, tmp_path: Path):
    """Do the three independent stages of the demo Dockerfile run at the same time?"""
    df = tmp_path / "Dockerfile"
    df.write_text(tagged_dockerfile((DEMO / "parallel.Dockerfile").read_text(), uuid.uuid4().hex[:10]))
    tb = timed_build(DEMO, dockerfile=df, client=engine)
    spans = tb.stage_spans()
    assert {"wheels", "os-packages", "checksums", "runtime"} <= set(spans)
    starts = [spans[s][0] for s in ("wheels", "os-packages", "checksums")]
    assert max(starts) - min(starts) < 2.0, spans
    assert tb.seconds < tb.serial_seconds, (tb.seconds, tb.serial_seconds)
    engine.images.remove(tb.image_id, force=True)


def test_cache_roundtrip_imports_and_spares_other_caches(engine, tmp_path: Path):
    """Is the rebuild served from the imported cache, and does pruning leave another run's cache alone?"""
    other = uuid.uuid4().hex[:10]
    df = tmp_path / "Dockerfile"
    df.write_text(tagged_dockerfile("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo other > /o\n", other))
    bystander = timed_build(tmp_path, dockerfile=df, client=engine)
    rt = cache_roundtrip(DEMO, DEMO / "parallel.Dockerfile", client=engine)
    assert rt.pruned_records >= 3
    assert sum(s.cached for s in rt.imported.steps) > sum(s.cached for s in rt.cold.steps)
    assert rt.ratio < 0.5, rt.frame()
    records = engine.api.df()["BuildCache"] or []
    assert any(f"cache-run-{other}" in (r.get("Description") or "") for r in records), "another run's cache was pruned"
    engine.images.remove(bystander.image_id, force=True)
    assert prune_run_cache(other, engine) >= 1


def test_digest_is_stable_and_latest_moves(engine):
    """Does re-pushing the same image give the same digest, while `latest` follows a new image?"""
    from helpers.engine.registry import local_registry
    from helpers.supplychain.tags import delete_manifest, push_tag

    repo = f"{local_registry().address}/course-test-tags-{uuid.uuid4().hex[:6]}"
    a = timed_build(
        DEMO, dockerfile=DEMO / "parallel.Dockerfile", build_args={"VERSION": "t1"}, tags=["course-kit/t:1"]
    )
    b = timed_build(
        DEMO, dockerfile=DEMO / "parallel.Dockerfile", build_args={"VERSION": "t2"}, tags=["course-kit/t:2"]
    )
    d1 = push_tag("course-kit/t:1", repo, "1")
    assert push_tag("course-kit/t:1", repo, "1") == d1
    latest_1 = push_tag("course-kit/t:1", repo, "latest")
    latest_2 = push_tag("course-kit/t:2", repo, "latest")
    assert latest_1 == d1 and latest_2 != d1 and d1.startswith("sha256:")
    for ref, digest in (("course-kit/t:1", d1), ("course-kit/t:2", latest_2)):
        delete_manifest(repo, digest)
        engine.images.remove(ref)
    assert a.image_id != b.image_id
