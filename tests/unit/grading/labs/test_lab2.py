"""Pure logic of Lab 2's verdicts (helpers.grading.labs.lab2) and the lab's files: no engine."""

from __future__ import annotations

import json

import pytest

from helpers.grading.facts import load_spec
from helpers.grading.labs import lab2
from helpers.grading.labs.common import ImageReport
from helpers.grading.verdicts import Submission
from helpers.images.inspect import ImageFacts
from helpers.kit import sampleapp
from helpers.kit.sampleapp import reference_dockerfile, reference_dockerignore
from helpers.paths import course_root

LAB = "lab2-improve-dockerfile"
ROOT = course_root()
SOURCE = ROOT / "source" / LAB
REFERENCE = ROOT / "tests" / "data" / "labs" / LAB / "reference"


def _report(**kw) -> ImageReport:
    rep = ImageReport("t", built=True, facts=ImageFacts("t", "sha256:x", 100, user="app"), health_status=200)
    rep.exec_results = {"uid": (0, "10001\n"), "gcc": (1, ""), "psycopg2": (0, "150000\n")}
    for k, v in kw.items():
        setattr(rep, k, v)
    return rep


def _no_engine(*_a, **_k):
    pytest.fail("this case must be decided without the engine")


def test_missing_files_fail_every_cell_without_building(tmp_path, monkeypatch):
    """No Dockerfile and no ignore file: every cell fails, with a reason, and nothing is built."""
    monkeypatch.setattr(lab2, "check_dockerfile", _no_engine)
    monkeypatch.setattr(lab2, "context_leaks", _no_engine)
    got = lab2.verdicts(Submission(tmp_path, load_spec(LAB, root=ROOT)))
    assert set(got) == set(load_spec(LAB, root=ROOT).verdicts)
    assert not any(v.passed for v in got.values())
    assert "No Dockerfile" in got["test_builds"].said and "No Dockerfile.dockerignore" in got["test_dockerignore"].said


def test_the_starter_dockerfile_has_nothing_to_build():
    """Is the released starter only comments (no solution), read as "nothing to build" before any engine work?"""
    text = (SOURCE / "Dockerfile").read_text()
    assert "TODO" in text and "Lab 1" in text
    assert "nothing to build" in lab2._nothing_to_build(text)
    assert lab2._nothing_to_build(reference_dockerfile("optimized")) == ""
    assert lab2._nothing_to_build("FROM scratch") == ""


def test_multi_stage_means_the_final_stage_copies_from_another():
    """Does a second FROM alone not count as multi-stage (an unused builder is skipped by BuildKit)?"""
    unused = "FROM a AS builder\nRUN make\nFROM b\nCOPY app ./app\n"
    used = "FROM a AS builder\nRUN make\nFROM b\nCOPY --from=builder /venv /venv\n"
    assert not lab2._runtime_verdict(_report(), unused).passed
    assert lab2._runtime_verdict(_report(), used).passed
    assert not lab2._runtime_verdict(_report(), "FROM a\nRUNN x\n").passed  # does not parse: not multi-stage


def test_runtime_verdict_names_what_is_wrong():
    """A compiler left in, or psycopg2 that does not import, fails with its own words."""
    text = reference_dockerfile("optimized")
    gcc = _report(exec_results={"uid": (0, "1"), "gcc": (0, "/usr/bin/gcc"), "psycopg2": (0, "")})
    assert "compiler" in lab2._runtime_verdict(gcc, text).said
    nolib = _report(exec_results={"uid": (0, "1"), "gcc": (1, ""), "psycopg2": (1, "ImportError")})
    assert "libpq5" in lab2._runtime_verdict(nolib, text).said
    assert not lab2._runtime_verdict(_report(health_status=500), text).passed


