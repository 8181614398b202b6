"""External tasks: fetch and lock by topic, complete, fail with retries, incidents, BPMN errors, locks."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import (
    ConflictError,
    DefinitionError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    audit,
    definitions,
    external_tasks,
    instances,
    people,
    task_queue,
)
from engine.db import utcnow

DATA = Path(__file__).resolve().parents[1] / "data"
RESERVE = external_tasks.TopicRequest("reserve-stock", 60_000)


@pytest.fixture
def order(session: Session, users: dict[str, str]) -> int:
    definitions.deploy_paths(session, [DATA / "external.bpmn"], "owner1")
    people.create_user(session, "stock", "secret", roles=["worker"])
    inst = instances.start_instance(session, "external_order", "sales1", {"sku": "A-1"}, "订单", business_key="SO-1")
    session.commit()
    return inst.id


def fetch(session: Session, worker: str = "w1", topics=(RESERVE,), max_tasks: int = 10):  # type: ignore[no-untyped-def]
    locked = external_tasks.fetch_and_lock(session, worker, "stock", list(topics), max_tasks)
    session.commit()
    return locked


def open_names(session: Session, instance_id: int) -> list[str]:
    return [t.name for t in task_queue.list_tasks(session, instance_id=instance_id, status="open")]


def test_a_worker_locks_the_task_once_and_completing_runs_the_instance_on(session: Session, order: int) -> None:
    [task] = fetch(session)
    assert (task.topic, task.instance_id, task.business_key, task.priority) == ("reserve-stock", order, "SO-1", 5)
    assert task.worker_id == "w1" and task.variables == {"sku": "A-1"} and task.lock_expires_at > utcnow()
    assert fetch(session, "w2") == []
    with pytest.raises(ConflictError, match="cannot be completed by worker 'w2'. It is locked by worker 'w1'"):
        external_tasks.complete(session, task.id, "stock", "w2", {})
    session.rollback()
    external_tasks.complete(session, task.id, "stock", "w1", {"reserved": 3})
    session.commit()
    assert open_names(session, order) == ["发货"]
    assert instances.get_instance(session, order).data == {"sku": "A-1", "reserved": 3}
    [done] = [e for e in audit.list_events(session, order) if e.type == "external_task_completed"]
    assert done.actor == "stock" and done.data["worker_id"] == "w1" and done.data["variables"] == {"reserved": 3}
    with pytest.raises(NotFoundError, match=f"External task with id {task.id} does not exist"):
        external_tasks.complete(session, task.id, "stock", "w1", {})


def test_an_expired_lock_returns_the_task_and_its_old_worker_cannot_complete(session: Session, order: int) -> None:
    [task] = fetch(session)
    from engine.models import ExternalTask

    row = session.get(ExternalTask, task.id)
    assert row is not None
    row.lock_expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(ConflictError, match="lock expired"):
        external_tasks.complete(session, task.id, "stock", "w1", {})
    session.rollback()
    [again] = fetch(session, "w2")
    assert again.id == task.id and again.worker_id == "w2"
    external_tasks.extend_lock(session, task.id, "stock", "w2", 120_000)
    external_tasks.unlock(session, task.id, "stock")
    session.commit()
    assert [t.worker_id for t in fetch(session, "w3")] == ["w3"]


def test_failures_retry_after_their_timeout_and_the_last_one_is_an_incident_a_manager_retries(
    session: Session, order: int
) -> None:
    [task] = fetch(session)
    external_tasks.handle_failure(session, task.id, "stock", "w1", "仓库系统超时", "trace", 1, 0)
    session.commit()
    [again] = fetch(session)
    assert (again.retries, again.error_message) == (1, "仓库系统超时")
    external_tasks.handle_failure(session, task.id, "stock", "w1", "仍然超时", None, 1, 3_600_000)
    session.commit()
    assert fetch(session) == []  # waits for its retry timeout
    external_tasks.set_retries(session, task.id, "stock", 1)
    session.commit()
    [third] = fetch(session)
    external_tasks.handle_failure(session, third.id, "stock", "w1", "彻底失败", None, 0)
    session.commit()
    failed = instances.get_instance(session, order)
    assert failed.status == "error" and failed.error is not None
    assert failed.error.element_id == "Task_Reserve" and "彻底失败" in failed.error.message
    assert fetch(session) == []
    instances.retry_instance(session, order, "manager1")
    session.commit()
    assert instances.get_instance(session, order).status == "running"
    [fourth] = fetch(session)
    external_tasks.complete(session, fourth.id, "stock", "w1", {})
    session.commit()
    assert open_names(session, order) == ["发货"]


def test_a_bpmn_error_is_caught_by_the_boundary_event(session: Session, order: int) -> None:
    [task] = fetch(session)
    assert external_tasks.handle_bpmn_error(session, task.id, "stock", "w1", "OUT_OF_STOCK", "没货", {"eta": 7})
    session.commit()
    assert open_names(session, order) == ["补货"]
    assert instances.get_instance(session, order).data["eta"] == 7
    with pytest.raises(NotFoundError):
        external_tasks.complete(session, task.id, "stock", "w1", {})


def test_an_uncaught_bpmn_error_is_an_incident(session: Session, order: int) -> None:
    [task] = fetch(session)
    assert not external_tasks.handle_bpmn_error(session, task.id, "stock", "w1", "NO_SUCH_CODE")
    session.commit()
    failed = instances.get_instance(session, order)
    assert failed.status == "error" and failed.error is not None and "NO_SUCH_CODE" in failed.error.message
    [incident] = external_tasks.list_tasks(session, "manager1", incidents_only=True)
    assert incident.id == task.id and incident.retries == 0


def test_bad_calls_are_refused_naming_the_field_and_change_nothing(session: Session, order: int) -> None:
    with pytest.raises(PermissionDeniedError):
        external_tasks.fetch_and_lock(session, "w1", "sales1", [RESERVE], 1)
    for call, field in (
        (lambda: external_tasks.fetch_and_lock(session, "", "stock", [RESERVE], 1), "workerId"),
        (lambda: external_tasks.fetch_and_lock(session, "w1", "stock", [RESERVE], -1), "maxTasks"),
        (
            lambda: external_tasks.fetch_and_lock(
                session, "w1", "stock", [external_tasks.TopicRequest("reserve-stock", 0)], 1
            ),
            "lockDuration",
        ),
    ):
        with pytest.raises(InvalidInputError) as info:
            call()
        assert info.value.problems[0].field == field
    [task] = fetch(session)
    with pytest.raises(InvalidInputError) as info:
        external_tasks.handle_failure(session, task.id, "stock", "w1", "x", None, -1)
    assert info.value.problems[0].field == "retries"
    session.rollback()
    assert external_tasks.get_task(session, task.id, "stock").retries is None


def test_exactly_one_of_many_racing_workers_completes_each_task(
    session_factory: sessionmaker[Session], session: Session, order: int
) -> None:
    for n in range(5):
        instances.start_instance(session, "external_order", "sales1", {"n": n}, f"订单 {n}")
    session.commit()
    locked: list[list[int]] = []
    completed: list[int] = []
    barrier = threading.Barrier(4)

    def work(worker: str) -> None:
        with session_factory() as own:
            barrier.wait()
            tasks = external_tasks.fetch_and_lock(own, worker, "stock", [RESERVE], 10)
            own.commit()
            locked.append([t.id for t in tasks])
            for task in tasks:
                for attempt in (worker, "intruder"):
                    try:
                        external_tasks.complete(own, task.id, "stock", attempt, {"by": worker})
                        own.commit()
                        completed.append(task.id)
                    except (ConflictError, NotFoundError):
                        own.rollback()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = sorted(i for ids in locked for i in ids)
    assert len(everything) == 6 and len(set(everything)) == 6
    assert sorted(completed) == everything
    assert len(task_queue.list_tasks(session, status="open")) == 6


def test_send_tasks_and_message_throw_and_end_events_can_be_external_tasks(session: Session, order: int) -> None:
    definitions.deploy_paths(session, [DATA / "external_events.bpmn"], "owner1")
    inst = instances.start_instance(session, "external_notify", "sales1", {"to": "华信"}, "通知")
    session.commit()
    for topic, element in (("mail", "Send_Mail"), ("sms", "Throw_Sms"), ("notify", "End_Notify")):
        [task] = fetch(session, topics=[external_tasks.TopicRequest(topic, 60_000)])
        assert (task.element_id, task.variables["to"]) == (element, "华信")
        external_tasks.complete(session, task.id, "stock", "w1", {f"{topic}_sent": True})
        session.commit()
    done = instances.get_instance(session, inst.id)
    assert done.status == "completed" and done.data["mail_sent"] and done.data["notify_sent"]


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ('camunda:type="external"', "has no camunda:topic"),
        ('camunda:type="external" camunda:topic="${x}"', "plain name"),
    ],
)
def test_an_external_task_needs_a_plain_topic(
    session: Session, users: dict[str, str], attributes: str, message: str
) -> None:
    text = (
        (DATA / "external.bpmn")
        .read_text()
        .replace('camunda:type="external" camunda:topic="reserve-stock"', attributes)
    )
    with pytest.raises(DefinitionError) as info:
        definitions.deploy(session, [("external.bpmn", text.encode())], "owner1")
    [problem] = info.value.problems
    assert problem.element_id == "Task_Reserve" and message in problem.message
