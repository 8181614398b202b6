"""Query and write waiting timers; due ones are claimed with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConflictError
from engine.models import ProcessInstance, Timer


def for_instance(session: Session, instance_id: int) -> Sequence[Timer]:
    return session.scalars(select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at)).all()


def add(session: Session, timer: Timer) -> Timer:
    session.add(timer)
    session.flush()
    return timer


def remove(session: Session, timer: Timer) -> None:
    """Delete a timer; a row another worker deleted first becomes a ConflictError."""
    timer_id = timer.id
    session.delete(timer)
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(f"timer {timer_id} was fired by another worker") from exc


def remove_for_instance(session: Session, instance_id: int) -> None:
    session.execute(delete(Timer).where(Timer.instance_id == instance_id))


def claim_next_due(session: Session, now: datetime, exclude: Collection[int] = ()) -> Timer | None:
    """Lock and return one due timer that no other worker holds, or None.

    On PostgreSQL the row lock with SKIP LOCKED lets many workers share the table; SQLite has one
    writer at a time, so the lock clause is simply left out there.
    """
    running = select(ProcessInstance.id).where(ProcessInstance.status == "running")
    stmt = select(Timer).where(Timer.due_at <= now, or_(Timer.instance_id.is_(None), Timer.instance_id.in_(running)))
    if exclude:
        stmt = stmt.where(Timer.id.not_in(list(exclude)))
    stmt = stmt.order_by(Timer.due_at, Timer.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return session.scalars(stmt).first()


def all_waiting(session: Session) -> Sequence[Timer]:
    return session.scalars(select(Timer).order_by(Timer.due_at)).all()


def start_timers_for_version(session: Session, version_id: int) -> Sequence[Timer]:
    return session.scalars(select(Timer).where(Timer.process_version_id == version_id)).all()


def postpone(session: Session, timer_id: int | None, due_at: datetime) -> None:
    """Move a timer that failed to fire to a later time (if it still exists)."""
    timer = session.get(Timer, timer_id) if timer_id is not None else None
    if timer is not None:
        timer.due_at = due_at