def test_non_root_needs_user_and_a_non_zero_uid():
    """USER set but the container's uid 0 (USER 0:0 spelled otherwise) fails; a real user passes."""
    assert lab2._non_root_verdict(_report()).passed
    assert not lab2._non_root_verdict(_report(exec_results={"uid": (0, "0\n")})).passed
    root = _report()
    root.facts.user = "root"
    assert not lab2._non_root_verdict(root).passed


def test_health_verdict(monkeypatch):
    """No HEALTHCHECK, or one that never turns healthy, fails; healthy passes."""
    rep = _report(healthy="healthy")
    assert not lab2._health_verdict(rep).passed
    rep.facts.healthcheck = ["CMD", "true"]
    assert lab2._health_verdict(rep).passed
    rep.healthy, rep.run_error = "unhealthy", "curl: not found"
    assert "curl" in lab2._health_verdict(rep).said


def test_size_bound_uses_the_measured_reference(monkeypatch):
    """At most SIZE_MARGIN of the Lab 1 reference passes, more fails, and the verdict gives both figures."""
    monkeypatch.setattr(lab2, "reference_size", lambda: 1000)
    assert lab2._smaller_verdict(_report(facts=ImageFacts("t", "x", 500))).passed
    big = lab2._smaller_verdict(_report(facts=ImageFacts("t", "x", 501)))
    assert not big.passed and "50%" in big.said


def test_reference_size_cache_is_keyed(tmp_path, monkeypatch):
    """Is a cached size used only for the same key (engine, reference Dockerfile, base images)?"""
    monkeypatch.setattr(lab2, "state_dir", lambda: tmp_path)
    (tmp_path / "lab2-reference-size.json").write_text(json.dumps({"k1": 1234}))
    monkeypatch.setattr(lab2, "reference_key", lambda client=None: "k1")
    monkeypatch.setattr(lab2, "check_dockerfile", _no_engine)
    assert lab2.reference_size() == 1234
    monkeypatch.setattr(lab2, "reference_key", lambda client=None: "k2")
    with pytest.raises(pytest.fail.Exception):
        lab2.reference_size()


def test_the_kit_reads_lab2s_reference_answer():
    """Do later notebooks build Lab 2's one reference answer (no copy in the kit that could drift)?"""
    assert sampleapp.reference_path("optimized") == REFERENCE / "Dockerfile"
    assert reference_dockerfile("optimized") == (REFERENCE / "Dockerfile").read_text()
    assert reference_dockerignore() == (REFERENCE / "Dockerfile.dockerignore").read_text()
    assert not list((ROOT / "helpers").rglob("*optimized*"))


def test_grading_yml_lists_every_graded_cell_and_the_notebook_only_self_checks():
    """Does grading.yml decide every graded cell; do test cells only self-check?"""
    spec = load_spec(LAB, root=ROOT)
    nb = json.loads((SOURCE / f"{LAB}.ipynb").read_text())
    graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert {c["metadata"]["nbgrader"]["grade_id"] for c in graded} == set(spec.verdicts)
    for c in graded:
        gid = c["metadata"]["nbgrader"]["grade_id"]
        assert "".join(c["source"]).rstrip().endswith(f'self_check("{gid}")'), gid
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "%%writefile" not in code and "write_text" not in code  # the student writes the files


@pytest.mark.parametrize(
    ("line", "staged"),
    [
        ("COPY --from=builder /venv /venv", True),
        ("RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels pip install /wheels/*", True),
        ("RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt", False),
        ("COPY app ./app", False),
    ],
)
def test_the_runtime_stage_counts_a_copy_or_a_mount_from_another_stage(line, staged):
    """Is a final stage that takes a builder's files by COPY --from or a RUN mount from= multi-stage, and not else?"""
    from helpers.review.dockerfile import parse_dockerfile

    parsed = parse_dockerfile(f"FROM a AS builder\nRUN true\nFROM b\n{line}\n")
    assert any(lab2._uses_a_stage(i.flags) for i in parsed.final.instructions) is staged
