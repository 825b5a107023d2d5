"""Write source/ notebooks of Lab 1 (build basics) and Lab 2 (improve the Dockerfile).

Run from the repository root: ``python scripts/make_labs_1_2.py``, then
``nbgrader generate_assignment lab1-build-basics --force`` (and lab2) to refresh release/.
"""

from __future__ import annotations

import textwrap

import nbformat
from nbcells import ROOT, code, md, solution, stable_ids, test  # noqa: E402,F401  (scripts/ is on sys.path)
from nbformat.v4 import new_notebook

NO_ENGINE_SKIP = 'print("No Docker Engine here: this check runs when your lab is graded.")'
#: The first lines of most graded cells: build (cached per Dockerfile text) and stop if it failed.
LAB1_REPORT = "report = labcheck.lab1_report(lab1_dockerfile())\nassert report.built, report.error\n"
LAB2_REPORT = (
    "report = labcheck.lab2_report(lab2_dockerfile(), lab2_dockerignore())\nassert report.built, report.error\n"
)


def engine_test(grade_id: str, points: int, doc: str, report: str = "", body: str = "") -> nbformat.NotebookNode:
    """A graded cell that checks with the engine when there is one (always while graded), else says so."""
    lines = textwrap.indent(report + body.strip("\n"), "    ").rstrip()
    return test(
        grade_id,
        points,
        f'''
"""{doc}"""
if labcheck.grading_engine():
{lines}
else:
    {NO_ENGINE_SKIP}
''',
    )


SETUP = """
%matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

import helpers
from helpers import (BuildProgress, CourseError, analyze_layers, build, compare_images, course_mode, facts_from_archive,
                     inspect_image, labcheck, layers_frame, plot_build_steps, plot_build_times, plot_image_sizes,
                     plot_layer_sizes, run_container, sampleapp)
from helpers.baseimages import base_image, base_image_source

MODE = course_mode()
ENGINE = MODE.engine
if not ENGINE:
    print("Your Dockerfile is graded on an engine. Here: the reviews below, and the reference images from their archives.")
APP = sampleapp.app_dir()
"""

# ----------------------------------------------------------------------------------------------
LAB1_DOCKERFILE = '''
def lab1_dockerfile() -> str:
    """Return the text of your Dockerfile for sample_python_app."""
    ### BEGIN SOLUTION
    return """\\
ARG BASE_IMAGE=python:3.12
FROM ${BASE_IMAGE}
WORKDIR /app
COPY . .
RUN pip install -r requirements-dev.txt
EXPOSE 8000
CMD ["python", "-m", "app"]
"""
    ### END SOLUTION
'''

LAB1_TESTCMD = '''
def test_command() -> list[str]:
    """The command, as a list (exec form), that runs the app's unit tests inside the container."""
    ### BEGIN SOLUTION
    return ["python", "-m", "pytest", "-q"]
    ### END SOLUTION
'''


