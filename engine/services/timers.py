"""Fire due timers, each in its own transaction; several workers may share the table."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from engine.bpmn import runner, timer_values
from engine.db import begin_writing, utcnow
from engine.errors import ConflictError
from engine.models import Timer
from engine.repositories import audit
from engine.repositories import definitions as definitions_repo
from engine.repositories import instances as instances_repo
from engine.repositories import timers as repo
from engine.services import instances, people, projection
from engine.views import TimerView

log = logging.getLogger(__name__)
MAX_PER_CALL = 1000
PAST_DUE_WAIT = 0.5
RETRIES = 3


def fire_due_timers(session_factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """Fire every timer due by ``now`` (default: the current time); return how many fired.

    Each timer fires in a transaction of its own. Passing a later ``now`` fires timers early,
    as if that time had come (tests and the "fire now" action use it). A timer whose instance
    changed underneath is tried again at once, a few times; one that fails otherwise waits a minute.
    """
    fired = 0
    seen: set[int] = set()
    conflicts: dict[int, int] = {}
    while fired + len(seen) < MAX_PER_CALL:
        timer_id = None
        try:
            with session_factory.begin() as session:
                begin_writing(session)
                timer = repo.claim_next_due(session, now or utcnow(), exclude=seen)
                if timer is None:
                    break
                timer_id = timer.id
                seen.add(timer_id)
                _fire(session, timer)
            fired += 1
        except ConflictError:
            # Someone changed the instance meanwhile (or another worker fired the timer): look again.
            if timer_id is not None and conflicts.setdefault(timer_id, 0) < RETRIES:
                conflicts[timer_id] += 1
                seen.discard(timer_id)
            continue
        except Exception:
            log.exception("timer %s could not fire; retrying in a minute", timer_id)
            with session_factory.begin() as session:
                begin_writing(session)
                repo.postpone(session, timer_id, utcnow() + timedelta(minutes=1))
    return fired


def _fire(session: Session, timer: Timer) -> None:
    if timer.instance_id is None:
        _fire_start_timer(session, timer)
        return
    instance = instances_repo.get(session, timer.instance_id)
    if instance is None or instance.status != "running":
        return
    workflow = projection.load(session, instance)
    audit.record(
        session,
        "timer_fired",
        people.SYSTEM,
        instance.id,
        instance.process_key,
        timer.element_id,
        {"due_at": timer.due_at.isoformat()},
    )
    try:
        if not runner.fire_timer(workflow, timer.spiff_task_id or "", projection.PRUNE_DEPTH):
            repo.remove(session, timer)
            return
    except runner.WorkflowFailure as failure:
        projection.record_failure(session, instance, failure, people.SYSTEM)
    projection.save(session, instance, workflow, people.SYSTEM)


def _fire_start_timer(session: Session, timer: Timer) -> None:
    """Start an instance for a timer start event; a cycle schedules its next firing from this one."""
    version = definitions_repo.get_by_id(session, timer.process_version_id or 0)
    if version is None:
        repo.remove(session, timer)
        return
    audit.record(
        session, "timer_fired", people.SYSTEM, None, version.key, timer.element_id, {"due_at": timer.due_at.isoformat()}
    )
    detail = instances.start_instance(session, version.key, people.SYSTEM, {}, f"{version.name} ({timer.element_id})")
    instance = instances_repo.get(session, detail.id)
    assert instance is not None
    workflow = projection.load(session, instance)
    cron_due = None
    try:
        for waiting in [t for t in runner.waiting_timers(workflow) if t.is_start]:
            runner.fire_timer(workflow, waiting.spiff_id, projection.PRUNE_DEPTH)
            if waiting.cron:
                cron_due = timer_values.cron_next(waiting.cron, max(timer.due_at, utcnow()))
    except runner.WorkflowFailure as failure:
        projection.record_failure(session, instance, failure, people.SYSTEM)
    projection.save(session, instance, workflow, people.SYSTEM)
    left = timer.repeat_left
    if cron_due is not None:
        # A cron cycle (Quartz) fires at its next matching time, not after a fixed interval.
        timer.due_at = cron_due
    elif left is not None and left != 1 and timer.interval_seconds:
        timer.repeat_left = left - 1 if left > 0 else left
        timer.due_at = timer.due_at + timedelta(seconds=timer.interval_seconds)
    else:
        repo.remove(session, timer)


def run_loop(
    session_factory: sessionmaker[Session],
    stop: threading.Event,
    poll_seconds: float,
    after_each: Callable[[], object] = lambda: None,
) -> None:
    """Fire due timers until ``stop`` is set, sleeping until the next one is due or a new one is committed.

    ``after_each`` runs after every round (the web app sends task notifications there).
    """
    listen_for_timers(session_factory, stop)
    while not stop.is_set():
        checked = utcnow()
        try:
            fired = fire_due_timers(session_factory, checked)
            after_each()
        except Exception:
            log.exception("timer run failed")
            fired = 0
        if fired:
            continue
        try:
            wait_for_due(session_factory, stop, poll_seconds, checked)
        except Exception:
            log.exception("looking for the next timer failed")
            stop.wait(poll_seconds)


def wait_for_due(
    session_factory: sessionmaker[Session],
    stop: threading.Event,
    poll_seconds: float,
    checked: datetime | None = None,
) -> None:
    """Sleep until the next timer falls due, a new timer is committed, ``stop`` is set, or ``poll_seconds`` pass.

    ``checked`` is when the loop last fired what was due: a timer already due then is left for a moment.

    A timer committed by this process wakes it at once; on PostgreSQL so does one committed by any other
    process (see ``listen_for_timers``). The poll interval bounds the sleep for anything else.
    """
    seen = repo.TIMERS_CHANGED.count()
    with session_factory() as session:
        due = repo.next_due(session)
    if due is not None and checked is not None and due <= checked:
        # Due when this loop last looked, yet not fired: another worker holds it, or it waits for its retry.
        wait = min(poll_seconds, PAST_DUE_WAIT)
    else:
        wait = poll_seconds if due is None else min(poll_seconds, (due - utcnow()).total_seconds())
    # Sleep in short slices so that ``stop`` is seen promptly; a wake-up ends the sleep at once.
    remaining = wait
    while remaining > 0 and not stop.is_set():
        slice_ = min(remaining, 0.25)
        if repo.TIMERS_CHANGED.wait(seen, slice_):
            return
        remaining -= slice_


def listen_for_timers(session_factory: sessionmaker[Session], stop: threading.Event) -> threading.Thread | None:
    """On PostgreSQL, start a thread that wakes this process's timer loops when another process adds a timer."""
    engine = session_factory.kw["bind"]
    if engine.dialect.name != "postgresql":
        return None
    thread = threading.Thread(target=repo.listen, args=(engine, stop), name="teamflow-timer-listen", daemon=True)
    thread.start()
    return thread


def list_timers(session: Session) -> list[TimerView]:
    """Every waiting timer, soonest first."""
    return [TimerView(t.id, t.instance_id or 0, t.element_id, t.due_at) for t in repo.all_waiting(session)]
