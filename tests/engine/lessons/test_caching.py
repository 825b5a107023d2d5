"""Does the caching demo show which steps rebuild after one file changes?"""

from __future__ import annotations

import pytest

from helpers.lessons import caching
from helpers.lessons.diagrams import layer_stack
from helpers.lessons.plots import build_steps_chart

pytestmark = pytest.mark.engine


def test_order_decides_what_rebuilds(engine):
    """With deps first, does a code change leave pip install cached, and with code first, rerun it?"""
    good = caching.run_caching_demo("deps-first", tag_prefix="course-test/caching", client=engine)
    bad = caching.run_caching_demo("code-first", tag_prefix="course-test/caching", client=engine)
    try:
        assert not any("pip install" in s for s in good.rebuilt)
        assert "COPY app.py ." in good.rebuilt
        assert any("pip install" in s for s in bad.rebuilt)
        pip = [s for s in good.changed.steps if "pip install" in s.instruction]
        assert pip and pip[0].cached
        frame = good.frame()
        assert set(frame.build) == {"unchanged", "app.py changed"}
        assert not frame.instruction.str.startswith("FROM").any()
        layers = caching.image_layers(good.tag, client=engine)
        assert layers["size"].sum() > 0 and (layers.instruction == "COPY app.py .").any()
        layer_stack(list(zip(layers.instruction, layers["size"])))
        build_steps_chart({"x": frame.drop(columns="build")})
    finally:
        removed = caching.remove_images([good.tag, bad.tag], client=engine)
    assert sorted(removed) == sorted([good.tag, bad.tag])


def test_remove_images_spares_unlabelled(engine):
    """Does remove_images refuse to remove an image the kit did not label (a base image)?"""
    from helpers.engine.baseimages import base_image

    ref = base_image("slim", engine)
    assert caching.remove_images([ref], client=engine) == []
    assert engine.images.get(ref)
