"""Turn engine views into what the task templates show: names, history lines, dates and field messages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import format_datetime, format_decimal, format_timedelta, lazy_gettext
from flask_babel import gettext as _

from engine.views import EventView, FormFieldView

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"

EVENT_TEXT = {
    "started": lazy_gettext("started the instance"),
    "task_created": lazy_gettext("task opened"),
    "claimed": lazy_gettext("claimed the task"),
    "unclaimed": lazy_gettext("gave the task back to the group"),
    "assigned": lazy_gettext("assigned the task"),
    "completed": lazy_gettext("completed the task"),
    "comment": lazy_gettext("commented"),
    "timer_fired": lazy_gettext("timer fired"),
    "error": lazy_gettext("an error stopped the instance"),
    "instance_completed": lazy_gettext("the instance ended"),
    "suspended": lazy_gettext("suspended the instance"),
    "resumed": lazy_gettext("resumed the instance"),
    "terminated": lazy_gettext("terminated the instance"),
    "retried": lazy_gettext("retried the failed step"),
    "business_key": lazy_gettext("business key set"),
    "message_received": lazy_gettext("sent a message to the instance"),
    "external_task_created": lazy_gettext("task handed to an outside system"),
    "external_task_completed": lazy_gettext("outside system completed its task"),
    "external_task_failed": lazy_gettext("outside system reported a failure"),
    "external_task_retries": lazy_gettext("set the retries of an outside system's task"),
    "bpmn_error": lazy_gettext("outside system reported a business error"),
    "incident": lazy_gettext("outside system failed for good: the instance waits for a retry"),
}

# The engine words its field problems in English; these patterns carry them into the user's language.
PROBLEMS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^is required$"), lambda m: _("This field is required.")),
    (re.compile(r"^must be true or false$"), lambda m: _("Choose yes or no.")),
    (re.compile(r"^must be a whole number$"), lambda m: _("Enter a whole number.")),
    (re.compile(r"^must be a number$"), lambda m: _("Enter a number.")),
    (re.compile(r"^must be a date"), lambda m: _("Enter a date (YYYY-MM-DD).")),
    (re.compile(r"^must be one of"), lambda m: _("Choose one of the options.")),
    (re.compile(r"^must be text$"), lambda m: _("Enter text.")),
    (re.compile(r"^must be at least (\S+)$"), lambda m: _("Must be at least %(n)s.", n=m.group(1))),
    (re.compile(r"^must be at most (\S+)$"), lambda m: _("Must be at most %(n)s.", n=m.group(1))),
    (
        re.compile(r"^must have at least (\d+) characters$"),
        lambda m: _("Enter at least %(n)s characters.", n=m.group(1)),
    ),
    (
        re.compile(r"^must have at most (\d+) characters$"),
        lambda m: _("Enter at most %(n)s characters.", n=m.group(1)),
    ),
    (re.compile(r"^is required with this choice$"), lambda m: _("This field is required with the choice made above.")),
    (re.compile(r"^must not be in the past$"), lambda m: _("Choose today or a later date.")),
    (re.compile(r"^needs at least one of its group$"), lambda m: _("Choose at least one of these options.")),
    (re.compile(r"^is not a field of this form$"), lambda m: _("This is not a field of this form.")),
    (re.compile(r"^1 to 4000 characters$"), lambda m: _("Enter 1 to 4000 characters.")),
    (re.compile(r"^at most 300 characters$"), lambda m: _("Enter at most 300 characters.")),
]


def problem_text(message: str) -> str:
    """Say an engine field problem in the user's language (unknown wording passes through)."""
    for pattern, say in PROBLEMS:
        match = pattern.match(message)
        if match:
            return str(say(match))
    return message


def aware(moment: datetime | None) -> datetime | None:
    """Treat a naive time (as SQLite returns it) as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def when(moment: datetime | None, fmt: str = "short") -> str:
    """Format a time in the user's locale; empty for None."""
    moment = aware(moment)
    return format_datetime(moment, fmt) if moment is not None else ""


def waited(since: datetime | None, now: datetime | None = None) -> str:
    """Say how long ago something happened, in the user's locale."""
    since = aware(since)
    if since is None:
        return ""
    return str(format_timedelta((now or datetime.now(UTC)) - since, threshold=0.9))


DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def iso_duration(text: str) -> timedelta | None:
    """Read a simple ISO-8601 duration (``PT4H``, ``P30D``), or None."""
    match = DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT") or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


@dataclass
class DiagramNames:
    """Names the diagram gives its elements, form fields and enum options."""

    elements: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, str]] = field(default_factory=dict)
    # Fields the diagram keeps out of key data (property keyData = false).
    not_key: set[str] = field(default_factory=set)

    def value_text(self, key: str, value: Any) -> str:
        """Say a value in business words: option and decision labels, durations, grouped digits."""
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if value is None:
            return "—"
        if key in self.options and str(value) in self.options[key]:
            return self.options[key][str(value)]  # a number a decision sets may have labels too
        if isinstance(value, str) and (duration := iso_duration(value)) is not None:
            return str(format_timedelta(duration, threshold=1, add_direction=False))
        if isinstance(value, int | float) and not key.endswith(("_no", "_id", "_year")):
            return format_decimal(value)
        if isinstance(value, dict | list):
            text = _(", ").join(str(v) for v in (value.values() if isinstance(value, dict) else value))
            return text[:300]
        return str(value)


