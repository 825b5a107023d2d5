"""Runs INSIDE the student's kernel (in the grading sandbox): undo hooks that hide failing tests.

:mod:`helpers.grading.sandbox_runner` sends this file's source to the kernel right after it starts,
before any student cell, and executes it there as a fresh module whose builtins are a private copy
(so a student who later rebinds ``builtins.len`` does not change what this code calls). :func:`install`
records the kernel's clean state; before each graded test cell the runner calls :func:`run`, which puts
back what a solution cell may have changed to make a failing test look passed: IPython's custom
exception handler, input and AST transformers, event callbacks, the shell's and kernel's methods,
``sys.excepthook``, trace and profile functions, the builtins, and user-namespace names that shadow
builtins the tests rely on (moved aside, and put back by :func:`after` once the test has run).

This raises the bar, it does not make the kernel trusted: the student controls the kernel process and
can, with enough effort, fake this module's work too. That is why the runner also records each cell's
status from the kernel's reply; computing the engine checks' verdicts outside the kernel altogether is
the remaining step (docs/INSTRUCTOR.md, "Threat model"). Kernel side only: standard library and IPython;
never imported on the trusted side.
"""

from __future__ import annotations

import builtins
import os
import sys

_MISSING = object()
#: Environment variables the kit's code reads (graded or not, course settings): put back before each test.
_KIT_ENV_PREFIXES = ("NBGRADER_", "COURSE_")
#: Shell and kernel methods a student could replace to swallow errors or fake a reply.
_SHELL_METHODS = (
    "user_expressions",
    "run_cell",
    "run_cell_async",
    "_run_cell",
    "run_ast_nodes",
    "run_code",
    "transform_cell",
    "transform_ast",
    "showtraceback",
    "_showtraceback",
    "showsyntaxerror",
    "should_run_async",
    "set_custom_exc",
)
_KERNEL_METHODS = ("do_execute", "execute_request", "send_response")
#: Builtins a test relies on that honest code does not name its variables after.
_SHADOWED = (
    "isinstance",
    "issubclass",
    "len",
    "print",
    "all",
    "any",
    "bool",
    "repr",
    "hasattr",
    "getattr",
    "callable",
    "str",
    "int",
    "float",
    "tuple",
    "frozenset",
    "sorted",
    "abs",
    "object",
    "super",
    "__import__",
)
_state: dict = {}
#: The nonce of the last :func:`run` (the runner reads the one :func:`run` returns).
seen = None


def _methods(obj) -> dict:
    """Where each hookable method of ``obj`` lives now: its class chain and its own ``__dict__``."""
    names = _SHELL_METHODS + _KERNEL_METHODS
    found = {(cls, n): cls.__dict__[n] for cls in type(obj).__mro__ for n in names if n in vars(cls)}
    own = {n: vars(obj)[n] for n in names if n in vars(obj)}
    return {"class": type(obj), "found": found, "own": own}


def install() -> None:
    """Record the kernel's clean state (called once, before any student code ran)."""
    from IPython import get_ipython

    ip = get_ipython()
    _state.update(
        ip=ip,
        kernel=getattr(ip, "kernel", None),
        builtins_module=builtins,
        builtins={k: v for k, v in vars(builtins).items() if k != "_"},
        excepthook=sys.excepthook,
        environ=os.environ,
        getenv=os.getenv,
        kit_env={k: v for k, v in os.environ.items() if k.startswith(_KIT_ENV_PREFIXES)},
        trace=sys.gettrace(),
        profile=sys.getprofile(),
        manager=ip.input_transformer_manager,
        cleanup=list(ip.input_transformer_manager.cleanup_transforms),
        line=list(ip.input_transformer_manager.line_transforms),
        tokens=list(ip.input_transformer_manager.token_transformers),
        post=list(ip.input_transformers_post),
        ast=list(ip.ast_transformers),
        events=ip.events,
        callbacks={k: list(v) for k, v in ip.events.callbacks.items()},
        shell=_methods(ip),
        kernel_methods=_methods(ip.kernel) if getattr(ip, "kernel", None) is not None else None,
        tools=_tools(),
        moved={},
    )


