"""Feedback a student receives: no hidden test, nothing that runs in the browser, only the notebook's page.

The first tests check the rules of :mod:`helpers.grading.feedback` and the preprocessors on notebooks in
memory; the last ones run nbgrader's real apps (release, autograde without the sandbox, generate and release
feedback) on a throwaway course, with a hostile student beside honest ones. No engine needed.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from bs4 import BeautifulSoup
from course_fixture import make_course, submit_notebook
from kitroot import ROOT
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from helpers.grading import course
from helpers.grading import feedback as fb

SECRET = 'assert add(-1, 1) == 0, "SECRET-HIDDEN-CHECK"'
HIDDEN_CELL = f"assert add(0, 0) == 0\n### BEGIN HIDDEN TESTS\n{SECRET}\n### END HIDDEN TESTS"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
FACTS = "FACTS-FOR-THE-GRADER-ONLY"


def _display(data: dict, metadata: dict | None = None) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": metadata or {}}


HOSTILE_OUTPUTS = [
    _display({"text/html": '<script>alert("html")</script><img src=x onerror="alert(1)">', "text/plain": "<HTML>"}),
    _display({"application/javascript": 'alert("js")'}),
    _display(
        {"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(3)"><script>alert(4)</script></svg>'}
    ),
    _display({"text/markdown": "[x](javascript:alert(5))"}),
    _display({"application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2, "version_minor": 0}}),
    _display(
        {"image/png": PNG}, {"image/png": {"width": "1 onerror=alert(6)"}, "filenames": {"image/png": "/etc/passwd"}}
    ),
    _display({"image/jpeg": '" onerror="alert(7)'}),
    {"output_type": "something-else", "data": {"text/html": "<script>alert(8)</script>"}},
]


def test_hidden_region_without_end_hides_the_rest_and_never_raises():
    """Does a marker a student typed (no END, nested BEGIN) cut the rest of the cell instead of failing?"""
    assert fb.clear_hidden_region(HIDDEN_CELL) == ("assert add(0, 0) == 0", True)
    assert fb.clear_hidden_region("x = 1\n# ### BEGIN HIDDEN TESTS\nsecret()\n") == ("x = 1", True)
    nested = "a\n### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc"
    assert fb.clear_hidden_region(nested) == ("a\nc", True)
    assert fb.clear_hidden_region("# END HIDDEN TESTS alone\nx") == ("# END HIDDEN TESTS alone\nx", False)


def test_hidden_lines_are_redacted_as_written_and_as_repr():
    """Is a hidden test printed by the student's code (``print(In)``) redacted, in plain and repr form?"""
    lines = fb.hidden_lines(["x = 1", HIDDEN_CELL])
    assert lines == [SECRET]
    printed = str(["x = 1", HIDDEN_CELL, "it's " + SECRET + "\\"])
    assert "SECRET-HIDDEN-CHECK" not in fb.redact(printed, lines)
    assert "SECRET-HIDDEN-CHECK" not in fb.redact(SECRET.replace('"', "&quot;"), lines)


def test_only_inert_outputs_are_kept():
    """Are HTML, JS, SVG, Markdown, widgets, unknown types and output metadata dropped, text and valid images kept?"""
    kept = [fb.inert_output(o) for o in HOSTILE_OUTPUTS]
    assert [k["data"] if k else None for k in kept] == [
        {"text/plain": "<HTML>"},
        None,
        None,
        None,
        None,
        {"image/png": PNG},
        None,
        None,
    ]
    assert all(k["metadata"] == {} for k in kept if k)
    stream = fb.inert_output({"output_type": "stream", "name": "<b>", "text": ["a", "b"]})
    assert stream == {"output_type": "stream", "name": "stdout", "text": "ab"}
    result = fb.inert_output({"output_type": "execute_result", "execution_count": "<i>", "data": {"text/plain": "1"}})
    assert result["execution_count"] is None


@pytest.mark.parametrize(
    "source",
    [
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(2))",
        '![i](x" onerror="alert(3))',
        "</pre><script>alert(4)</script>",
        "text\n\n</pre>\n\n<script>alert(5)</script>",
        "<pre>\n<script>alert(6)</script>\n</pre>",
    ],
)
def test_escaped_markdown_renders_as_text(source):
    """Does a student's Markdown render as plain text, whatever HTML, link or image it holds?"""
    soup = BeautifulSoup(markdown2html_mistune(fb.escaped_markdown(source)), "html.parser")
    assert [t.name for t in soup.find_all(True)] == ["pre"]
    assert soup.pre.get_text() == source


