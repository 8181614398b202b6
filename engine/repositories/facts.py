"""Query and write the key data of instances (instance_fact)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import InstanceFact


def for_instance(session: Session, instance_id: int) -> dict[str, InstanceFact]:
    stmt = select(InstanceFact).where(InstanceFact.instance_id == instance_id)
    return {row.name: row for row in session.scalars(stmt)}


def add(
    session: Session,
    instance_id: int,
    process_key: str,
    name: str,
    value: str | None,
    number: float | None,
    now: datetime,
) -> InstanceFact:
    row = InstanceFact(
        instance_id=instance_id, process_key=process_key, name=name, value=value, number=number, updated_at=now
    )
    session.add(row)
    return row
