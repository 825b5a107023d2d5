"""JupyterLab in a real browser, as students see it: headless Debian Chromium driven by Playwright.

The server is started as ``make lab`` starts it (``python -m helpers lab``), on a free port, in a copy of the
course (so autosave and the fetched lab never touch the checkout) with its own Jupyter config, runtime, data and
settings folders and its own nbgrader exchange, where two labs are released. In the browser:

- the index notebook: Run All, every cell ends with a prompt number and no error output;
- Lab 1 opens with its stub, and its first cells run (a table appears);
- notebook 10's layer explorer: picking another layer changes the summary;
- notebook 11: the findings plot is an ``img/png`` output; the critique widget puts the typed critique beside
  the reviewer's findings;
- notebook 40's cost sliders (the cost explorer, shown there only after a VM was measured, is called in a new
  cell with fixed figures): another replica count changes the printed bill;
- the nbgrader Assignments panel lists the released labs and fetches one;
- a second server, on a copy without ``source/`` as in the students' copy (so in the students' role,
  :func:`helpers.kit.labserver.lab_role`), has no Formgrader menu entry, no formgrader endpoint and no Create
  Assignment sidebar, and its Assignments panel still works; the first server has all three.

Screenshots of each step go to ``<state dir>/screenshots/browser/`` (printed at the end). The browser is Debian's
``chromium`` (``make test`` installs it: ``helpers env up --test-tools``; :func:`helpers.engine.env.find_chromium`);
Playwright never downloads one. Missing, the test fails in CI and under ``make test``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from ci_rules import unavailable
from kitroot import ROOT

from helpers.engine.env import find_chromium
from helpers.kit.labserver import free_port, lab_role
from helpers.paths import state_dir

pytestmark = [pytest.mark.engine, pytest.mark.slow]

CHROMIUM = find_chromium()
#: Without the background-networking flags Chromium keeps calling home, which a closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LABS = ("lab1-build-basics", "lab2-improve-dockerfile")
SHOTS = state_dir() / "screenshots" / "browser"
TIMEOUT_MS = 60_000


def _course_copy(base: Path, name: str = "course", source: bool = True) -> Path:
    """The parts of the course JupyterLab serves, copied (the sample app linked): notebooks, labs and, unless
    ``source`` is False (as in the students' copy), the instructor's sources."""
    root = base / name
    root.mkdir()
    for part in ("notebooks", "release", "source") if source else ("notebooks", "release"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", root)
    (root / "sample_python_app").symlink_to(ROOT / "sample_python_app")
    return root


def _environment(base: Path, root: Path, role: str) -> dict[str, str]:
    """The server's environment: the copy as course root, its own exchange and Jupyter folders; no COURSE_ROLE
    (the role follows from the copy, as in ``make lab``)."""
    env = dict(os.environ, COURSE_ROOT=str(root), COURSE_EXCHANGE=str(base / "exchange"))
    env.pop("COURSE_ROLE", None)
    for var, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
    ):
        env[var] = str(base / role / sub)
    env.pop("JUPYTER_CONFIG_PATH", None)
    _settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    return env


def _settings(folder: Path) -> None:
    """User settings of this test's server: every cell kept in the page (JupyterLab 4 otherwise leaves cells
    out of view out of the DOM), and no question about Jupyter news over the screenshots."""
    for plugin, text in (
        ("notebook-extension/tracker", '{"windowingMode": "none"}'),
        ("apputils-extension/notification", '{"fetchNews": "false"}'),
    ):
        path = folder / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _release(root: Path, env: dict[str, str]) -> None:
    """Release the labs (already generated in release/) to the copy's exchange, both at once."""
    (root.parent / "exchange").mkdir(mode=0o777, exist_ok=True)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "nbgrader", "release_assignment", lab, "--force", "--log-level=WARN"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for lab in LABS
    ]
    for lab, proc in zip(LABS, procs):
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"releasing {lab} failed:\n{out}"