def test_prune_keeps_only_notebook_pages(tmp_path):
    """Are the grader's verdicts file, other pages, folders and links removed from a student's feedback folder?"""
    (tmp_path / "ps1.html").write_text("page")
    (tmp_path / "grading_verdicts.json").write_text(FACTS)
    (tmp_path / "evil.html").write_text("<script>")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ps1.html").write_text("x")
    (tmp_path / "link.html").symlink_to(tmp_path / "ps1.html")
    removed = fb.prune_feedback(tmp_path, ["ps1"])
    assert sorted(removed) == ["evil.html", "grading_verdicts.json", "link.html", "sub"]
    assert [p.name for p in tmp_path.iterdir()] == ["ps1.html"]


def test_config_uses_the_same_feedback_preprocessors():
    """Does feedback made from the formgrader (``nbgrader_config.py``) use the kit's preprocessors too?"""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert tuple(config.GenerateFeedback.preprocessors) == fb.FEEDBACK_PREPROCESSORS


def _preprocess(nb, tmp_path, monkeypatch):
    from helpers.grading.nbgrader_sandbox import ClearHiddenTestsSafely, ClearHiddenTracebacks, InertFeedback

    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    resources = {"nbgrader": {"assignment": "ps1", "notebook": "ps1"}}
    for pp in (ClearHiddenTracebacks(), ClearHiddenTestsSafely(), InertFeedback()):
        nb, resources = pp.preprocess(nb, resources)
    return nb


def test_preprocessors_clean_a_hostile_notebook(tmp_path, monkeypatch):
    """Do the feedback preprocessors strip hidden tests, active outputs, student HTML and crafted metadata?"""
    (tmp_path / "source" / "ps1").mkdir(parents=True)
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Intro <b>ok</b>")]), tmp_path / "source/ps1/ps1.ipynb")
    hidden = new_code_cell(HIDDEN_CELL, outputs=[{"output_type": "stream", "name": "stdout", "text": "leak"}])
    hidden.outputs.append({"output_type": "error", "ename": "AssertionError", "evalue": SECRET, "traceback": [SECRET]})
    student = new_code_cell("x = 1\n# ### BEGIN HIDDEN TESTS\ny = 2", outputs=[])
    printer = new_code_cell(
        "print(In)", outputs=[{"output_type": "stream", "name": "stdout", "text": str([HIDDEN_CELL])}]
    )
    active = new_code_cell("show()", metadata={"tags": ['"><script>alert(9)</script>']})
    active.outputs = nbformat.from_dict(json.loads(json.dumps(HOSTILE_OUTPUTS)))
    active.metadata["nbgrader"] = {"grade_id": '"><script>', "points": "<b>", "grade": True, "solution": False}
    raw = new_raw_cell("<script>alert(10)</script>", metadata={"raw_mimetype": "text/html"})
    cells = [new_markdown_cell("# Intro <b>ok</b>"), new_markdown_cell("<img src=x onerror=alert(11)>")]
    nb = new_notebook()  # not validated: a crafted notebook need not be valid
    nb.cells = [*cells, hidden, student, printer, active, raw]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": "</script><script>alert(12)"}}
    nb = _preprocess(nb, tmp_path, monkeypatch)
    text = json.dumps(nb)
    assert "SECRET-HIDDEN-CHECK" not in text and "leak" not in text and "[hidden test]" in text
    assert "alert" not in json.dumps([c.get("outputs") for c in nb.cells]) and "widgets" not in nb.metadata
    assert nb.cells[0].source == "# Intro <b>ok</b>"  # the instructor's text is rendered as written
    assert nb.cells[1].source.startswith("<pre") and "&lt;img" in nb.cells[1].source
    assert nb.cells[2].source == "assert add(0, 0) == 0" and nb.cells[2].outputs[0]["ename"] == "AssertionError"
    assert nb.cells[3].source == "x = 1"  # the student's marker hid the rest of their own cell, nothing raised
    assert nb.cells[5].metadata == {
        "nbgrader": {"grade_id": "&quot;&gt;&lt;script&gt;", "grade": True, "solution": False}
    }
    assert nb.cells[6].source == ""


