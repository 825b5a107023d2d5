"""Write notebooks 10 (layer analysis), 11 (Dockerfile review) and the activity-shrink-image source.

Run from the repository root: ``python scripts/make_layers_review_notebooks.py``, then
``nbgrader generate_assignment activity-shrink-image --force`` to refresh release/.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbcells import ROOT, code, md, solution, stable_ids, test  # noqa: E402,F401  (scripts/ is on sys.path)
from nbformat.v4 import new_notebook


def write(path: Path, cells: list[nbformat.NotebookNode]) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(stable_ids(nb), path)
    print("wrote", path.relative_to(ROOT))


# ------------------------------------------------------------------------------------------ 10
LAYERS = [
    md("""
# 10 · Layer analysis: what dive sees, and what it misses

**Objectives.** After this notebook you can
- read an image's layers: size, the instruction that made each one, files added, modified and removed;
- explain dive's *efficiency*, *wasted bytes* and *user wasted percent*, and reproduce them exactly;
- spot the waste dive does **not** count (directories deleted in a later layer, opaque directories);
- gate an image in CI with dive's rules (`python -m helpers layers IMAGE --ci`).

**Time:** about 30 minutes. Works with or without a Docker Engine: without one, it reads saved image archives.
"""),
    code("""
%matplotlib inline
import subprocess, sys, tempfile, time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import helpers
from helpers import (LESSON_DOCKERFILES, analyze_layers, course_mode, dive_json, evaluate_ci, layer_explorer,
                     lesson_sources, plot_dive_vs_true, plot_layer_stack, plot_top_dirs, plot_wasted_paths, save_image)

MODE = course_mode()
ENGINE = MODE.engine
"""),
    code(
        """
# Parameters (papermill may override them)
KEEP_IMAGES = False   # keep the lesson images afterwards (to open them in `dive` in a terminal)
TOP_N = 8             # how many wasted paths to show
""",
        tags=["parameters"],
    ),
    md("""
## 1. Two Dockerfiles that build the same files

The *wasteful* one writes a 20 MB download cache and deletes it in a later `RUN`, copies a build artifact
and deletes the temporary copy later, and runs `chmod` in its own layer. The *lean* one does the same work
in one `RUN` that cleans up after itself.
"""),
    code("""
for name, text in LESSON_DOCKERFILES.items():
    print(f"----- {name} -----\\n{text}")
"""),
    md("""
## 2. Get the images

With an engine we build both (a few seconds with a warm cache). Without one, we read the archives your
instructor exported with `make prebuilt`, or a tiny demo archive that ships with the course.
"""),
    code("""
SOURCES, FROM = lesson_sources(mode=MODE)
print("images from:", FROM)
for name, src in SOURCES.items():
    print(f"  {name:9} <- {src}")
if FROM == "demo":
    print("The demo archive is a small stand-in for the wasteful image, with the same kinds of waste: a pip cache\\n"
          "deleted in a later layer, a file overwritten, a .git directory hidden by an opaque whiteout.")
"""),
    md("""
## 3. Analyse the layers

`analyze_layers` reads an image from the engine (or an archive path) and computes, per layer, its size and
the instruction that created it, and for the whole image dive's figures and the true ones.
"""),
    code("""
start = time.perf_counter()
ANALYSES = {name: analyze_layers(src) for name, src in SOURCES.items()}
print(f"analysed {len(ANALYSES)} image(s) in {time.perf_counter() - start:.2f} s")
summary = pd.DataFrame([{
    "image": name, "layers": len(a.layers), "size MB": a.size_bytes / 1e6,
    "efficiency (dive)": a.efficiency, "wasted MB (dive)": a.wasted_bytes / 1e6,
    "user wasted % (dive)": 100 * a.user_wasted_percent,
    "true wasted MB": a.true_wasted_bytes / 1e6, "true efficiency": a.true_efficiency,
} for name, a in ANALYSES.items()]).set_index("image")
summary.round(4)
"""),
    code("""
