"""Every prebuilt catalog entry names a builder that exists (checked without an engine)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from helpers.kit.prebuilt import CATALOG


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_catalog_builder_exists(name):
    """Does the entry's "module:function" import, and does the function take client= as export_images passes it?"""
    description, target = CATALOG[name]
    module, _, func = target.partition(":")
    builder = getattr(importlib.import_module(f"helpers.{module}"), func)
    assert description and "client" in inspect.signature(builder).parameters


def test_notebook_21_searches_for_the_demo_token():
    """Is the public demo token long enough for the leak check, and are both Dockerfiles the catalog builds known?"""
    from helpers.supplychain.secrets import DEMO_TOKEN, SECRET_DOCKERFILES

    assert len(DEMO_TOKEN) >= 8
    assert set(SECRET_DOCKERFILES) == {"secret-mount", "arg-env"}
    assert "--mount=type=secret" in SECRET_DOCKERFILES["secret-mount"]
    assert "ENV INDEX_TOKEN" in SECRET_DOCKERFILES["arg-env"]
