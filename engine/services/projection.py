"""Load an instance's workflow and write back what it became: state, task rows, timers and audit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from engine.bpmn import events, lanes, runner, serializer
from engine.db import utcnow
from engine.models import HumanTask, ProcessInstance, Timer
from engine.repositories import audit, workflow_cache
from engine.repositories import instances as instances_repo
from engine.repositories import tasks as tasks_repo
from engine.repositories import timers as timers_repo
from engine.services import business_keys, definitions, facts, subscriptions

PRUNE_DEPTH = 50
# An automatic title ends with the start time: "销售流程 2026-12-01 09:30".
AUTOMATIC_TITLE = re.compile(r"^(?P<name>.+) \d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


def automatic_title(process_name: str, time_zone: str) -> str:
    """Name an untitled instance by its process and the start time where the team works."""
    try:
        zone: tzinfo = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return f"{process_name} {datetime.now(zone):%Y-%m-%d %H:%M}"


def _title_from_data(instance: ProcessInstance, field: str | None) -> None:
    """Replace an automatic title by the case's key field (the customer) once it has a value."""
    match = AUTOMATIC_TITLE.match(instance.title or "")
    value = (instance.data or {}).get(field) if field else None
    if match and isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        instance.title = f"{match.group('name')} · {str(value).strip()}"[:300]


def load(session: Session, instance: ProcessInstance) -> Any:
    """Rebuild the live workflow of an instance from its stored state and its version's spec.

    The workflow this process stored last is reused when the row is still exactly as it stored it.

    :raises NotFoundError: the instance's version is gone.
    """
    spec, subs = definitions.spec_for(session, instance.process_version_id)
    cached = workflow_cache.take(instance.id, instance.row_version, instance.workflow, spec)
    if cached is not None:
        return cached
    return serializer.load_workflow(instance.workflow, spec, subs)


def task_meta(session: Session, instance: ProcessInstance) -> dict[str, Any]:
    """Return the task metadata of the instance's version (cached)."""
    return definitions.meta_for(session, instance.process_version_id)


def record_failure(session: Session, instance: ProcessInstance, failure: runner.WorkflowFailure, actor: str) -> None:
    """Put the instance into the error state, keeping the message and element."""
    instance.status = "error"
    instance.error_message = failure.message[:4000]
    instance.error_element_id = failure.element_id
    audit.record(
        session,
        "error",
        actor,
        instance.id,
        instance.process_key,
        failure.element_id,
        {"message": failure.message[:4000]},
    )


def save(session: Session, instance: ProcessInstance, workflow: Any, actor: str) -> list[HumanTask]:
    """Store the workflow and project it: open tasks, waiting timers, status, data; return the tasks it opened.

    :raises ConflictError: the instance changed underneath (row version check).
    """
    with instances_repo.version_checked(instance.id):
        return _save(session, instance, workflow, actor)


def _save(session: Session, instance: ProcessInstance, workflow: Any, actor: str) -> list[HumanTask]:
    meta = task_meta(session, instance)
    # A version without timer or message events (or external tasks) has no rows of those kinds to keep in step.
    kinds = events.wait_kinds(*definitions.spec_for(session, instance.process_version_id))
    data = serializer.to_jsonable(runner.current_data(workflow))
    instance.data = data
    business_keys.adopt_from_data(session, instance, meta.get("", {}).get("business_key_field"), actor)
    _title_from_data(instance, meta.get("", {}).get("title_field"))
    completed, _active, _failed = runner.element_states(workflow)
    instance.completed_elements = sorted(set(instance.completed_elements or []) | completed)
    if instance.status not in ("error", "suspended", "terminated"):
        if runner.is_completed(workflow):
            instance.status = "completed"
            instance.ended_at = utcnow()
            facts.record_end(instance, runner.end_event(workflow), instance.ended_at)
            audit.record(session, "instance_completed", actor, instance.id, instance.process_key)
        else:
            instance.status = "running"
    facts.record_key_data(session, instance, data, utcnow())
    instance.workflow = serializer.dump_workflow(workflow)
    # One UPDATE of the instance, with the version check, before the projection's queries autoflush it.
    instances_repo.save(session, instance)
    opened = _sync_tasks(session, instance, workflow, meta, actor)
    if "timer" in kinds:
        _sync_timers(session, instance, workflow)
    if "message" in kinds:
        subscriptions.sync(session, instance, workflow)
    if meta.get("", {}).get("external_tasks"):
        subscriptions.sync_external_tasks(session, instance, workflow, meta, actor)
    instances_repo.save(session, instance)
    workflow_cache.keep_after_commit(session, instance.id, instance.row_version, instance.workflow, workflow)
    return opened