def lab1() -> nbformat.NotebookNode:
    cells = [
        md("""
# Lab 1: Build basics

**Objectives.** Write a Dockerfile for `sample_python_app`, build it, run it, call `/health`, read the
image's history (`docker history`), and run the app's own tests inside the container.

**Estimated time:** 45 min. **Graded** (autograded on a real Docker Engine): the image builds, the container
answers `/health` within 60 s, `CMD` is in exec form, the app listens on the documented port (8000), the app's
tests pass inside the container; hidden checks look at more good habits (for example `WORKDIR`, no secrets in `ENV`).
"""),
        md("## Setup"),
        code(SETUP),
        code(
            """
# Parameters (papermill may override them)
IMAGE = "lab1-sample-api:mine"   # the tag of your image
TIMEOUT = 60                     # seconds the app may take to answer /health
""",
            tags=["parameters"],
        ),
        md("""
## 1. The app

A FastAPI items service: `GET /health`, `/items` (SQLite in `DATA_DIR`), `/stats`. It reads its configuration from
environment variables (`PORT`, default 8000) and starts with `python -m app`. Its dependencies are pinned in
`requirements.txt` (runtime) and `requirements-dev.txt` (plus the test tools). One of them, `psycopg2`, has no
wheel: pip compiles it, so the image needs `gcc` and `libpq-dev`. The **full** Python image has them; keep that
in mind for Lab 2.
"""),
        code("""
for path in sorted(APP.rglob("*")):
    if path.is_file() and "__pycache__" not in path.parts and ".pytest_cache" not in path.parts:
        print(path.relative_to(APP))
print()
print((APP / "requirements.txt").read_text())
"""),
        md("""
## 2. Exercise: write the Dockerfile

Return your Dockerfile as a string from `lab1_dockerfile()`. It must:

1. start with `ARG BASE_IMAGE=python:3.12` then `FROM ${BASE_IMAGE}`: the official **full** image. Where no
   registry is reachable the kit passes its local stand-in built from Debian packages (it says which below);
2. set a working directory (`WORKDIR /app`) and copy the app into it;
3. install `requirements-dev.txt` (so that the tests can run in the container later);
4. document the port with `EXPOSE 8000`;
5. start the app with `CMD` in **exec form** (a JSON list): `["python", "-m", "app"]`. The shell form
   (`CMD python -m app`) runs `/bin/sh -c`, which does not pass `SIGTERM` on to the app: `docker stop` then waits
   10 s and kills it.

Never put a secret in `ENV`: it is stored in the image for everyone who pulls it.
"""),
        solution("lab1_dockerfile", LAB1_DOCKERFILE),
        md("Before building, read it back the way Docker does: one instruction per line."),
        code("""
pd.DataFrame(labcheck.instructions(lab1_dockerfile()), columns=["instruction", "arguments"])
"""),
        md("""
The checklist of a production image, read from the text alone (no engine needed). For Lab 1 the first five
rows matter less: Lab 2 turns the remaining `False` into `True`.
"""),
        code("""
labcheck.static_checks(lab1_dockerfile())
"""),
        md("""
## 3. Build it

The kit runs `docker build` through BuildKit (`helpers.build`) and shows the current step. The same build in a
terminal, from the app folder: `docker build -t lab1-sample-api:mine --build-arg BASE_IMAGE=... -f Dockerfile .`
"""),
        code("""
result = None
if MODE.needs_engine("build your Dockerfile"):
    progress = BuildProgress(IMAGE)
    try:
        result = build(APP, dockerfile_text=lab1_dockerfile(), tags=[IMAGE], on_line=progress)
        progress.done(result)
        print("base image used:", result.build_args.get("BASE_IMAGE"), "-", base_image_source(result.build_args.get("BASE_IMAGE", "")))
    except CourseError as e:
        progress.done(error=e)
        print(e)
"""),
        code("""
if result is not None:
    plot_build_steps(result)
    plt.show()
    display(result.steps_frame())
"""),
        md("""
Build it again (re-run the cell): every step now says `CACHED`. Change one line of the app and build again:
`COPY . .` changes, so every step after it runs again, including the slow `pip install`. Lab 2 fixes that.

## 4. Run it and call `/health`

`run_container` is `docker run -d -p 127.0.0.1:<free port>:8000 IMAGE`, then it waits until `GET /health`
answers. The `with` block removes the container at the end (`docker rm -f`), even after an error.
"""),
        code("""
if MODE.needs_engine("run your image and call /health") and result is not None:
    with run_container(IMAGE, ports=[8000], timeout=TIMEOUT) as app:
        print(app)
        print("GET /health ->", app.get("/health").status, app.get("/health").json())
        print("GET /       ->", app.get("/").json())
        print("last log lines:", app.logs(3), sep="\\n")
"""),
        md("""
## 5. Read the image: `docker history`

Each instruction that changes files makes a layer; `ENV`, `EXPOSE`, `CMD` only change metadata (0 B). Which layer
is the biggest, and why? (Hint: compare it with the base image's layers.) Without an engine, the same facts are read
from the archive of the Lab 1 reference image (the solution's Dockerfile, built by your instructor).
"""),
        code("""
facts = None
if ENGINE and result is not None:
    facts = inspect_image(IMAGE)
elif not ENGINE:
    reference = MODE.archive("sample-naive", "the layers and facts of the Lab 1 reference image")
    if reference:
        facts = facts_from_archive(reference)
if facts is not None:
    print(f"{facts.ref}: {facts.size_mb} MB, {facts.fs_layers} filesystem layers, user={facts.user or 'root'}, "
          f"cmd={facts.command}, exposed={facts.exposed_ports}, base={facts.base or 'not known from an archive'}")
    plot_layer_sizes(facts)
    plt.show()
    display(layers_frame(facts).tail(8))
"""),
        md("""
## 6. Exercise: run the app's tests inside the container

The image has the app and its test tools, so the tests can run exactly where the app runs
(`docker exec CONTAINER python -m pytest -q`). Return that command as a list.
"""),
        solution("test_command", LAB1_TESTCMD),
        code("""
if MODE.needs_engine("run the app's tests inside your container") and result is not None:
    with run_container(IMAGE, ports=[8000], timeout=TIMEOUT) as app:
        run = app.exec(test_command())
    print("exit code", run.exit_code)
    print(run.output[-600:])
"""),
        md("""
## 7. When it goes wrong

Each mistake below gives one message with the lines that matter, and leaves no container behind:
a Dockerfile that does not parse, a step that fails, an app that never answers, a port already taken.
"""),
        code("""
if MODE.needs_engine("the four failures: a Dockerfile that does not parse, a failing step, no answer, a port taken") \\
        and result is not None:
    mistakes = {
        "does not parse": "ARG BASE_IMAGE=python:3.12\\nFROM ${BASE_IMAGE}\\nWORKDIR /app\\nCOPY . .\\nRUNN pip install -r requirements.txt\\n",
        "a step fails": "ARG BASE_IMAGE=python:3.12\\nFROM ${BASE_IMAGE}\\nWORKDIR /app\\nCOPY . .\\nRUN pip install -r requirement.txt\\n",
    }
    for what, text in mistakes.items():
        try:
            build(APP, dockerfile_text=text, tags=["lab1-sample-api:broken"])
        except CourseError as e:
            print(f"--- {what}: {type(e).__name__}\\n{e}\\n")
    try:  # listens on another port than the one published: never answers
        run_container(IMAGE, ports=[8000], command=["python", "-m", "http.server", "9000"], timeout=5)
    except CourseError as e:
        print(f"--- never answers: {type(e).__name__}\\n{e}\\n")
    with run_container(IMAGE, ports=[8000], timeout=TIMEOUT) as first:
        try:
            run_container(IMAGE, ports={8000: first.ports[8000]})
        except CourseError as e:
            print(f"--- port taken: {type(e).__name__}\\n{e}")
"""),
        md("""
## 8. Autograded checks

The cells below build your Dockerfile again with the grader's own tag, run it under limits (no extra
capabilities, bounded memory and processes) and check facts. Run them to see your score before you submit.
"""),
        engine_test("test_image_builds", 2, "The image builds.", LAB1_REPORT),
        engine_test(
            "test_health_answers",
            2,
            "The container answers GET /health with 200 within the time limit.",
            LAB1_REPORT,
            body="""
assert report.health_status == 200, report.run_error or f"/health answered {report.health_status}"
print(f"/health answered after {report.seconds_to_ready:.1f} s")
""",
        ),
        engine_test(
            "test_cmd_exec_form",
            1,
            "CMD (or ENTRYPOINT) is in exec form.",
            LAB1_REPORT,
            body="""
assert report.facts.exec_form, f"the image runs {report.facts.command}: use the JSON list form"
""",
        ),
        engine_test(
            "test_documented_port",
            1,
            "The image documents port 8000 (EXPOSE) and the app listens there.",
            LAB1_REPORT,
            body="""
assert "8000/tcp" in report.facts.exposed_ports, f"EXPOSE 8000 is missing (exposed: {report.facts.exposed_ports})"
assert report.health_status == 200, report.run_error
""",
        ),
        engine_test(
            "test_tests_pass_inside",
            2,
            "The app's unit tests pass inside the container.",
            LAB1_REPORT,
            body="""
code_, output = labcheck.run_in_image(labcheck.LAB1_TAG, test_command())
assert code_ == 0, f"the tests failed inside the container (exit {code_}):\\n{output[-800:]}"
""",
        ),
        engine_test(
            "test_good_habits",
            2,
            "Good habits (more checks run when the lab is graded).",
            LAB1_REPORT,
            body="""
### BEGIN HIDDEN TESTS
assert report.facts.workdir not in ("", "/"), "set a WORKDIR instead of copying into /"
assert not helpers.secret_like_env(report.facts), f"secrets in ENV: {helpers.secret_like_env(report.facts)}"
### END HIDDEN TESTS
""",
        ),
        md("""
## Checkpoint

You built an image, ran it, read its layers and ran the tests where the app runs. Look at the numbers above:
the image is big (the full base carries compilers) and a one-line change reinstalls every dependency. Lab 2
measures and fixes both.
"""),
        code("MODE.report()"),
    ]
    return new_notebook(cells=cells, metadata=_meta())


