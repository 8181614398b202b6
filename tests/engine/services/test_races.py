"""Concurrent changes to one instance: the loser of a race gets a ConflictError, parallel branches both win."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import ConflictError, audit, begin_writing, definitions, instances, people, task_queue, timers, utcnow

DATA = Path(__file__).resolve().parents[1] / "data"
PROCESSES = Path(__file__).resolve().parents[3] / "processes"
COMPLAINT = {
    "customer_name": "华信科技有限公司",
    "customer_contact": "13800000000",
    "channel": "phone",
    "category": "billing",
    "tier": "vip",
    "description": "发票金额有误",
}
RESPONSE = {"response_channel": "phone", "customer_reached": True, "response_note": "已致电客户"}


def race(factory: sessionmaker[Session], calls: list[Callable[[Session], Any]]) -> list[str]:
    """Run each call in a thread and writing transaction of its own, all at once; return "ok" or "conflict" each.

    Anything but a ConflictError is returned as its repr, so a test comparing outcomes shows it.
    A call marked ``OWN_SESSIONS`` opens its sessions itself (the timer runner) and gets none.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = ["not run"] * len(calls)

    def run(index: int, call: Callable[[Session], Any]) -> None:
        barrier.wait()
        try:
            if getattr(call, OWN_SESSIONS, False):
                call(None)  # type: ignore[arg-type]
            else:
                with factory() as session:
                    begin_writing(session)
                    call(session)
                    session.commit()
            outcomes[index] = "ok"
        except ConflictError:
            outcomes[index] = "conflict"
        except Exception as exc:  # noqa: BLE001 - reported through the outcome
            outcomes[index] = repr(exc)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


OWN_SESSIONS = "own_sessions"


@pytest.fixture
def sales_people(session: Session, users: dict[str, str]) -> list[str]:
    """Twenty members of the sales group."""
    names = [f"seller{n}" for n in range(20)]
    for name in names:
        people.create_user(session, name, "secret", groups=["sales"], roles=["staff"])
    session.commit()
    return names


def start(session: Session, key: str, path: Path, data: dict[str, Any] | None = None) -> int:
    definitions.deploy_paths(session, [path], "owner1")
    instance_id = instances.start_instance(session, key, "sales1", data or {}, key).id
    session.commit()
    return instance_id


def open_tasks(session: Session, instance_id: int) -> dict[str, Any]:
    session.expire_all()
    return {t.element_id: t for t in task_queue.list_tasks(session, instance_id=instance_id, status="open")}


def first_task(session: Session, instance_id: int) -> Any:
    task = open_tasks(session, instance_id)["Task_Enter"]
    session.commit()  # end the read before the race
    return task


def start_simple(session: Session) -> tuple[int, Any]:
    """Start the simple process; return the instance and its first task (an amount above 50 leads to a review)."""
    instance_id = start(session, "simple", DATA / "simple.bpmn", {"divisor_check": 0})
    return instance_id, first_task(session, instance_id)


def events(session: Session, instance_id: int, kind: str) -> list[Any]:
    return [e for e in audit.list_events(session, instance_id) if e.type == kind]


def test_twenty_people_completing_one_task_one_wins(
    session_factory: sessionmaker[Session], session: Session, sales_people: list[str]
) -> None:
    instance_id, task = start_simple(session)

    def complete(name: str, amount: int) -> Callable[[Session], Any]:
        return lambda s: instances.complete_task(s, task.id, name, {"amount": amount})

    outcomes = race(session_factory, [complete(name, n + 1) for n, name in enumerate(sales_people)])
    assert sorted(outcomes) == ["conflict"] * 19 + ["ok"]
    winner = outcomes.index("ok")
    session.expire_all()
    detail = instances.get_instance(session, instance_id)
    assert detail.data["amount"] == winner + 1
    [done] = task_queue.list_tasks(session, instance_id=instance_id, status="completed")
    assert done.completed_by == sales_people[winner]
    assert len(events(session, instance_id, "completed")) == 1
    assert [t.element_id for t in detail.tasks] == ([] if winner + 1 <= 50 else ["Task_Review"])


def test_claim_races_have_one_winner(
    session_factory: sessionmaker[Session], session: Session, sales_people: list[str]
) -> None:
    instance_id, task = start_simple(session)
    claimers = sales_people[:10]
    outcomes = race(session_factory, [lambda s, n=name: instances.claim_task(s, task.id, n) for name in claimers])
    assert sorted(outcomes) == ["conflict"] * 9 + ["ok"]
    assert open_tasks(session, instance_id)["Task_Enter"].assignee == claimers[outcomes.index("ok")]
    assert len(events(session, instance_id, "claimed")) == 1