WASTEFUL = ANALYSES["wasteful"]
WASTEFUL.layers_frame()[["index", "size_bytes", "true_wasted_bytes", "added", "modified", "removed", "command"]]
"""),
    md("""
## 4. The same numbers as dive

dive's efficiency is *sum of the smallest size seen per path / sum of all sizes seen per path*, visiting only the
leaves of each layer's file tree; its *wasted bytes* add up every copy of a path seen twice or more (the copy
you keep too). We run the real `dive --json` on the same image and compare.
"""),
    code("""
src = SOURCES["wasteful"]
start = time.perf_counter()
theirs = dive_json(src, archive=FROM != "engine")
dive_s = time.perf_counter() - start
start = time.perf_counter()
ours = analyze_layers(src)
ours_s = time.perf_counter() - start
img = theirs["image"]
compare = pd.DataFrame({
    "dive": [img["sizeBytes"], img["inefficientBytes"], img["efficiencyScore"], dive_s],
    "helpers": [ours.size_bytes, ours.wasted_bytes, ours.efficiency, ours_s],
}, index=["size_bytes", "wasted_bytes", "efficiency", "seconds"])
print(compare)
assert ours.size_bytes == img["sizeBytes"] and ours.wasted_bytes == img["inefficientBytes"]
assert abs(ours.efficiency - img["efficiencyScore"]) <= 1e-9
print("equal to dive: yes")
"""),
    md("""
**No engine needed for an archive.** `docker save IMAGE -o image.tar` writes an image to a file; both dive
(`--source docker-archive`) and `analyze_layers("image.tar")` read it offline. With an engine we save the
wasteful image now and check that the archive gives the very same figures.
"""),
    code("""
if FROM == "engine":
    with tempfile.TemporaryDirectory() as tmp:
        archive = save_image(SOURCES["wasteful"], Path(tmp) / "wasteful.tar")
        from_archive = analyze_layers(archive)
        print(f"archive: {Path(archive).stat().st_size / 1e6:.0f} MB on disk")
    same = (from_archive.size_bytes, from_archive.wasted_bytes, from_archive.efficiency) == (
        ours.size_bytes, ours.wasted_bytes, ours.efficiency)
    print("archive figures equal the engine's:", same)
else:
    print("Already reading an archive:", SOURCES["wasteful"])
"""),
    md("""
## 5. Where dive under-counts

A directory deleted in a later layer (`rm -rf /root/.cache/pip`) is a *whiteout of a directory*: dive sizes it,
but then finds that path only once and counts it as efficient. The same happens when a directory is replaced
through an *opaque whiteout*. Yet those bytes still ship in the lower layer, in every pull.
The true figures count every byte that ships in a layer but is invisible in the final image.
"""),
    code("""
fig, ax = plt.subplots(figsize=(7, 3.5))
plot_dive_vs_true(ANALYSES, ax=ax)
plt.show()
wasted = WASTEFUL.wasted_frame()
dive_paths = {p for p, _c, _s in WASTEFUL.inefficient_files}
wasted["dive counts it"] = wasted["path"].isin(dive_paths)
wasted.head(TOP_N)
"""),
    md("""
