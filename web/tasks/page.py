"""Build the task page: the form, the instance's key data and history, and its diagram."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import render_template
from flask_login import current_user

from engine import FieldProblem, audit, definitions, instances, people, task_queue
from engine.views import EventView, TaskSummary
from web.db import get_session
from web.tasks.display import DiagramNames, as_input, diagram_names, field_value, history, problem_text, rule_hint

# Variables the engine keeps for itself; they mean nothing to the people working the task.
HIDDEN_DATA = ("_",)


def render_task_page(
    task_id: int,
    values: dict[str, Any] | None = None,
    problems: Sequence[FieldProblem] = (),
    status: int = 200,
    takeover_error: str | None = None,
    conflict: str | None = None,
) -> Any:
    """Render a task, keeping typed ``values`` and showing ``problems`` beside their fields.

    With ``conflict`` (someone else changed the task first) the message heads the form and, when the
    task can no longer be worked, the typed values are listed so that nothing typed is lost.
    """
    session = get_session()
    detail = instances.get_task(session, task_id, current_user.name)
    summary = detail.summary
    instance = instances.get_instance(session, summary.instance_id)
    xml = definitions.get_xml(session, instance.process_key, instance.version)
    names = _names(xml, instance)
    users = {u.name: u.display_name for u in people.list_users(session)}

    if values is None:
        # A step that comes round again opens empty: the last round's decision is shown beside it, not reused.
        prefill = detail.instance_data if detail.last_round is None else {}
        shown = {f.id: prefill[f.id] for f in detail.form if f.id in prefill}
        if detail.submitted:
            shown.update(detail.submitted)
    else:
        shown = dict(values)
    fields = []
    field_errors = {p.field: problem_text(p.message) for p in problems}
    for spec in detail.form:
        value = field_value(spec, shown)
        fields.append(
            {
                "spec": spec,
                "value": as_input(spec, value),
                "checked": _checked(value),
                "error": field_errors.get(spec.id),
                "hint": rule_hint(spec, detail.form),
            }
        )
    known = {f.id for f in detail.form}
    form_errors = [f"{p.field}: {problem_text(p.message)}" for p in problems if p.field not in known]

    # The task's own data: in a step run once per item it is that item's (an applicant's), not the instance's.
    # Variables a form of the diagram names come first; the others (set by scripts and decisions) fold away.
    # Lists and records (the list of every applicant) mean nothing to a reader and may hold other items.
    shown_data = [
        (k, v)
        for k, v in detail.instance_data.items()
        if not k.startswith(HIDDEN_DATA) and not isinstance(v, dict | list)
    ]
    # Fields nobody has decided yet stay out, as do those the diagram keeps out of key data.
    key_data = [
        (names.fields[k], names.value_text(k, v))
        for k, v in shown_data
        if k in names.fields and k not in names.not_key and v not in (None, "")
    ]
    other_data = [(k, names.value_text(k, v)) for k, v in shown_data if k not in names.fields]
    diagram = {
        "xml": xml,
        "completed": list(instance.completed_elements),
        "active": [summary.element_id] if summary.status == "open" else [],
        "error": [instance.error.element_id] if instance.error and instance.error.element_id else [],
    }
    submitted_rows = (
        [(f.label, names.value_text(f.id, (detail.submitted or {}).get(f.id))) for f in detail.form]
        if detail.submitted
        else []
    )
    last_round = (
        [
            (f.label, names.value_text(f.id, detail.last_round.get(f.id)))
            for f in detail.form
            if f.id in detail.last_round
        ]
        if detail.last_round
        else []
    )
    workable = summary.status == "open" and instance.status == "running"
    unsaved_rows = (
        [(f.label, names.value_text(f.id, values[f.id])) for f in detail.form if str(values.get(f.id) or "").strip()]
        if conflict and values and not workable
        else []
    )
    return render_template(
        "tasks/task.html",
        detail=detail,
        t=summary,
        instance=instance,
        fields=fields,
        form_errors=form_errors,
        key_data=key_data,
        other_data=other_data,
        submitted_rows=submitted_rows,
        last_round=last_round,
        diagram=diagram,
        workable=workable,
        history=_history(summary, names, users),
        takeover_error=takeover_error,
        user_names=users,
        group_names=people.group_names(session),
        invalid=bool(problems) or bool(takeover_error),
        conflict=conflict,
        unsaved_rows=unsaved_rows,
    ), status


def render_history(task_id: int, error: str | None = None) -> str:
    """Render a task page's history card alone (after a comment sent with htmx)."""
    session = get_session()
    summary = instances.get_task(session, task_id, current_user.name).summary
    instance = instances.get_instance(session, summary.instance_id)
    names = _names(definitions.get_xml(session, instance.process_key, instance.version), instance)
    users = {u.name: u.display_name for u in people.list_users(session)}
    return render_template("tasks/_history.html", history=_history(summary, names, users), history_error=error)


def _names(xml: str, instance: Any) -> DiagramNames:
    """The names of the instance's diagram and of the outputs of its decision tables."""
    files = definitions.get_files(get_session(), instance.process_key, instance.version)
    return diagram_names(xml, [text for name, text in files.items() if name.endswith(".dmn")])


def _history(summary: TaskSummary, names: Any, users: dict[str, str]) -> list[Any]:
    session = get_session()
    events = audit.list_events(session, summary.instance_id)
    return history(
        _own_events(events, summary, task_queue.list_tasks(session, instance_id=summary.instance_id)),
        names,
        users,
        None,
    )


def _own_events(events: list[EventView], task: TaskSummary, tasks: Sequence[TaskSummary]) -> list[EventView]:
    """Leave out the events of other items' tasks (another applicant's screening) from an item's task page."""
    if task.subject is None:
        return events
    subjects = {t.id: t.subject for t in tasks}
    return [e for e in events if subjects.get((e.data or {}).get("task_id"), task.subject) in (None, task.subject)]


def _checked(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "on", "1", "yes")
    return bool(value)