def diagram_names(xml: str, decisions: list[str] | None = None) -> DiagramNames:
    """Read element names, form-field labels and enum option names from BPMN text, and decision outputs' labels.

    A decision output's ``label`` names its variable; the business-rule task (or any element) may name
    its values in a property ``valueLabels.<variable>`` = ``value=label|value=label``.
    """
    names = DiagramNames()
    for text in decisions or ():
        try:
            table = ET.fromstring(text.encode("utf-8"))
        except ET.ParseError:
            continue
        for output in table.iter():
            if output.tag.endswith("}output") and output.get("name") and output.get("label"):
                names.fields.setdefault(str(output.get("name")), str(output.get("label")))
    try:
        root = ET.fromstring(xml.encode("utf-8"))
    except ET.ParseError:
        return names
    for element in root.iter():
        element_id, name = element.get("id"), element.get("name")
        if element.tag == f"{CAMUNDA}formField" and element_id:
            names.fields.setdefault(element_id, element.get("label") or element_id)
            values = {v.get("id", ""): v.get("name") or v.get("id", "") for v in element.iter(f"{CAMUNDA}value")}
            if values:
                names.options.setdefault(element_id, {}).update(values)
            for prop in element.iterfind(f"{CAMUNDA}properties/{CAMUNDA}property"):
                if (prop.get("id") or prop.get("name")) == "keyData" and prop.get("value") == "false":
                    names.not_key.add(element_id)
        elif element.tag == f"{CAMUNDA}property" and (element.get("name") or "").startswith("valueLabels."):
            variable = (element.get("name") or "").removeprefix("valueLabels.")
            for pair in (element.get("value") or "").split("|"):
                value, _sep, label = pair.partition("=")
                if value.strip() and label.strip():
                    names.options.setdefault(variable, {})[value.strip()] = label.strip()
        elif element.tag.startswith(BPMN) and element_id and name:
            names.elements[element_id] = name
    return names


@dataclass(frozen=True)
class HistoryLine:
    """One line of an instance's history as the task page shows it."""

    type: str
    at: str
    actor: str
    text: str
    subject: str
    note: str = ""


def history(
    events: list[EventView],
    names: DiagramNames,
    people: dict[str, str],
    form_labels: dict[str, str] | None = None,
) -> list[HistoryLine]:
    """Turn audit events into readable lines, oldest first, leaving out bookkeeping entries."""
    lines = []
    for event in events:
        if event.type not in EVENT_TEXT:
            continue
        data = event.data or {}
        subject = names.elements.get(event.element_id or "", data.get("name") or event.element_id or "")
        note = ""
        if event.type == "comment":
            note = str(data.get("text", ""))
        elif event.type == "assigned":
            note = people.get(str(data.get("user")), str(data.get("user") or ""))
        elif event.type == "completed" and isinstance(data.get("data"), dict):
            labels = form_labels or names.fields
            note = _("; ").join(
                _("%(field)s: %(value)s", field=labels.get(k, names.fields.get(k, k)), value=names.value_text(k, v))
                for k, v in data["data"].items()
            )[:500]
        elif event.type == "error":
            note = str(data.get("message", ""))[:300]
        actor = people.get(event.actor or "", event.actor or "")
        if event.actor == "system":
            actor = _("System")
        lines.append(HistoryLine(event.type, when(event.at), actor, str(EVENT_TEXT[event.type]), subject, note))
    return lines


def rule_hint(spec: FormFieldView, form: tuple[FormFieldView, ...]) -> str:
    """Say in the user's language when a field is required by a rule of the diagram, or ``""``."""
    if spec.required_if is not None:
        other_id, values = spec.required_if
        other = next((f for f in form if f.id == other_id), None)
        if other is None:
            return ""
        if other.type == "boolean":
            ticked = "false" not in values if values else True
            if ticked:
                return _("Required when “%(field)s” is ticked.", field=other.label)
            return _("Required when “%(field)s” is not ticked.", field=other.label)
        names = {o.id: o.name for o in other.options}
        if values:
            choice = _(" or ").join(f"“{names.get(v, v)}”" for v in values)
            return _("Required when “%(field)s” is %(choice)s.", field=other.label, choice=choice)
        return _("Required when “%(field)s” is filled in.", field=other.label)
    if spec.not_before_today:
        return _("Today or later.")
    group = [f for f in form if spec.required_group and f.required_group == spec.required_group]
    if group and group[0].id == spec.id:
        return _("Choose at least one of: %(names)s.", names=_(", ").join(f.label for f in group))
    return ""


def field_value(spec: FormFieldView, values: dict[str, Any]) -> Any:
    """The value a field shows: what was typed, else the instance's variable, else the default."""
    if spec.id in values:
        return values[spec.id]
    return spec.default


def as_input(spec: FormFieldView, value: Any) -> str:
    """Write a value the way an HTML input of the field's type expects it."""
    if value is None:
        return ""
    if spec.type == "date":
        return str(value)[:10]
    return str(value)