def _start(env: dict[str, str], root: Path) -> tuple[subprocess.Popen, str, int]:
    """``python -m helpers lab`` on a free port; the URL it prints, once /api/status answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers", "lab", "--port", str(free_port(19888))],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if m := re.search(r"http://127\.0\.0\.1:(\d+)/lab/tree/\S+\?token=(\w+)", line):
            break
    else:
        _stop(proc)
        pytest.fail("JupyterLab printed no URL:\n" + "".join(lines))
    port, token = int(m.group(1)), m.group(2)
    _drain(proc)
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/status", params={"token": token}, timeout=2).ok:
                return proc, m.group(0), port
        except requests.ConnectionError:
            time.sleep(0.3)
    _stop(proc)
    pytest.fail("JupyterLab did not answer /api/status within 60 s")


def _drain(proc: subprocess.Popen) -> None:
    """Read the server's output in the background (a full pipe would block it)."""
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def browser(request) -> Iterator[object]:
    """A Playwright context on Debian's Chromium, with a fresh profile; says where the screenshots are."""
    if CHROMIUM is None or not Path(CHROMIUM).exists():
        unavailable(
            "No Chromium: `make test` installs Debian's chromium (apt-get install chromium) or set COURSE_CHROMIUM."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is missing: `make setup` installs it with the test extras ('.[test]').")
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    profile = tempfile.mkdtemp(prefix="course-chromium-")
    with sync_playwright() as p:
        size = {"width": 1400, "height": 900}
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=size
        )
        ctx.set_default_timeout(TIMEOUT_MS)
        try:
            yield ctx
        finally:
            ctx.close()
            shutil.rmtree(profile, ignore_errors=True)
            capture = request.config.pluginmanager.get_plugin("capturemanager")
            with capture.global_and_fixture_disabled():
                print(f"\nbrowser screenshots: {SHOTS}", flush=True)


@pytest.fixture(autouse=True)
def shot_on_failure(request, browser) -> Iterator[None]:
    """A test that fails leaves its page open: screenshot it as ``failed-<test>.png``, then close it."""
    yield
    for i, page in enumerate(browser.pages):
        if not page.is_closed() and page.url.startswith("http"):
            name = re.sub(r"\W+", "-", request.node.name)
            page.screenshot(path=str(SHOTS / f"failed-{name}-{i}.png"))
            page.close()


@pytest.fixture(scope="module")
def course() -> Iterator[tuple[Path, Path]]:
    """(base folder, course copy) with the labs released to its exchange."""
    base = Path(tempfile.mkdtemp(prefix="course-browser-"))
    try:
        root = _course_copy(base)
        _release(root, _environment(base, root, "instructor"))
        yield base, root
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _serve(base: Path, root: Path, role: str) -> Iterator[tuple[str, str]]:
    assert lab_role(root) == role, f"{root} is not a course copy for the {role}"
    proc, url, port = _start(_environment(base, root, role), root)
    try:
        yield url, f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def instructor(course) -> Iterator[tuple[str, str]]:
    """(URL of the index with its token, base URL) of a server in the instructor's role (the course checkout)."""
    yield from _serve(*course, "instructor")


@pytest.fixture(scope="module")
def student(course) -> Iterator[tuple[str, str]]:
    """The same for a server in the students' role: a copy without source/, as ``make lab`` in the students'
    copy of the course (``make student-repo``), sharing the instructor's exchange."""
    base = course[0]
    yield from _serve(base, _course_copy(base, "student-course", source=False), "student")


# --- driving JupyterLab -------------------------------------------------------------------------------------


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def _open(browser, server: tuple[str, str], path: str = "notebooks/00-index.ipynb"):
    """A new tab on the notebook at ``path`` (``reset``: no tabs restored from an earlier page), once it is ready."""
    token = server[0].rsplit("token=", 1)[1]
    page = browser.new_page()
    page.goto(f"{server[1]}/lab/tree/{path}?token={token}&reset")
    _notebook(page).locator(".jp-Cell").first.wait_for()
    # the kernel's session is connected once the status bar names the kernel and says Idle
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"Python 3 \(ipykernel\) \| Idle")).first.wait_for()
    time.sleep(1)
    return page


