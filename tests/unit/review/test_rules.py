"""Do the course's review rules fire where they should, and only there?"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kitroot import ROOT

from helpers.review.courserules import COURSE_RULES, course_findings
from helpers.review.dockerfile import parse_dockerfile
from helpers.review.rules import review_dockerfile

GALLERY = ROOT / "notebooks" / "data" / "dockerfiles"
GOOD = """# syntax=docker/dockerfile:1
FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip wheel --no-cache-dir -w /w -r requirements.txt
FROM python:3.12-slim
COPY --from=build /w /w
RUN pip install --no-cache-dir /w/*
COPY . /app
USER 10001
HEALTHCHECK CMD ["python", "-c", "print(1)"]
CMD ["python", "/app/main.py"]
"""
IGNORE = ".git\n__pycache__\n.venv\n"


def rules(text, dockerignore=IGNORE):
    return sorted({f.rule for f in course_findings(parse_dockerfile(text), dockerignore)})


def test_good_dockerfile_has_no_course_findings():
    """Does a multi-stage, non-root, cache-clean Dockerfile pass every course rule?"""
    assert rules(GOOD) == []


@pytest.mark.parametrize(
    "change,rule",
    [
        (("USER 10001\n", ""), "CR001"),
        (("USER 10001\n", "USER root\n"), "CR001"),
        (("COPY . /app\n", ""), None),
        (
            (
                "FROM python:3.12-slim\nCOPY",
                "FROM python:3.12-slim\nCOPY . /src\nRUN pip install --no-cache-dir -e /src\nCOPY",
            ),
            "CR002",
        ),
        (
            (
                "FROM python:3.12-slim\nCOPY",
                "FROM python:3.12-slim\nRUN apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\nCOPY",
            ),
            "CR003",
        ),
        (("USER 10001\n", "USER 10001\nENV DB_PASSWORD=hunter2\n"), "CR005"),
        (("USER 10001\n", "USER 10001\nARG GITHUB_TOKEN\n"), "CR005"),
        (("FROM python:3.12-slim\nCOPY", "FROM python\nCOPY"), "CR006"),
        (("FROM python:3.12-slim\nCOPY", "FROM python:latest\nCOPY"), "CR006"),
        (('HEALTHCHECK CMD ["python", "-c", "print(1)"]\n', ""), "CR007"),
        (("pip install --no-cache-dir /w/*", "pip install /w/*"), "CR008"),
        (("&& rm -rf /var/lib/apt/lists/*", ""), "CR009"),
    ],
)
def test_each_rule_fires_on_its_problem(change, rule):
    """Does one targeted change make exactly its rule fire?"""
    old, new = change
    assert old in GOOD
    found = rules(GOOD.replace(old, new, 1))
    assert found == ([rule] if rule else [])


def test_dockerignore_rule():
    """Does CR004 fire without a .dockerignore, and with one that misses .git?"""
    assert rules(GOOD, None) == ["CR004"]
    assert rules(GOOD, "*.log\n") == ["CR004"]
    assert rules(GOOD, False) == []


def test_every_rule_has_message_and_fix():
    """Does each course rule carry a severity, a message and a fix?"""
    for rule, (sev, msg, fix, _dupes) in COURSE_RULES.items():
        assert sev in ("error", "warning", "info", "style") and msg and fix, rule


def test_gallery_has_eight_dockerfiles_with_different_problems():
    """Are there at least eight gallery Dockerfiles, each parsing, with different sets of findings?"""
    files = sorted(GALLERY.glob("*.Dockerfile"))
    assert len(files) >= 8
    sets = {tuple(sorted({f.rule for f in review_dockerfile(p)})) for p in files}
    assert len(sets) == len(files)


def test_review_cli_json(tmp_path):
    """Does `python -m helpers review --json` print a list with rule, line, severity and message?"""
    df = tmp_path / "Dockerfile"
    df.write_text("FROM python:latest\nRUN pip install flask\n")
    out = subprocess.run(
        [sys.executable, "-m", "helpers", "review", str(df), "--json"], capture_output=True, text=True, check=True
    ).stdout
    items = json.loads(out)
    assert {"rule", "line", "severity", "message", "fix"} <= set(items[0])
    assert any(i["rule"] == "DL3007" and i["line"] == 1 for i in items)


def test_review_cli_bad_input(tmp_path):
    """Does the CLI answer a non-Dockerfile with a short error and exit code 2, no traceback?"""
    bad = tmp_path / "app.py"
    bad.write_text("import os\n")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "review", str(bad), "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "not look like a Dockerfile" in proc.stderr


def _cr003(run: str) -> str:
    """The detail of the CR003 finding on ``RUN run`` in a final stage, or "" when it does not fire."""
    df = parse_dockerfile(f"FROM python:3.12-slim\nRUN {run}\n")
    found = [f.message for f in course_findings(df, dockerignore=False) if f.rule == "CR003"]
    return found[0].rsplit("(", 1)[-1] if found else ""


@pytest.mark.parametrize(
    ("run", "tools"),
    [
        ("apt-get install -y gcc libpq-dev=15.1 python3.12-dev:amd64", "gcc, libpq-dev, python3.12-dev)"),
        ("apt-get install -y gcc-12 /opt/x86_64-linux-gnu-clang", "clang, gcc)"),
        ("apk add --no-cache build-essential g++", "build-essential, g++)"),
        ("apt-get install -y make", "make)"),
        ("apt-get install -y curl; make all", ""),  # make runs, it is not installed
        ("apt-get install -y curl && pipenv install --dev", ""),  # a flag, not a package
        ("apt-get install -y libFoo-dev", ""),  # apt names are lower-case
        ("pip install gcc-dev", ""),  # no package manager installs it
        ("apt-get install -y gcc libpq-dev && apt-get purge -y gcc", ""),
        ("apt-get install -y gcc && apk del 'gcc*'", ""),
        ("apt-get install -y gcc && echo purge; echo gcc", "gcc)"),  # the removal is another command
        ("apt-get install -y gcc libpq-dev && apt-get purge -y libgcc1", "gcc, libpq-dev)"),  # another package
    ],
)
def test_build_tools_are_whole_packages_installed_and_not_removed(run, tools):
    """Does CR003 name the compilers and -dev packages a package manager installs, unless a purge removes one?"""
    assert _cr003(run) == tools


@pytest.mark.parametrize(
    ("run", "fires"),
    [
        ("apt-get -y -q install curl", True),
        ("/usr/bin/apt-get -qq -apt-get install curl", True),
        ("apt install curl", True),
        ("apt-get -o Dpkg::Options=x install curl", False),  # an option with a separate value, as before
        ("apt-get update", False),
    ],
)
def test_apt_lists_rule_reads_options_before_install(run, fires):
    """Does CR009 see `apt-get [-options] install` and `apt install`, and nothing else?"""
    df = parse_dockerfile(f"FROM python:3.12-slim\nRUN {run}\n")
    assert ("CR009" in {f.rule for f in course_findings(df, dockerignore=False)}) is fires
