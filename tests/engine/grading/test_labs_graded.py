"""Labs 1-5 and the shrink activity autograded as an instructor does it: the notebook in the sandbox, the
graded checks on the grader.

One throwaway course; per lab one ``course.autograde`` run (two workers) grades the reference (the source
notebook with the reference answer files), the unedited release folder, and a hostile submission. Each lab's
``grading.yml`` lists ``verdicts:``: the grader decides those cells from the submitted files on the grading
engine. The hostile student rebinds the notebook's ``self_check`` to a no-op and deletes the kit's environment
variables, so every test cell "passes" in the kernel; it must still score what its files earn (nothing).
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from ci_rules import unavailable
from course_fixture import REFERENCE, ROOT, make_lab_course, scores, submit_lab, submit_reference

from helpers.grading import course

pytestmark = [pytest.mark.engine, pytest.mark.slow]

LABS = (
    "lab1-build-basics",
    "lab2-improve-dockerfile",
    "lab3-security-scan",
    "lab4-publish",
    "lab5-automate-builds",
    "activity-shrink-image",
)

#: A cell the hostile student adds after the setup cell: every self-check now "passes" in the kernel.
REBIND = """import os
for _k in [k for k in os.environ if k.startswith(("GRADING", "NBGRADER", "COURSE"))]:
    del os.environ[_k]
def self_check(*args, **kwargs):
    print("passed: trust me")
