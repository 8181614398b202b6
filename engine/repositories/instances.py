"""Query and write process instances; a stale row version becomes a ConflictError."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import ColumnElement, Row, exists, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConflictError
from engine.models import HumanTask, ProcessInstance, ProcessVersion, TaskCandidate


def get(session: Session, instance_id: int) -> ProcessInstance | None:
    return session.get(ProcessInstance, instance_id)


# PostgreSQL's codes for "waited too long for a lock" and "deadlock": another change got there first.
LOST_RACE_CODES = ("55P03", "40P01")


def lock(session: Session, instance_id: int) -> ProcessInstance | None:
    """Load the instance and hold its row until the transaction ends, rereading it if already loaded.

    Every change to an instance takes this lock first, so two changes to one instance run one
    after the other and the second sees what the first committed. SQLite has no row locks; there a
    writer's transaction holds the whole database (``engine.db.begin_writing``).

    :raises ConflictError: another change held the instance for too long.
    """
    with version_checked(instance_id):
        return session.get(ProcessInstance, instance_id, with_for_update=True, populate_existing=True)


@contextmanager
def version_checked(instance_id: int) -> Iterator[None]:
    """Turn a lost race inside the block (a stale row version, a lock wait or deadlock) into a ConflictError.

    Any flush can find the row version stale, including the autoflush before a query, so the
    whole change runs inside this block rather than only its last flush.
    """
    try:
        yield
    except StaleDataError as exc:
        raise ConflictError(f"instance {instance_id} was changed by someone else; reload and try again") from exc
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) in LOST_RACE_CODES:
            raise ConflictError(f"instance {instance_id} is busy with another change; try again") from exc
        raise


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
    with version_checked(instance.id):
        _flush(session, instance)


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
