"""Query and write external tasks; fetching locks each task with one conditional update."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from engine.models import ExternalTask, ProcessInstance


def get(session: Session, task_id: int) -> ExternalTask | None:
    return session.get(ExternalTask, task_id)


def open_for_instance(session: Session, instance_id: int) -> Sequence[ExternalTask]:
    stmt = select(ExternalTask).where(ExternalTask.instance_id == instance_id, ExternalTask.status == "open")
    return session.scalars(stmt.order_by(ExternalTask.id)).all()


def add(session: Session, task: ExternalTask) -> None:
    session.add(task)


def _free(now: datetime):  # type: ignore[no-untyped-def]
    return or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now)


def candidates(
    session: Session,
    topic: str,
    now: datetime,
    limit: int,
    use_priority: bool,
    business_key: str | None = None,
    process_keys: Sequence[str] = (),
) -> Sequence[ExternalTask]:
    """Open, unlocked tasks of a topic that have retries left and whose instance runs.

    On PostgreSQL the rows are locked with SKIP LOCKED, so that racing workers pass each other by.
    """
    stmt = (
        select(ExternalTask)
        .join(ProcessInstance, ProcessInstance.id == ExternalTask.instance_id)
        .where(
            ExternalTask.status == "open",
            ExternalTask.topic == topic,
            _free(now),
            or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0),
            or_(ExternalTask.retry_at.is_(None), ExternalTask.retry_at <= now),
            ProcessInstance.status == "running",
        )
    )
    if business_key is not None:
        stmt = stmt.where(ProcessInstance.business_key == business_key)
    if process_keys:
        stmt = stmt.where(ExternalTask.process_key.in_(list(process_keys)))
    order = [ExternalTask.priority.desc(), ExternalTask.id] if use_priority else [ExternalTask.id]
    stmt = stmt.order_by(*order).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=ExternalTask)
    return session.scalars(stmt).all()


def lock(session: Session, task_id: int, worker_id: str, now: datetime, until: datetime) -> bool:
    """Lock a task for a worker unless someone holds it; True when this call got it."""
    result = session.execute(
        update(ExternalTask)
        .where(ExternalTask.id == task_id, ExternalTask.status == "open", _free(now))
        .values(worker_id=worker_id, lock_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(session: Session, task_id: int, worker_id: str, now: datetime, status: str) -> bool:
    """Mark a task done if the worker still holds an unexpired lock; True for exactly one caller."""
    result = session.execute(
        update(ExternalTask)
        .where(
            ExternalTask.id == task_id,
            ExternalTask.status == "open",
            ExternalTask.worker_id == worker_id,
            and_(ExternalTask.lock_expires_at.is_not(None), ExternalTask.lock_expires_at > now),
        )
        .values(status=status, completed_at=now, completed_by=worker_id)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def search(
    session: Session,
    topic: str | None = None,
    instance_id: int | None = None,
    worker_id: str | None = None,
    incidents_only: bool = False,
    limit: int = 100,
) -> Sequence[ExternalTask]:
    """Open external tasks, oldest first."""
    stmt = select(ExternalTask).where(ExternalTask.status == "open")
    if topic:
        stmt = stmt.where(ExternalTask.topic == topic)
    if instance_id is not None:
        stmt = stmt.where(ExternalTask.instance_id == instance_id)
    if worker_id:
        stmt = stmt.where(ExternalTask.worker_id == worker_id)
    if incidents_only:
        stmt = stmt.where(ExternalTask.retries == 0)
    return session.scalars(stmt.order_by(ExternalTask.id).limit(limit)).all()
