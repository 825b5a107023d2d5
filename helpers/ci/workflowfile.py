"""The GitHub Actions workflow file: parse it (keeping line numbers) and list its steps.

This module owns reading the workflow YAML. It keeps the line each mapping starts on, so every
check can point at the line to fix, and it reads a bare ``on:`` as the key it is (YAML 1.1 would
read it as ``true``). :mod:`helpers.ci.workflow` checks what it reads; :mod:`helpers.ci.pipeline`
runs the same steps on the local engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.bounded import YAML_CAP, load_yaml, read_text_capped
from helpers.errors import ConfigFileError

__all__ = ["Step", "load_workflow", "workflow_steps", "workflow_text"]


class _LineDict(dict):
    """A mapping that remembers the line it started on (1-based)."""

    line: int = 0


def _loader() -> type:
    """A SafeLoader whose mappings remember their line, and that reads a bare `on:` as the key "on"."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> _LineDict:
        loader.flatten_mapping(node)
        out = _LineDict()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key is True and key_node.value in ("on", "On", "ON"):
                key = "on"  # YAML 1.1 reads a bare `on:` as the boolean true
            out[key] = loader.construct_object(value_node, deep=deep)
        out.line = node.start_mark.line + 1
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def workflow_text(source: str | Path) -> tuple[str, str]:
    """(name, text) of a workflow given as a path (read within :data:`YAML_CAP`) or as its YAML text."""
    if isinstance(source, Path) or ("\n" not in str(source) and str(source).endswith((".yml", ".yaml"))):
        return str(source), read_text_capped(source, YAML_CAP, str(source))
    return "workflow", str(source)


def load_workflow(source: str | Path) -> dict[str, Any]:
    """Parse a workflow file (a path, or the YAML text itself).

    The text is student-supplied: it is read within the bounds of :func:`helpers.bounded.load_yaml`
    (size cap, no anchors or aliases, limited nesting).

    Raises:
        ConfigFileError: The YAML does not parse (names the line), breaks a bound, or is not a workflow.
    """
    path, text = workflow_text(source)
    doc = load_yaml(text, path, loader=_loader())
    if not isinstance(doc, dict) or "jobs" not in doc:
        raise ConfigFileError(
            path,
            "is not a GitHub Actions workflow (no `jobs:` mapping)",
            hint="A workflow has `name:`, `on:` and `jobs:` at the top level.",
        )
    return doc


@dataclass
class Step:
    """One step of a workflow job, with what the checks read: its commands, action, condition and env."""

    job: str
    index: int
    name: str
    run: str
    uses: str
    cond: str
    job_cond: str
    with_: dict[str, Any]
    env: dict[str, Any]
    line: int


def workflow_steps(doc: dict[str, Any]) -> list[Step]:
    """Every step of every job, in order, with its job's condition."""
    out = []
    for job_name, job in (doc.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        for i, step in enumerate(job.get("steps") or []):
            if not isinstance(step, dict):
                continue
            out.append(
                Step(
                    job_name,
                    i,
                    str(step.get("name", step.get("uses", step.get("run", ""))))[:60],
                    str(step.get("run", "")),
                    str(step.get("uses", "")),
                    str(step.get("if", "")),
                    str(job.get("if", "")),
                    dict(step.get("with") or {}),
                    {**dict(doc.get("env") or {}), **dict(job.get("env") or {}), **dict(step.get("env") or {})},
                    getattr(step, "line", 0),
                )
            )
    return out