Read the table: which rows does dive miss, and why? (Hint: look at the *reason* column and at the layer
that removed the bytes.) Also notice that dive's *wasted bytes* count the copy you keep: a 15 MB file
changed by `chmod` counts 30 MB.
"""),
    md("## 6. Pictures: where the bytes are"),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(14, 4.5))
plot_layer_stack(ANALYSES, ax=axes[0])
plot_wasted_paths(WASTEFUL, n=TOP_N, ax=axes[1])
fig.tight_layout()
plt.show()
"""),
    code("""
fig, ax = plt.subplots(figsize=(8, 3.5))
plot_top_dirs(WASTEFUL, ax=ax)
plt.show()
"""),
    md("""
## 7. Gate it in CI: dive's rules

`dive --ci` fails a pipeline when the efficiency is below `lowestEfficiency` (default 0.9), when the user wasted
percent is above `highestUserWastedPercent` (default 0.1), or wasted bytes above `highestWastedBytes`
(default disabled). The course CLI applies the same rules, with the same defaults, flags and `.dive-ci` file.
"""),
    code("""
for name, a in ANALYSES.items():
    print(f"== {name}\\n{evaluate_ci(a).report()}\\n")
"""),
    code("""
with tempfile.TemporaryDirectory() as tmp:
    Path(tmp, ".dive-ci").write_text("rules:\\n  lowestEfficiency: 0.95\\n  highestWastedBytes: 20MB\\n")
    for name, src in SOURCES.items():
        proc = subprocess.run([sys.executable, "-m", "helpers", "layers", str(Path(src).resolve()) if Path(src).exists()
                               else src, "--ci"], capture_output=True, text=True, cwd=tmp)
        print(f"$ python -m helpers layers {name} --ci   (with a .dive-ci)  -> exit code {proc.returncode}")
        print("\\n".join(proc.stdout.splitlines()[-5:]), "\\n")
"""),
    md("""
## 8. Explore a layer

Pick a layer: its cost, and its biggest file changes (`invisible_later` marks bytes a later layer hides).
"""),
    code("layer_explorer(WASTEFUL)"),
    md("""
## Try it

Change `MY_DOCKERFILE` below (start from the wasteful one) and re-run the cell: can you pass the CI rules
while keeping `/app/app.py`, `/app/data.bin` and `/app/model.bin`? Without an engine the cell only prints
the Dockerfile.
"""),
    code("""
MY_DOCKERFILE = LESSON_DOCKERFILES["wasteful"]
if MODE.needs_engine("build your Dockerfile and check it against the CI rules"):
    from helpers import build_lesson_image
    tag = build_lesson_image("try", MY_DOCKERFILE)
    mine = analyze_layers(tag)
    print(evaluate_ci(mine).report())
    helpers.get_client().images.remove(tag, force=True)
else:
    print(MY_DOCKERFILE)
"""),
    md("""
## Checkpoint

1. Why does `RUN rm -rf /root/.cache/pip` in its own layer not make the image smaller?
2. dive says the wasteful image wastes about 47 MB, the true figure is about 51 MB. Which paths explain each number?
3. Which CI rule fails for the wasteful image, and what would you change in the Dockerfile?
"""),
    code("""
if FROM == "engine" and not KEEP_IMAGES:
    client = helpers.get_client()
    for ref in SOURCES.values():
        client.images.remove(ref, force=True)
    print("removed the lesson images")
"""),
    md("## What ran here\nWithout an engine, this lists what came from the prebuilt archives and what was skipped."),
    code("MODE.report()"),
]

