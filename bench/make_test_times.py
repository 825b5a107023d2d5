"""`make test` cold, then warm, with the time of every phase side by side (issue 19).

Run: python bench/make_test_times.py [--dry-run] [--keep] [--keep-build-cache]
(about an hour; root, on a machine where nothing else uses the Docker Engine: it removes the kit's
images, the base images and, unless --keep-build-cache, the engine's whole build cache).

"Cold" is a fresh machine of this kind short of its apt packages, which stay installed:
- the kit's own environment is taken down first (`helpers env down --purge`: registry, grading
  engine, every kit-labelled resource, the local debootstrap base images; then the engine the kit
  started is stopped, so `make test` starts it again);
- the official base images and registry:2 are removed, and so is the build cache;
- `make test` runs with a new, empty state directory (COURSE_STATE_DIR: registry data, the grading
  engine's data root, the KVM probe cache, the timing files), a new virtual environment (VENV)
  and an empty pip cache (PIP_CACHE_DIR), all in one temporary folder.
"Warm" is `make test` again, right after, with the same folder. Each run's per-phase report is
`<state>/timing/last.json` (tests/timing.py); this script prints both, with the test and notebook
run counts beside them (a faster run must not run fewer tests). At the end the engine the runs
started is stopped and the folder removed (--keep keeps it): `make lab` brings the environment back.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.engine.baseimages import LOCAL, OFFICIAL
from helpers.engine.client import LABEL, get_client

#: The checkout this script belongs to (``import helpers`` may resolve to another, installed one).
ROOT = Path(__file__).resolve().parents[1]
#: Images a fresh machine does not have, besides the kit-labelled ones.
PULLED = [*OFFICIAL.values(), *LOCAL.values(), "registry:2"]


@dataclass
class Run:
    """One `make test`: its outer wall time, exit code and per-phase report (None if none was written)."""

    name: str
    seconds: float
    returncode: int
    report: dict | None


def cold_env(folder: Path) -> dict[str, str]:
    """The environment of both runs: everything the kit keeps between runs, inside ``folder``."""
    return dict(
        os.environ,
        COURSE_STATE_DIR=str(folder / "state"),
        PIP_CACHE_DIR=str(folder / "pip-cache"),
    )


def make_command(folder: Path) -> list[str]:
    return ["make", "test", f"VENV={folder / 'venv'}"]


def plan(folder: Path, keep_build_cache: bool) -> list[str]:
    """What a run does, in order, in words (what --dry-run prints)."""
    steps = [
        f"{sys.executable} -m helpers env down --purge --keep-engine   (this checkout's state directory)",
        f"remove kit-labelled images (label {LABEL}) and {', '.join(PULLED)}",
    ]
    if not keep_build_cache:
        steps.append("remove the engine's whole build cache (docker builder prune --all)")
    cmd = " ".join(make_command(folder))
    steps += [
        f"{sys.executable} -m helpers env down   (stops the engine the kit started)",
        f"cold: COURSE_STATE_DIR={folder / 'state'} PIP_CACHE_DIR={folder / 'pip-cache'} {cmd}",
        f"warm: the same command again, same folder; save {folder / 'state/timing'}/cold.json and warm.json",
        f"{sys.executable} -m helpers env down   (with the temporary state directory), then remove {folder}",
    ]
    return steps


def remove_images(keep_build_cache: bool) -> list[str]:
    """Remove what a fresh machine lacks from the engine: kit images, base images, build cache."""
    from docker.errors import APIError, ImageNotFound

    client = get_client()
    refs = [i.id for i in client.images.list(filters={"label": LABEL})] + PULLED
    removed = []
    for ref in refs:
        try:
            client.images.remove(ref, force=True)
            removed.append(ref)
        except (ImageNotFound, APIError):
            pass
    if not keep_build_cache:
        client.api.prune_builds(all=True)
    return removed


def helpers_cli(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([sys.executable, "-m", "helpers", *args], cwd=ROOT, env=env, check=True)


def run_make(name: str, folder: Path, env: dict[str, str]) -> Run:
    """One `make test` in the checkout; its report copied to ``<name>.json`` beside ``last.json``."""
    timing = folder / "state" / "timing"
    (timing / "last.json").unlink(missing_ok=True)
    print(f"== make test ({name}) ...", flush=True)
    t0 = time.monotonic()
    proc = subprocess.run(make_command(folder), cwd=ROOT, env=env)
    seconds = time.monotonic() - t0
    report = None
    if (timing / "last.json").exists():
        report = json.loads((timing / "last.json").read_text())
        shutil.copy(timing / "last.json", timing / f"{name}.json")
    return Run(name, seconds, proc.returncode, report)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:8.1f}"


def side_by_side(cold: Run, warm: Run) -> list[str]:
    """Both runs, one line per phase: seconds cold, seconds warm, tests and notebook runs of each."""
    lines = [f"{'phase':30} {'cold s':>8} {'warm s':>8}   {'tests cold/warm':>15}   {'nb runs cold/warm':>17}"]
    reports = [r.report or {"setup": {}, "phases": {}} for r in (cold, warm)]
    for name in dict.fromkeys([*reports[0]["setup"], *reports[1]["setup"]]):
        cells = [_cell(r["setup"].get(name)) for r in reports]
        lines.append(f"{'set-up: ' + name:30} {cells[0]:>8} {cells[1]:>8}")
    for name in dict.fromkeys([*reports[0]["phases"], *reports[1]["phases"]]):
        stats = [r["phases"].get(name, {}) for r in reports]
        walls = [_cell(s.get("wall")) for s in stats]
        tests = "/".join(str(s.get("run", "-")) for s in stats)
        nbs = "/".join(str(s.get("notebook_runs", "-")) for s in stats) if name.startswith("notebooks") else ""
        lines.append(f"{name:30} {walls[0]:>8} {walls[1]:>8}   {tests:>15}   {nbs:>17}".rstrip())
    for key, label in (("pytest_wall", "pytest (whole session)"), ("total_wall", "total (set-up + pytest)")):
        cells = [_cell(r.get(key)) for r in reports]
        lines.append(f"{label:30} {cells[0]:>8} {cells[1]:>8}")
    lines.append(f"{'make test, outer wall clock':30} {cold.seconds:8.1f} {warm.seconds:8.1f}")
    lines.append(f"exit codes: cold {cold.returncode}, warm {warm.returncode}  (-: not measured, or no such phase)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print what would be done, and do nothing")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (venv, state, reports)")
    parser.add_argument("--keep-build-cache", action="store_true", help="leave the engine's build cache alone")
    args = parser.parse_args(argv)
    if args.dry_run:
        folder = Path(tempfile.gettempdir()) / "course-bench-XXXXXX"
        print("Would run, in", ROOT)
        for i, step in enumerate(plan(folder, args.keep_build_cache), 1):
            print(f"  {i}. {step}")
        return 0
    folder = Path(tempfile.mkdtemp(prefix="course-bench-"))
    env = cold_env(folder)
    helpers_cli("env", "down", "--purge", "--keep-engine")
    print("removed:", ", ".join(remove_images(args.keep_build_cache)) or "nothing")
    helpers_cli("env", "down")
    cold = run_make("cold", folder, env)
    warm = run_make("warm", folder, env)
    print("\n".join(side_by_side(cold, warm)))
    helpers_cli("env", "down", env=env)
    if args.keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return cold.returncode or warm.returncode


if __name__ == "__main__":
    sys.exit(main())
