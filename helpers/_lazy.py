"""Lazy re-exports for the package and its subpackages (PEP 562).

Each ``__init__`` maps its public names to the module that defines them; a name's module is
imported on first use, so importing a package never touches the engine, the disk or heavy
libraries, and subpackages never import each other just by being imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package``.

    Args:
        package: the package's ``__name__``.
        exports: public name -> defining module relative to ``package`` (``"module"``, or
            ``"module:attribute"`` where the public name is an alias).
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attr = target.partition(":")
        value = getattr(importlib.import_module(f"{package}.{module}"), attr or name)
        importlib.import_module(package).__dict__[name] = value
        return value

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__