def _notebook(page):
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook").first


def _menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{item}$")).first.click()


def _prompts(page) -> list[str]:
    return _notebook(page).locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()


def _errors(page) -> list[str]:
    sel = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    return [t for t in _notebook(page).locator(sel).all_text_contents() if "Traceback" in t or "Error" in t]


def _wait_run(page, cell=None, timeout: float = TIMEOUT_MS) -> None:
    """Until no cell (or ``cell``) is queued or running: its prompt shows a number."""
    where = cell or _notebook(page)
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        texts = where.locator(".jp-CodeCell .jp-InputPrompt" if cell is None else ".jp-InputPrompt").all_text_contents()
        if texts and all(re.fullmatch(r"\[\d+\]:", t.strip()) for t in texts):
            return
        time.sleep(0.25)
    pytest.fail(f"cells still running or never run after {timeout / 1000:.0f} s: {texts}")


def _run_cells(page, indexes: list[int]) -> None:
    """Run these cells (indexes among all cells), one at a time, as Shift+Enter does."""
    cells = _notebook(page).locator(".jp-Cell")
    for i in indexes:
        cell = cells.nth(i)
        cell.locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")
        _wait_run(page, cell)
    assert not _errors(page), _errors(page)


# --- the tests ----------------------------------------------------------------------------------------------


def test_index_runs_all(browser, instructor):
    """Does Run All on the index notebook number every code cell, with no error and the status table shown?"""
    page = _open(browser, instructor)
    _menu(page, "Run", "Run All Cells")
    _wait_run(page, timeout=120_000)
    assert len(_prompts(page)) >= 3 and not _errors(page), (_prompts(page), _errors(page))
    assert "engine" in _notebook(page).locator(".jp-OutputArea-output table").first.text_content()
    _shot(page, "01-index-run-all")
    page.close()


def test_lab1_opens_and_runs(browser, instructor):
    """Does Lab 1 open with its stub, and do its first cells run (the Dockerfile's instructions as a table)?"""
    page = _open(browser, instructor, "release/lab1-build-basics/lab1-build-basics.ipynb")
    assert "raise NotImplementedError()" in _notebook(page).text_content()
    _run_cells(page, [2, 3, 7])
    table = _notebook(page).locator(".jp-Cell").nth(7).locator(".jp-OutputArea-output table")
    assert "FROM" in table.text_content()
    _shot(page, "02-lab1")
    page.close()


def test_layer_explorer_responds(browser, instructor):
    """Notebook 10: does the layer explorer render, and does picking another layer change its summary?"""
    page = _open(browser, instructor, "notebooks/10-layer-analysis.ipynb")
    _run_cells(page, [1, 2, 6, 8, 9, 28])
    widget = _notebook(page).locator(".jp-Cell").nth(28).locator(".widget-vbox").first
    summary = widget.locator(".widget-html-content").first
    before = summary.text_content()
    assert re.search(r"Layer \d+", before), before
    widget.locator("select").select_option(index=0)
    page.wait_for_function("([el, old]) => el.textContent !== old", arg=[summary.element_handle(), before])
    assert summary.text_content().startswith("Layer 0"), summary.text_content()
    _shot(page, "03-layer-explorer")
    page.close()


