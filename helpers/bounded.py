"""Reading untrusted data within bounds: capped byte streams, capped files, YAML without aliases.

Everything a student supplies (a workflow, a compose file) or a student's container prints is read on
the trusted side through this module, so a flood, an alias bomb or a nesting bomb costs the reader a
fixed amount of memory and time. The caps are module constants so tests and callers can name them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.errors import ConfigFileError

__all__ = [
    "OUTPUT_CAP",
    "LOG_CAP",
    "YAML_CAP",
    "YAML_MAX_DEPTH",
    "Capped",
    "CapBuffer",
    "read_capped",
    "close_quietly",
    "read_text_capped",
    "load_yaml",
    "compose_yaml",
]

#: Bytes of a container's output (exec, logs) the trusted side keeps.
OUTPUT_CAP = 1 << 20
#: Bytes of a container's log tail the trusted side keeps (it goes into error messages).
LOG_CAP = 64 << 10
#: Bytes of student-supplied YAML the kit accepts.
YAML_CAP = 256 << 10
#: Nesting depth of student-supplied YAML the kit accepts (PyYAML's composer recurses per level).
YAML_MAX_DEPTH = 64


@dataclass
class Capped:
    """Bytes read under a cap: ``data`` is the kept head or tail, ``total`` every byte seen."""

    data: bytes
    total: int
    cut: bool

    def text(self) -> str:
        """The kept bytes decoded, with a line saying what was cut."""
        out = self.data.decode(errors="replace")
        if not self.cut:
            return out
        return f"[output cut: kept {len(self.data)} of {self.total}+ bytes]\n{out}"


class CapBuffer:
    """Collects byte chunks keeping at most ``cap`` of them (the head or the tail), holding under 2x ``cap``.

    Safe to snapshot (:meth:`result`) from another thread while chunks still arrive.
    """

    def __init__(self, cap: int = OUTPUT_CAP, keep: str = "tail") -> None:
        if keep not in ("head", "tail"):
            raise ValueError("keep is 'head' or 'tail'")
        self.cap, self.keep, self.total = cap, keep, 0
        self._buf = bytearray()
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        """Count a chunk and keep what the cap allows."""
        with self._lock:
            self.total += len(chunk)
            if self.keep == "head":
                if len(self._buf) < self.cap:
                    self._buf += chunk[: self.cap - len(self._buf)]
                return
            self._buf += chunk[-self.cap :]
            if len(self._buf) > 2 * self.cap:
                del self._buf[: -self.cap]

    def result(self) -> Capped:
        """The kept bytes so far, as a :class:`Capped`."""
        with self._lock:
            if self.keep == "tail" and len(self._buf) > self.cap:
                del self._buf[: -self.cap]
            data = bytes(self._buf)
        return Capped(data, self.total, self.total > len(data))


def read_capped(chunks: Iterable[bytes], cap: int = OUTPUT_CAP, keep: str = "tail", drain: bool = True) -> Capped:
    """Read a stream of byte chunks keeping at most ``cap`` bytes (see :class:`CapBuffer`).

    Args:
        chunks: The stream (e.g. docker-py's ``logs(stream=True)``).
        cap: Bytes to keep.
        keep: "tail" (the last bytes: where errors usually are) or "head".
        drain: Read the stream to its end, discarding the excess (False: stop once past the cap).

    Returns:
        A :class:`Capped`.
    """
    buf = CapBuffer(cap, keep)
    for chunk in chunks:
        if chunk:
            buf.add(chunk)
        if not drain and buf.total > cap:
            break
    return buf.result()


def close_quietly(stream: Any) -> None:
    """Close a stream being abandoned (a docker-py stream drops its connection, so the engine stops sending)."""
    try:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    except Exception:  # noqa: BLE001 - the stream is being abandoned anyway
        pass


def read_text_capped(path: str | Path, cap: int, name: str = "") -> str:
    """A text file's content, refusing files over ``cap`` bytes without reading them whole.

    Raises:
        ConfigFileError: The file cannot be read, or is larger than ``cap``.
    """
    name = name or str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except OSError as e:
        raise ConfigFileError(name, f"cannot be read ({e.strerror})", hint="Check the path.") from e
    _check_size(len(data), cap, name)
    return data.decode("utf-8", errors="replace")


def _check_size(size: int, cap: int, name: str) -> None:
    if size > cap:
        raise ConfigFileError(
            name, f"is larger than {cap // 1024} KB", hint="This file should be a few KB; remove what it does not need."
        )


def _bounded_loader(base: type, name: str) -> type:
    """A subclass of the PyYAML loader ``base`` that refuses anchors, aliases and deep nesting."""
    import yaml

    class Loader(base):  # type: ignore[misc,valid-type]
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigFileError(
                    name,
                    "uses a YAML anchor or alias (`&name` / `*name`), which the kit does not accept",
                    line=event.start_mark.line + 1,
                    hint="Write the repeated part out in full.",
                )
            self.depth += 1
            if self.depth > YAML_MAX_DEPTH:
                raise ConfigFileError(
                    name,
                    f"nests deeper than {YAML_MAX_DEPTH} levels",
                    line=event.start_mark.line + 1,
                    hint="Flatten the structure.",
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return Loader


def compose_yaml(
    text: str, name: str, loader: type | None = None, cap: int = YAML_CAP, hint: str = ""
) -> tuple[Any, Any]:
    """Parse one YAML document safely and within bounds: its node tree (which knows lines) and its data.

    Args:
        text: The YAML text.
        name: What to call it in errors (a file name).
        loader: A ``yaml.SafeLoader`` subclass (default: SafeLoader itself).
        cap: Largest accepted size in bytes.
        hint: What to do when the text is not valid YAML.

    Returns:
        (node, data); both None for an empty document.

    Raises:
        ConfigFileError: Too large, an anchor or alias, nested too deep, or not valid YAML (names the line).
    """
    import yaml

    base = loader or yaml.SafeLoader
    if not issubclass(base, yaml.SafeLoader):
        raise TypeError("only SafeLoader subclasses read untrusted YAML")
    _check_size(len(text.encode("utf-8", errors="replace")), cap, name)
    ld = None
    try:
        ld = _bounded_loader(base, name)(text)  # the reader refuses control characters here, as a YAMLError
        node = ld.get_single_node()
        return node, (ld.construct_document(node) if node is not None else None)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigFileError(
            name,
            f"is not valid YAML: {problem}",
            line=mark.line + 1 if mark else 0,
            hint=hint or "Check the indentation (spaces, not tabs) and the colons on that line.",
        ) from e
    finally:
        if ld is not None:
            ld.dispose()


def load_yaml(text: str, name: str, loader: type | None = None, cap: int = YAML_CAP, hint: str = "") -> Any:
    """The data of one YAML document read by :func:`compose_yaml` (same bounds, same errors)."""
    return compose_yaml(text, name, loader, cap, hint)[1]
