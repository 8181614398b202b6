"""Query and write what the reports read: key data of instances and running counts of user tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.models import ElementTally, HumanTask, InstanceFact


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


TALLY_COUNTS = ("instances", "tasks", "completed", "passed", "failed", "with_due", "in_time", "total_seconds")
_TALLY_UPSERTS: dict[str, Any] = {}


def _tally_upsert(dialect: str) -> Any:
    """One upsert adding to every count, built once per dialect (building it costs more than running it)."""
    stmt = _TALLY_UPSERTS.get(dialect)
    if stmt is None:
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(ElementTally)
        table = ElementTally.__table__.c
        stmt = _TALLY_UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=[table.process_key, table.element_id],
            set_={name: table[name] + stmt.excluded[name] for name in TALLY_COUNTS},
        )
    return stmt


def tally(session: Session, process_key: str, element_id: str, **increments: float) -> None:
    """Add to the running counts of a user task in one statement, creating its row the first time."""
    values = {name: 0 for name in TALLY_COUNTS} | increments
    session.execute(
        _tally_upsert(session.get_bind().dialect.name), {"process_key": process_key, "element_id": element_id, **values}
    )


def tallies(session: Session, process_key: str) -> dict[str, ElementTally]:
    stmt = select(ElementTally).where(ElementTally.process_key == process_key)
    return {row.element_id: row for row in session.scalars(stmt)}


def reached_before(session: Session, instance_id: int, element_id: str, task_id: int) -> bool:
    """Tell whether the instance had a task at ``element_id`` before the task ``task_id``."""
    stmt = select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == element_id, HumanTask.id != task_id
    )
    return session.scalars(stmt.limit(1)).first() is not None
