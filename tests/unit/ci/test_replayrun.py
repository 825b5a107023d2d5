"""The replay's shell rules (no engine): a step's commands run as GitHub's default ``bash -e {0}`` runs them.

Each case is a script of ``docker inspect okN``/``docker inspect badN`` lines (``ok`` succeeds, ``bad`` fails),
read by the plan and run by :func:`helpers.ci.replayrun.run_script`; the same script, run by bash itself with a
``docker`` function that says which ran, must agree on what ran and on the step's outcome.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.ci.pipelinereport import ReplayReport
from helpers.ci.replaymodel import Command
from helpers.ci.replayplan import read_plan
from helpers.ci.replayrun import StepFailed, _Replay, run_script
from helpers.ci.workflowfile import load_workflow

HEAD = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - name: S\n        run: |\n"

#: script -> (the commands that ran, whether the step passes), as bash -e decides.
CASES = {
    # a && b: a failing left side is not the list's last command, so the step goes on ...
    "docker inspect bad1 && docker inspect ok1\ndocker inspect ok2": (["bad1", "ok2"], True),
    # ... unless that list is the script's last: its status is the script's
    "docker inspect ok1\ndocker inspect bad1 && docker inspect ok2": (["ok1", "bad1"], False),
    # the last command of an && list failing ends the step there
    "docker inspect ok1 && docker inspect bad1\ndocker inspect ok2": (["ok1", "bad1"], False),
    # a || b: b runs only after a failure; a failing b (the last of its list) ends the step
    "docker inspect bad1 || docker inspect ok1\ndocker inspect ok2": (["bad1", "ok1", "ok2"], True),
    "docker inspect ok1 || docker inspect bad1\ndocker inspect ok2": (["ok1", "ok2"], True),
    "docker inspect bad1 || docker inspect bad2\ndocker inspect ok1": (["bad1", "bad2"], False),
    # left to right: (a || b) && c
    "docker inspect bad1 || docker inspect bad2 && docker inspect ok1\ndocker inspect ok2": (
        ["bad1", "bad2", "ok2"],
        True,
    ),
    "docker inspect ok1 && docker inspect bad1 || docker inspect ok2": (["ok1", "bad1", "ok2"], True),
    # ! inverts the status and never ends the step; a last `! ok` leaves status 1
    "! docker inspect bad1\ndocker inspect ok1": (["bad1", "ok1"], True),
    "! docker inspect ok1\ndocker inspect ok2": (["ok1", "ok2"], True),
    "docker inspect ok1\n! docker inspect ok2": (["ok1", "ok2"], False),
    "! docker inspect ok1 || docker inspect ok2": (["ok1", "ok2"], True),
    # ; and newlines: a failing plain command ends the step
    "docker inspect bad1; docker inspect ok1": (["bad1"], False),
    "docker inspect ok1; docker inspect ok2\ndocker inspect bad1\ndocker inspect ok3": (["ok1", "ok2", "bad1"], False),
    # a line ending in && or || goes on on the next line
    "docker inspect bad1 &&\n  docker inspect ok1\ndocker inspect ok2": (["bad1", "ok2"], True),
    "docker inspect ok1 ||\n  docker inspect bad1\ndocker inspect ok2": (["ok1", "ok2"], True),
    # exit ends the step wherever it is, with its status
    "docker inspect bad1 || exit 0\ndocker inspect ok1": (["bad1"], True),
    "docker inspect bad1 || exit 3\ndocker inspect ok1": (["bad1"], False),
    "docker inspect ok1 && exit 256\ndocker inspect ok2": (["ok1"], True),
    "exit 1 &\ndocker inspect ok1": (["ok1"], True),  # exit in the background ends only its subshell
}


class _Fake(_Replay):
    """The runner with a stand-in for docker: ``docker inspect okN`` succeeds, ``badN`` fails."""

    def __init__(self) -> None:
        super().__init__(None, lambda b: (Path(), Path()), Path("test.Dockerfile"), ReplayReport(run_id="t"))
        self.inspected: list[str] = []

    def command(self, cmd: Command) -> str:
        if cmd.verb != "inspect":
            return super().command(cmd)
        self.inspected.append(cmd.operands[0])
        if cmd.operands[0].startswith("bad"):
            raise StepFailed(f"No such object: {cmd.operands[0]}")
        return f"inspected {cmd.operands[0]}"


def _step(script: str):
    text = HEAD + "".join(f"          {line}\n" for line in script.splitlines())
    plan = read_plan(load_workflow(text), "main", "0" * 40, text=text)
    assert plan.refusals == []
    return plan.steps[0]


def _bash(script: str) -> tuple[list[str], bool]:
    """What bash -e itself runs of the script, with `docker` a function that prints its operand."""
    prelude = 'docker() { echo "$2"; [[ $2 == ok* ]]; }\n'
    proc = subprocess.run(["bash", "-e", "-c", prelude + script], capture_output=True, text=True, timeout=10)
    return proc.stdout.split(), proc.returncode == 0


@pytest.mark.parametrize("script", list(CASES))
def test_a_step_runs_as_bash_e_runs_it(script):
    """Do the replay and bash itself agree on which commands of a step run and whether the step passes?"""
    ran, passes = CASES[script]
    assert shutil.which("bash"), "bash runs every workflow step: the kit's platforms have it"
    assert _bash(script) == (ran, passes)
    replay = _Fake()
    ok, said = replay.run_step(_step(script))
    assert (replay.inspected, ok) == (ran, passes), said
    if not passes:
        assert said.startswith("line "), said  # the failing command's line is named


def test_the_reader_marks_operators_negation_and_background():
    """Are `!`, `&&`/`||` (also across a line end) and `&` read onto the commands, and a dangling operator refused?"""
    cmds = _step(
        "! docker inspect a && docker inspect b ||\ndocker inspect c\ndocker inspect d & docker inspect e"
    ).commands
    assert [(c.operands[0], c.joiner, c.negated, c.background) for c in cmds] == [
        ("a", ";", True, False),
        ("b", "&&", False, False),
        ("c", "||", False, False),
        ("d", ";", False, True),
        ("e", ";", False, False),
    ]
    text = HEAD + "          docker inspect a && && docker inspect b\n"
    assert "`&&` with no command before it" in read_plan(load_workflow(text), "main", "0" * 40).refusals[0]


def test_a_background_list_never_ends_the_step():
    """Does a failing command sent to the background (`a &`, status 0) let the step go on and pass?"""
    cmds = _step("docker inspect bad1 &\ndocker inspect ok1").commands
    ran: list[str] = []

    def attempt(cmd: Command) -> bool:
        ran.append(cmd.operands[0])
        return cmd.operands[0].startswith("ok")

    assert run_script(cmds, attempt) and ran == ["bad1", "ok1"]
    assert not run_script(cmds[:1] + [Command("docker", 1, "x", "inspect", operands=("bad2",))], attempt)
