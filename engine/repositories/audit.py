"""Write and read the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.models import AuditEvent


def record(
    session: Session,
    type_: str,
    actor: str | None,
    instance_id: int | None = None,
    process_key: str | None = None,
    element_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        type=type_,
        actor=actor,
        instance_id=instance_id,
        process_key=process_key,
        element_id=element_id,
        data=data or {},
        at=utcnow(),
    )
    session.add(event)
    return event


def for_instance(session: Session, instance_id: int) -> Sequence[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.at, AuditEvent.id)
    return session.scalars(stmt).all()


def recent(session: Session, limit: int = 100, type_: str | None = None) -> Sequence[AuditEvent]:
    stmt = select(AuditEvent)
    if type_:
        stmt = stmt.where(AuditEvent.type == type_)
    return session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit)).all()
