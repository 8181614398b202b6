"""Check submitted task data against a form: convert types, enforce constraints, refuse unknown fields."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from engine.bpmn import form_rules
from engine.errors import FieldProblem, InvalidInputError
from engine.views import FormFieldView, FormOption

TRUE = {"true", "on", "1", "yes"}
FALSE = {"false", "off", "0", "no", ""}


def field_views(form: Sequence[Mapping[str, Any]]) -> tuple[FormFieldView, ...]:
    """Turn stored form metadata into views, with defaults converted to their field's type."""
    views = []
    for spec in form:
        constraints = spec.get("constraints") or {}
        default = spec.get("default")
        if default is not None:
            try:
                default = _convert(spec, default)
            except ValueError:
                pass
        views.append(
            FormFieldView(
                id=spec["id"],
                label=spec.get("label") or spec["id"],
                type=spec.get("type") or "string",
                required="required" in constraints,
                default=default,
                options=tuple(FormOption(o["id"], o["name"]) for o in spec.get("options") or ()),
                min=_number(constraints.get("min")),
                max=_number(constraints.get("max")),
                minlength=_int(constraints.get("minlength")),
                maxlength=_int(constraints.get("maxlength")),
                readonly="readonly" in constraints,
                required_if=(c.field, c.values) if (c := form_rules.required_if(spec)) else None,
                required_group=form_rules.required_group(spec),
                not_before_today=form_rules.not_before_today(spec),
            )
        )
    return tuple(views)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _int(value: Any) -> int | None:
    return None if value is None else int(float(value))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _convert(spec: Mapping[str, Any], value: Any) -> Any:
    kind = spec.get("type") or "string"
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
            return value.strip().lower() in TRUE
        raise ValueError("must be true or false")
    if _empty(value):
        return None
    if kind == "long":
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError("must be a whole number")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not LONG_MIN <= number <= LONG_MAX:
            raise ValueError("is too large a number")
        return number
    if kind == "double":
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            real = float(str(value).strip())
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(real):
            raise ValueError("must be a finite number")
        return real
    if kind == "date":
        text = str(value).strip()
        try:
            if len(text) > 10:  # a full date-time is accepted; only its date is kept
                return datetime.fromisoformat(text).date().isoformat()
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("must be a date (YYYY-MM-DD)") from None
    if kind == "enum":
        ids = [o["id"] for o in spec.get("options") or ()]
        if str(value) not in ids:
            raise ValueError(f"must be one of: {', '.join(ids)}")
        return str(value)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("must be text")
    return str(value)


LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def unstorable(value: Any) -> str | None:
    """Say why a value cannot be stored as JSON in every database (NUL text, NaN, huge integers), or None."""
    if isinstance(value, str):
        return "must not contain NUL characters" if "\x00" in value else None
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if isinstance(value, int) and not LONG_MIN <= value <= LONG_MAX:
        return "is too large a number"
    if isinstance(value, Mapping):
        return next((r for k, v in value.items() if (r := unstorable(k) or unstorable(v))), None)
    if isinstance(value, list | tuple):
        return next((r for v in value if (r := unstorable(v))), None)
    return None


def _check_limits(spec: Mapping[str, Any], value: Any) -> str | None:
    constraints = spec.get("constraints") or {}
    if isinstance(value, int | float) and not isinstance(value, bool):
        if constraints.get("min") is not None and value < float(constraints["min"]):
            return f"must be at least {_number(constraints['min'])}"
        if constraints.get("max") is not None and value > float(constraints["max"]):
            return f"must be at most {_number(constraints['max'])}"
    if isinstance(value, str) and spec.get("type") == "string":
        if constraints.get("minlength") is not None and len(value) < int(float(constraints["minlength"])):
            return f"must have at least {_int(constraints['minlength'])} characters"
        if constraints.get("maxlength") is not None and len(value) > int(float(constraints["maxlength"])):
            return f"must have at most {_int(constraints['maxlength'])} characters"
    return None


def validate(form: Sequence[Mapping[str, Any]], data: Mapping[str, Any], today: date | None = None) -> dict[str, Any]:
    """Return the data converted to each field's type, checked against the form's constraints and rules.

    :param today: the team's date, for fields that must not lie in the past (none checked without it).
    :raises InvalidInputError: with one problem per failing field (unknown fields included).
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError("form data must be an object", [FieldProblem("data", "must be an object")])
    problems: list[FieldProblem] = []
    known = {spec["id"]: spec for spec in form}
    for name in data:
        if name not in known:
            problems.append(FieldProblem(str(name), "is not a field of this form"))
    result: dict[str, Any] = {}
    for field_id, spec in known.items():
        constraints = spec.get("constraints") or {}
        if "readonly" in constraints:
            continue
        raw = data.get(field_id)
        if field_id not in data and spec.get("default") is not None:
            raw = spec["default"]
        if spec.get("type") == "boolean" and raw is None:
            raw = False
        if reason := unstorable(raw):
            problems.append(FieldProblem(field_id, reason))
            continue
        try:
            value = _convert(spec, raw)
        except ValueError as exc:
            problems.append(FieldProblem(field_id, str(exc)))
            continue
        if "required" in constraints and _empty(value):
            problems.append(FieldProblem(field_id, "is required"))
            continue
        if value is not None and (message := _check_limits(spec, value)):
            problems.append(FieldProblem(field_id, message))
            continue
        result[field_id] = value
    if not problems:
        problems = _rule_problems(form, result, today)
    if problems:
        raise InvalidInputError("; ".join(f"{p.field}: {p.message}" for p in problems), problems)
    return result


def _rule_problems(
    form: Sequence[Mapping[str, Any]], values: Mapping[str, Any], today: date | None
) -> list[FieldProblem]:
    """Check the diagram's conditional rules on data that already passed each field's own checks."""
    problems: list[FieldProblem] = []
    groups: dict[str, list[str]] = {}
    for spec in form:
        field_id = spec["id"]
        value = values.get(field_id)
        condition = form_rules.required_if(spec)
        if condition is not None and condition.holds(values) and not form_rules.filled(value):
            problems.append(FieldProblem(field_id, "is required with this choice"))
        if today is not None and form_rules.not_before_today(spec) and value and str(value) < today.isoformat():
            problems.append(FieldProblem(field_id, "must not be in the past"))
        if (group := form_rules.required_group(spec)) is not None:
            groups.setdefault(group, []).append(field_id)
    for members in groups.values():
        if not any(form_rules.filled(values.get(m)) for m in members):
            problems.append(FieldProblem(members[0], "needs at least one of its group"))
    return problems


def decision_text(task_name: str, form: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> str:
    """Sum up a completed task's decision in the diagram's words: its choices and written remarks."""
    parts = []
    for spec in form:
        value = values.get(spec["id"])
        if spec.get("type") == "enum" and value:
            names = {o["id"]: o["name"] for o in spec.get("options") or ()}
            parts.append(names.get(str(value), str(value)))
        elif spec.get("type") == "string" and isinstance(value, str) and value.strip():
            parts.append(f"{spec.get('label') or spec['id']}{_colon(task_name)}{value.strip()}")
    if not parts:
        return ""
    wide = _wide(task_name)
    return (task_name + _colon(task_name) + ("；" if wide else "; ").join(parts))[:4000]


def _wide(text: str) -> bool:
    return any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)


def _colon(text: str) -> str:
    return "：" if _wide(text) else ": "