# ------------------------------------------------------------------------------------------ 11
REVIEW = [
    md("""
# 11 · Best-practice review of Dockerfiles

**Objectives.** After this notebook you can
- critique a Python service's Dockerfile: security (root, secrets), size (caches, build tools), build speed
  (cache order), reproducibility (pinned bases), operations (HEALTHCHECK);
- read the findings of `hadolint` and of the course reviewer, each with a rule id, line, severity and fix;
- run the review in CI: `python -m helpers review Dockerfile --json`.

**Time:** about 30 minutes. No Docker Engine needed for the reviews: they read Dockerfiles as text. Section 6
compares two built images: with an engine they are built here, without one they are read from the prebuilt archives.
"""),
    code("""
%matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import helpers
from helpers import (COURSE_RULES, CourseError, compare_images, course_mode, critique_widget, findings_frame,
                     image_facts, layers_frame, parse_dockerfile, reference_dockerfile, review_dockerfile)
from helpers.widgets_review import numbered
from IPython.display import HTML, display

MODE = course_mode()
"""),
    code(
        """
# Parameters (papermill may override them)
GALLERY = "data/dockerfiles"         # folder of example Dockerfiles
EXAMPLE = "01-quick-start.Dockerfile"
""",
        tags=["parameters"],
    ),
    md("""
## 1. What the reviewer checks

`review_dockerfile` runs **hadolint** (rules `DLxxxx`, shell checks `SCxxxx`) and adds the course's own rules
(`CRxxx`) for what hadolint does not look at. When both say the same thing on the same line, only hadolint's is kept.
"""),
    code("""
pd.DataFrame([{"rule": r, "severity": s, "problem": m, "fix": f} for r, (s, m, f, _d) in COURSE_RULES.items()])
"""),
    md("## 2. One example, line by line"),
    code("""
path = Path(GALLERY) / EXAMPLE
display(HTML(numbered(path.read_text())))
findings_frame(review_dockerfile(path))
"""),
    md("""
## 3. The gallery

Eight Dockerfiles for Python services, each with different problems (one is nearly clean). The picture
counts the findings per file and severity, computed now from the reviews.
"""),
    code("""
GALLERY_FILES = sorted(Path(GALLERY).glob("*.Dockerfile"))
REVIEWS = {p.name: review_dockerfile(p) for p in GALLERY_FILES}
counts = pd.DataFrame([{"file": name, "severity": f.severity} for name, fs in REVIEWS.items() for f in fs])
table = counts.value_counts().unstack(fill_value=0).reindex(columns=["error", "warning", "info", "style"], fill_value=0)
ax = table.plot.barh(stacked=True, figsize=(8, 4), color=["#b00", "#e90", "#39c", "#999"])
ax.set_xlabel("findings"); ax.invert_yaxis(); ax.set_title("Findings per gallery Dockerfile")
plt.show()
"""),
    md("""
## 4. Your critique first, then the reviewer

Pick a Dockerfile, write what you would change (one problem per line, with the line number), **then** press
*Compare with the reviewer*. Where did you find something the tools missed? Which finding would you not fix,
and why?
"""),
    code("critique_widget(GALLERY_FILES)"),
    md("""
## 5. Real-world Dockerfiles: the parser

Review tools fail on real files more often than you'd think. The course parser handles multi-stage builds,
`ARG` before `FROM`, heredocs, line continuations with comments inside, parser directives, JSON and shell
forms, lower-case instructions and Windows line endings. Example 07 is all of that at once: notice that
hadolint reports `DL1000` (it could not parse it) while the course rules still run.
"""),
    code("""
df = parse_dockerfile(Path(GALLERY, "07-windows-heredoc.Dockerfile").read_text())
print("directives:", df.directives)
for ins in df.instructions:
    print(f"line {ins.line:>2}-{ins.end_line:<2} {ins.keyword:6} {ins.command[:60]!r}",
          "(JSON form)" if ins.json_args else "", f"heredoc: {ins.heredocs}" if ins.heredocs else "")
"""),
    md("And what is not a Dockerfile gets a clear message, never a traceback:"),
    code("""
for label, text in [("empty file", ""), ("a Python file", "import os\\nprint(os.getcwd())\\n"),
                    ("typo", "FROM python:3.12-slim\\nRUNN pip install flask\\n"),
                    ("broken continuation", "FROM python:3.12-slim\\nRUN apt-get update \\\\\\n")]:
    try:
        parse_dockerfile(text)
    except CourseError as e:
        print(f"{label:20} -> {e.message}")
"""),
    md("""
## 6. What the review predicts, the image shows

The sample app has two reference Dockerfiles: Lab 1's naive one and Lab 2's optimized one. The reviewer reads
their text; the images built from them record the outcome in their config: the user, the health check, the size
and the instructions in their history. Without an engine, both images are read from the prebuilt archives.
"""),
    code("""
SAMPLE = {kind: review_dockerfile(text=reference_dockerfile(kind), dockerignore=False) for kind in ("naive", "optimized")}
display(pd.DataFrame([{"Dockerfile": kind, **{s: sum(f.severity == s for f in found) for s in ("error", "warning", "info", "style")},
                       "rules": ", ".join(sorted({f.rule for f in found}))} for kind, found in SAMPLE.items()]).set_index("Dockerfile"))
IMAGES = {kind: MODE.image(f"sample-{kind}", f"the image built from the {kind} Dockerfile") for kind in SAMPLE}
IMAGES = {kind: src for kind, src in IMAGES.items() if src}
if IMAGES:
    display(compare_images(IMAGES)[["size_mb", "layers", "user", "healthcheck", "cmd"]])
"""),
    code("""
for kind, src in IMAGES.items():
    facts = image_facts(src)
    print(f"--- {kind}: {len(facts.layers)} history entries, runs as {facts.user or 'root'}, "
          f"health check: {'yes' if facts.healthcheck else 'none'}; its last instructions:")
    display(layers_frame(facts).tail(6))
"""),
    md("""
Match the findings to the facts: which review finding explains that the naive image runs as root, which one its
size, and which one the missing health check?
"""),
    md("""
## Try it: in CI

`python -m helpers review Dockerfile --json` prints the findings as JSON; `--fail-on error` makes the job fail
on errors only. Run it on the multi-stage example:
"""),
    code("""
import subprocess, sys
out = subprocess.run([sys.executable, "-m", "helpers", "review", str(Path(GALLERY, "05-multi-stage.Dockerfile")),
                      "--fail-on", "error"], capture_output=True, text=True)
print(out.stdout, "exit code:", out.returncode)
"""),
    md("""
## Checkpoint

1. Which two findings in `04-baked-secrets` would you fix first, and how does a secret mount help?
2. Why is `COPY . .` before `pip install` a build-speed problem but not an image-size problem?
3. `05-multi-stage` still gets `DL3008` (unpinned apt packages). Would you pin them? What does it cost?
"""),
    md("## What ran here\nWithout an engine, this lists what came from the prebuilt archives and what was skipped."),
    code("MODE.report()"),
]

