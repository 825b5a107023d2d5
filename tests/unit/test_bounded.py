"""Unit tests for helpers.bounded and the student-text parsers it protects: caps, YAML bounds, linear time."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers.bounded import (
    YAML_CAP,
    YAML_MAX_DEPTH,
    CapBuffer,
    compose_yaml,
    load_yaml,
    read_capped,
    read_text_capped,
)
from helpers.errors import ConfigFileError
from helpers.grading.labs.common import _copies_app, _pip_install

#: An alias bomb like the issue's (341 bytes here): nine levels, each nine aliases of the one above (9**9 leaves).
ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)
#: 64 KB of hostile text for the timing tests.
N = 64 * 1024


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    block = b"y\n" * (size // 2)
    for _ in range(total // size):
        yield block


def _fast(fn: Callable[[], object], limit: float = 0.5) -> None:
    start = time.perf_counter()
    fn()
    assert time.perf_counter() - start < limit


# -- capped reads ------------------------------------------------------------------------------------


def test_tail_keeps_the_last_bytes_and_says_it_was_cut():
    """Does a tail read of 200 MB keep the last cap bytes, count them all, and stay near the cap in memory?"""
    tracemalloc.start()
    try:
        out = read_capped(_chunks(200_000_000), cap=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(out.data) == 1 << 20 and out.cut and out.total == (200_000_000 // 65536) * 65536
    assert peak < 4 << 20
    assert out.text().startswith("[output cut: kept 1048576 of") and out.text().endswith("y\n")


def test_head_without_drain_stops_reading_past_the_cap():
    """Does a head read stop pulling chunks once it is past the cap (an endless stream ends)?"""

    def endless() -> Iterator[bytes]:
        while True:
            yield b"x" * 1000

    out = read_capped(endless(), cap=10_000, keep="head", drain=False)
    assert out.data == b"x" * 10_000 and out.cut


def test_small_output_is_kept_whole():
    """Is output under the cap returned as it is, without a cut note?"""
    out = read_capped([b"hello ", b"", b"world"], cap=100)
    assert (out.data, out.cut, out.text()) == (b"hello world", False, "hello world")
    buf = CapBuffer(4, keep="head")
    buf.add(b"abcdef")
    assert buf.result().data == b"abcd" and buf.result().cut


def test_text_file_over_the_cap_is_refused_without_reading_it(tmp_path: Path):
    """Is a file larger than the cap refused with a ConfigFileError (and a small one read)?"""
    big = tmp_path / "big.yml"
    big.write_bytes(b"a" * (YAML_CAP + 1))
    with pytest.raises(ConfigFileError, match="larger than 256 KB"):
        read_text_capped(big, YAML_CAP)
    (tmp_path / "ok.yml").write_text("a: 1\n")
    assert read_text_capped(tmp_path / "ok.yml", YAML_CAP) == "a: 1\n"
    with pytest.raises(ConfigFileError, match="cannot be read"):
        read_text_capped(tmp_path / "missing.yml", YAML_CAP)


# -- YAML ----------------------------------------------------------------------------------------------


def test_alias_bomb_is_refused_fast_naming_the_line():
    """Is the ~550-byte alias bomb refused in well under a second, at its first anchor's line?"""
    assert len(ALIAS_BOMB) < 600
    start = time.perf_counter()
    with pytest.raises(ConfigFileError) as e:
        load_yaml(ALIAS_BOMB, "bomb.yml")
    assert time.perf_counter() - start < 0.5
    assert e.value.line == 1 and "anchor or alias" in str(e.value) and "bomb.yml" in str(e.value)


def test_lone_alias_and_merge_key_are_refused():
    """Are an alias and a merge key (which needs one) refused, the error naming the alias's line?"""
    with pytest.raises(ConfigFileError) as e:
        load_yaml("x: 1\ny: *x\n", "f.yml")
    assert e.value.line == 2
    with pytest.raises(ConfigFileError, match="anchor or alias"):
        load_yaml("base: &b {a: 1}\nother:\n  <<: *b\n", "f.yml")


def test_deep_nesting_is_refused_not_a_recursion_error():
    """Does a nesting bomb (`[[[[...`) end in a ConfigFileError, not Python's RecursionError?"""
    with pytest.raises(ConfigFileError, match="nests deeper"):
        load_yaml("[" * 100_000, "f.yml")
    assert load_yaml("[" * (YAML_MAX_DEPTH - 1) + "]" * (YAML_MAX_DEPTH - 1), "f.yml") is not None


def test_size_cap_and_unsafe_loaders():
    """Is text over the cap refused, and is an unsafe loader class rejected outright?"""
    import yaml

    with pytest.raises(ConfigFileError, match="larger than"):
        load_yaml("a: 1\n" + "#" * YAML_CAP, "f.yml")
    with pytest.raises(TypeError):
        load_yaml("a: 1", "f.yml", loader=yaml.UnsafeLoader)
    with pytest.raises(ConfigFileError, match="could not determine a constructor"):
        load_yaml("a: !!python/object/apply:os.system [id]", "f.yml")


def test_ordinary_yaml_loads_with_its_node_tree():
    """Does ordinary YAML load, with a node tree that knows lines, and is broken YAML named by line?"""
    node, doc = compose_yaml("a: 1\nb:\n  - x\n  - y\n", "f.yml")
    assert doc == {"a": 1, "b": ["x", "y"]} and node.value[1][0].start_mark.line == 1
    assert compose_yaml("", "f.yml") == (None, None)
    with pytest.raises(ConfigFileError) as e:
        load_yaml("a: 1\nb: [x\n", "f.yml", hint="Look at it.")
    assert e.value.line > 0 and "Look at it." in str(e.value)


# -- linear-time parsing of student text --------------------------------------------------------------

HOSTILE = [
    " " * N,
    "\n" * N,
    " \n" * (N // 2),
    "\t" * N + "x",
    "a " * (N // 2),
    "a" * N,
    ". " * (N // 2) + " ",
    "app " * (N // 4) + "x y ",
    "pip " * (N // 4),
    "pip\n" * (N // 4),
    "pip3 " * (N // 5) + "\ninstall",
    "=" * N,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_lab_checklist_parsers_are_linear(text: str):
    """Do the checklist's `pip install` and COPY-source tests take well under a second on 64 KB of hostile text?"""
    _fast(lambda: _pip_install(text))
    _fast(lambda: _copies_app(text))


def test_lab_checklist_parsers_keep_their_meaning():
    """Do the rewritten checks still answer as the regexes did on ordinary instructions?"""
    assert _pip_install("pip install -r requirements.txt") and _pip_install("python -m pip3 x install y")
    assert not _pip_install("pip\ninstall") and not _pip_install("pipx install a") and not _pip_install("apt install")
    assert _copies_app(". /app") and _copies_app("--chown=1 requirements.txt app/ /srv")
    assert not _copies_app("requirements.txt /app") and not _copies_app(" . /app") and not _copies_app(".")


def test_control_characters_are_a_config_error_not_a_reader_error():
    """Does YAML with a NUL byte raise ConfigFileError (what callers catch), not PyYAML's ReaderError?"""
    from helpers.bounded import load_yaml
    from helpers.errors import ConfigFileError

    with pytest.raises(ConfigFileError, match="not valid YAML"):
        load_yaml("a: \x00\n", "workflow")