def test_findings_plot_and_critique_widget(browser, instructor):
    """Notebook 11: is the findings plot a PNG image, and does the critique widget show mine beside the reviewer's?"""
    page = _open(browser, instructor, "notebooks/11-dockerfile-review.ipynb")
    _run_cells(page, [1, 2, 10, 12])
    cells = _notebook(page).locator(".jp-Cell")
    plot = cells.nth(10).locator(".jp-OutputArea-output[data-mime-type='image/png'] img")
    assert plot.get_attribute("src").startswith("data:image/png"), plot.get_attribute("src")[:40]
    assert plot.evaluate("img => img.naturalWidth") > 100
    widget = cells.nth(12).locator(".widget-vbox").first
    widget.locator("select").select_option(index=1)
    widget.locator("textarea").fill("10: copies the source before pip install")
    widget.get_by_role("button", name="Compare with the reviewer").click()
    widget.locator("h4", has_text=re.compile(r"^The reviewer$")).wait_for()
    assert widget.locator("ol li").all_text_contents() == ["10: copies the source before pip install"]
    assert widget.locator("table tr").count() >= 2  # a header and at least one finding
    _shot(page, "04-critique-widget")
    page.close()


def test_cost_sliders_respond(browser, instructor):
    """Notebook 40: do the cost explorer's sliders render, with a plot, and does another replica count change
    the printed bill? (The notebook shows it only after measuring a VM; a new cell calls it with fixed figures.)"""
    page = _open(browser, instructor, "notebooks/40-containers-vs-vms.ipynb")
    cells = _notebook(page).locator(".jp-Cell")
    count = cells.count()
    cells.first.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    assert cells.count() == count + 1
    page.keyboard.press("Enter")
    page.keyboard.type("import helpers; helpers.cost_explorer(60.0, 300.0, max_replicas=20)")
    page.keyboard.press("Shift+Enter")
    cell = cells.nth(1)
    _wait_run(page, cell)
    out = cell.locator(".widget-output")
    out.get_by_text(re.compile(r"^20 replicas:")).wait_for()
    assert out.locator("img").first.get_attribute("src").startswith("data:image/png")
    readout = cell.locator(".widget-slider .widget-readout").first
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    out.get_by_text(re.compile(r"^5 replicas:")).wait_for()
    assert not out.get_by_text(re.compile(r"^20 replicas:")).count()
    _shot(page, "05-cost-sliders")
    page.close()


def test_assignments_panel_lists_and_fetches(browser, instructor, course):
    """Does the nbgrader Assignments panel list the released labs, and fetch one (its notebook, no grading.yml)?"""
    page = _open(browser, instructor)
    _menu(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list .list_item")
    released.first.wait_for()
    assert sorted(released.locator(".item_name").all_text_contents()) == sorted(LABS)
    released.filter(has_text=LABS[0]).get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=LABS[0])
    fetched.first.wait_for()
    root = course[1]
    folders = [p for p in root.rglob(LABS[0]) if p.is_dir() and p.parent.name not in ("source", "release")]
    assert len(folders) == 1 and (folders[0] / f"{LABS[0]}.ipynb").is_file(), folders
    assert not list(folders[0].rglob("grading.yml"))
    _shot(page, "06-assignments-fetched")
    page.close()


def test_instructor_has_formgrader(browser, instructor):
    """In the course checkout, are the formgrader (menu and endpoint) and Create Assignment there?"""
    _tools_shown(browser, instructor, present=True)


def test_student_has_no_formgrader(browser, student):
    """In the students' role: Assignment List yes; no Formgrader entry, no formgrader endpoint, no Create Assignment."""
    _tools_shown(browser, student, present=False)


def _tools_shown(browser, server: tuple[str, str], present: bool) -> None:
    url, base = server
    token = url.rsplit("token=", 1)[1]
    page = _open(browser, server)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
    items = page.locator(".lm-Menu-itemLabel").all_text_contents()
    page.keyboard.press("Escape")
    assert "Assignment List" in items, items
    assert ("Formgrader" in items) is present, items
    assert (page.locator(".lm-TabBar-tabLabel", has_text="Create Assignment").count() > 0) is present
    status = requests.get(f"{base}/formgrader", params={"token": token}, timeout=30).status_code
    assert (status == 200) is present, status
    _menu(page, "Nbgrader", "Assignment List")
    page.locator("#released_assignments_list .list_item").first.wait_for()
    _shot(page, f"07-{'instructor' if present else 'student'}-tools")
    page.close()
