"""Lesson 20's keyless-signing workflow (text the student reads) passes the checks the course applies to workflows.

The YAML lives in the lesson's markdown only; this test extracts it, so the lesson cannot drift into a
workflow the course's own rules (and zizmor, shellcheck) would reject.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from ci_rules import unavailable
from kitroot import ROOT

from helpers.ci.workflowfile import load_workflow, workflow_steps
from helpers.ci.workflowsec import gate_problems, injections, permission_problems, unpinned_actions
from unit.ci.test_workflow_lint import violations

LESSON = ROOT / "notebooks" / "20-signing-and-digests.ipynb"


@pytest.fixture(scope="module")
def workflow_text() -> str:
    cells = json.loads(LESSON.read_text())["cells"]
    text = next("".join(c["source"]) for c in cells if "sigstore/cosign-installer@" in "".join(c["source"]))
    return re.search(r"```yaml\n(.*?)```", text, re.S).group(1)


def test_keyless_step_is_what_cosign_needs(workflow_text):
    """id-token: write on the job, the installer pinned by SHA, and `cosign sign --yes` on the pushed digest?"""
    doc = load_workflow(workflow_text)
    job = doc["jobs"]["image"]
    assert job["permissions"]["id-token"] == "write"
    steps = workflow_steps(doc)
    assert any(re.fullmatch(r"sigstore/cosign-installer@[0-9a-f]{40}", s.uses) for s in steps)
    sign = next(s for s in steps if "cosign sign" in s.run)
    assert re.search(r'cosign sign --yes "\$\{IMAGE\}@\$\{DIGEST\}"', sign.run)
    assert "--key" not in sign.run  # keyless: no key at all


def test_passes_the_kits_workflow_checks(workflow_text):
    """Least-privilege token, no injection, every action pinned, push gated on main: nothing to report?"""
    doc = load_workflow(workflow_text)
    steps = workflow_steps(doc)
    problems = permission_problems(doc) + [e for _, e in injections(steps)] + unpinned_actions(doc, steps)
    assert problems + gate_problems(doc, steps) == []
    assert violations(workflow_text) == []  # the rules the repository's own workflows follow


def test_the_checks_would_catch_a_tag_pin(workflow_text):
    """Does the pin check fail the same text with the installer at @v4 (so the test above can fail)?"""
    loose = re.sub(r"sigstore/cosign-installer@[0-9a-f]{40}", "sigstore/cosign-installer@v4", workflow_text)
    doc = load_workflow(loose)
    assert unpinned_actions(doc, workflow_steps(doc)) == ["sigstore/cosign-installer@v4"]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        unavailable(f"{name} is not installed (the test extras install it: `make setup`)")
    return found


def test_zizmor_finds_nothing(workflow_text, tmp_path):
    path = tmp_path / "release.yml"
    path.write_text(workflow_text)
    out = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(path)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_shellcheck_is_clean_on_every_run_block(workflow_text):
    for step in workflow_steps(load_workflow(workflow_text)):
        if step.run:
            body = re.sub(r"\$\{\{.*?\}\}", "GITHUB_EXPRESSION", step.run)
            cmd = [_tool("shellcheck"), "--shell=bash", "-"]
            out = subprocess.run(cmd, input=body, capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, f"{step.name}:\n{out.stdout}"
