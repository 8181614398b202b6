"""Run BPMN scripts and expressions under RestrictedPython."""

from __future__ import annotations

import ast
import datetime as _dt
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.bpmn import juel


class ScriptCompileError(Exception):
    """A script or expression is not allowed or not valid Python."""


class ScriptBudgetError(Exception):
    """A script or expression ran longer, or would have used more memory, than its budget allows."""


class _Stop(BaseException):
    """Raised inside a script that overran its budget: a script's ``except Exception`` cannot catch it."""


@dataclass(frozen=True)
class Budget:
    """How long one script or expression may run and how much memory one value it builds may take."""

    seconds: float = 2.0
    memory_mb: int = 200

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 1024 * 1024


_budget = Budget()
SCRIPT_FILE = "<bpmn script>"
# Rough bytes per item of what a script builds: a list slot plus a small object, a character.
_ITEM_BYTES: dict[type, int] = {str: 1, bytes: 1, bytearray: 1, list: 8, tuple: 8}
_RANGE_ITEM_BYTES = 40


def configure(seconds: float, memory_mb: int) -> None:
    """Set the budget every script and expression runs under (EngineSettings.script_timeout/script_memory_mb)."""
    global _budget
    _budget = Budget(float(seconds), int(memory_mb))


def budget() -> Budget:
    """Return the budget scripts run under now."""
    return _budget


def _too_big() -> _Stop:
    return _Stop(f"script used more than {_budget.memory_mb} MB")


def _check_size(value: Any, count: int) -> None:
    per_item = _ITEM_BYTES.get(type(value))
    if per_item is not None and len(value) * count * per_item > _budget.memory_bytes:
        raise _too_big()


def _mul(x: Any, y: Any) -> Any:
    if isinstance(y, int) and not isinstance(x, int):
        _check_size(x, y)
    elif isinstance(x, int) and not isinstance(y, int):
        _check_size(y, x)
    elif isinstance(x, int) and isinstance(y, int) and (x.bit_length() + y.bit_length()) // 8 > _budget.memory_bytes:
        raise _too_big()
    return x * y


def _add(x: Any, y: Any) -> Any:
    if type(x) in _ITEM_BYTES and type(y) in _ITEM_BYTES:
        _check_size(x, 1)
        if (len(x) + len(y)) * _ITEM_BYTES[type(x)] > _budget.memory_bytes:
            raise _too_big()
    return x + y


def _pow(x: Any, y: Any, z: Any = None) -> Any:
    if z is None and isinstance(x, int) and isinstance(y, int) and y > 0 and abs(x) > 1:
        if x.bit_length() * y // 8 > _budget.memory_bytes:
            raise _too_big()
    return pow(x, y) if z is None else pow(x, y, z)


def _lshift(x: Any, y: Any) -> Any:
    if isinstance(x, int) and isinstance(y, int) and (x.bit_length() + y) // 8 > _budget.memory_bytes:
        raise _too_big()
    return x << y


def _range(*args: int) -> range:
    result = range(*args)
    if len(result) * _RANGE_ITEM_BYTES > _budget.memory_bytes:
        raise _too_big()
    return result


_BINOPS: dict[type[ast.operator], str] = {ast.Mult: "_mul_", ast.Add: "_add_", ast.Pow: "_pow_", ast.LShift: "_lshift_"}
_INPLACE: dict[str, Any] = {
    "+=": _add,
    "-=": lambda a, b: a - b,
    "*=": _mul,
    "/=": lambda a, b: a / b,
    "//=": lambda a, b: a // b,
    "%=": lambda a, b: a % b,
    "**=": _pow,
    "|=": lambda a, b: a | b,
    "&=": lambda a, b: a & b,
}


