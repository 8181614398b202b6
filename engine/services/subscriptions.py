"""Keep the message subscriptions of instances and process versions in step with what they wait for."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import events
from engine.models import MessageSubscription, ProcessInstance
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
