"""Fire due timers, each in its own transaction; several workers may share the table."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from engine.bpmn import runner, timer_values
from engine.db import utcnow
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


def fire_due_timers(session_factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """Fire every timer due by ``now`` (default: the current time); return how many fired.

    Each timer fires in a transaction of its own. Passing a later ``now`` fires timers early,
    as if that time had come (tests and the "fire now" action use it).
    """
    fired = 0
    seen: set[int] = set()
    while fired + len(seen) < MAX_PER_CALL:
        timer_id = None
        try:
            with session_factory.begin() as session:
                timer = repo.claim_next_due(session, now or utcnow(), exclude=seen)
                if timer is None:
                    break
                timer_id = timer.id
                seen.add(timer_id)
                _fire(session, timer)
            fired += 1
        except ConflictError:
            # Another worker fired it first (its row or its instance changed): nothing to do.
            continue
        except Exception:
            log.exception("timer %s could not fire; retrying in a minute", timer_id)
            with session_factory.begin() as session:
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


def list_timers(session: Session) -> list[TimerView]:
    """Every waiting timer, soonest first."""
    return [TimerView(t.id, t.instance_id or 0, t.element_id, t.due_at) for t in repo.all_waiting(session)]
