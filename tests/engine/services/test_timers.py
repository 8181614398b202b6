"""Timers: stored with their due time, fired each in its own transaction, never twice, timer start events."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import audit, definitions, instances, task_queue, timers, utcnow

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def timed(session: Session, users: dict[str, str]) -> int:
    definitions.deploy_paths(session, [DATA / "timers.bpmn"], "owner1")
    inst = instances.start_instance(session, "timers", "service1", {"deadline": "PT4H"}, "timers")
    session.commit()
    return inst.id


def names(session: Session, instance_id: int) -> list[str]:
    return sorted(t.name for t in instances.get_instance(session, instance_id).tasks)


def test_waiting_timers_are_stored_with_their_due_time(session: Session, timed: int) -> None:
    inst = instances.get_instance(session, timed)
    [timer] = inst.timers
    assert timer.element_id == "Timer_Escalate"
    assert timedelta(hours=3, minutes=59) < timer.due_at - inst.started_at <= timedelta(hours=4, seconds=5)
    [task] = inst.tasks
    assert task.due_at is not None and abs((task.due_at - timer.due_at).total_seconds()) < 5


def test_nothing_fires_before_it_is_due(session_factory: sessionmaker[Session], session: Session, timed: int) -> None:
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(hours=3)) == 0
    assert names(session, timed) == ["答复"]
    session.commit()


def test_boundary_timer_escalates_while_the_task_stays_open(
    session_factory: sessionmaker[Session], session: Session, timed: int
) -> None:
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(hours=5)) == 1
    session.expire_all()
    assert names(session, timed) == ["升级处理", "答复"]
    assert instances.get_instance(session, timed).timers == ()
    fired = [e for e in audit.list_events(session, timed) if e.type == "timer_fired"]
    assert [(e.actor, e.element_id) for e in fired] == [("system", "Timer_Escalate")]
    # The team lead sees the escalation; service still has the response.
    assert [t.name for t in task_queue.group_tasks(session, "lead1")] == ["升级处理"]


def test_intermediate_timer_waits_then_fires(
    session_factory: sessionmaker[Session], session: Session, timed: int
) -> None:
    [respond] = instances.get_instance(session, timed).tasks
    instances.complete_task(session, respond.id, "service1", {})
    session.commit()
    inst = instances.get_instance(session, timed)
    assert inst.tasks == () and [t.element_id for t in inst.timers] == ["Timer_Wait"]
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(hours=25)) == 1
    session.expire_all()
    assert names(session, timed) == ["回访"]


def test_suspended_instances_keep_their_timers_waiting(
    session_factory: sessionmaker[Session], session: Session, timed: int
) -> None:
    instances.suspend_instance(session, timed, "manager1")
    session.commit()
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(hours=5)) == 0
    instances.resume_instance(session, timed, "manager1")
    session.commit()
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(hours=5)) == 1


def test_parallel_workers_never_fire_a_timer_twice(
    session_factory: sessionmaker[Session], session: Session, users: dict[str, str]
) -> None:
    definitions.deploy_paths(session, [DATA / "timers.bpmn"], "owner1")
    ids = [instances.start_instance(session, "timers", "service1", {"deadline": "PT1H"}, f"t{n}").id for n in range(12)]
    session.commit()
    counts: list[int] = []
    errors: list[BaseException] = []
    later = utcnow() + timedelta(hours=2)

    def work() -> None:
        try:
            counts.append(timers.fire_due_timers(session_factory, later))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    assert sum(counts) == 12
    session.expire_all()
    for instance_id in ids:
        escalations = [t for t in instances.get_instance(session, instance_id).tasks if t.name == "升级处理"]
        assert len(escalations) == 1
        fired = [e for e in audit.list_events(session, instance_id) if e.type == "timer_fired"]
        assert len(fired) == 1


def test_a_timer_start_event_starts_instances(
    session_factory: sessionmaker[Session], session: Session, users: dict[str, str]
) -> None:
    text = (
        (DATA / "timers.bpmn")
        .read_text()
        .replace(
            '<bpmn:startEvent id="StartEvent_1" />',
            '<bpmn:startEvent id="StartEvent_1"><bpmn:timerEventDefinition id="TimerDef_0">'
            '<bpmn:timeDuration>"PT10M"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>',
        )
        .replace('camunda:dueDate="${deadline}"', "")
        .replace(">deadline<", '>"PT4H"<')
    )
    definitions.deploy(session, [("timers.bpmn", text.encode())], "owner1")
    session.commit()
    [waiting] = timers.list_timers(session)
    assert waiting.element_id == "StartEvent_1"
    session.commit()
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(minutes=5)) == 0
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(minutes=11)) == 1
    session.expire_all()
    items, total = instances.list_instances(session, process_key="timers")
    assert total == 1
    assert [t.name for t in instances.get_instance(session, items[0].id).tasks] == ["答复"]


@pytest.mark.parametrize("deadline", ["soon", 5])
def test_a_bad_timer_value_fails_the_instance_naming_the_timer(
    session: Session, users: dict[str, str], deadline: object
) -> None:
    definitions.deploy_paths(session, [DATA / "timers.bpmn"], "owner1")
    inst = instances.start_instance(session, "timers", "service1", {"deadline": deadline}, "bad timer")
    assert inst.status == "error"
    assert inst.error is not None and inst.error.element_id == "Timer_Escalate"
    assert "timer" in inst.error.message


def _loops(session_factory: sessionmaker[Session], count: int) -> tuple[threading.Event, list[threading.Thread]]:
    """Start timer loops that would poll only once an hour: anything they fire, they fired on a wake-up."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=timers.run_loop, args=(session_factory, stop, 3600.0), daemon=True)
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    return stop, threads


