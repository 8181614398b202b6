"""Query and write waiting timers; due ones are claimed with FOR UPDATE SKIP LOCKED; new ones are announced.

A committed new or moved timer wakes the timer loops of this process at once, and on PostgreSQL those of
every other process too (NOTIFY, delivered on commit, to connections that LISTEN).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, event, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConflictError
from engine.models import ProcessInstance, Timer


def for_instance(session: Session, instance_id: int) -> Sequence[Timer]:
    return session.scalars(select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at)).all()


CHANNEL = "teamflow_timers"
_PENDING = "teamflow_timer_announced"
log = logging.getLogger(__name__)


class Signal:
    """A wake-up call that any number of waiting loops see: each waits for the count to move past its own."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def count(self) -> int:
        with self._changed:
            return self._count

    def notify(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notification after ``seen``; tell whether one came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count != seen, timeout=max(timeout, 0.0))


TIMERS_CHANGED = Signal()


def add(session: Session, timer: Timer) -> Timer:
    session.add(timer)
    session.flush()
    announce(session)
    return timer


def announce(session: Session) -> None:
    """Wake the timer loops once this transaction commits: a timer was added or moved."""
    if session.info.get(_PENDING):
        return
    session.info[_PENDING] = True
    if not event.contains(session, "after_commit", _committed):
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_rollback", _forget)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, "")))


def _committed(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        TIMERS_CHANGED.notify()


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def listen(engine: Engine, stop: threading.Event) -> None:
    """Turn NOTIFYs from other processes into wake-ups here until ``stop`` is set (PostgreSQL only)."""
    while not stop.is_set():
        try:
            raw: Any = engine.raw_connection()
            try:
                conn = raw.driver_connection
                conn.autocommit = True
                conn.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    for _note in conn.notifies(timeout=1.0, stop_after=1):
                        TIMERS_CHANGED.notify()
            finally:
                raw.invalidate()
        except Exception:
            log.warning("listening for timer notifications failed; retrying", exc_info=True)
            stop.wait(5.0)


def next_due(session: Session) -> datetime | None:
    """The due time of the timer that fires next (of a running instance, or a start timer)."""
    running = select(ProcessInstance.id).where(ProcessInstance.status == "running")
    stmt = select(func.min(Timer.due_at)).where(or_(Timer.instance_id.is_(None), Timer.instance_id.in_(running)))
    return session.scalar(stmt)


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
    """Return one due timer that no other worker holds, or None; its instance is locked for the transaction.

    A timer of an instance takes the instance's lock, as every change to an instance does
    (``instances.lock``); on PostgreSQL SKIP LOCKED passes over instances another worker or a
    person is changing right now, and a later pass takes their timers. A timer start event has no
    instance, so its own row is locked. SQLite has one writer at a time, so the lock clauses are
    left out there.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    due = [Timer.due_at <= now]
    if exclude:
        due.append(Timer.id.not_in(list(exclude)))
    in_instance = (
        select(Timer)
        .join(ProcessInstance, Timer.instance_id == ProcessInstance.id)
        .where(*due, ProcessInstance.status == "running")
        .order_by(Timer.due_at, Timer.id)
        .limit(1)
    )
    starting = select(Timer).where(*due, Timer.instance_id.is_(None)).order_by(Timer.due_at, Timer.id).limit(1)
    if postgres:
        in_instance = in_instance.with_for_update(of=ProcessInstance, skip_locked=True)
        starting = starting.with_for_update(skip_locked=True)
    timer = session.scalars(in_instance).first()
    if timer is not None:
        # Read the row again now that its instance is held: a change that committed meanwhile may have removed it.
        reread = select(Timer).where(Timer.id == timer.id).execution_options(populate_existing=True)
        return session.scalars(reread).first() or claim_next_due(session, now, [*exclude, timer.id])
    return session.scalars(starting).first()


def all_waiting(session: Session) -> Sequence[Timer]:
    return session.scalars(select(Timer).order_by(Timer.due_at)).all()


def start_timers_for_version(session: Session, version_id: int) -> Sequence[Timer]:
    return session.scalars(select(Timer).where(Timer.process_version_id == version_id)).all()


def postpone(session: Session, timer_id: int | None, due_at: datetime) -> None:
    """Move a timer that failed to fire to a later time (if it still exists)."""
    timer = session.get(Timer, timer_id) if timer_id is not None else None
    if timer is not None:
        timer.due_at = due_at
