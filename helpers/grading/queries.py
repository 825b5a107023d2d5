"""Trusted queries: engine work a graded cell asks for, done by the grader, replayed in the sandbox.

A lab's graded cells call kit functions such as ``lab1.lab1_report(text)`` (:mod:`helpers.grading.labs`). Those are
registered with :func:`trusted_query`. Normally (a student with an engine, papermill in CI) the
call runs directly. While the notebook is autograded in the sandbox (``$GRADING_FACTS`` set, no
engine, no network) the call does not touch anything: it looks its answer up in the facts the
trusted side measured, keyed by the query's name and canonical JSON arguments; when the answer
is missing it appends a request ``{name, args}`` to ``$GRADING_REQUESTS`` and raises
:class:`GradingPending` (the cell fails in that round). The trusted side
(:class:`helpers.grading.nbgrader_sandbox.SandboxExecute`) reads the requests as DATA only
(:func:`parse_requests`), runs the allowed ones with the engine (:class:`helpers.grading.session.TrustedSession`) and
runs the notebook again with the answers. Student code never reaches the engine.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import errors
from helpers.errors import CourseError

__all__ = [
    "trusted_query",
    "GradingPending",
    "GradingRefused",
    "query_key",
    "replaying",
    "parse_requests",
    "encode",
    "decode",
    "registered",
    "check_args",
    "check_arity",
    "FACTS_ENV",
    "REQUESTS_ENV",
    "MAX_REQUESTS",
    "MAX_REQUEST_BYTES",
]

FACTS_ENV = "GRADING_FACTS"
REQUESTS_ENV = "GRADING_REQUESTS"
#: Set in the last round: a missing answer will not come any more.
FINAL_ENV = "GRADING_FINAL_ROUND"
#: Limits on what the sandbox may ask for in one round (anything beyond is refused).
MAX_REQUESTS = 16
MAX_REQUEST_BYTES = 256 * 1024
MAX_STRING = 64 * 1024
MAX_LIST = 64

_REGISTRY: dict[str, Callable[..., Any]] = {}
_ARITY: dict[str, tuple[int, int]] = {}
#: Modules that register queries (imported by the trusted side before it runs requests).
QUERY_MODULES = (
    "helpers.grading.labs.lab1",
    "helpers.grading.labs.lab2",
    "helpers.grading.labs.lab3",
    "helpers.grading.labs.lab4",
    "helpers.grading.labs.lab5",
)


class GradingPending(CourseError):
    """A graded check needs the grader's engine: asked for, answered in the next round."""


class GradingRefused(CourseError):
    """The grader refused a query (not allowed for this lab, bad arguments, someone else's image)."""


def registered() -> dict[str, Callable[..., Any]]:
    """Name -> trusted function of every registered query (the kit's query modules imported)."""
    for mod in QUERY_MODULES:
        importlib.import_module(mod)
    return dict(_REGISTRY)