@pytest.fixture(scope="module")
def released():
    """A course where alice's submission is hostile, bob's honest and carol's autograded notebook is broken."""
    dirs, base = make_course(("ps1",))
    nb = nbformat.read(dirs.root / "release" / "ps1" / "ps1.ipynb", as_version=4)
    honest = {"add": "def add(a, b):\n    return a + b", "greet": 'def greet(name):\n    return f"hello {name}"'}
    for student in ("bob", "carol"):
        submit_notebook(dirs, "ps1", student, _answered(nb, honest))
    hostile = dict(honest, greet=honest["greet"] + "\n# ### BEGIN HIDDEN TESTS (typed by the student, no END)")
    hostile["add"] += "\n" + HOSTILE_CODE
    alice = _answered(nb, hostile)
    alice.cells += [
        new_code_cell("print(In)"),
        new_markdown_cell('<img src=x onerror="alert(11)">\n\n[c](javascript:alert(12))'),
    ]
    alice.cells.append(new_raw_cell("<script>alert(13)</script>", metadata={"raw_mimetype": "text/html"}))
    alice.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {}, "x": "</script><script>alert(14)"}
    }
    submit_notebook(dirs, "ps1", "alice", alice)
    for student in ("alice", "bob", "carol"):  # written by `nbgrader submit`, which submit_notebook skips
        (dirs.root / "submitted" / student / "ps1" / "submission_secret.txt").write_text(f"secret-{student}")
    graded = course.autograde("ps1", dirs=dirs, sandbox=False)
    assert graded["ok"].all(), graded.to_string()
    (dirs.root / "autograded" / "alice" / "ps1" / "grading_verdicts.json").write_text(json.dumps({"x": FACTS}))
    (dirs.root / "autograded" / "alice" / "ps1" / "notes.html").write_text(f"<script>{FACTS}</script>")
    (dirs.root / "autograded" / "carol" / "ps1" / "ps1.ipynb").write_text("this is not JSON {")
    stale = dirs.root / "feedback" / "zoe" / "ps1"  # left by an older run, without nbgrader's receipts
    stale.mkdir(parents=True)
    (stale / "ps1.html").write_text("<p>stale</p>")
    rows = course.feedback("ps1", dirs)
    yield dirs, rows
    shutil.rmtree(base, ignore_errors=True)


HOSTILE_CODE = """from IPython.display import HTML, SVG, Javascript, display
display(HTML('<script>alert("html")</script><img src=x onerror="alert(1)">'))
display(Javascript('alert("js")'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(3)"><script>alert(4)</script></svg>'))
display({"image/png": PNG, "text/plain": "png"}, raw=True, metadata={"image/png": {"width": "1 onerror=alert(6)"}})
view = {"model_id": "m", "version_major": 2, "version_minor": 0}
display({"application/vnd.jupyter.widget-view+json": view}, raw=True)
""".replace("PNG", repr(PNG))


def _answered(nb, answers):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = answers.get(gid, cell.source)
    return nb


def _active(page: str) -> list[str]:
    """What in an HTML page could run: student scripts, event handlers, javascript: links, SVG, frames."""
    soup = BeautifulSoup(page, "html.parser")
    found = [f"<script>{s.string[:40]}" for s in soup.find_all("script") if s.string and "alert" in s.string]
    for tag in soup.find_all(True):
        found += [f"{tag.name} {a}" for a in tag.attrs if a.lower().startswith("on")]
        found += [
            f"{tag.name} {a}" for a in ("href", "src") if str(tag.get(a, "")).strip().lower().startswith("javascript")
        ]
        found += [tag.name] if tag.name in ("svg", "iframe", "object", "embed") else []
    return found


@pytest.mark.slow
def test_one_broken_notebook_fails_only_its_student(released):
    """Does carol's broken notebook fail her row only, while alice and bob get feedback released?"""
    _, rows = released
    by = {(r.step, r.student): r for r in rows.itertuples()}
    assert by[("generate_feedback", "alice")].ok and by[("generate_feedback", "bob")].ok, rows.to_string()
    assert not by[("generate_feedback", "carol")].ok
    assert by[("release_feedback", "")].ok, rows.to_string()


@pytest.mark.slow
def test_only_notebook_pages_reach_the_students(released):
    """Is each student's feedback folder, and what the exchange gives out, only the notebook's page?

    (zoe's stale page, which nbgrader could not release, is left out instead of stopping the release.)
    """
    dirs, _ = released
    kept = sorted(p.name for p in (dirs.root / "feedback" / "alice" / "ps1").iterdir())
    assert kept == ["ps1.html", "submission_secret.txt", "timestamp.txt"]  # the receipts stay on the grader's side
    assert not (dirs.root / "feedback" / "carol").joinpath("ps1").exists()
    out = [p for p in (dirs.exchange / dirs.course_id / "feedback").rglob("*") if p.is_file()]
    assert len(out) == 2 and all(p.suffix == ".html" for p in out)
    assert not any(FACTS in p.read_text() for p in out)


@pytest.mark.slow
def test_hostile_feedback_page_is_inert_and_hides_hidden_tests(released):
    """Does alice's page hold no active HTML/JS and no hidden test, yet her work, grades and the visible test?"""
    dirs, _ = released
    for student in ("alice", "bob"):
        page = (dirs.root / "feedback" / student / "ps1" / "ps1.html").read_text()
        assert _active(page) == [], student
        text = BeautifulSoup(page, "html.parser").get_text()
        assert "SECRET-HIDDEN-CHECK" not in page + text and "add(-1, 1)" not in text, student
        assert "add(0, 0)" in text and "Score:" in text
    page = (dirs.root / "feedback" / "alice" / "ps1" / "ps1.html").read_text()
    assert "[hidden test]" in page  # print(In) quoted the hidden test: redacted
    assert "a tiny graded assignment" in BeautifulSoup(page, "html.parser").h1.text  # the instructor's Markdown
    assert "&lt;img src=x onerror" in page  # the student's is shown as text
