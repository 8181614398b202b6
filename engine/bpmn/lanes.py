"""Read task assignment from a diagram: candidate groups, assignee, due date, priority, lane."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bpmn import juel
from engine.bpmn.scripting import SCRIPT_ENGINE, ScriptCompileError, compile_expression


def split_list(value: str | None) -> list[str]:
    """Split a comma-separated attribute such as ``camunda:candidateGroups``."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def lane_group(lane: str | None, groups: Mapping[str, str]) -> str | None:
    """Map a lane name to a group id, matching the group's id or its display name."""
    if not lane:
        return None
    if lane in groups:
        return lane
    for group_id, name in groups.items():
        if name == lane or name.casefold() == lane.strip().casefold():
            return group_id
    return None


def resolve_groups(meta: Mapping[str, Any], groups: Mapping[str, str]) -> list[str]:
    """Return the group ids a task goes to: its candidate groups, else its lane's group.

    Expressions (``${...}``) are kept as written; they are evaluated when the task is created.
    """
    candidates = list(meta.get("candidate_groups") or [])
    if candidates:
        return candidates
    group = lane_group(meta.get("lane"), groups)
    return [group] if group else []


def expression_of(value: str) -> str | None:
    """Return the Python translation of a JUEL attribute (``${...}``), or None for a literal.

    :raises juel.JuelError: the JUEL is outside the supported subset.
    """
    return _translated(value) if juel.is_juel(value) else None


@lru_cache(maxsize=2048)
def _translated(value: str) -> str:
    return juel.translate(value)


def translations(meta: Mapping[str, Any]) -> dict[str, str]:
    """Translate a task's JUEL attributes once, at deploy: raw text -> Python expression."""
    raws = [*(meta.get("candidate_groups") or []), meta.get("assignee"), meta.get("due_date"), meta.get("priority")]
    return {raw: _translated(raw) for raw in raws if raw and juel.is_juel(raw)}


def check_expression_attr(value: str) -> str | None:
    """Return an error message if a ``${...}`` attribute is not valid JUEL, else None."""
    if not juel.is_juel(value):
        return None
    try:
        compile_expression(_translated(value))
    except juel.JuelError as exc:
        return f"expression {value!r}: {exc.message} at position {exc.position}"
    except ScriptCompileError as exc:
        return f"expression {value!r} is not valid: {exc}"
    return None


def check_due_date(value: str) -> str | None:
    """Return an error message if a ``camunda:dueDate`` is neither a duration, a datetime nor an expression."""
    if juel.is_juel(value):
        return check_expression_attr(value)
    try:
        parse_due(value, datetime.now(UTC))
    except ValueError as exc:
        return str(exc)
    return None


def parse_due(value: Any, created: datetime) -> datetime | None:
    """Turn a due value (ISO duration, ISO datetime, date or datetime) into an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, timedelta):
        return created + value
    text = str(value).strip()
    try:
        if text.upper().startswith("P"):
            parsed = TimerEventDefinition.parse_iso_duration(text)
            delta: timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, created)
            return created + delta
        due = datetime.fromisoformat(text)
    except Exception as exc:
        raise ValueError(f"due date {text!r} is not an ISO-8601 duration or date-time") from exc
    return due if due.tzinfo else due.replace(tzinfo=UTC)


def evaluate_attr(value: str | None, data: dict[str, Any], translated: Mapping[str, str] | None = None) -> Any:
    """Evaluate a ``${...}`` attribute against task data; a literal is returned unchanged.

    :param translated: the deploy-time translations of the task's attributes (see ``translations``).
    """
    if value is None:
        return None
    if not juel.is_juel(value):
        return value
    expr = (translated or {}).get(value) or _translated(value)
    return SCRIPT_ENGINE.environment.evaluate(expr, dict(data))