# ------------------------------------------------------------------------------------------ activity
ACTIVITY = [
    md("""
# Activity · Shrink a wasteful image until it passes CI

A teammate's image fails the pipeline's `dive --ci` gate. Your job: make it pass **without losing any file the
app needs**. Two parts:

- **Part A (no engine needed):** an image described layer by layer. Write `squash_layers` so the same final files
  ship in one user layer, with no bytes hidden by later layers.
- **Part B (graded on an engine):** write a Dockerfile that builds the same app files and passes dive's CI rules.

**Time:** about 40 minutes. The rules are dive's defaults: efficiency ≥ 0.9, user wasted ≤ 10 %.
"""),
    code("""
%matplotlib inline
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import helpers
from helpers import (LESSON_DOCKERFILES, analyze_layers, course_mode, evaluate_ci, lesson_sources, parse_dockerfile,
                     plot_wasted_paths, write_image_archive)

MODE = course_mode()
ENGINE = MODE.engine
"""),
    code(
        """
# Parameters (papermill may override them)
KEEP_IMAGE = False
""",
        tags=["parameters"],
    ),
    md("""
## Part A · The layers

Each layer is a list of `(path, kind, value)`: `kind` is `"file"` (value = size in bytes), `"dir"`, `"symlink"`
(value = target), `"whiteout"` (the path is deleted), or `"opaque"` (everything below the directory from lower
layers is hidden). Layer 0 is the base image: leave it alone.
"""),
    code("""
BASE = [("usr", "dir", 0), ("usr/bin", "dir", 0), ("usr/bin/python", "file", 400_000),
        ("usr/lib", "dir", 0), ("usr/lib/libpython.so", "file", 900_000), ("etc", "dir", 0),
        ("etc/os-release", "file", 300)]
LAYERS = [
    BASE,
    [("root/.cache/pip", "dir", 0), ("root/.cache/pip/http.bin", "file", 600_000)],        # RUN pip download
    [("app", "dir", 0), ("app/app.py", "file", 2_000), ("app/model.bin", "file", 300_000),
     ("tmp/model.o", "file", 300_000)],                                                    # RUN build the model
    [("root/.cache/pip", "whiteout", 0), ("tmp/model.o", "whiteout", 0)],                  # RUN clean up
    [("app/model.bin", "file", 300_000), ("app/current", "symlink", "model.bin")],         # RUN chmod + ln -s
    [("app/cache", "dir", 0), ("app/cache/tmp.json", "file", 50_000)],
    [("app/cache", "opaque", 0), ("app/cache/index.json", "file", 1_000)],                 # rm -rf + mkdir again
]

def analyze_specs(layers):
    \"\"\"Write the layers as an image archive and analyse it (no engine needed).\"\"\"
    with tempfile.TemporaryDirectory() as tmp:
        return analyze_layers(str(write_image_archive(Path(tmp) / "image.tar", layers)))

BEFORE = analyze_specs(LAYERS)
print(evaluate_ci(BEFORE).report())
print(f"true wasted: {BEFORE.true_wasted_bytes} bytes; dive wasted: {BEFORE.wasted_bytes} bytes")
plot_wasted_paths(BEFORE)
plt.show()
"""),
    md("""
Write `squash_layers(layers)`: return `[layers[0], one_layer]` where `one_layer` holds exactly the files,
directories and symlinks that are visible in the final image and come from the user layers (a whiteout hides
the path and everything below it; an opaque entry hides what lower layers put below that directory).
"""),
    solution(
        "squash",
        '''
def squash_layers(layers):
    """Return [base layer, one user layer] with the same visible files and nothing hidden."""
    ### BEGIN SOLUTION
    base = [(p.strip("/"), k, v) for p, k, v in layers[0]]
    visible = {p: (p, k, v) for p, k, v in base}
    for layer in layers[1:]:
        for path, kind, _value in layer:
            path = path.strip("/")
            if kind == "whiteout":
                for q in [q for q in visible if q == path or q.startswith(path + "/")]:
                    del visible[q]
            elif kind == "opaque":
                for q in [q for q in visible if q.startswith(path + "/")]:
                    del visible[q]
        for path, kind, value in layer:
            if kind not in ("whiteout", "opaque"):
                visible[path.strip("/")] = (path.strip("/"), kind, value)
    base_set = set(base)
    squashed = [spec for spec in visible.values() if spec not in base_set]
    for path, _kind, _value in base:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if path not in visible and (not parent or parent in visible):
            squashed.append((path, "whiteout", 0))
    return [layers[0], squashed]
    ### END SOLUTION
''',
    ),
    test(
        "squash_same_files",
        3,
        """
AFTER = analyze_specs(squash_layers(LAYERS))
files = lambda a: sorted((p, s) for p, _layer, s in a.visible)
assert squash_layers(LAYERS)[0] == LAYERS[0], "leave the base layer as it is"
assert len(AFTER.layers) == 2, "one base layer and one user layer"
assert files(AFTER) == files(BEFORE), "the final image must hold the same files, same sizes"
""",
    ),
    test(
        "squash_passes_ci",
        2,
        """
SQUASHED = analyze_specs(squash_layers(LAYERS))
result = evaluate_ci(SQUASHED)
print(result.report())
assert result.passed, "the squashed image must pass dive's CI rules"
### BEGIN HIDDEN TESTS
assert SQUASHED.true_wasted_bytes == 0, "no byte should be hidden by a later layer"
links = [spec for spec in squash_layers(LAYERS)[1] if spec[1] == "symlink"]
assert links == [("app/current", "symlink", "model.bin")]
### END HIDDEN TESTS
""",
    ),
    md("""
## Part B · The Dockerfile

Here is the wasteful Dockerfile. It must keep producing `/app/app.py`, `/app/data.bin` (1 MB) and
`/app/model.bin` (15 MB, mode 600), and run `python /app/app.py`.
"""),
    code('print(LESSON_DOCKERFILES["wasteful"])'),
    md("""
What it builds, layer by layer, and why it fails the gate. Without an engine this is read from the prebuilt
archive of the same image (or a tiny demo archive); your own Dockerfile is then checked when your work is graded.
"""),
    code("""
WASTEFUL_SRC, FROM = lesson_sources(("wasteful",), mode=MODE)
WASTEFUL = analyze_layers(WASTEFUL_SRC["wasteful"])
print(f"from {FROM}: {len(WASTEFUL.layers)} layers, {WASTEFUL.size_bytes / 1e6:.0f} MB")
print(evaluate_ci(WASTEFUL).report())
display(WASTEFUL.layers_frame()[["index", "size_bytes", "true_wasted_bytes", "command"]])
"""),
    solution(
        "dockerfile",
        '''
def shrunk_dockerfile() -> str:
    """Return the text of your Dockerfile (keep `ARG BASE_IMAGE=python:3.12-slim` and `FROM ${BASE_IMAGE}`)."""
    ### BEGIN SOLUTION
    return """\\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
WORKDIR /app
RUN printf 'print("ok")\\\\n' > /app/app.py && head -c 1000000 /dev/urandom > /app/data.bin \\\\
 && head -c 15000000 /dev/urandom > /tmp/model.o && install -m 600 /tmp/model.o /app/model.bin \\\\
 && rm -f /tmp/model.o
CMD ["python", "/app/app.py"]
"""
    ### END SOLUTION
''',
    ),
    test(
        "dockerfile_parses",
        1,
        """
parsed = parse_dockerfile(shrunk_dockerfile())
assert parsed.stages and parsed.final.instructions, "the Dockerfile needs a FROM and instructions"
assert "${BASE_IMAGE}" in parsed.final.base or parsed.final.base.startswith("python"), "build FROM ${BASE_IMAGE}"
""",
    ),
    test(
        "dockerfile_passes_ci",
        4,
        """
if MODE.needs_engine("build your Dockerfile and check it against dive's CI rules"):
    from helpers import build_lesson_image
    TAG = build_lesson_image("activity", shrunk_dockerfile(), tag="course-lab/activity-shrink:graded")
    MINE = analyze_layers(TAG)
    visible = {p: s for p, _layer, s in MINE.visible}
    assert visible.get("/app/data.bin") == 1_000_000 and visible.get("/app/model.bin") == 15_000_000, \\
        "keep /app/data.bin (1 MB) and /app/model.bin (15 MB)"
    assert "/app/app.py" in visible, "keep /app/app.py"
    print(evaluate_ci(MINE).report())
    assert evaluate_ci(MINE).passed, "the image must pass dive's CI rules"
    ### BEGIN HIDDEN TESTS
    out = helpers.get_client().containers.run(TAG, remove=True, labels=helpers.kit_labels("test"))
    assert out.strip() == b"ok", "the app must still run"
    ### END HIDDEN TESTS
    if not KEEP_IMAGE:
        helpers.get_client().images.remove(TAG, force=True)
else:
    print("This check runs when your activity is graded.")
""",
    ),
    md("""
## Reflect

Which of your changes saved the most bytes? Which waste would dive alone not have shown you?
"""),
    code("MODE.report()"),
]


def main() -> None:
    write(ROOT / "notebooks" / "10-layer-analysis.ipynb", LAYERS)
    write(ROOT / "notebooks" / "11-dockerfile-review.ipynb", REVIEW)
    write(ROOT / "source" / "activity-shrink-image" / "activity-shrink-image.ipynb", ACTIVITY)


if __name__ == "__main__":
    main()