def test_a_completion_racing_a_claim_leaves_one_consistent_answer(
    session_factory: sessionmaker[Session], session: Session, sales_people: list[str]
) -> None:
    doer, claimer = sales_people[:2]
    for _ in range(3):
        instance_id, task = start_simple(session)
        outcomes = race(
            session_factory,
            [
                lambda s, t=task.id: instances.complete_task(s, t, doer, {"amount": 5}),
                lambda s, t=task.id: instances.claim_task(s, t, claimer),
            ],
        )
        assert sorted(outcomes) == ["conflict", "ok"]
        left = open_tasks(session, instance_id)
        if outcomes[0] == "ok":  # completed first: nothing left to claim
            assert left == {} and not events(session, instance_id, "claimed")
        else:  # claimed first: the task waits for the claimer
            assert left["Task_Enter"].assignee == claimer and not events(session, instance_id, "completed")


def test_parallel_branches_completed_at_once_are_both_stored(
    session_factory: sessionmaker[Session], session: Session, sales_people: list[str]
) -> None:
    for _ in range(3):
        instance_id = start(session, "parallel", DATA / "parallel.bpmn")
        tasks = open_tasks(session, instance_id)
        session.commit()
        assert sorted(tasks) == ["Task_Left", "Task_Right"]
        left, right = tasks["Task_Left"].id, tasks["Task_Right"].id
        outcomes = race(
            session_factory,
            [
                lambda s, t=left: instances.complete_task(s, t, sales_people[0], {"left_note": "左边好了"}),
                lambda s, t=right: instances.complete_task(s, t, sales_people[1], {"right_note": "右边好了"}),
            ],
        )
        assert outcomes == ["ok", "ok"]
        data = instances.get_instance(session, instance_id).data
        assert (data["left_note"], data["right_note"]) == ("左边好了", "右边好了")
        assert sorted(open_tasks(session, instance_id)) == ["Task_Check"]
        assert len(events(session, instance_id, "completed")) == 2


def test_a_completion_racing_the_escalation_timer_both_take_effect(
    session_factory: sessionmaker[Session], session: Session, users: dict[str, str]
) -> None:
    definitions.deploy_paths(session, [PROCESSES / "complaint.bpmn", PROCESSES / "complaint_severity.dmn"], "owner1")
    session.commit()
    for _ in range(4):
        instance_id = instances.start_instance(session, "complaint", "service1", {}, "投诉").id
        session.commit()
        record = open_tasks(session, instance_id)["Task_RecordComplaint"]
        instances.complete_task(session, record.id, "service1", COMPLAINT)
        session.commit()
        response = open_tasks(session, instance_id)["Task_FirstResponse"]
        session.commit()
        fired: list[int] = []

        def fire(_: Session, fired: list[int] = fired) -> None:
            fired.append(timers.fire_due_timers(session_factory, utcnow() + timedelta(hours=3)))

        setattr(fire, OWN_SESSIONS, True)
        outcomes = race(
            session_factory, [lambda s, t=response.id: instances.complete_task(s, t, "service1", RESPONSE), fire]
        )
        assert outcomes == ["ok", "ok"]
        left = open_tasks(session, instance_id)
        # The timer either fired first (the escalation stays open beside the investigation) or found the
        # response done and the deadline gone; it never fires after the response, nor twice.
        assert ("Task_EscalateResponse" in left) == (fired == [1])
        assert "Task_Investigate" in left and "Task_FirstResponse" not in left
        assert len(events(session, instance_id, "timer_fired")) == fired[0]
        assert [t.element_id for t in timers.list_timers(session) if t.instance_id == instance_id] == []
        session.commit()


def test_a_managers_action_racing_a_completion(
    session_factory: sessionmaker[Session], session: Session, sales_people: list[str]
) -> None:
    for action in (instances.terminate_instance, instances.suspend_instance):
        instance_id, task = start_simple(session)
        outcomes = race(
            session_factory,
            [
                lambda s, t=task.id: instances.complete_task(s, t, sales_people[0], {"amount": 500}),
                lambda s, a=action, i=instance_id: a(s, i, "manager1"),
            ],
        )
        assert outcomes[1] == "ok"
        session.expire_all()
        completed = bool(events(session, instance_id, "completed"))
        assert completed == (outcomes[0] == "ok")
        if outcomes[0] == "conflict":
            assert instances.get_instance(session, instance_id).status in ("terminated", "suspended")
        session.commit()


def test_a_timer_whose_instance_changed_is_tried_again_at_once(
    session_factory: sessionmaker[Session], session: Session, users: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    definitions.deploy_paths(session, [DATA / "timers.bpmn"], "owner1")
    instance_id = instances.start_instance(session, "timers", "service1", {"deadline": "PT1H"}, "t").id
    session.commit()
    real_fire, calls = timers._fire, []

    def fire_once_late(s: Session, timer: Any) -> None:
        calls.append(timer.id)
        if len(calls) == 1:
            raise ConflictError("instance changed by someone else")
        real_fire(s, timer)

    monkeypatch.setattr(timers, "_fire", fire_once_late)
    assert timers.fire_due_timers(session_factory, utcnow() + timedelta(hours=2)) == 1
    assert len(calls) == 2 and calls[0] == calls[1]
    assert "Task_Escalation" in open_tasks(session, instance_id)