"""


def _hostile(lab: str):
    nb = nbformat.read(ROOT / "release" / lab / f"{lab}.ipynb", as_version=4)
    setup = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(REBIND))
    return nb


@pytest.fixture(scope="module")
def graded(engine):
    dirs, base = make_lab_course(LABS)
    for lab in LABS:
        submit_reference(dirs, lab, "reference")
        submit_lab(dirs, lab, "blank", nbformat.read(ROOT / "release" / lab / f"{lab}.ipynb", as_version=4), False)
        submit_lab(dirs, lab, "forger", _hostile(lab), False)
    results = {lab: course.autograde(lab, dirs=dirs, workers=2) for lab in LABS}
    got = scores(dirs, LABS[0], all_labs=True)  # one gradebook export for every lab
    yield dirs, results, got
    shutil.rmtree(base, ignore_errors=True)


def _max(dirs, lab: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{dirs.root / 'gradebook.db'}", dirs.course_id) as gb:
        return gb.find_assignment(lab).max_score


@pytest.mark.parametrize("lab", LABS)
def test_reference_solution_gets_full_marks_in_the_sandbox(graded, lab):
    """Does the reference solution get every point when its engine checks run on the grader?"""
    dirs, results, got = graded
    assert results[lab]["ok"].all(), results[lab].to_string()
    assert _max(dirs, lab) >= 8
    assert got[lab]["reference"] == _max(dirs, lab), _failed(dirs, lab, "reference")


@pytest.mark.parametrize("lab", LABS)
def test_unedited_release_gets_zero(graded, lab):
    """Does the unedited release version score zero (its stubs raise before any check)?"""
    _, _, got = graded
    assert got[lab]["blank"] == 0.0


@pytest.mark.parametrize("lab", LABS)
def test_hostile_kernel_scores_zero(graded, lab):
    """Does a submission whose kernel fakes its checks score 0 (verdicts: the grader's words replace the kernel's)?"""
    dirs, _, got = graded
    assert got[lab]["forger"] == 0.0
    folder = dirs.root / "autograded" / "forger" / lab
    nb = nbformat.read(folder / f"{lab}.ipynb", as_version=4)
    shown = json.dumps([c.get("outputs", []) for c in nb.cells])
    record = json.loads((folder / "grading_verdicts.json").read_text())
    assert record["cells"] and not any(v["passed"] for v in record["cells"].values()), record
    assert "trust me" not in shown and "NOT passed" in shown


def test_grading_images_are_removed(graded, engine):
    """Are the images the grader built for the submissions gone once autograde returns?"""
    left = [
        t
        for i in engine.images.list()
        for t in i.tags
        if (
            "-g" in t.split(":")[-1]
            and t.split(":")[0]
            in (
                "lab1-sample-api",
                "lab2-sample-api",
                "course-context-probe",
                "course-lab3/sample-api",
                "course-lab4/sample-api",
            )
        )
        or "/course/lab4-g" in t
    ]
    assert left == []


def test_engine_work_ran_on_a_grading_engine_that_keeps_nothing(graded, engine):
    """Did every lab's builds and pushes run on the grading engine (not the instructor's), which holds
    only the base images once grading is over?"""
    from helpers.engine.baseimages import LOCAL, OFFICIAL
    from helpers.grading.engine import unavailable_reason
    from helpers.grading.engine_env import grading_client

    if unavailable_reason():
        unavailable(f"no separate grading engine here: {unavailable_reason()}")
    dirs, _, _ = graded
    for lab in LABS:
        folder = dirs.root / "autograded" / "reference" / lab
        where = json.loads((folder / "grading_verdicts.json").read_text())["engine"]
        assert where.startswith("unix:///run/course-grading-"), (lab, where)
    grader = grading_client()
    assert grader.info()["DockerRootDir"] != engine.info()["DockerRootDir"]
    tags = {t for i in grader.images.list() for t in i.tags}
    assert tags and tags <= set(LOCAL.values()) | set(OFFICIAL.values()), tags
    assert grader.containers.list(all=True) == []


def test_release_version_contains_no_solution_or_hidden_test():
    """Does each lab's release folder keep stubs and starters only: no solution region, no hidden check, and
    no line of a reference answer file that the starter does not already have?"""
    for lab in LABS:
        released = {p: p.read_text(errors="replace") for p in (ROOT / "release" / lab).rglob("*") if p.is_file()}
        text = "\n".join(released.values())
        for leaked in ("BEGIN SOLUTION", "HIDDEN TESTS", "secret_like_env"):
            assert leaked not in text, f"{lab}: {leaked!r} leaked into release/"
        for ref in (REFERENCE / lab / "reference").rglob("*") if (REFERENCE / lab).is_dir() else []:
            if not ref.is_file():
                continue
            starter = released.get(ROOT / "release" / lab / ref.relative_to(REFERENCE / lab / "reference"), "")
            lines = {ln.strip() for ln in ref.read_text().splitlines() if len(ln.strip()) >= 25}
            leaked = sorted(ln for ln in lines - {ln.strip() for ln in starter.splitlines()} if ln in text)
            assert not leaked, f"{lab}: lines of the reference {ref.name} are in release/: {leaked[:3]}"


def _failed(dirs, lab: str, student: str) -> str:
    nb = nbformat.read(dirs.root / "autograded" / student / lab / f"{lab}.ipynb", as_version=4)
    return "\n".join(
        f"{c.metadata['nbgrader']['grade_id']}: {o.get('ename')}: {o.get('evalue', '')[:300]}"
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    )


def test_env_down_stops_the_grading_engine_and_removes_its_rules(graded, engine):
    """Does stopping the grading engine leave no bridge and no firewall rule of it, and does starting it
    again (a second start: dockerd once deleted the host's docker0 then) leave the lab engine working?"""
    import subprocess
    from pathlib import Path

    from helpers.engine.baseimages import base_image
    from helpers.engine.client import kit_labels
    from helpers.grading import engine as ge
    from helpers.grading import engine_env
    from helpers.grading import engine_network as gn

    if ge.unavailable_reason():
        unavailable(f"no separate grading engine here: {ge.unavailable_reason()}")
    lab_bridge = Path("/sys/class/net", gn.LAB_BRIDGE).exists()
    assert ge.stop_grading_engine(log=lambda m: None)
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert gn.RULE_COMMENT not in rules
    assert subprocess.run(["ip", "link", "show", gn.GRADING_BRIDGE], capture_output=True).returncode != 0
    for _ in range(2):  # reused data root: base images already there
        again = ge.ensure_grading_engine(log=lambda m: None)
        assert engine_env.grading_client(again).images.list()
        assert Path("/sys/class/net", gn.LAB_BRIDGE).exists() == lab_bridge
        ge.stop_grading_engine(log=lambda m: None)
    ge.ensure_grading_engine(log=lambda m: None)
    out = engine.containers.run(
        base_image("slim", engine), ["python3", "-c", "print('bridge ok')"], remove=True, labels=kit_labels("test")
    )
    assert b"bridge ok" in out  # the lab engine still starts containers on its default bridge
