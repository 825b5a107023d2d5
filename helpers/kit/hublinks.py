"""nbgitpuller links: one URL per notebook of the students' copy, to post on a course page or an LMS.

A student who clicks one logs in to the hub; nbgitpuller clones (first click) or merges (later clicks) the
course repository into their home and opens the notebook in JupyterLab. The link format is nbgitpuller's
(its docs, "Options in an nbgitpuller URL", and its link generator; nbgitpuller 1.3.0, checked 2026-12):
``{hub}/hub/user-redirect/git-pull?repo=...&branch=...&targetpath=...&urlpath=lab/tree/<folder>/<path>``.
``targetpath`` names the clone's folder explicitly: nbgitpuller otherwise names it after the last part of the
repository URL as written, ``.git`` included, while ``urlpath`` must name the same folder (nbgitpuller issue
205). ``python -m helpers links --hub URL --repo URL`` (``make links``) prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from helpers.errors import CourseError
from helpers.kit.index import INDEX_NAME, collect_entries
from helpers.paths import course_root

__all__ = ["HubLink", "hub_links", "nbgitpuller_url", "notebook_paths", "repo_folder"]

#: The branch nbgitpuller pulls when the command names none (a repository made on GitHub today starts on main;
#: old nbgitpuller releases default to master, so the link always names it).
DEFAULT_BRANCH = "main"
_EXAMPLE = {"hub": "https://hub.example.org", "repo": "https://github.com/org/course"}


@dataclass(frozen=True)
class HubLink:
    """One notebook and the nbgitpuller URL that opens it."""

    path: str  #: relative to the repository root, e.g. ``notebooks/01-containers-vs-vms.ipynb``
    title: str
    kind: str  #: "index", "lesson" or "lab"
    url: str


def _http_url(value: str, what: str) -> str:
    """``value`` without a trailing slash, if it is an http(s) URL with a host and no query or fragment."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise CourseError(
            f"{what} {value!r} is not an http(s) URL.",
            f"Give the full address, e.g. --{what} {_EXAMPLE[what]} (no query string, no #fragment).",
        )
    return value.strip().rstrip("/")


def repo_folder(repo: str) -> str:
    """The folder the clone gets: the repository URL's last part without ``.git`` (what ``git clone`` does)."""
    name = urlsplit(_http_url(repo, "repo")).path.rstrip("/").rsplit("/", 1)[-1]
    name = name[: -len(".git")] if name.endswith(".git") else name
    if not name or name in (".", ".."):
        raise CourseError(
            f"repo {repo!r} names no repository.", "Give the repository's address, e.g. https://github.com/org/course."
        )
    return name


def nbgitpuller_url(hub: str, repo: str, path: str, branch: str = DEFAULT_BRANCH) -> str:
    """The nbgitpuller URL that pulls ``repo`` (``branch``) and opens ``path`` (relative to the repository root).

    ``urlpath`` is a URL path (the notebook's path percent-encoded, ``/`` kept); the query string then
    encodes every value once more, as a browser's ``URLSearchParams`` would.
    """
    hub, repo = _http_url(hub, "hub"), _http_url(repo, "repo")
    if not branch.strip() or any(c.isspace() for c in branch):
        raise CourseError(f"branch {branch!r} is not a branch name.", "Give the branch students pull, e.g. main.")
    folder = repo_folder(repo)
    query = {
        "repo": repo,
        "branch": branch,
        "targetpath": folder,
        "urlpath": "lab/tree/" + quote(f"{folder}/{path}", safe="/"),
    }
    return f"{hub}/hub/user-redirect/git-pull?" + urlencode(query, quote_via=quote, safe="")


def notebook_paths(root: Path | None = None) -> list[tuple[str, str, str]]:
    """(path from the repository root, title, kind) of each notebook students open: the index, then the
    lessons and the released labs in the index's own order (:func:`helpers.kit.index.collect_entries`)."""
    root = root or course_root()
    found = [(f"notebooks/{INDEX_NAME}", "Start here: the course index", "index")]
    for e in collect_entries(root):
        path = (Path("notebooks") / e.path).as_posix()
        found.append((path.replace("notebooks/../", ""), e.title, e.kind))
    return found


def hub_links(hub: str, repo: str, branch: str = DEFAULT_BRANCH, root: Path | None = None) -> list[HubLink]:
    """One :class:`HubLink` per notebook of :func:`notebook_paths`.

    Raises:
        CourseError: ``hub`` or ``repo`` is not an http(s) URL, or ``branch`` is empty.
    """
    return [HubLink(p, t, k, nbgitpuller_url(hub, repo, p, branch)) for p, t, k in notebook_paths(root)]