def query_key(name: str, args: list[Any]) -> str:
    """The answer's key: sha256 of the name and the canonical JSON of the arguments."""
    text = json.dumps([name, args], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def replaying() -> bool:
    """True inside the grading sandbox: queries are answered from ``$GRADING_FACTS``."""
    return bool(os.environ.get(FACTS_ENV))


def trusted_query(name: str, arity: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a trusted query (positional JSON arguments, a JSON-able result).

    The decorated function runs directly unless :func:`replaying`; then its answer comes from
    the facts (a :class:`~helpers.errors.CourseError` it raised on the trusted side is raised
    again, same type when it is a kit error).

    Args:
        name: The query's name in requests and in ``grading.yml``.
        arity: How many leading positional parameters the sandbox may pass (the rest, such as
            ``client``, keep their defaults on the grader).
    """

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        import inspect

        params = list(inspect.signature(func).parameters.values())[:arity]
        required = sum(p.default is inspect.Parameter.empty for p in params)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not replaying():
                return func(*args, **kwargs)
            if kwargs:
                raise GradingRefused(
                    f"{name}() takes positional arguments while graded.", "Call it as in the lab's test cells."
                )
            check_arity(name, list(args))
            return _replay(name, list(args))

        _REGISTRY[name] = func
        _ARITY[name] = (required, arity)
        wrapper.trusted = func  # type: ignore[attr-defined]
        wrapper.query_name = name  # type: ignore[attr-defined]
        return wrapper

    return deco


def check_arity(name: str, args: list[Any]) -> None:
    """Refuse a call with more or fewer arguments than the query's ``arity`` allows."""
    low, high = _ARITY[name]
    if not low <= len(args) <= high:
        raise GradingRefused(
            f"{name}() takes {low} to {high} arguments, not {len(args)}.", "Call it as in the lab's test cells."
        )


def _replay(name: str, args: list[Any]) -> Any:
    check_args(args)
    key = query_key(name, args)
    facts = json.loads(Path(os.environ[FACTS_ENV]).read_text())
    answer = (facts.get("queries") or {}).get(key)
    if answer is None:
        req = os.environ.get(REQUESTS_ENV)
        if req:
            with open(req, "a") as f:
                f.write(json.dumps({"name": name, "args": args}) + "\n")
        if os.environ.get(FINAL_ENV):
            raise GradingPending(
                f"The grader did not answer {name}() (it stopped after its last round).",
                "Too many engine checks depend on each other, or the request was refused.",
            )
        raise GradingPending(f"{name}() runs on the grader's engine: this cell is graded in the next round.")
    if answer.get("ok"):
        return decode(answer.get("value"))
    err = answer.get("error") or {}
    raise _error(
        str(err.get("type", "")), str(err.get("message", "the check failed on the grader")), str(err.get("hint", ""))
    )


def _error(name: str, message: str, hint: str) -> CourseError:
    """The kit error the grader saw, rebuilt by name (only kit error classes; else CourseError)."""

    cls = {"GradingRefused": GradingRefused, "GradingPending": GradingPending}.get(name)
    if cls is None and name in errors.__all__:
        cls = getattr(errors, name)
    if not (isinstance(cls, type) and issubclass(cls, CourseError)):
        cls = CourseError
    err = cls.__new__(cls)  # subclasses take other arguments: set message and hint as CourseError does
    CourseError.__init__(err, message, hint)
    return err


def check_args(args: Any, depth: int = 0) -> None:
    """Refuse arguments that are not small JSON data: strings, numbers, booleans, None, short lists."""
    if depth > 3:
        raise GradingRefused("Query arguments are nested too deeply.", "Pass strings and lists of strings.")
    if isinstance(args, str):
        if len(args) > MAX_STRING:
            raise GradingRefused(
                f"A query argument is {len(args)} characters long (at most {MAX_STRING}).",
                "Your answer text is too long to be graded.",
            )
        return
    if args is None or isinstance(args, (bool, int, float)):
        return
    if isinstance(args, (list, tuple)):
        if len(args) > MAX_LIST:
            raise GradingRefused(f"A query argument has {len(args)} items (at most {MAX_LIST}).", "")
        for a in args:
            check_args(a, depth + 1)
        return
    raise GradingRefused(
        f"A query argument is a {type(args).__name__}, not data.", "Graded checks take strings, numbers and lists."
    )


def parse_requests(raw: bytes) -> tuple[list[tuple[str, list[Any]]], list[str]]:
    """Read the sandbox's requests file (untrusted) into (name, args) pairs, deduplicated.

    Only well-formed requests naming a registered query pass; whether the lab allows it is the
    session's decision (a refusal is answered, so the cell says why).

    Returns:
        The accepted requests in order, and one message per refused line.
    """
    known = registered()
    accepted: list[tuple[str, list[Any]]] = []
    refused: list[str] = []
    if len(raw) > MAX_REQUEST_BYTES:
        return [], [f"the requests file is {len(raw)} bytes (at most {MAX_REQUEST_BYTES}): all refused"]
    seen = set()
    for n, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            name, args = item["name"], item["args"]
            if not isinstance(name, str) or not isinstance(args, list):
                raise TypeError("name must be a string and args a list")
            check_args(args)
        except (ValueError, KeyError, TypeError, GradingRefused) as e:
            refused.append(f"request {n}: not a valid request ({str(e)[:120]})")
            continue
        if name not in known:
            refused.append(f"request {n}: {name[:60]!r} is not a trusted query")
        elif query_key(name, args) not in seen:
            seen.add(query_key(name, args))
            accepted.append((name, args))
    if len(accepted) > MAX_REQUESTS:
        refused.append(f"{len(accepted) - MAX_REQUESTS} requests beyond the first {MAX_REQUESTS}: refused")
        accepted = accepted[:MAX_REQUESTS]
    return accepted, refused


# ---------------------------------------------------------------- results as JSON (both ways)


def encode(value: Any) -> Any:
    """A query's result as JSON: dataclasses of ``helpers`` and tuples are tagged, the rest plain."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {
            "__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
            "fields": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"__items__": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"a trusted query returned a {type(value).__name__}, which is not data")


def decode(value: Any) -> Any:
    """The inverse of :func:`encode` (only dataclasses defined in ``helpers`` are rebuilt)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__dataclass__" in value:
        mod, _, qual = str(value["__dataclass__"]).partition(":")
        if not (mod == "helpers" or mod.startswith("helpers.")):
            raise CourseError(f"The grader's answer names {mod}, not a kit module.", "Grade again.")
        cls: Any = importlib.import_module(mod)
        for part in qual.split("."):
            cls = getattr(cls, part)
        if not dataclasses.is_dataclass(cls):
            raise CourseError(f"{qual} is not a kit dataclass.", "Grade again.")
        fields = {k: decode(v) for k, v in value["fields"].items()}
        init = {k: v for k, v in fields.items() if k in {f.name for f in dataclasses.fields(cls) if f.init}}
        obj = cls(**init)
        for k, v in fields.items():
            if k not in init:
                object.__setattr__(obj, k, v)
        return obj
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__items__" in value:
        return {decode(k): decode(v) for k, v in value["__items__"]}
    return {k: decode(v) for k, v in value.items()}