def _inplace(op: str, x: Any, y: Any) -> Any:
    if op not in _INPLACE:
        raise ScriptCompileError(f"operator {op} is not allowed")
    return _INPLACE[op](x, y)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus size checks on ``*``, ``+``, ``**`` and ``<<`` and no catch-all ``except:``."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = _BINOPS.get(type(node.op))
        if guard is None:
            return node
        name = ast.copy_location(ast.Name(id=guard, ctx=ast.Load()), node)
        call = ast.Call(func=name, args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        if node.type is None:
            self.error(node, "a bare except: is not allowed in scripts, name the exception (except ValueError:)")
        return super().visit_ExceptHandler(node)


class _Watch:
    """Stop the script's own code (never the engine's) once it has run longer than its budget."""

    __slots__ = ("deadline",)

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def call(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != SCRIPT_FILE:
            return None
        # Opcode events too: a one-line loop (while True: pass) raises no line event in Python 3.11.
        frame.f_trace_opcodes = True
        return self.line

    def line(self, frame: Any, event: str, arg: Any) -> Any:
        if time.monotonic() > self.deadline:
            raise _Stop(f"script ran longer than {_budget.seconds:g} s")
        return self.line


def _run(code: CodeType, namespace: dict[str, Any], mode: str) -> Any:
    previous = sys.gettrace()
    sys.settrace(_Watch(_budget.seconds).call)
    try:
        if mode == "eval":
            return eval(code, namespace)  # noqa: S307 - compiled by RestrictedPython with guards
        exec(code, namespace)  # noqa: S102 - compiled by RestrictedPython with guards
        return None
    except _Stop as stop:
        raise ScriptBudgetError(str(stop)) from None
    except MemoryError:
        raise ScriptBudgetError(f"script used more than {_budget.memory_mb} MB") from None
    finally:
        sys.settrace(previous)


_EXTRA_BUILTINS = {
    name: getattr(__builtins__, name) if not isinstance(__builtins__, dict) else __builtins__[name]
    for name in (
        "all",
        "any",
        "dict",
        "enumerate",
        "filter",
        "list",
        "map",
        "max",
        "min",
        "reversed",
        "set",
        "sorted",
        "sum",
        "frozenset",
    )
}

BUILTINS: dict[str, Any] = {**safe_builtins, **_EXTRA_BUILTINS, "range": _range, "pow": _pow}

GUARDS: dict[str, Any] = {
    "__builtins__": BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplace,
    "_mul_": _mul,
    "_add_": _add,
    "_pow_": _pow,
    "_lshift_": _lshift,
    "_print_": PrintCollector,
    # Classes only, never a module: a module's attributes lead on to sys, os and the rest.
    "date": _dt.date,
    "datetime": _dt.datetime,
    "timedelta": _dt.timedelta,
    "timezone": _dt.timezone,
    # What translated JUEL expressions call (engine/bpmn/juel.py).
    **juel.HELPERS,
}

_RESERVED = set(GUARDS) | {"juel_var", "locals"}


def _namespace(context: dict[str, Any], external_context: dict[str, Any] | None) -> dict[str, Any]:
    namespace = {**context, **(external_context or {}), **GUARDS}
    # execution.getVariable('x') in JUEL: null for a variable that is not set.
    namespace["juel_var"] = lambda name: namespace.get(name) if name not in _RESERVED else None
    # locals(): a copy of the process variables as the script sees them now ('x' in locals()), never the
    # guards or builtins around them.
    namespace["locals"] = lambda: {k: v for k, v in namespace.items() if k not in _RESERVED and not k.startswith("_")}
    return namespace


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression in the restricted dialect, or raise ScriptCompileError."""
    result = compile_restricted_eval(source.strip(), SCRIPT_FILE, policy=_Policy)
    if result.errors or result.code is None:
        raise ScriptCompileError("; ".join(result.errors) or "cannot compile")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    """Compile a script in the restricted dialect, or raise ScriptCompileError.

    Imports are refused here, before anything runs, rather than failing half-way through a script.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ScriptCompileError(f"Line {exc.lineno}: {exc.msg}") from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptCompileError(f"Line {node.lineno}: imports are not allowed in scripts")
    result = compile_restricted_exec(source, SCRIPT_FILE, policy=_Policy)
    if result.errors or result.code is None:
        raise ScriptCompileError("; ".join(result.errors) or "cannot compile")
    return result.code


@lru_cache(maxsize=1024)
def loop_names(source: str) -> frozenset[str]:
    """Names a script binds only as ``for`` loop targets: script-local, never written to the instance data."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.For | ast.AsyncFor):
            names.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    return frozenset(names)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Evaluate against task data with guarded attribute access and no imports or file access."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code = compile_expression(expression)
        namespace = _namespace(context, external_context)
        return _run(code, namespace, "eval")

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        code = compile_script(script)
        namespace = _namespace(context, external_context)
        _run(code, namespace, "exec")
        external = external_context or {}
        local = loop_names(script)
        for key, value in namespace.items():
            if key in _RESERVED or key in local or key in external or callable(value) or isinstance(value, ModuleType):
                continue
            context[key] = value
        for key in [k for k in context if k not in namespace]:
            del context[key]
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptCompileError("service tasks are not supported")


class RestrictedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Spiff's script engine with RestrictedPython compilation and validation."""

    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        try:
            compile_expression(expression)
        except ScriptCompileError as exc:
            raise SyntaxError(str(exc)) from exc


SCRIPT_ENGINE = RestrictedScriptEngine()