def _tools() -> dict:
    mon = getattr(sys, "monitoring", None)
    return {i: mon.get_tool(i) for i in range(6)} if mon else {}


def _restore_methods(obj, snap) -> None:
    if snap is None:
        return
    if type(obj) is not snap["class"]:
        obj.__class__ = snap["class"]
    for (cls, n), f in snap["found"].items():
        if vars(cls).get(n, _MISSING) is not f:
            setattr(cls, n, f)
    for n in _SHELL_METHODS + _KERNEL_METHODS:
        if n in vars(obj) and n not in snap["own"]:
            delattr(obj, n)
    for n, f in snap["own"].items():
        vars(obj)[n] = f


def _restore_builtins(ip) -> None:
    b = _state["builtins_module"]
    sys.modules["builtins"] = b
    for k, v in _state["builtins"].items():
        if vars(b).get(k, _MISSING) is not v:
            vars(b)[k] = v
    ip.user_ns["__builtins__"] = b
    for n in _SHADOWED:  # a global named like a builtin wins over it: moved aside for the test
        if n in ip.user_ns and ip.user_ns[n] is not vars(b)[n]:
            _state["moved"].setdefault(n, ip.user_ns.pop(n))


def _restore_hooks(ip) -> None:
    ip.set_custom_exc((), None)
    m = _state["manager"]
    ip.input_transformer_manager = m
    m.cleanup_transforms[:] = _state["cleanup"]
    m.line_transforms[:] = _state["line"]
    m.token_transformers[:] = _state["tokens"]
    ip.input_transformers_post = list(_state["post"])
    ip.ast_transformers = list(_state["ast"])
    ip.events = _state["events"]
    keep = _inline_flush()
    for k, cbs in ip.events.callbacks.items():
        cbs[:] = _state["callbacks"].get(k, []) + [
            f for f in cbs if f is keep and f not in _state["callbacks"].get(k, [])
        ]
    sys.excepthook = _state["excepthook"]
    _restore_kit_env()
    sys.settrace(_state["trace"])
    sys.setprofile(_state["profile"])
    mon = getattr(sys, "monitoring", None)
    for i, name in _state["tools"].items():
        if name is None and mon.get_tool(i) is not None:  # a tool the student registered (Python 3.12+)
            mon.set_events(i, 0)
            for bit in range(32):
                try:
                    mon.register_callback(i, 1 << bit, None)
                except ValueError:
                    pass
            mon.free_tool_id(i)


def _restore_kit_env() -> None:
    """The kit's variables as the kernel started with them (a solution cell may delete ``NBGRADER_EXECUTION``)."""
    os.environ = _state["environ"]  # noqa: B003 - putting back the real mapping a student replaced
    os.getenv = _state["getenv"]
    for k in [k for k in os.environ if k.startswith(_KIT_ENV_PREFIXES) and k not in _state["kit_env"]]:
        del os.environ[k]
    os.environ.update(_state["kit_env"])


def _inline_flush():
    """matplotlib-inline's figure flush, registered when a student imports matplotlib: kept (it hides nothing)."""
    mod = sys.modules.get("matplotlib_inline.backend_inline")
    return getattr(mod, "flush_figures", None) if mod is not None else None


def run(nonce: str) -> str:
    """Put the kernel back as :func:`install` found it; return ``nonce`` (the runner checks it came back)."""
    global seen
    ip = _state["ip"]
    _restore_methods(ip, _state["shell"])
    if _state["kernel"] is not None:
        ip.kernel = _state["kernel"]
        _restore_methods(_state["kernel"], _state["kernel_methods"])
    _restore_builtins(ip)
    _restore_hooks(ip)
    seen = nonce
    return nonce


def after(nonce: str) -> str:
    """After a test cell: give back the student's own names that :func:`run` moved aside."""
    ip = _state["ip"]
    for n, v in _state["moved"].items():
        ip.user_ns[n] = v
    _state["moved"].clear()
    return nonce