def _escalated(session: Session, instance_id: int, guard_seconds: float = 60) -> list[str]:
    """Wait (at most the guard) for the instance's escalation task; return its fired-timer events."""
    deadline = time.monotonic() + guard_seconds
    while time.monotonic() < deadline:
        session.expire_all()
        if "升级处理" in names(session, instance_id):
            break
        time.sleep(0.05)
    return [e.type for e in audit.list_events(session, instance_id) if e.type == "timer_fired"]


def test_a_new_timer_wakes_a_sleeping_loop_and_fires_when_due(
    session_factory: sessionmaker[Session], session: Session, users: dict[str, str]
) -> None:
    definitions.deploy_paths(session, [DATA / "timers.bpmn"], "owner1")
    session.commit()
    stop, threads = _loops(session_factory, 1)
    try:
        time.sleep(0.3)  # the loop found no timer and went to sleep for its hour-long poll interval
        inst = instances.start_instance(session, "timers", "service1", {"deadline": "PT1S"}, "soon")
        session.commit()
        assert names(session, inst.id) == ["答复"]
        assert _escalated(session, inst.id) == ["timer_fired"]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)


def test_several_sleeping_loops_fire_each_timer_once(
    session_factory: sessionmaker[Session], session: Session, users: dict[str, str]
) -> None:
    definitions.deploy_paths(session, [DATA / "timers.bpmn"], "owner1")
    session.commit()
    stop, threads = _loops(session_factory, 3)
    try:
        ids = [
            instances.start_instance(session, "timers", "service1", {"deadline": "PT1S"}, f"t{n}").id for n in range(8)
        ]
        session.commit()
        fired = [_escalated(session, instance_id) for instance_id in ids]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert fired == [["timer_fired"]] * 8
    for instance_id in ids:
        assert names(session, instance_id) == ["升级处理", "答复"]


def test_next_due_is_the_soonest_running_timer(session: Session, timed: int) -> None:
    from engine.repositories import timers as timers_repo

    [waiting] = timers.list_timers(session)
    assert timers_repo.next_due(session) == waiting.due_at
    instances.suspend_instance(session, timed, "manager1")
    assert timers_repo.next_due(session) is None
