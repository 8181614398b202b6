"""Run BPMN scripts and expressions under RestrictedPython."""

from __future__ import annotations

import ast
import datetime as _dt
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
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.bpmn import juel


class ScriptCompileError(Exception):
    """A script or expression is not allowed or not valid Python."""


def _inplace(op: str, x: Any, y: Any) -> Any:
    ops = {
        "+=": lambda a, b: a + b,
        "-=": lambda a, b: a - b,
        "*=": lambda a, b: a * b,
        "/=": lambda a, b: a / b,
        "//=": lambda a, b: a // b,
        "%=": lambda a, b: a % b,
        "**=": lambda a, b: a**b,
        "|=": lambda a, b: a | b,
        "&=": lambda a, b: a & b,
    }
    if op not in ops:
        raise ScriptCompileError(f"operator {op} is not allowed")
    return ops[op](x, y)


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

BUILTINS: dict[str, Any] = {**safe_builtins, **_EXTRA_BUILTINS}

GUARDS: dict[str, Any] = {
    "__builtins__": BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplace,
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
    result = compile_restricted_eval(source.strip())
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
    result = compile_restricted_exec(source)
    if result.errors or result.code is None:
        raise ScriptCompileError("; ".join(result.errors) or "cannot compile")
    return result.code


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Evaluate against task data with guarded attribute access and no imports or file access."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code = compile_expression(expression)
        namespace = _namespace(context, external_context)
        return eval(code, namespace)  # noqa: S307 - compiled by RestrictedPython with guards

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        code = compile_script(script)
        namespace = _namespace(context, external_context)
        exec(code, namespace)  # noqa: S102 - compiled by RestrictedPython with guards
        external = external_context or {}
        for key, value in namespace.items():
            if key in _RESERVED or key in external or callable(value) or isinstance(value, ModuleType):
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
