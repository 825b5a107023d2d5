"""The caching lesson's Dockerfiles and history parsing, without an engine."""

from __future__ import annotations

import pytest

from helpers.lessons import caching


@pytest.mark.parametrize(
    "created,instr",
    [
        ("", "(base filesystem, imported)"),
        ('/bin/sh -c #(nop)  CMD ["python3"]', 'CMD ["python3"]'),
        ("RUN /bin/sh -c pip install -r requirements.txt # buildkit", "RUN pip install -r requirements.txt"),
        ("|1 BASE_IMAGE=x /bin/sh -c make", "RUN make"),
        ("COPY app.py . # buildkit", "COPY app.py ."),
    ],
)
def test_history_instruction(created, instr):
    """Is a history entry's CreatedBy turned back into its Dockerfile instruction?"""
    assert caching._instruction(created) == instr


def test_dockerfiles_differ_only_in_order():
    """Do the two caching Dockerfiles copy the code at different points?"""
    good, bad = caching.DOCKERFILES["deps-first"], caching.DOCKERFILES["code-first"]
    assert good.index("COPY requirements.txt") < good.index("RUN pip install") < good.index("COPY app.py")
    assert bad.index("COPY . .") < bad.index("RUN pip install")
