"""``python -m helpers links --hub URL --repo URL``: an nbgitpuller link for each notebook students open."""

from __future__ import annotations

import argparse

from helpers.kit.hublinks import DEFAULT_BRANCH, hub_links

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.kit.hublinks"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "links",
        help="print an nbgitpuller link (JupyterHub) for each notebook of the students' copy",
        description="Print, for the index, each lesson and each released lab, the nbgitpuller URL that pulls "
        "the students' repository into the student's hub home and opens that notebook in JupyterLab. "
        "The hub's single-user image needs nbgitpuller (hub/Dockerfile installs it).",
    )
    p.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.example.org")
    p.add_argument("--repo", required=True, help="the students' repository (make student-repo), an http(s) URL")
    p.add_argument("--branch", default=DEFAULT_BRANCH, help=f"the branch students pull (default: {DEFAULT_BRANCH})")
    p.add_argument("--markdown", action="store_true", help="a Markdown list (title and link) for a course page")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    for link in hub_links(args.hub, args.repo, args.branch):
        print(f"- [{link.title}]({link.url})" if args.markdown else f"{link.path}\t{link.url}")
    return 0
