"""Query and write process instances; a stale row version becomes a ConflictError."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Row, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConflictError
from engine.models import HumanTask, ProcessInstance, ProcessVersion, TaskCandidate


def get(session: Session, instance_id: int) -> ProcessInstance | None:
    return session.get(ProcessInstance, instance_id)


def add(session: Session, instance: ProcessInstance) -> ProcessInstance:
    """Insert an instance.

    :raises ConflictError: another unfinished instance of the process took its business key meanwhile.
    """
    session.add(instance)
    _flush(session, instance)
    return instance


def _flush(session: Session, instance: ProcessInstance) -> None:
    key, business_key = instance.process_key, instance.business_key
    try:
        session.flush()
    except IntegrityError as exc:
        if business_key is None:
            raise
        raise ConflictError(f"an unfinished instance of {key} already has business key {business_key!r}") from exc


def save(session: Session, instance: ProcessInstance) -> None:
    """Flush the instance so that a concurrent change shows up now, as a conflict.

    :raises ConflictError: someone else changed the instance since it was loaded.
    """
    instance_id = instance.id  # read before flushing: a failed flush expires the row
    try:
        _flush(session, instance)
    except StaleDataError as exc:
        raise ConflictError(f"instance {instance_id} was changed by someone else; reload and try again") from exc


def _takes_part(user: str, groups: Sequence[str]) -> ColumnElement[bool]:
    """Instances the user started, or of which they hold, did or may work a task."""
    in_groups = exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.group_id.in_(groups))
    has_task = exists().where(
        HumanTask.instance_id == ProcessInstance.id,
        or_(HumanTask.assignee == user, HumanTask.completed_by == user, in_groups),
    )
    return or_(ProcessInstance.started_by == user, has_task)


def takes_part(session: Session, instance_id: int, user: str, groups: Sequence[str]) -> bool:
    stmt = select(ProcessInstance.id).where(ProcessInstance.id == instance_id, _takes_part(user, groups))
    return session.scalars(stmt).first() is not None


def search(
    session: Session,
    process_key: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
    participant: tuple[str, Sequence[str]] | None = None,
    business_key: str | None = None,
) -> tuple[Sequence[ProcessInstance], int]:
    """One page of instances, newest first, and the total; ``participant`` (user, groups) keeps only theirs.

    ``business_key`` matches exactly, or as a prefix when it ends with ``*``.
    """
    stmt = select(ProcessInstance)
    if business_key:
        if business_key.endswith("*"):
            prefix = business_key[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(ProcessInstance.business_key.like(prefix + "%", escape="\\"))
        else:
            stmt = stmt.where(ProcessInstance.business_key == business_key)
    if participant is not None:
        stmt = stmt.where(_takes_part(*participant))
    if process_key:
        stmt = stmt.where(ProcessInstance.process_key == process_key)
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(ProcessInstance.id.desc()).offset(offset).limit(limit)).all()
    return rows, total


ACTIVE_STATUSES = ("running", "error", "suspended")


def active_with_business_key(session: Session, process_key: str, business_key: str) -> ProcessInstance | None:
    """The unfinished instance of a process holding a business key, if any."""
    stmt = select(ProcessInstance).where(
        ProcessInstance.process_key == process_key,
        ProcessInstance.business_key == business_key,
        ProcessInstance.status.in_(ACTIVE_STATUSES),
    )
    return session.scalars(stmt).first()


def has_completed_task(session: Session, instance_id: int) -> bool:
    stmt = select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.status == "completed")
    return session.scalars(stmt.limit(1)).first() is not None


CaseRow = Row[int, str, str, str, str, datetime, datetime | None, str | None]


def cases_of(session: Session, user: str, offset: int, limit: int, count_cap: int) -> tuple[Sequence[CaseRow], int]:
    """One page of the instances a user started or holds or did a task of, newest first, and their count.

    Only the columns a list shows are read (never the stored workflow); the count stops past ``count_cap``.
    """
    took_part = exists().where(
        HumanTask.instance_id == ProcessInstance.id,
        or_(HumanTask.assignee == user, HumanTask.completed_by == user),
    )
    mine = or_(ProcessInstance.started_by == user, took_part)
    stmt = (
        select(
            ProcessInstance.id,
            ProcessInstance.process_key,
            ProcessVersion.name,
            ProcessInstance.title,
            ProcessInstance.status,
            ProcessInstance.started_at,
            ProcessInstance.ended_at,
            ProcessInstance.started_by,
        )
        .join(ProcessVersion, ProcessInstance.process_version_id == ProcessVersion.id)
        .where(mine)
    )
    rows = session.execute(stmt.order_by(ProcessInstance.id.desc()).offset(offset).limit(limit)).all()
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    capped = select(ProcessInstance.id).where(mine).limit(count_cap + 1).subquery()
    return rows, session.scalar(select(func.count()).select_from(capped)) or 0


def completed_task_counts(session: Session, instance_ids: Sequence[int]) -> dict[int, int]:
    if not instance_ids:
        return {}
    stmt = (
        select(HumanTask.instance_id, func.count())
        .where(HumanTask.instance_id.in_(instance_ids), HumanTask.status == "completed")
        .group_by(HumanTask.instance_id)
    )
    return {instance_id: count for instance_id, count in session.execute(stmt)}
