"""What a graded Dockerfile may fetch: images and URLs on public addresses only.

dockerd fetches ``FROM`` images, ``COPY --from``/``RUN --mount=from=`` images and ``ADD <url>`` itself, in
the grading host's own network namespace: the grading network's firewall does not apply to those fetches.
So before a graded build, every such reference is read from the Dockerfile (never executed) and refused
when it names a host that is loopback, private, link-local or otherwise not public (the instructor's
registries on this machine, JupyterLab, cloud metadata). Stage names, ``${ARG}`` bases the kit passes
and Docker Hub names (no registry host) are fine. The student sees the same refusal on their own engine.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from helpers.errors import CourseError
from helpers.review.dockerfile import Dockerfile, parse_dockerfile

__all__ = ["FetchRefused", "refused_fetches", "check_fetches"]

_URL = re.compile(r"^(?:https?|git|ssh)://|^git@", re.IGNORECASE)


class FetchRefused(CourseError):
    """A graded Dockerfile fetches from a host the grader does not reach."""


def _public(host: str) -> bool:
    """True when every address ``host`` resolves to is a public one (an unresolvable host is not)."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return False
    try:
        addrs = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            addrs = {ipaddress.ip_address(a[4][0]) for a in socket.getaddrinfo(host, None)}
        except (OSError, UnicodeError, ValueError):
            return False
    return bool(addrs) and all(a.is_global for a in addrs)


def _registry_host(ref: str) -> str | None:
    """The registry host of an image reference, or None for a Docker Hub name (``python:3.12``, ``org/app``)."""
    first, sep, _ = ref.partition("/")
    if not sep:
        return None
    return first if ("." in first or ":" in first or first == "localhost") else None


def _image_refs(parsed: Dockerfile) -> list[tuple[int, str]]:
    """(line, reference) of every image the Dockerfile pulls: FROM bases and ``from=`` images, not stage names."""
    stages = {s.name.lower() for s in parsed.stages if s.name}
    refs = [(s.line, parsed.resolve(s.base)) for s in parsed.stages]
    for ins in parsed.instructions:
        src = ins.flags.get("from") if isinstance(ins.flags, dict) else None
        if src:
            refs.append((ins.line, parsed.resolve(src)))
        if ins.keyword == "RUN":  # every --mount=...,from=<image> (by tokens: linear in the line)
            for word in ins.args.split():
                if word.startswith("--mount="):
                    refs += [(ins.line, part[5:]) for part in word[8:].split(",") if part.startswith("from=")]
    return [(line, r) for line, r in refs if r.lower() not in stages and not r.isdigit() and "$" not in r]


def refused_fetches(text: str) -> list[str]:
    """One line per fetch a graded build may not make (empty: nothing to refuse)."""
    parsed = parse_dockerfile(text)
    problems = []
    for line, ref in _image_refs(parsed):
        host = _registry_host(ref)
        if host and not _public(host.rsplit(":", 1)[0] if host.count(":") == 1 else host):
            problems.append(f"line {line}: {ref} is on {host}, which the grader does not reach")
    for ins in parsed.instructions:
        if ins.keyword != "ADD":
            continue
        for word in ins.command.split():
            if _URL.match(word):
                host = urlsplit(word if "://" in word else "ssh://" + word.replace(":", "/", 1)).hostname or ""
                if not _public(host):
                    problems.append(f"line {ins.line}: ADD {word[:80]} is not on a public host")
    return problems


def check_fetches(text: str) -> None:
    """Refuse a graded Dockerfile that fetches from a non-public host.

    Raises:
        FetchRefused: One line per refused fetch.
        DockerfileError: The text is not a Dockerfile.
    """
    problems = refused_fetches(text)
    if problems:
        raise FetchRefused(
            "The grader does not build this Dockerfile: " + "; ".join(problems[:5]),
            "Use the base image the lab gives (ARG BASE_IMAGE), Docker Hub names or public URLs.",
        )
