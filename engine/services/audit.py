"""Read the audit trail of instances and of the whole system."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import NotFoundError
from engine.models import AuditEvent
from engine.repositories import audit as repo
from engine.repositories import instances as instances_repo
from engine.services.instances import check_may_read
from engine.views import EventView


def to_view(event: AuditEvent) -> EventView:
    return EventView(event.type, event.actor, event.at, event.element_id, dict(event.data or {}), event.instance_id)


def list_events(session: Session, instance_id: int, actor: str | None = None) -> list[EventView]:
    """Return an instance's events, oldest first (with an ``actor``, only for people who may see it).

    :raises NotFoundError: no such instance.
    :raises PermissionDeniedError: the actor takes no part in the instance.
    """
    instance = instances_repo.get(session, instance_id)
    if instance is None:
        raise NotFoundError(f"instance {instance_id} not found")
    if actor is not None:
        check_may_read(session, instance, actor)
    return [to_view(e) for e in repo.for_instance(session, instance_id)]


def recent_events(session: Session, limit: int = 100, type_: str | None = None) -> list[EventView]:
    """Return the newest events of every instance."""
    return [to_view(e) for e in repo.recent(session, limit, type_)]
