"""Read the rules a diagram declares on form fields beyond Camunda's constraints, and check them.

A form field may carry ``camunda:properties`` (the properties panel's "Form field > Properties"):

- ``required_if`` = ``other_field=value1|value2``: the field is required when the other field of the
  same form has one of the values (``true``/``false`` for a checkbox, option ids for a choice);
  ``required_if`` = ``other_field`` alone: required when the other field is ticked or filled in.
- ``required_group`` = ``name``: of all fields of the form in the group ``name``, at least one must be
  ticked or filled in (the first field of the group carries the message).
- ``not_before`` = ``today``: a date field must not be in the past.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RULES = ("required_if", "required_group", "not_before")


@dataclass(frozen=True)
class Condition:
    """When a field is required: another field holds one of ``values`` (any value when empty)."""

    field: str
    values: tuple[str, ...] = ()

    def holds(self, data: Mapping[str, Any]) -> bool:
        """Tell whether the condition is met by converted form data."""
        value = data.get(self.field)
        if self.values:
            return as_text(value) in self.values
        return filled(value)


def as_text(value: Any) -> str:
    """Write a converted value as a rule compares it (``true``/``false`` for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def filled(value: Any) -> bool:
    """Tell whether a converted value counts as ticked or filled in."""
    if isinstance(value, bool):
        return value
    return value is not None and not (isinstance(value, str) and not value.strip())


def required_if(spec: Mapping[str, Any]) -> Condition | None:
    """The condition under which a field is required, or None."""
    raw = (spec.get("properties") or {}).get("required_if")
    if not raw or not raw.strip():
        return None
    name, _, values = raw.partition("=")
    return Condition(name.strip(), tuple(v.strip() for v in values.split("|") if v.strip()))


def required_group(spec: Mapping[str, Any]) -> str | None:
    """The name of the group of fields of which one must be filled in, or None."""
    return ((spec.get("properties") or {}).get("required_group") or "").strip() or None


def not_before_today(spec: Mapping[str, Any]) -> bool:
    """Tell whether a date field must not lie in the past."""
    return ((spec.get("properties") or {}).get("not_before") or "").strip() == "today"


def check(spec: Mapping[str, Any], form: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Say what is wrong with a field's rules, given the other fields of its form by id."""
    problems = []
    fid = spec["id"]
    properties = spec.get("properties") or {}
    condition = required_if(spec)
    if condition is not None:
        other = form.get(condition.field)
        if other is None or condition.field == fid:
            problems.append(f"form field {fid!r}: required_if names {condition.field!r}, not another field of the form")
        elif other.get("type") == "enum":
            ids = {o["id"] for o in other.get("options") or ()}
            if unknown := [v for v in condition.values if v not in ids]:
                problems.append(
                    f"form field {fid!r}: required_if values {unknown} are not options of {condition.field!r}"
                )
        elif other.get("type") == "boolean" and not set(condition.values) <= {"true", "false"}:
            problems.append(f"form field {fid!r}: required_if on a checkbox takes true or false")
    if "not_before" in properties:
        if spec.get("type") != "date" or properties["not_before"].strip() != "today":
            problems.append(f"form field {fid!r}: not_before takes 'today' and only on a date field")
    if "required_group" in properties and not required_group(spec):
        problems.append(f"form field {fid!r}: required_group needs a name")
    return problems
