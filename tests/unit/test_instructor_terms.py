"""docs/INSTRUCTOR.md, "A term on each platform": every command it names exists and takes the arguments shown.

Each ``make`` line runs as ``make -n`` (prints the recipe, runs nothing) with the line's variables; each
``python -m helpers`` line is parsed by the kit's own command line. Other lines may only call the tools listed in
:data:`EXTERNAL` (students' and GitHub's commands, which this machine need not have).
"""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
from kitroot import ROOT
from terms import PLATFORMS, blocks

from helpers.cli import build_parser

#: Commands of other tools the section may name: students' nbgrader, the image push, GitHub's CLI.
EXTERNAL = {"nbgrader", "docker", "gh"}


def _commands() -> list[tuple[str, list[str]]]:
    return [(platform, shlex.split(line)) for platform, lines in blocks().items() for line in lines]


def test_each_platform_has_a_term_from_roster_to_grades():
    found = blocks()
    assert [h for h in found if any(h.startswith(p) for p in PLATFORMS)] == list(found) and len(found) == 3
    for platform, lines in found.items():
        make = [shlex.split(ln) for ln in lines]
        targets = [w[w.index("make") + 1] for w in make if "make" in w]
        for step in ("roster", "due", "autograde", "feedback", "grades"):
            assert step in targets, (platform, step)
        assert "collect" in targets or "import-repos" in targets, platform
        assert targets.index("roster") < targets.index("autograde") < targets.index("grades"), platform


@pytest.mark.parametrize(("platform", "argv"), _commands(), ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_every_command_exists(platform, argv):
    """Does ``make -n`` accept each make line, and the kit's parser each ``python -m helpers`` line?"""
    while argv and re.match(r"^[A-Z_]+=", argv[0]):
        argv = argv[1:]  # VAR=value before the command: the environment
    if argv[0] == "make":
        proc = subprocess.run(["make", "-n", *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        kit = [ln for ln in proc.stdout.splitlines() if "-m helpers" in ln]  # the command the target runs
        for value in (a.split("=", 1)[1] for a in argv[1:] if "=" in a):
            assert any(value in ln for ln in kit), (value, proc.stdout)  # each variable reaches the kit
    elif argv[:3] == ["python", "-m", "helpers"]:
        args = build_parser().parse_args(argv[3:])
        assert callable(args.func)
    else:
        assert argv[0] in EXTERNAL, f"{platform}: {argv[0]} is neither make, python -m helpers nor {EXTERNAL}"
