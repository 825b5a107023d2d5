"""The Codespaces image builds here (on the local stand-in for its Python base)."""

from __future__ import annotations

import json

import pytest
from kitroot import ROOT

from helpers.engine.baseimages import base_image
from helpers.images.build import build


@pytest.mark.engine
def test_devcontainer_image_builds(engine):
    """Does .devcontainer/Dockerfile build, with make and git inside?"""
    cfg = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    folder = ROOT / ".devcontainer"
    result = build(
        folder / cfg["build"]["context"],
        dockerfile=folder / cfg["build"]["dockerfile"],
        build_args={"BASE_IMAGE": base_image("slim", engine)},
    )
    try:
        out = engine.containers.run(result.image_id, ["sh", "-c", "command -v make && command -v git"], remove=True)
        assert b"make" in out and b"git" in out
    finally:
        engine.images.remove(result.image_id, force=True)
