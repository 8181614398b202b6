"""Read and write Camunda's typed variables: ``{"name": {"value": ..., "type": "String", "valueInfo": {}}}``."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from engine import FieldProblem, InvalidInputError

INTEGER_RANGE = {"Integer": 2**31, "Short": 2**15, "Long": 2**63}


def _bad(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"{field}: {message}", [FieldProblem(field, message)])


def _typed(field: str, kind: str, value: Any) -> Any:
    if value is None or kind == "Null":
        return None
    if kind in INTEGER_RANGE:
        limit = INTEGER_RANGE[kind]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _bad(field, f"{kind} needs a whole number")
        try:
            number = int(value)
        except ValueError:
            raise _bad(field, f"{kind} needs a whole number") from None
        if not -limit <= number < limit:
            raise _bad(field, f"{number} is out of range for {kind}")
        return number
    if kind == "Double":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _bad(field, "Double needs a number")
        try:
            return float(value)
        except ValueError:
            raise _bad(field, "Double needs a number") from None
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise _bad(field, "Boolean needs true or false")
    if kind == "String":
        if not isinstance(value, str):
            raise _bad(field, "String needs text")
        return value
    if kind == "Date":
        try:
            return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z").isoformat()
        except ValueError:
            try:
                return datetime.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise _bad(field, "Date needs yyyy-MM-dd'T'HH:mm:ss.SSSZ") from None
    if kind in ("Json", "Object"):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(field, f"{kind} needs JSON text") from None
        return value
    raise _bad(field, f"type {kind!r} is not supported (String, Integer, Long, Double, Boolean, Date, Json, Null)")


def parse(raw: Any, field: str) -> dict[str, Any]:
    """Turn a Camunda variable map into plain values.

    :raises InvalidInputError: not a map of ``{"value", "type"}`` objects, or a value that fits not its type.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad(field, "must be an object of {name: {value, type}}")
    values: dict[str, Any] = {}
    for name, entry in raw.items():
        where = f"{field}.{name}"
        if not name.isidentifier():
            raise _bad(where, "a variable name must be an identifier")
        if not isinstance(entry, dict):
            raise _bad(where, 'must be {"value": ..., "type": ...}')
        kind = entry.get("type")
        value = entry.get("value")
        if kind is None:
            values[name] = value if not isinstance(value, float) or value == value else None
        elif not isinstance(kind, str):
            raise _bad(where, "type must be a string")
        else:
            values[name] = _typed(where, kind[:1].upper() + kind[1:], value)
    return values


def _type_of(value: Any) -> tuple[str, Any]:
    if value is None:
        return "Null", None
    if isinstance(value, bool):
        return "Boolean", value
    if isinstance(value, int):
        return ("Integer" if -(2**31) <= value < 2**31 else "Long"), value
    if isinstance(value, float):
        return "Double", value
    if isinstance(value, datetime | date):
        return "String", value.isoformat()
    if isinstance(value, str):
        return "String", value
    return "Json", json.dumps(value, ensure_ascii=False)


def render(values: dict[str, Any], names: list[str] | None = None) -> dict[str, Any]:
    """Turn plain values into Camunda's typed map (only ``names`` when given)."""
    chosen = values if names is None else {n: values[n] for n in names if n in values}
    result = {}
    for name, value in chosen.items():
        kind, shown = _type_of(value)
        result[name] = {"type": kind, "value": shown, "valueInfo": {}}
    return result
