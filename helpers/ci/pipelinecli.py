"""The docker commands each stage of the local pipeline stands for: what to type to do a run by hand.

:func:`helpers.ci.pipeline.run_pipeline` drives the engine through its API (so it can time, label and clean up
every stage); the notebooks show, next to each stage it ran, the CLI a practitioner would type for it (and what
the GitHub workflow's ``run:`` steps say). Pure: a report and paths in, text out.
"""

from __future__ import annotations

from pathlib import Path

from helpers.ci.pipelinereport import PipelineReport
from helpers.paths import DATA_DIR

__all__ = ["stage_commands", "commands_text"]


def _rel(path: Path | str, root: Path | None) -> str:
    p = Path(path)
    if root is not None:
        try:
            return str(p.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(p)


def stage_commands(
    report: PipelineReport,
    dockerfile: Path | str,
    context: Path | str,
    test_dockerfile: Path | str = DATA_DIR / "sample_app" / "test.Dockerfile",
    root: Path | None = None,
) -> dict[str, str]:
    """Stage name -> the shell commands that do what that stage did (names and tags of this run).

    Paths are shown relative to ``root`` (the repository root) when they are inside it. The default test
    Dockerfile is the kit's (the one :func:`helpers.ci.pipeline.run_pipeline` builds), as an absolute path: a
    relative default would be read against the notebook's folder and shown under it (a path that does not exist).
    """
    rid = report.run_id or "RUN"
    app, tests, net = report.image or f"course-kit/pipeline-app:{rid}", f"course-kit/pipeline-tests:{rid}", f"ci-{rid}"
    ctx, df, tdf = _rel(context, root), _rel(dockerfile, root), _rel(test_dockerfile, root)
    pushed = report.pushed or f"REGISTRY/sample-app:{rid}"
    return {
        "build app image": f"docker build -f {df} -t {app} {ctx}",
        "build test image": f"docker build -f {tdf} -t {tests} {ctx}",
        "start app": f"docker network create {net}\n"
        f"docker run -d --name ci-app-{rid} --network {net} --network-alias app {app}",
        "wait healthy": f"docker inspect -f '{{{{.State.Health.Status}}}}' ci-app-{rid}   # until: healthy",
        "integration tests": f"docker run --name ci-tests-{rid} --network {net} {tests} --app-url http://app:8000",
        "push (main only)": f"docker tag {app} {pushed}\ndocker push {pushed}",
        "tear down": f"docker logs ci-app-{rid}\ndocker rm -f ci-tests-{rid} ci-app-{rid}\n"
        f"docker network rm {net}\ndocker image rm {app} {tests}",
    }


def commands_text(report: PipelineReport, dockerfile: Path | str, context: Path | str, root: Path | None = None) -> str:
    """Each stage the report ran (ok/FAIL, seconds), followed by the commands it stands for, indented."""
    cmds = stage_commands(report, dockerfile, context, root=root)
    lines = []
    for s in report.stages:
        lines.append(f"{'ok  ' if s.ok else 'FAIL'}  {s.name} ({s.seconds:.1f} s): {s.detail[:90]}")
        if not s.detail.startswith("skipped"):
            lines += [f"      $ {c}" for c in cmds.get(s.name, "").splitlines()]
    return "\n".join(lines)
