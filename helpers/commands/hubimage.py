"""``python -m helpers hub-image``: build the JupyterHub single-user image from the students' copy."""

from __future__ import annotations

import argparse

from helpers.kit.hubimage import HUB_IMAGE, build_hub_image

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.kit.hubimage"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hub-image",
        help="build the JupyterHub single-user image (hub/Dockerfile) from a fresh students' copy",
        description="Write the students' copy (no solutions) into a temporary folder and build hub/Dockerfile on "
        "it: the kit, the course files, JupyterLab with nbgrader's Assignments panel only, nbgitpuller, the "
        "docker CLI (the hub sets DOCKER_HOST). See hub/README.md.",
    )
    p.add_argument("--tag", default=HUB_IMAGE, help=f"the image's reference (default: {HUB_IMAGE})")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    print(f"built {build_hub_image(args.tag, on_line=print)}")
    return 0