def _sync_tasks(
    session: Session, instance: ProcessInstance, workflow: Any, meta: dict[str, Any], actor: str
) -> list[HumanTask]:
    ready = {t.spiff_id: t for t in runner.ready_tasks(workflow)}
    existing = {row.spiff_task_id: row for row in tasks_repo.open_for_instance(session, instance.id)}
    now = utcnow()
    for spiff_id, row in existing.items():
        if spiff_id not in ready:
            row.status = "cancelled"
            row.completed_at = now
    opened: list[HumanTask] = []
    if instance.status in ("terminated",):
        return opened
    for spiff_id, task in ready.items():
        if spiff_id in existing:
            continue
        info = meta.get(task.element_id, {})
        data = dict(task.data)
        translated = info.get("juel")
        groups = [g for g in (_evaluated(raw, data, translated) for raw in info.get("groups", [])) if g]
        assignee = _evaluated(info.get("assignee"), data, translated)
        try:
            due = lanes.parse_due(_evaluated_raw(info.get("due_date"), data, translated), now)
        except (ValueError, Exception):
            due = None
        try:
            priority = int(_evaluated_raw(info.get("priority"), data, translated) or 50)
        except (TypeError, ValueError):
            priority = 50
        row = HumanTask(
            instance_id=instance.id,
            spiff_task_id=spiff_id,
            process_key=instance.process_key,
            element_id=task.element_id,
            name=info.get("name") or task.name,
            group_id=groups[0] if groups else None,
            assignee=assignee or None,
            status="open",
            due_at=due,
            priority=priority,
            form=[{k: v for k, v in f.items() if k != "line"} for f in info.get("form", [])],
            documentation=info.get("documentation") or "",
            created_at=now,
            context=serializer.to_jsonable(data),
            subject=_text_of(data, info.get("item_field"), 300),
            reason=_text_of(data, info.get("reason_field"), 4000),
        )
        tasks_repo.add(session, row, groups)
        opened.append(row)
        facts.task_opened(session, row, instance)
        audit.record(
            session,
            "task_created",
            actor,
            instance.id,
            instance.process_key,
            task.element_id,
            {"task_id": row.id, "name": row.name, "group": row.group_id, "assignee": row.assignee},
        )
    return opened


def _text_of(data: dict[str, Any], name: str | None, limit: int) -> str | None:
    """The text of a variable the diagram names, or None when it is unset or empty."""
    value = data.get(name) if name else None
    if value is None or isinstance(value, dict | list) or not str(value).strip():
        return None
    return str(value).strip()[:limit]


def _evaluated_raw(value: Any, data: dict[str, Any], translated: dict[str, str] | None = None) -> Any:
    if value is None:
        return None
    try:
        return lanes.evaluate_attr(str(value), data, translated)
    except Exception:
        return None


def _evaluated(value: Any, data: dict[str, Any], translated: dict[str, str] | None = None) -> str | None:
    result = _evaluated_raw(value, data, translated)
    return str(result) if result not in (None, "") else None


def _sync_timers(session: Session, instance: ProcessInstance, workflow: Any) -> None:
    waiting = {t.spiff_id: t for t in runner.waiting_timers(workflow)}
    if instance.status in ("terminated", "completed"):
        waiting = {}
    for row in timers_repo.for_instance(session, instance.id):
        timer = waiting.pop(row.spiff_task_id or "", None)
        if timer is None:
            timers_repo.remove(session, row)
        elif row.due_at != timer.due_at:
            row.due_at = timer.due_at
            timers_repo.announce(session)
    for timer in waiting.values():
        timers_repo.add(
            session,
            Timer(
                instance_id=instance.id, spiff_task_id=timer.spiff_id, element_id=timer.element_id, due_at=timer.due_at
            ),
        )
