"""Keep what instances wait for from outside in step with their workflow: messages and external tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import events, serializer
from engine.db import utcnow
from engine.models import ExternalTask, MessageSubscription, ProcessInstance
from engine.repositories import audit
from engine.repositories import external_tasks as external_repo
from engine.repositories import subscriptions as repo


def sync(session: Session, instance: ProcessInstance, workflow: Any) -> None:
    """Record each message the instance now waits for, and drop those it no longer waits for."""
    waiting = {}
    if instance.status not in ("completed", "terminated"):
        waiting = {(w.spiff_id, w.message_name): w for w in events.waiting_messages(workflow)}
    for row in repo.for_instance(session, instance.id):
        if waiting.pop((row.spiff_task_id or "", row.message_name), None) is None:
            repo.remove(session, row)
    for wait in waiting.values():
        repo.add(
            session,
            MessageSubscription(
                message_name=wait.message_name,
                instance_id=instance.id,
                process_key=instance.process_key,
                element_id=wait.element_id,
                spiff_task_id=wait.spiff_id,
            ),
        )


def replace_starts(session: Session, process_key: str, version_id: int, starts: dict[str, str]) -> None:
    """Let the new version's message start events (message name -> element id) start the process."""
    repo.replace_starts(session, process_key, version_id, starts)


def sync_external_tasks(
    session: Session, instance: ProcessInstance, workflow: Any, meta: dict[str, Any], actor: str
) -> None:
    """Open an external task for each started service task with a topic; cancel those that stopped waiting.

    A boundary event that interrupts the task, or the instance ending, cancels it: a worker holding it
    then gets a 404 on completing.
    """
    declared: dict[str, Any] = meta.get("", {}).get("external_tasks") or {}
    started = {}
    if declared and instance.status not in ("completed", "terminated"):
        started = {t.spiff_id: t for t in events.started_tasks(workflow, declared)}
    now = utcnow()
    for row in external_repo.open_for_instance(session, instance.id):
        if started.pop(row.spiff_task_id, None) is None:
            row.status, row.completed_at = "cancelled", now
    for task in started.values():
        info = declared[task.element_id]
        row = ExternalTask(
            instance_id=instance.id,
            spiff_task_id=task.spiff_id,
            process_key=instance.process_key,
            element_id=task.element_id,
            name=info.get("name") or task.element_id,
            topic=info["topic"],
            priority=int(info.get("priority") or 0),
            status="open",
            context=serializer.to_jsonable(task.data),
            created_at=now,
        )
        external_repo.add(session, row)
        session.flush()
        audit.record(
            session,
            "external_task_created",
            actor,
            instance.id,
            instance.process_key,
            task.element_id,
            {"task_id": row.id, "topic": row.topic},
        )
