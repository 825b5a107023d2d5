"""The two documented ways to run autograde shards on a distributed runner (docs/examples/shards/).

The GitHub Actions matrix passes the rules and linters of the repository's own workflows (structure,
shellcheck on every ``run:``, zizmor; actionlint where installed), and the Kubernetes Indexed Job the
kit's schema check. For both, the command each shard runs is expanded as the runner would, for every
shard, and must be ``make autograde`` with SHARD values 1/N..N/N that the kit accepts.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from kitroot import ROOT

from helpers.ci.k8sschema import validate_manifest
from helpers.ci.workflowfile import workflow_steps
from helpers.ci.workflowsec import injections, permission_problems, unpinned_actions
from helpers.errors import ConfigFileError
from helpers.grading.shards import parse_shard
from unit.ci.test_workflow_lint import _EXPR, _load, _tool, violations

EXAMPLES = ROOT / "docs" / "examples" / "shards"
WORKFLOW = EXAMPLES / "autograde-shards.yml"
JOB = EXAMPLES / "autograde-job.yaml"


def _expand(script: str, env: dict[str, str], bindir: Path) -> list[str]:
    """The arguments ``script`` gives ``make``, run by sh with ``env`` and stand-ins for ``make`` and ``sudo``."""
    (bindir / "make").write_text("#!/bin/sh\nprintf '%s\\n' \"$@\"\n")
    (bindir / "sudo").write_text('#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do shift; done\nexec "$@"\n')
    for tool in ("make", "sudo"):
        (bindir / tool).chmod(0o755)
    path = f"{bindir}:/usr/bin:/bin"
    out = subprocess.run(["sh", "-c", script], env={"PATH": path, **env}, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def _shards_from(args: list[str]) -> str:
    return next(a.split("=", 1)[1] for a in args if a.startswith("SHARD="))


# --- GitHub Actions ---------------------------------------------------------------------------------------------


def test_workflow_follows_the_repositorys_workflow_rules():
    """Read-only token, SHA pins with their version, no credentials kept, no expression in a run: script?"""
    text = WORKFLOW.read_text()
    assert violations(text) == []
    doc = _load(text)
    steps = workflow_steps(doc)
    assert permission_problems(doc) == [] and injections(steps) == [] and unpinned_actions(doc, steps) == []
    code = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    assert not any("postgresql" in ln for ln in code)  # the URL (and its password) is a secret, never in the file


def test_workflow_matrix_runs_every_shard_once(tmp_path):
    """Does the matrix, expanded as Actions would, run `make autograde` with SHARD 1/N..N/N, N = SHARDS, the
    gradebook URL from a secret (never in the file)?"""
    doc = _load(WORKFLOW.read_text())
    job = doc["jobs"]["autograde"]
    shards = job["strategy"]["matrix"]["shard"]
    assert job["strategy"]["fail-fast"] is False  # one failed shard does not cancel the others
    (step,) = [s for s in job["steps"] if "make" in s.get("run", "") and "autograde" in s["run"]]
    assert step["env"]["COURSE_GRADEBOOK_URL"] == "${{ secrets.COURSE_GRADEBOOK_URL }}"
    seen = []
    for shard in shards:
        env = {k: str(v) for k, v in step["env"].items() if "${{" not in str(v)}
        env.update(SHARD_INDEX=str(shard), LAB="lab1", PYTHON_BIN="python3")
        words = _expand(step["run"], env, tmp_path)
        assert "autograde" in words and "A=lab1" in words, words
        seen.append(parse_shard(_shards_from(words)))
    assert sorted((s.index, s.count) for s in seen) == [(i, len(shards)) for i in range(1, len(shards) + 1)]


def test_workflow_run_blocks_pass_shellcheck():
    shellcheck = _tool("shellcheck")
    doc = _load(WORKFLOW.read_text())
    for job in doc["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                body = _EXPR.sub("GITHUB_EXPRESSION", step["run"])
                cmd = [shellcheck, "--shell=bash", "--exclude=SC1091", "-"]
                out = subprocess.run(cmd, input=body, capture_output=True, text=True, timeout=60)
                assert out.returncode == 0, out.stdout


def test_workflow_passes_zizmor():
    zizmor = _tool("zizmor")
    out = subprocess.run([zizmor, "--offline", "--no-progress", str(WORKFLOW)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_workflow_passes_actionlint():
    out = subprocess.run([_tool("actionlint"), str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


# --- Kubernetes -------------------------------------------------------------------------------------------------


def _job() -> dict:
    return yaml.safe_load(JOB.read_text())


def test_indexed_job_passes_the_kubernetes_schema():
    """Does the Indexed Job pass the kit's schema check (and does the check catch a misspelt field)?"""
    assert validate_manifest(_job()) == "V1Job"
    bad = _job()
    bad["spec"]["completionMod"] = bad["spec"].pop("completionMode")
    with pytest.raises(ConfigFileError, match="completionMod"):
        validate_manifest(bad)


def test_indexed_job_grades_every_shard_once(tmp_path):
    """Is it Indexed, one pod per shard, each pod's JOB_COMPLETION_INDEX (0-based) turned into SHARD i/N with N
    the number of completions, and the gradebook URL taken from a Secret?"""
    job = _job()
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["COURSE_GRADEBOOK_URL"]["valueFrom"]["secretKeyRef"]["name"]
    assert "postgresql" not in JOB.read_text().split("apiVersion", 1)[1]  # no URL in the manifest itself
    script = shlex.join(container["command"][2:]) + " ".join(container["args"])
    assert container["command"][:2] == ["/bin/sh", "-c"]
    fixed = {k: e["value"] for k, e in env.items() if "value" in e}
    shards = [
        parse_shard(_shards_from(_expand(script, {**fixed, "JOB_COMPLETION_INDEX": str(i)}, tmp_path)))
        for i in range(spec["completions"])
    ]
    assert [(s.index, s.count) for s in shards] == [(i, spec["completions"]) for i in range(1, spec["completions"] + 1)]


def test_examples_are_where_the_docs_say():
    text = (ROOT / "docs" / "INSTRUCTOR.md").read_text()
    for path in (WORKFLOW, JOB):
        assert str(Path(path).relative_to(ROOT)) in text