# ----------------------------------------------------------------------------------------------
LAB2_DOCKERFILE = '''
def lab2_dockerfile() -> str:
    """Return the text of your improved, multi-stage Dockerfile."""
    ### BEGIN SOLUTION
    return """\\
ARG BUILDER_IMAGE=python:3.12
ARG BASE_IMAGE=python:3.12-slim

FROM ${BUILDER_IMAGE} AS builder
RUN python -m venv --without-pip /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \\\\
    pip --python /opt/venv/bin/python install -r /tmp/requirements.txt

FROM ${BASE_IMAGE} AS runtime
RUN apt-get update \\\\
 && apt-get install -y --no-install-recommends libpq5 \\\\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \\\\
 && useradd --create-home --uid 10001 app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PORT=8000 DATA_DIR=/data
WORKDIR /app
COPY app ./app
RUN mkdir -p /data && chown app:app /data
USER app
EXPOSE 8000
HEALTHCHECK --interval=2s --timeout=3s --start-period=5s --retries=3 \\\\
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["python", "-m", "app"]
"""
    ### END SOLUTION
'''

LAB2_DOCKERIGNORE = '''
def lab2_dockerignore() -> str:
    """Return the text of your .dockerignore."""
    ### BEGIN SOLUTION
    return """\\
.git
.venv
venv
__pycache__
*.pyc
.pytest_cache
tests
data
*.db
.env
"""
    ### END SOLUTION
'''


