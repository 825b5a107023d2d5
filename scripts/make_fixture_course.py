"""Write the tiny nbgrader assignment the instructor-workflow tests use (tests/fixtures/course)."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "course" / "source"


def meta(grade_id, solution=False, grade=False, points=0, locked=False):
    m = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if grade:
        m["points"] = points
    return {"nbgrader": m}


def ps1():
    cells = [
        new_markdown_cell("# ps1: a tiny graded assignment (fixture)", metadata=meta("intro", locked=True)),
        new_code_cell(
            "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
            metadata=meta("add", solution=True),
        ),
        new_code_cell("assert add(1, 2) == 3", metadata=meta("test_add", grade=True, points=1, locked=True)),
        new_code_cell(
            'assert add(0, 0) == 0\n### BEGIN HIDDEN TESTS\nassert add(-1, 1) == 0, "SECRET-HIDDEN-CHECK"\n'
            "### END HIDDEN TESTS",
            metadata=meta("test_add_hidden", grade=True, points=2, locked=True),
        ),
        new_code_cell(
            'def greet(name):\n    ### BEGIN SOLUTION\n    return f"hello {name}"\n    ### END SOLUTION',
            metadata=meta("greet", solution=True),
        ),
        new_code_cell('assert greet("x") == "hello x"', metadata=meta("test_greet", grade=True, points=1, locked=True)),
    ]
    return cells


def dockerlab():
    return [
        new_markdown_cell(
            "# dockerlab: an engine lab graded through GRADING_FACTS (fixture)", metadata=meta("intro", locked=True)
        ),
        new_code_cell(
            "import helpers\nfacts = helpers.read_facts()  # set by the grader; None when you work normally",
            metadata=meta("setup", locked=True),
        ),
        new_code_cell(
            'assert facts is not None, "graded runs get facts"\n'
            'assert facts["steps"]["app"]["build"]["ok"], facts["steps"]["app"]["build"].get("error")',
            metadata=meta("test_builds", grade=True, points=1, locked=True),
        ),
        new_code_cell(
            'assert facts["steps"]["app"]["build"]["user"] not in ("", "root", "0"), "run as a non-root USER"',
            metadata=meta("test_user", grade=True, points=1, locked=True),
        ),
        new_code_cell(
            'assert facts["steps"]["app"]["run"]["http"]["/"]["status"] == 200',
            metadata=meta("test_http", grade=True, points=1, locked=True),
        ),
    ]


def write(name, cells, extra=None):
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    folder = HERE / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    for fname, text in (extra or {}).items():
        (folder / fname).write_text(text)


if __name__ == "__main__":
    write(
        "ps1",
        ps1(),
        {
            "grading.yml": "# Small limits so the hostile-submission tests finish quickly.\n"
            "sandbox: {timeout: 60, cell_timeout: 10, memory: 512m}\n"
        },
    )
    write(
        "dockerlab",
        dockerlab(),
        {
            "grading.yml": "sandbox: {timeout: 120}\nengine:\n  - name: app\n    dockerfile: Dockerfile\n"
            "    run: true\n    port: 8000\n    paths: [/]\n",
            "Dockerfile": "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\n### write your Dockerfile here\n",
        },
    )
