"""Read Camunda timer definitions: ISO 8601 literals, Quartz cron cycles and expressions."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from typing import Any

from croniter import croniter  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition

from engine.bpmn import juel
from engine.bpmn.juel import TEAM_ZONE
from engine.bpmn.juel import with_zone as _with_zone
from engine.bpmn.scripting import ScriptCompileError, compile_expression

# What Camunda would read as an ISO 8601 literal (then checked): a repetition, a duration or a date.
ISO_LIKE = re.compile(r"^(R\d*/\S*|P\d\S*|PT\d\S*|\d{4}-\d{2}-\d{2}\S*)$")
_QUARTZ_DOW = {"1": "0", "2": "1", "3": "2", "4": "3", "5": "4", "6": "5", "7": "6"}


class TimerValueError(ValueError):
    """A timer definition Camunda would not accept either."""


def is_cron(value: Any) -> bool:
    """Tell whether a value looks like a Quartz cron expression (6 or 7 fields, seconds first)."""
    if not isinstance(value, str):
        return False
    fields = value.split()
    return len(fields) in (6, 7) and not ISO_LIKE.match(value.strip())


def _dow_field(field: str) -> str:
    """Quartz numbers days 1=SUN..7=SAT; croniter 0=SUN..6=SAT. Names pass through."""

    def number(match: re.Match[str]) -> str:
        return _QUARTZ_DOW.get(match.group(0), match.group(0))

    head, sep, step = field.partition("/")
    head = re.sub(r"\d+", number, head)
    return head + sep + step


def quartz_to_croniter(expression: str) -> str:
    """Turn a Quartz cron expression into croniter's six- or seven-field form (seconds first).

    :raises TimerValueError: not a valid Quartz expression.
    """
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise TimerValueError(
            f"cron {expression!r} needs 6 or 7 fields (seconds minutes hours day month weekday [year])"
        )
    seconds, minutes, hours, dom, month, dow, *year = fields
    if dom == "?" and dow == "?":
        raise TimerValueError(f"cron {expression!r}: only one of day-of-month and day-of-week may be '?'")
    if dom != "?" and dow != "?" and not (dom == "*" or dow == "*"):
        raise TimerValueError(f"cron {expression!r}: one of day-of-month and day-of-week must be '?'")
    if dom == "?" or (dom == "*" and dow not in ("*", "?")):
        dom = "*"
    if dow == "?" or (dow == "*" and dom != "*"):
        dow = "*"
    converted = " ".join([seconds, minutes, hours, dom, month, _dow_field(dow), *year])
    if not croniter.is_valid(converted, second_at_beginning=True):
        raise TimerValueError(f"cron {expression!r} is not a valid Quartz cron expression")
    return converted


def cron_next(expression: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` at which a Quartz cron fires, in UTC.

    :raises TimerValueError: not a valid Quartz expression.
    """
    it = croniter(quartz_to_croniter(expression), after.astimezone(TEAM_ZONE), second_at_beginning=True)
    nxt: datetime = it.get_next(datetime)
    return nxt.astimezone(UTC)


def normalize_literal(kind: str, literal: str) -> str:
    """Check an ISO 8601 literal for a timer of ``kind``; give dates without an offset the team's zone.

    :raises TimerValueError: the literal is not what Camunda accepts for that kind.
    """
    text = literal.strip()
    try:
        if kind == "timeDuration":
            if not text.upper().startswith("P"):
                raise TimerValueError(f"timeDuration {text!r} is not an ISO-8601 duration such as PT5M")
            TimerEventDefinition.parse_iso_duration(text)
            return text
        if kind == "timeDate":
            if text.upper().startswith("P") or text.upper().startswith("R"):
                raise TimerValueError(f"timeDate {text!r} is a duration or cycle; use timeDuration or timeCycle")
            text = _with_zone(text)
            TimerEventDefinition.get_datetime(text)
            return text
        parts = text.split("/")
        text = "/".join(_with_zone(p) for p in parts)
        if len(parts) < 2 or not parts[0].upper().startswith("R"):
            raise TimerValueError(f"timeCycle {literal!r} is not a repeating interval such as R3/PT10M")
        TimerEventDefinition.parse_iso_recurring_interval(text)
        return text
    except TimerValueError:
        raise
    except Exception as exc:
        raise TimerValueError(f"timer {kind} {literal!r} is not a valid ISO-8601 value") from exc


def timer_source(kind: str, text: str) -> str:
    """Return the Python expression SpiffWorkflow evaluates for a timer written as Camunda reads it.

    ``${...}`` is JUEL; a bare ISO 8601 literal (or a Quartz cron, for cycles) is a literal; anything
    else is a Python expression, such as a quoted string or a variable.

    :raises TimerValueError: the definition cannot fire.
    :raises juel.JuelError: the JUEL is outside the supported subset.
    """
    source = text.strip()
    if not source:
        raise TimerValueError(f"timer {kind} is empty")
    if juel.is_juel(source):
        return f"juel_timer({kind!r}, {juel.translate(source)})"
    if kind == "timeCycle" and is_cron(source):
        quartz_to_croniter(source)
        return repr(source)
    if ISO_LIKE.match(source):
        return repr(normalize_literal(kind, source))
    try:
        compile_expression(source)
    except ScriptCompileError as exc:
        raise TimerValueError(
            f"timer {kind} {source!r} is neither ISO 8601, ${{...}} nor an expression: {exc}"
        ) from exc
    try:
        literal = ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return source  # a variable or computed value, checked when it is evaluated
    if not isinstance(literal, str):
        raise TimerValueError(f"timer {kind} {source!r} must be an ISO-8601 string")
    if kind == "timeCycle" and is_cron(literal):
        quartz_to_croniter(literal)
        return source
    normalize_literal(kind, literal)
    return source


class CamundaCycleTimerEventDefinition(CycleTimerEventDefinition):  # type: ignore[misc]
    """A cycle timer that also takes a Quartz cron, firing when Camunda would."""

    def cycle_complete(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = datetime.now(UTC)
        if event_value is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if not is_cron(value):
                return bool(super().cycle_complete(my_task))
            first = cron_next(value, now)
            event_value = {
                "cycles": -1,
                "next": first.isoformat(),
                "duration": (cron_next(value, first) - first).total_seconds(),
                "cron": value,
            }
        if "cron" not in event_value:
            return bool(super().cycle_complete(my_task))
        if event_value["cycles"] == 0:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        ready = False
        due = datetime.fromisoformat(event_value["next"])
        if due < now:
            upcoming = cron_next(event_value["cron"], max(now, due))
            event_value["next"] = upcoming.isoformat()
            event_value["duration"] = (cron_next(event_value["cron"], upcoming) - upcoming).total_seconds()
            if event_value["cycles"] > 0:
                event_value["cycles"] -= 1
            ready = True
        my_task._set_internal_data(event_value=event_value)
        return ready


def use_camunda_cycles(task_spec: Any) -> None:
    """Replace SpiffWorkflow's cycle timer on a task spec by the cron-aware one."""
    definition = getattr(task_spec, "event_definition", None)
    if definition is None:
        return
    inner = getattr(definition, "event_definitions", None)
    if inner is not None:
        definition.event_definitions = [_converted(d) for d in inner]
    else:
        task_spec.event_definition = _converted(definition)


def _converted(definition: Any) -> Any:
    if type(definition) is CycleTimerEventDefinition:
        return CamundaCycleTimerEventDefinition(
            definition.name, definition.expression, description=definition.description
        )
    return definition