def lab2() -> nbformat.NotebookNode:
    cells = [
        md("""
# Lab 2: Improve the Dockerfile

**Objectives.** Turn the Lab 1 Dockerfile into one fit for CI/CD: a multi-stage build, a non-root `USER`,
a `.dockerignore`, pinned dependencies, `pip install --no-cache-dir` versus `RUN --mount=type=cache`, the
dependency layer before the source, and a slim runtime base. Measure the difference, side by side.

**Estimated time:** 60 min. **Graded** on a real engine: the final stage runs as non-root; the image is at most
half the size of the Lab 1 reference image; after a source-only change the dependency layer comes from the cache;
a `HEALTHCHECK` is present and turns healthy; the `.dockerignore` keeps `.git`, `.venv` and `tests` out of the
build context; hidden checks look further (for example: no compiler in the final image, the compiled
dependency still imports). The reference solution of this lab is provided after the lab
(`helpers/data/sample_app/optimized.Dockerfile`).
"""),
        md("## Setup"),
        code(SETUP),
        code(
            """
# Parameters (papermill may override them)
IMAGE = "lab2-sample-api:mine"   # the tag of your image
MEASURE_COLD = True              # measure cold builds (--no-cache), not builds from the cache
MEASURE_ALL = False              # also rebuild the Lab 1 reference after a dependency change (about 30 s more)
""",
            tags=["parameters"],
        ),
        md("""
## 1. The starting point: Lab 1's reference

This is the Lab 1 reference solution. It works, but it ships compilers, the tests and the pip cache, runs as
root, and any change to the source reinstalls every dependency.
"""),
        code("""
NAIVE = sampleapp.reference_dockerfile("naive")
print(NAIVE)
"""),
        md("""
## 2. Slim versus full, measured

The full image carries `gcc` and the headers, the slim one does not. Just switching `FROM` to slim fails:
`psycopg2` is compiled from source and needs `pg_config` (from `libpq-dev`) and `gcc`.
"""),
        code("""
if not labcheck.grading():  # not graded: skipped while nbgrader grades
    if ENGINE:
        bases = compare_images({"slim base": base_image("slim"), "full base": base_image("full")})
    else:  # the same figures, read from the base images' archives
        slim = MODE.archive("python-slim", "the size of the slim base image")
        full = MODE.archive("python-full", "the size of the full base image")
        bases = compare_images({"slim base": slim, "full base": full}) if slim and full else None
    if bases is not None:
        display(bases[["size_mb", "layers", "base"]])
        plot_image_sizes(bases)
        plt.show()
    if MODE.needs_engine("build the Lab 1 Dockerfile on the slim base (it fails: no compiler)"):
        try:
            build(APP, dockerfile_text=NAIVE, build_args={"BASE_IMAGE": base_image("slim")}, tags=["lab2-sample-api:slim-try"])
        except CourseError as e:
            print(e)
"""),
        md("""
So: **build** on the full image (compilers, `libpq-dev`), **run** on the slim one with only the run-time library
(`libpq5`, installed with `apt-get install -y --no-install-recommends libpq5`). That is a multi-stage build:

```dockerfile
ARG BUILDER_IMAGE=python:3.12
ARG BASE_IMAGE=python:3.12-slim
FROM ${BUILDER_IMAGE} AS builder
...                              # install the dependencies into /opt/venv
FROM ${BASE_IMAGE} AS runtime
COPY --from=builder /opt/venv /opt/venv
```

The kit fills every `ARG` whose default is an official Python image with the image of the same kind on this
machine (a local stand-in where no registry is reachable).

## 3. Exercise: the improved Dockerfile

Return it from `lab2_dockerfile()`. Checklist:

- two stages: dependencies compiled in a builder on the full image, a runtime on the slim image with `libpq5`;
- the dependency layer **before** the source: `COPY requirements.txt` and install, then `COPY app ./app`;
- no pip cache in the image: `pip install --no-cache-dir`, or better a BuildKit cache mount
  `RUN --mount=type=cache,target=/root/.cache/pip pip install ...` (kept between builds, never in a layer);
- pinned dependencies: `requirements.txt` pins every package (`==`), so two builds install the same thing;
- a non-root user (`useradd ... app`, `USER app`) that owns the data folder (`DATA_DIR`);
- `EXPOSE 8000`, a `HEALTHCHECK` (the slim image has no `curl`: use Python's `urllib`), `CMD` in exec form.
"""),
        solution("lab2_dockerfile", LAB2_DOCKERFILE),
        md("Review it before you build (this reads the text only and works without an engine):"),
        code("""
labcheck.static_checks(lab2_dockerfile())
"""),
        md("""
## 4. Exercise: `.dockerignore`

Everything in the build context is sent to the engine and can end up in the image through `COPY . .`.
Return a `.dockerignore` that keeps at least `.git`, `.venv` and `tests` out.
"""),
        solution("lab2_dockerignore", LAB2_DOCKERIGNORE),
        code("""
if MODE.needs_engine("send the app through your .dockerignore to the engine and list what arrives"):
    print("still in the build context:", labcheck.context_leaks(lab2_dockerignore()) or "none of .git, .venv, tests")
"""),
        md("## 5. Build and run it"),
        code("""
result = None
if MODE.needs_engine("build your Dockerfile and run the image until it is healthy"):
    progress = BuildProgress(IMAGE)
    try:
        result = build(APP, dockerfile_text=lab2_dockerfile(), dockerignore_text=lab2_dockerignore(), tags=[IMAGE],
                       on_line=progress)
        progress.done(result)
        print("build args filled in:", result.build_args)
    except CourseError as e:
        progress.done(error=e)
        print(e)
if result is not None:
    with run_container(IMAGE, ports=[8000], wait_healthy=True, timeout=60) as app:
        print(app, "health:", app.health(), "| GET /health ->", app.get("/health").json())
        print("runs as:", app.exec(["id"]).output.strip())
"""),
        md("""
## 6. Measure, side by side

Both Dockerfiles are built on their own copy of the app, in this one run: a cold build (`--no-cache`), a rebuild
after a one-line source change, a rebuild after a dependency change (a line added to `requirements.txt`). In the
Lab 1 reference, `COPY . .` comes before `pip install`, so a dependency change costs what a source change costs;
set `MEASURE_ALL = True` to measure it too (it is left out by default to save half a minute). Without an engine,
nothing is built: the two reference images (Lab 1's, and the kit's answer to this lab) are compared from their
archives, the comparison your image has to win.
"""),
        code("""
measured = None
if ENGINE and result is not None and not labcheck.grading():  # not graded: skipped while nbgrader grades
    measured = sampleapp.measure_builds(
        {"Lab 1 reference": (NAIVE, None), "yours": (lab2_dockerfile(), lab2_dockerignore())}, cold=MEASURE_COLD,
        dependency_change_for=None if MEASURE_ALL else ["yours"])
    display(measured)
    mine, ref = measured.loc["yours"], measured.loc["Lab 1 reference"]
    print(f"size: {mine.size_mb / ref.size_mb:.0%} of the Lab 1 reference; "
          f"rebuild after a source change: {mine.source_change_vs_cold:.0%} of a cold build "
          f"(Lab 1 reference: {ref.source_change_vs_cold:.0%})")
elif not ENGINE:
    MODE.needs_engine("build both Dockerfiles and time them (cold, after a source change, after a dependency change)")
references = None
if not ENGINE and not labcheck.grading():  # not graded: skipped while nbgrader grades
    archives = {"Lab 1 reference": MODE.archive("sample-naive", "the size and layers of the Lab 1 reference"),
                "Lab 2 reference": MODE.archive("sample-optimized", "the size and layers of the Lab 2 reference")}
    if all(archives.values()):
        references = compare_images(archives)
        display(references[["size_mb", "layers", "user", "exec_form", "healthcheck", "size_vs_first"]])
        ratio = references.loc["Lab 2 reference", "size_vs_first"]
        print(f"The Lab 2 reference is {ratio:.0%} of the Lab 1 reference; "
              f"the graded check wants yours at most {labcheck.SIZE_MARGIN:.0%}.")
        fig, axes = plt.subplots(1, 3, figsize=(18, 3.8))
        plot_image_sizes(references, ax=axes[0])
        for ax, (label, path) in zip(axes[1:], archives.items()):
            plot_layer_sizes(facts_from_archive(path, ref=label), ax=ax, min_mb=0.1)
        plt.tight_layout()
        plt.show()
"""),
        code("""
if measured is not None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.5))
    plot_image_sizes(measured, ax=axes[0])
    plot_build_times(measured[["cold_s", "source_change_s", "dependency_change_s"]], ax=axes[1])
    plt.tight_layout()
    plt.show()
"""),
        md("""
`pip install` without `--no-cache-dir` leaves pip's cache in the layer: the wheels it compiled (psycopg2) and,
when it downloads over HTTP, every download. How much is it in the Lab 1 reference image, on this machine?
"""),
        code("""
if measured is not None:
    naive = sampleapp.build_sample_image("naive")
    with run_container(naive.tags[0], ports=[], command=["sleep", "60"], wait_http=None) as box:
        cache_mb = box.exec(["du", "-sm", "/root/.cache/pip"]).output.split()[0]
        site_mb = box.exec(["sh", "-c", "du -smc /usr/local/lib/python3*/*-packages | tail -1"]).output.split()[0]
    print(f"Lab 1 reference: {cache_mb} MB of pip cache shipped next to {site_mb} MB of installed packages.")
elif references is not None:  # the same two sums, over the files of the Lab 1 reference's archive
    import fnmatch

    files = analyze_layers(str(archives["Lab 1 reference"])).visible
    cache = sum(size for path, _layer, size in files if path.startswith("/root/.cache/pip/"))
    site = sum(size for path, _layer, size in files if fnmatch.fnmatch(path, "/usr/local/lib/python3*/*-packages/*"))
    print(f"Lab 1 reference (archive): {cache / 1e6:.1f} MB of pip cache shipped next to "
          f"{site / 1e6:.1f} MB of installed packages.")
"""),
        md("""
Read the numbers: where does the size go (`plot_layer_sizes(inspect_image(IMAGE))`)? Why does a dependency
change cost less with a cache mount than with `--no-cache-dir`? (The mount keeps pip's downloads and built
wheels between builds; `--no-cache-dir` only keeps them out of the layer.)

## 7. Autograded checks
"""),
        engine_test("test_builds", 1, "The improved image builds.", LAB2_REPORT),
        engine_test(
            "test_non_root",
            2,
            "The final stage runs as a non-root user.",
            LAB2_REPORT,
            body="""
assert not report.facts.runs_as_root, f"USER is {report.facts.user or 'not set (root)'}"
uid = report.exec_results.get("uid", (1, ""))
assert uid[0] == 0 and uid[1].strip() not in ("", "0"), report.run_error or f"id -u printed {uid[1]!r}"
""",
        ),
        engine_test(
            "test_smaller",
            2,
            "The image is at most half the size of the Lab 1 reference image.",
            LAB2_REPORT,
            body="""
ratio = report.facts.size / labcheck.reference_size()
print(f"{ratio:.0%} of the Lab 1 reference")
assert ratio <= labcheck.SIZE_MARGIN, f"{ratio:.0%} of the Lab 1 reference; at most {labcheck.SIZE_MARGIN:.0%} needed"
""",
        ),
        engine_test(
            "test_dependency_layer_cached",
            2,
            "After a one-line source change, the dependency steps come from the cache.",
            body="""
steps = labcheck.dependency_steps_cached(lab2_dockerfile(), lab2_dockerignore())
assert steps, "no step installs the requirements (pip ... requirements.txt)"
assert all(steps.values()), f"rebuilt after a source-only change: {[s for s, c in steps.items() if not c]}"
""",
        ),
        engine_test(
            "test_healthcheck",
            2,
            "A HEALTHCHECK is present and turns healthy.",
            LAB2_REPORT,
            body="""
assert report.facts.healthcheck, "no HEALTHCHECK in the image"
assert report.healthy == "healthy", report.run_error or f"health is {report.healthy}"
""",
        ),
        engine_test(
            "test_dockerignore",
            2,
            "The .dockerignore keeps .git, .venv and tests out of the build context.",
            body="""
leaks = labcheck.context_leaks(lab2_dockerignore())
assert not leaks, f"still sent to the engine: {leaks}"
""",
        ),
        engine_test(
            "test_runtime_stage",
            2,
            "The runtime stage is lean and still works (more checks run when the lab is graded).",
            LAB2_REPORT,
            body="""
assert report.health_status == 200, report.run_error
### BEGIN HIDDEN TESTS
froms = [a for k, a in labcheck.instructions(lab2_dockerfile()) if k == "FROM"]
assert len(froms) >= 2, "use a multi-stage build"
assert report.exec_results["gcc"][0] != 0, "a compiler is still in the final image"
assert report.exec_results["psycopg2"][0] == 0, "psycopg2 does not import: install libpq5 in the runtime stage"
### END HIDDEN TESTS
""",
        ),
        md("""
## Checkpoint

Compare your figures with the targets a CI pipeline cares about: an image a third of the size ships and scans
faster; a rebuild that reuses the dependency layer turns a minute of CI into seconds. The next lab scans this
image for vulnerabilities.
"""),
        code("MODE.report()"),
    ]
    return new_notebook(cells=cells, metadata=_meta())


def _meta() -> dict:
    return {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }


def main() -> None:
    for name, nb in (("lab1-build-basics", lab1()), ("lab2-improve-dockerfile", lab2())):
        path = ROOT / "source" / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(stable_ids(nb), path)
        print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
