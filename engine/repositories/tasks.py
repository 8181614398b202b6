"""Query and write the human-task table, its candidate groups and comments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Row, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, undefer
from sqlalchemy.sql import Select

from engine.models import HumanTask, ProcessInstance, ProcessVersion, TaskCandidate, TaskComment


def get(session: Session, task_id: int) -> HumanTask | None:
    return session.get(HumanTask, task_id)


def get_with_form(session: Session, task_id: int) -> HumanTask | None:
    """The task with its form loaded in the same query (completing it validates the form)."""
    return session.get(HumanTask, task_id, options=[undefer(HumanTask.form)])


def add(session: Session, task: HumanTask, groups: Iterable[str]) -> HumanTask:
    session.add(task)
    session.flush()
    for group in dict.fromkeys(groups):
        session.add(TaskCandidate(task_id=task.id, group_id=group))
    return task


def earlier_round(session: Session, task: HumanTask) -> HumanTask | None:
    """The latest completed earlier task of the same step and item in the same instance, if any."""
    stmt = select(HumanTask).where(
        HumanTask.instance_id == task.instance_id,
        HumanTask.element_id == task.element_id,
        HumanTask.status == "completed",
        HumanTask.id < task.id,
    )
    stmt = stmt.where(HumanTask.subject.is_(None) if task.subject is None else HumanTask.subject == task.subject)
    return session.scalars(stmt.order_by(HumanTask.id.desc()).limit(1)).first()


def candidate_groups(session: Session, task_id: int) -> list[str]:
    stmt = select(TaskCandidate.group_id).where(TaskCandidate.task_id == task_id)
    return list(session.scalars(stmt))


def open_for_instance(session: Session, instance_id: int) -> Sequence[HumanTask]:
    stmt = select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
    return session.scalars(stmt.order_by(HumanTask.id)).all()


def open_for_instances(session: Session, instance_ids: Sequence[int]) -> Sequence[HumanTask]:
    if not instance_ids:
        return []
    stmt = select(HumanTask).where(HumanTask.instance_id.in_(instance_ids), HumanTask.status == "open")
    return session.scalars(stmt.order_by(HumanTask.id)).all()


TaskRow = Row[HumanTask, str, str]
RowSelect = Select[HumanTask, str, str]


def _with_titles() -> RowSelect:
    return (
        select(HumanTask, ProcessInstance.title, ProcessVersion.name)
        .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
        .join(ProcessVersion, ProcessInstance.process_version_id == ProcessVersion.id)
    )


def _filtered(
    stmt: RowSelect, process_key: str | None, overdue_at: datetime | None, instance_id: int | None = None
) -> RowSelect:
    if process_key:
        stmt = stmt.where(HumanTask.process_key == process_key)
    if overdue_at is not None:
        stmt = stmt.where(HumanTask.due_at.is_not(None), HumanTask.due_at < overdue_at)
    if instance_id is not None:
        stmt = stmt.where(HumanTask.instance_id == instance_id)
    return stmt


def _queue_order(stmt: RowSelect) -> RowSelect:
    # Due date first (tasks without one last), then priority (higher first), then age. NULLS LAST
    # rather than "due_at IS NULL" first, so that the open-task index on due_at gives the order.
    return stmt.order_by(
        HumanTask.due_at.asc().nulls_last(),
        HumanTask.priority.desc(),
        HumanTask.created_at,
        HumanTask.id,
    )


def _user_queue(user: str) -> RowSelect:
    return _with_titles().where(HumanTask.status == "open", HumanTask.assignee == user)


def _groups_queue(groups: Sequence[str]) -> RowSelect:
    in_groups = exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.group_id.in_(groups))
    return _with_titles().where(HumanTask.status == "open", HumanTask.assignee.is_(None), in_groups)


def for_user(
    session: Session, user: str, process_key: str | None = None, overdue_at: datetime | None = None
) -> Sequence[TaskRow]:
    return session.execute(_queue_order(_filtered(_user_queue(user), process_key, overdue_at))).all()


def for_groups(
    session: Session, groups: Sequence[str], process_key: str | None = None, overdue_at: datetime | None = None
) -> Sequence[TaskRow]:
    if not groups:
        return []
    return session.execute(_queue_order(_filtered(_groups_queue(groups), process_key, overdue_at))).all()


def queue_page(
    session: Session,
    user: str,
    groups: Sequence[str] | None,
    process_key: str | None,
    overdue_at: datetime | None,
    offset: int,
    limit: int,
    count_cap: int,
) -> tuple[Sequence[TaskRow], int]:
    """One page of a queue and its size counted up to ``count_cap`` (past it, ``count_cap + 1``).

    ``groups`` None asks for the user's own tasks, else for the unclaimed tasks of those groups. The
    count stops early so that it costs the same with a hundred thousand open tasks as with a thousand.
    """
    if groups is not None and not groups:
        return [], 0
    stmt = _filtered(_user_queue(user) if groups is None else _groups_queue(groups), process_key, overdue_at)
    rows = session.execute(_queue_order(stmt).offset(offset).limit(limit)).all()
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    # Count the task rows alone: the joins only add titles, and every task has its instance and version.
    where = stmt.whereclause
    counted = select(HumanTask.id) if where is None else select(HumanTask.id).where(where)
    capped = counted.limit(count_cap + 1).subquery()
    return rows, session.scalar(select(func.count()).select_from(capped)) or 0


def search(
    session: Session,
    status: str | None = None,
    process_key: str | None = None,
    instance_id: int | None = None,
    overdue_at: datetime | None = None,
    limit: int = 500,
) -> Sequence[TaskRow]:
    stmt = _with_titles()
    if status:
        stmt = stmt.where(HumanTask.status == status)
    stmt = _filtered(stmt, process_key, overdue_at, instance_id)
    return session.execute(_queue_order(stmt).limit(limit)).all()


def completed_by(session: Session, user: str, limit: int = 100) -> Sequence[TaskRow]:
    stmt = _with_titles().where(HumanTask.status == "completed", HumanTask.completed_by == user)
    return session.execute(stmt.order_by(HumanTask.completed_at.desc()).limit(limit)).all()


def visible_to(
    session: Session, user: str, groups: Sequence[str], status: str | None, process_key: str | None
) -> Sequence[TaskRow]:
    in_groups = exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.group_id.in_(groups))
    stmt = _with_titles().where(or_(HumanTask.assignee == user, HumanTask.completed_by == user, in_groups))
    if status:
        stmt = stmt.where(HumanTask.status == status)
    return session.execute(_queue_order(_filtered(stmt, process_key, None)).limit(500)).all()


def new_since(
    session: Session, user: str, groups: Sequence[str], since: datetime | None, cap: int | None = None
) -> int:
    """Count open tasks waiting for the user, stopping past ``cap`` when one is given."""
    in_groups = exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.group_id.in_(groups))
    stmt = select(HumanTask.id).where(
        HumanTask.status == "open",
        or_(HumanTask.assignee == user, and_(HumanTask.assignee.is_(None), in_groups)),
    )
    if since is not None:
        stmt = stmt.where(HumanTask.created_at > since)
    if cap is not None:
        stmt = stmt.limit(cap + 1)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def add_comment(session: Session, comment: TaskComment) -> TaskComment:
    session.add(comment)
    session.flush()
    return comment


def claim_unnotified(session: Session, now: datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` open tasks nobody was told about as told, and return their ids.

    One UPDATE both picks and marks the rows, so two senders at once never get the same task.
    """
    pending = (
        select(HumanTask.id)
        .where(HumanTask.notified_at.is_(None), HumanTask.status == "open")
        .order_by(HumanTask.id)
        .limit(limit)
        .scalar_subquery()
    )
    stmt = (
        update(HumanTask)
        .where(HumanTask.id.in_(pending), HumanTask.notified_at.is_(None))
        .values(notified_at=now)
        .returning(HumanTask.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(stmt).all())


def with_titles(session: Session, task_ids: Sequence[int]) -> Sequence[TaskRow]:
    if not task_ids:
        return []
    return session.execute(_with_titles().where(HumanTask.id.in_(task_ids)).order_by(HumanTask.id)).all()


def claim(session: Session, task_id: int, user: str, now: datetime) -> bool:
    """Give an open, unclaimed task to ``user``; False when someone else got it first.

    The condition sits in the UPDATE itself, so two people claiming at once cannot both win.
    """
    stmt = (
        update(HumanTask)
        .where(HumanTask.id == task_id, HumanTask.status == "open", HumanTask.assignee.is_(None))
        .values(assignee=user, claimed_at=now)
        .execution_options(synchronize_session="fetch")
    )
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]
    return bool(result.rowcount)
