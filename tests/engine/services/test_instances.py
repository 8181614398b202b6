"""Instances and their tasks: start, claim, assign, complete with form checks, suspend, terminate, retry, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    audit,
    definitions,
    instances,
    task_queue,
)

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def simple(session: Session, users: dict[str, str]) -> int:
    definitions.deploy_paths(session, [DATA / "simple.bpmn"], "owner1")
    inst = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "订单 1")
    session.commit()
    return inst.id


def open_task(session: Session, instance_id: int):  # type: ignore[no-untyped-def]
    [task] = task_queue.list_tasks(session, instance_id=instance_id, status="open")
    return task


def test_start_projects_the_first_task_with_group_due_date_and_priority(session: Session, simple: int) -> None:
    inst = instances.get_instance(session, simple)
    assert (inst.status, inst.title, inst.process_key, inst.version) == ("running", "订单 1", "simple", 1)
    assert inst.data == {"divisor_check": 0}
    [task] = inst.tasks
    assert (task.element_id, task.name, task.group, task.priority) == ("Task_Enter", "填写", "sales", 70)
    assert task.due_at is not None and 47 * 3600 < (task.due_at - task.created_at).total_seconds() <= 48 * 3600
    assert [t.id for t in task_queue.group_tasks(session, "sales1")] == [task.id]
    assert task_queue.group_tasks(session, "service1") == []


def test_form_data_is_converted_checked_and_reported_per_field(session: Session, simple: int) -> None:
    task = open_task(session, simple)
    with pytest.raises(InvalidInputError) as info:
        instances.complete_task(
            session,
            task.id,
            "sales1",
            {"amount": "many", "note": "x" * 11, "kind": "z", "when": "31/12/2026", "extra": 1},
        )
    problems = {p.field: p.message for p in info.value.problems}
    assert problems == {
        "extra": "is not a field of this form",
        "amount": "must be a whole number",
        "note": "must have at most 10 characters",
        "kind": "must be one of: a, b",
        "when": "must be a date (YYYY-MM-DD)",
    }
    with pytest.raises(InvalidInputError) as info:
        instances.complete_task(session, task.id, "sales1", {"amount": 0})
    assert [(p.field, p.message) for p in info.value.problems] == [("amount", "must be at least 1")]
    with pytest.raises(InvalidInputError) as info:
        instances.complete_task(session, task.id, "sales1", {})
    assert [(p.field, p.message) for p in info.value.problems] == [("amount", "is required")]
    session.rollback()
    assert open_task(session, simple).status == "open"

    instances.complete_task(session, task.id, "sales1", {"amount": "70", "urgent": "on", "when": "2026-12-01"})
    session.commit()
    inst = instances.get_instance(session, simple)
    assert inst.data["amount"] == 70 and inst.data["urgent"] is True and inst.data["when"] == "2026-12-01"
    assert inst.data["note"] == "无" and inst.data["kind"] == "a"  # defaults
    assert inst.data["total"] == 140
    [review] = inst.tasks
    assert (review.element_id, review.group) == ("Task_Review", "team-lead")  # from its lane


def test_claim_unclaim_and_reassign(session: Session, simple: int, users: dict[str, str]) -> None:
    task = open_task(session, simple)
    with pytest.raises(PermissionDeniedError):
        instances.claim_task(session, task.id, "service1")
    instances.claim_task(session, task.id, "sales1")
    session.commit()
    assert [t.id for t in task_queue.my_tasks(session, "sales1")] == [task.id]
    assert task_queue.group_tasks(session, "sales1") == []
    from engine import people

    people.create_user(session, "sales2", "secret", groups=["sales"])
    with pytest.raises(ConflictError):
        instances.claim_task(session, task.id, "sales2")
    with pytest.raises(ConflictError):
        instances.complete_task(session, task.id, "sales2", {"amount": 5})
    with pytest.raises(PermissionDeniedError):
        instances.unclaim_task(session, task.id, "sales2")
    instances.unclaim_task(session, task.id, "sales1")
    assert task_queue.my_tasks(session, "sales1") == []
    with pytest.raises(PermissionDeniedError):
        instances.assign_task(session, task.id, "sales1", "sales2")
    with pytest.raises(NotFoundError):
        instances.assign_task(session, task.id, "manager1", "nobody")
    instances.assign_task(session, task.id, "manager1", "sales2")
    session.commit()
    assert [t.id for t in task_queue.my_tasks(session, "sales2")] == [task.id]
    # A manager may complete a task claimed by someone else.
    instances.complete_task(session, task.id, "manager1", {"amount": 5})
    session.commit()
    assert instances.get_instance(session, simple).status == "completed"
    with pytest.raises(ConflictError):
        instances.complete_task(session, task.id, "sales2", {"amount": 5})
    types = [e.type for e in audit.list_events(session, simple)]
    for expected in ("started", "claimed", "unclaimed", "assigned", "completed", "instance_completed"):
        assert expected in types


def test_outsiders_cannot_complete_and_completing_unclaimed_claims(session: Session, simple: int) -> None:
    task = open_task(session, simple)
    with pytest.raises(PermissionDeniedError):
        instances.complete_task(session, task.id, "service1", {"amount": 5})
    instances.complete_task(session, task.id, "sales1", {"amount": 5})
    session.commit()
    [done] = task_queue.completed_by(session, "sales1")
    assert (done.id, done.assignee, done.status) == (task.id, "sales1", "completed")


def test_audit_records_actor_time_element_and_submitted_data(session: Session, simple: int) -> None:
    task = open_task(session, simple)
    instances.complete_task(session, task.id, "sales1", {"amount": 5})
    session.commit()
    events = audit.list_events(session, simple)
    started = events[0]
    assert (started.type, started.actor) == ("started", "sales1")
    [completed] = [e for e in events if e.type == "completed"]
    assert completed.actor == "sales1" and completed.element_id == "Task_Enter"
    assert completed.data["data"]["amount"] == 5
    assert all(e.at is not None for e in events)


def test_suspend_resume_terminate(session: Session, simple: int) -> None:
    task = open_task(session, simple)
    with pytest.raises(PermissionDeniedError):
        instances.suspend_instance(session, simple, "sales1")
    instances.suspend_instance(session, simple, "manager1")
    session.commit()
    assert instances.get_instance(session, simple).status == "suspended"
    with pytest.raises(ConflictError):
        instances.complete_task(session, task.id, "sales1", {"amount": 5})
    with pytest.raises(ConflictError):
        instances.suspend_instance(session, simple, "manager1")
    instances.resume_instance(session, simple, "manager1")
    with pytest.raises(ConflictError):
        instances.resume_instance(session, simple, "manager1")
    instances.terminate_instance(session, simple, "manager1", "duplicate order")
    session.commit()
    inst = instances.get_instance(session, simple)
    assert inst.status == "terminated" and inst.ended_at is not None and inst.tasks == ()
    assert task_queue.list_tasks(session, instance_id=simple)[0].status == "cancelled"
    with pytest.raises(ConflictError):
        instances.terminate_instance(session, simple, "manager1")
    events = [(e.type, e.data.get("reason")) for e in audit.list_events(session, simple)]
    assert ("terminated", "duplicate order") in events
    assert [t for t, _ in events if t in ("suspended", "resumed")] == ["suspended", "resumed"]


def test_a_failing_script_puts_the_instance_in_error_and_retry_fixes_it(session: Session, simple: int) -> None:
    # The script divides by divisor_check: start it with a value the script cannot use.
    definitions.deploy(
        session,
        [("simple.bpmn", (DATA / "simple.bpmn").read_text().replace("+ divisor_check", "/ divisor_check").encode())],
        "owner1",
    )
    inst = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "bad")
    session.commit()
    task = open_task(session, inst.id)
    instances.complete_task(session, task.id, "sales1", {"amount": 5})
    session.commit()
    failed = instances.get_instance(session, inst.id)
    assert failed.status == "error"
    assert failed.error is not None and failed.error.element_id == "Script_Double"
    assert "ZeroDivisionError" in failed.error.message
    assert "error" in [e.type for e in audit.list_events(session, inst.id)]
    with pytest.raises(ConflictError):
        instances.retry_instance(session, simple, "manager1")  # not failed
    with pytest.raises(PermissionDeniedError):
        instances.retry_instance(session, inst.id, "sales1")
    again = instances.retry_instance(session, inst.id, "manager1", {"divisor_check": 0})
    assert again.status == "error"
    fixed = instances.retry_instance(session, inst.id, "manager1", {"divisor_check": 1})
    session.commit()
    assert fixed.status == "completed" and fixed.error is None
    assert fixed.data["total"] == 10.0


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("marker = 1\ncontent = open('/etc/hostname').read()", "open"),
        ("marker = 1\ncontent = datetime.sys.modules['os'].popen('id').read()", "TypeError"),
    ],
)
def test_escapes_in_a_deployed_script_fail_the_instance_and_run_nothing(
    session: Session, users: dict[str, str], script: str, words: str
) -> None:
    text = (DATA / "script.bpmn").read_text().replace("SCRIPT", script)
    definitions.deploy(session, [("script.bpmn", text.encode())], "owner1")
    inst = instances.start_instance(session, "script", "sales1", {}, "escape")
    session.commit()
    assert inst.status == "error"
    assert inst.error is not None and inst.error.element_id == "Script_Run" and words in inst.error.message
    assert "marker" not in inst.data and "content" not in inst.data
    assert inst.tasks == ()


def test_a_failing_gateway_condition_puts_the_instance_in_error_and_retry_fixes_it(
    session: Session, users: dict[str, str]
) -> None:
    text = (DATA / "simple.bpmn").read_text().replace("total &gt; 100", "total &gt; limit")
    definitions.deploy(session, [("simple.bpmn", text.encode())], "owner1")
    inst = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "gateway")
    instances.complete_task(session, open_task(session, inst.id).id, "sales1", {"amount": 5})
    session.commit()
    failed = instances.get_instance(session, inst.id)
    assert failed.status == "error" and failed.error is not None
    assert failed.error.element_id == "Gateway_Big" and "limit" in failed.error.message
    fixed = instances.retry_instance(session, inst.id, "manager1", {"limit": 1000})
    assert fixed.status == "completed"


def test_state_task_rows_and_audit_rows_commit_together_or_not_at_all(
    session: Session, simple: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.repositories import instances as repo

    task = open_task(session, simple)
    before = len(audit.list_events(session, simple))
    session.commit()

    def broken_save(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "save", broken_save)
    with pytest.raises(RuntimeError):
        instances.complete_task(session, task.id, "sales1", {"amount": 500})
    session.rollback()
    monkeypatch.undo()
    assert open_task(session, simple).id == task.id  # still open, no new task row
    assert len(audit.list_events(session, simple)) == before
    assert instances.get_instance(session, simple).data == {"divisor_check": 0}


def test_queues_never_load_a_workflow(session: Session, simple: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.bpmn import serializer
    from engine.services import projection

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a queue loaded a workflow")

    monkeypatch.setattr(projection, "load", forbidden)
    monkeypatch.setattr(serializer, "load_workflow", forbidden)
    assert len(task_queue.group_tasks(session, "sales1")) == 1
    assert task_queue.my_tasks(session, "sales1") == []
    assert len(task_queue.list_tasks(session, status="open")) == 1
    assert len(task_queue.tasks_for(session, "manager1", scope="all")) == 1
    assert task_queue.badge_count(session, "sales1") == 1


def test_two_people_claiming_at_once_cannot_both_win(
    session_factory: sessionmaker[Session], simple: int, users: dict[str, str]
) -> None:
    from engine import people
    from engine.repositories import tasks as tasks_repo

    with session_factory.begin() as setup:
        people.create_user(setup, "sales2", "secret", groups=["sales"])
    first, second = session_factory(), session_factory()
    try:
        task_id = open_task(first, simple).id
        stale = tasks_repo.get(second, task_id)  # the second person's page was loaded before the claim
        assert stale is not None and stale.assignee is None
        second.commit()
        instances.claim_task(first, task_id, "sales1")
        first.commit()
        with pytest.raises(ConflictError):
            instances.claim_task(second, task_id, "sales2")
        second.rollback()
    finally:
        first.close()
        second.close()
    with session_factory() as check:
        assert open_task(check, simple).assignee == "sales1"


def test_tasks_are_assigned_only_to_members_of_their_groups(session: Session, simple: int) -> None:
    task = open_task(session, simple)
    with pytest.raises(InvalidInputError) as info:
        instances.assign_task(session, task.id, "manager1", "service1")
    assert [p.field for p in info.value.problems] == ["user"]


def test_camunda_assignee_puts_the_task_in_a_persons_queue(session: Session, users: dict[str, str]) -> None:
    text = (DATA / "loop.bpmn").read_text()
    literal = text.replace(
        'camunda:candidateGroups="sales"', 'camunda:candidateGroups="sales" camunda:assignee="sales1"'
    )
    definitions.deploy(session, [("loop.bpmn", literal.encode())], "owner1")
    inst = instances.start_instance(session, "loop", "sales1", {}, "literal")
    assert [t.assignee for t in inst.tasks] == ["sales1"]
    assert [t.id for t in task_queue.my_tasks(session, "sales1")] == [inst.tasks[0].id]
    assert task_queue.group_tasks(session, "sales1") == []  # assigned tasks leave the group queue
    expression = text.replace(
        'camunda:candidateGroups="sales"', 'camunda:candidateGroups="sales" camunda:assignee="${owner}"'
    )
    definitions.deploy(session, [("loop.bpmn", expression.encode())], "owner1")
    inst = instances.start_instance(session, "loop", "sales1", {"owner": "manager1"}, "expression")
    assert [t.assignee for t in inst.tasks] == ["manager1"]


def test_concurrent_changes_to_one_instance_conflict(session_factory: sessionmaker[Session], simple: int) -> None:
    first = session_factory()
    second = session_factory()
    try:
        from engine.repositories import instances as repo

        # The second session loads the instance; the row stays loaded (expire_on_commit=False),
        # as during a long edit, while the first session completes a task on it.
        stale = repo.get(second, simple)
        assert stale is not None
        second.commit()
        task = open_task(first, simple)
        instances.complete_task(first, task.id, "sales1", {"amount": 5})
        first.commit()
        stale.title = "changed elsewhere"
        with pytest.raises(ConflictError):
            repo.save(second, stale)
    finally:
        first.close()
        second.rollback()
        second.close()


def test_errors_for_unknown_things(session: Session, simple: int) -> None:
    with pytest.raises(NotFoundError):
        instances.get_instance(session, 999)
    with pytest.raises(NotFoundError):
        instances.complete_task(session, 999, "sales1", {})
    with pytest.raises(PermissionDeniedError):
        instances.start_instance(session, "simple", "ghost", {}, "x")
    with pytest.raises(InvalidInputError):
        instances.start_instance(session, "simple", "sales1", ["not", "a", "dict"], "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        instances.list_instances(session, status="sleeping")


def test_list_instances_pages_and_filters(session: Session, simple: int) -> None:
    for n in range(3):
        instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, f"more {n}")
    session.commit()
    items, total = instances.list_instances(session, process_key="simple", page=1, per_page=2)
    assert total == 4 and [i.title for i in items] == ["more 2", "more 1"]
    items, total = instances.list_instances(session, status="completed")
    assert (items, total) == ([], 0)


def test_a_thousand_round_rework_loop_keeps_working(session: Session, users: dict[str, str]) -> None:
    definitions.deploy_paths(session, [DATA / "loop.bpmn"], "owner1")
    inst = instances.start_instance(session, "loop", "sales1", {}, "loop")
    session.commit()
    for _round in range(999):
        task = open_task(session, inst.id)
        instances.complete_task(session, task.id, "sales1", {"done": False})
    session.commit()
    state = instances.get_instance(session, inst.id)
    assert state.status == "running" and state.data["rounds"] == 999
    task = open_task(session, inst.id)
    instances.complete_task(session, task.id, "sales1", {"done": True})
    session.commit()
    done = instances.get_instance(session, inst.id)
    assert done.status == "completed" and done.data["rounds"] == 1000


def test_only_the_start_lanes_group_or_a_manager_may_start(session: Session, simple: int) -> None:
    # simple.bpmn's start event lies in the 销售组 lane.
    with pytest.raises(PermissionDeniedError):
        instances.start_instance(session, "simple", "service1", {"divisor_check": 0}, "x")
    assert instances.start_instance(session, "simple", "manager1", {"divisor_check": 0}, "x").status == "running"
    assert [p.start_groups for p in definitions.list_processes(session)] == [("sales",)]


def test_nul_characters_are_refused_before_they_reach_the_database(session: Session, simple: int) -> None:
    task = open_task(session, simple)
    with pytest.raises(InvalidInputError) as info:
        instances.complete_task(session, task.id, "sales1", {"amount": 5, "note": "a\x00b"})
    assert [(p.field, p.message) for p in info.value.problems] == [("note", "must not contain NUL characters")]
    with pytest.raises(InvalidInputError):
        instances.start_instance(session, "simple", "sales1", {"x": ["\x00"]}, "t")
    with pytest.raises(InvalidInputError):
        instances.add_comment(session, task.id, "sales1", "bad\x00")
    with pytest.raises(InvalidInputError):
        instances.list_instances(session, page=10**9)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "nan"}, "amount", "must be a whole number"),
        ({"amount": 10**30}, "amount", "is too large a number"),
        ({"amount": 5, "when": "2026-12-01xyz"}, "when", "must be a date (YYYY-MM-DD)"),
    ],
)
def test_values_no_database_can_store_are_refused(
    session: Session, simple: int, data: dict[str, object], field: str, message: str
) -> None:
    task = open_task(session, simple)
    with pytest.raises(InvalidInputError) as info:
        instances.complete_task(session, task.id, "sales1", data)
    assert [(p.field, p.message) for p in info.value.problems] == [(field, message)]


def test_start_and_retry_data_must_be_storable(session: Session, simple: int) -> None:
    for bad in ({"x": float("nan")}, {"x": [float("inf")]}, {"x": 2**70}):
        with pytest.raises(InvalidInputError):
            instances.start_instance(session, "simple", "sales1", bad, "bad")


def test_only_people_taking_part_may_read_an_instance(session: Session, simple: int) -> None:
    for reader in ("sales1", "manager1"):
        assert instances.get_instance(session, simple, reader).id == simple
        assert audit.list_events(session, simple, reader)
    for outsider in ("service1", "lead1"):
        with pytest.raises(PermissionDeniedError):
            instances.get_instance(session, simple, outsider)
        with pytest.raises(PermissionDeniedError):
            audit.list_events(session, simple, outsider)
    instances.complete_task(session, open_task(session, simple).id, "sales1", {"amount": 500})
    assert instances.get_instance(session, simple, "lead1").id == simple  # the review task is in their group now


def test_instance_lists_show_staff_only_their_own(session: Session, simple: int) -> None:
    assert instances.list_instances(session, actor="sales1")[1] == 1
    assert instances.list_instances(session, actor="manager1")[1] == 1
    assert instances.list_instances(session, actor="service1") == ([], 0)
