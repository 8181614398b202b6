"""Messages from outside: correlated by name, business key and variables to every kind of wait, or starting."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    audit,
    definitions,
    instances,
    messages,
    people,
    task_queue,
)

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def deployed(session: Session, users: dict[str, str]) -> None:
    definitions.deploy_paths(session, [DATA / "messages.bpmn", DATA / "keyed.bpmn"], "owner1")
    people.create_user(session, "crm", "secret", roles=["worker"])
    session.commit()


def open_names(session: Session, instance_id: int) -> list[str]:
    return [t.name for t in task_queue.list_tasks(session, instance_id=instance_id, status="open")]


def test_a_receive_task_gets_the_message_of_its_business_key_with_variables(session: Session, deployed: None) -> None:
    one = instances.start_instance(session, "msg_receive", "sales1", {"amount": 5}, "A", business_key="SO-1")
    two = instances.start_instance(session, "msg_receive", "sales1", {"amount": 6}, "B", business_key="SO-2")
    session.commit()
    assert open_names(session, one.id) == []
    [result] = messages.correlate(session, "payment", "crm", business_key="SO-2", variables={"paid": 6.0})
    session.commit()
    assert (result.result_type, result.instance.id, result.element_id) == ("Execution", two.id, "Receive_Payment")
    assert open_names(session, two.id) == ["发货"] and open_names(session, one.id) == []
    assert instances.get_instance(session, two.id).data == {"amount": 6, "paid": 6.0}
    [event] = [e for e in audit.list_events(session, two.id) if e.type == "message_received"]
    assert (event.actor, event.element_id) == ("crm", "Receive_Payment")
    assert event.data == {"message": "payment", "variables": {"paid": 6.0}, "business_key": "SO-2"}
    # The instance no longer waits: the same message again matches nothing.
    with pytest.raises(NotFoundError, match="Cannot correlate message 'payment'"):
        messages.correlate(session, "payment", "crm", business_key="SO-2")


def test_several_matches_need_all_and_correlation_keys_narrow_them(session: Session, deployed: None) -> None:
    ids = [
        instances.start_instance(session, "msg_receive", "sales1", {"customer": c}, c).id
        for c in ("华信", "华信", "远大")
    ]
    session.commit()
    with pytest.raises(ConflictError, match="3 executions"):
        messages.correlate(session, "payment", "crm")
    session.rollback()
    [only] = messages.correlate(session, "payment", "crm", correlation_keys={"customer": "远大"})
    assert only.instance.id == ids[2]
    both = messages.correlate(session, "payment", "crm", correlation_keys={"customer": "华信"}, all_matches=True)
    session.commit()
    assert sorted(r.instance.id for r in both) == ids[:2]
    with pytest.raises(NotFoundError):
        messages.correlate(session, "payment", "crm", correlation_keys={"customer": "nobody"})


def test_a_boundary_message_interrupts_the_task_and_takes_the_other_path(session: Session, deployed: None) -> None:
    inst = instances.start_instance(session, "msg_boundary", "sales1", {}, "A", business_key="SO-9")
    session.commit()
    assert open_names(session, inst.id) == ["打包"]
    messages.correlate(session, "cancel-order", "crm", business_key="SO-9", variables={"reason": "太贵"})
    session.commit()
    assert open_names(session, inst.id) == ["退款"]
    [refund] = task_queue.list_tasks(session, instance_id=inst.id, status="open")
    instances.complete_task(session, refund.id, "service1", {})
    session.commit()
    done = instances.get_instance(session, inst.id)
    assert done.status == "completed" and done.data["reason"] == "太贵"


def test_an_event_based_gateway_takes_the_message_branch_and_drops_the_timer(session: Session, deployed: None) -> None:
    inst = instances.start_instance(session, "msg_gateway", "sales1", {}, "A", business_key="G-1")
    session.commit()
    assert [t.element_id for t in instances.get_instance(session, inst.id).timers] == ["Gateway_Wait"]
    messages.correlate(session, "confirm", "crm", business_key="G-1")
    session.commit()
    detail = instances.get_instance(session, inst.id)
    assert open_names(session, inst.id) == ["已确认"] and detail.timers == ()


def test_a_message_start_event_starts_an_instance_with_key_and_variables(session: Session, deployed: None) -> None:
    [result] = messages.correlate(session, "new-lead", "crm", business_key="L-1", variables={"phone": "138"})
    session.commit()
    assert result.result_type == "ProcessDefinition" and result.element_id == "Start_Lead"
    inst = instances.get_instance(session, result.instance.id)
    assert (inst.process_key, inst.business_key, inst.data) == ("msg_start", "L-1", {"phone": "138"})
    assert open_names(session, inst.id) == ["回访线索"]
    with pytest.raises(ConflictError, match="L-1"):
        messages.correlate(session, "new-lead", "crm", business_key="L-1")


def test_an_intermediate_catch_event_waits_until_its_business_key_is_known(session: Session, deployed: None) -> None:
    inst = instances.start_instance(session, "keyed", "sales1", {}, "A")
    [task] = task_queue.list_tasks(session, instance_id=inst.id, status="open")
    instances.complete_task(session, task.id, "sales1", {"orderNo": "SO-77"})
    session.commit()
    messages.correlate(session, "order-paid", "crm", business_key="SO-77")
    session.commit()
    assert open_names(session, inst.id) == ["发货"]


def test_senders_need_a_role_and_bad_input_names_its_field(session: Session, deployed: None) -> None:
    instances.start_instance(session, "msg_receive", "sales1", {}, "A", business_key="SO-1")
    session.commit()
    with pytest.raises(PermissionDeniedError):
        messages.correlate(session, "payment", "sales1", business_key="SO-1")
    for kwargs, field in (
        ({"message_name": ""}, "messageName"),
        ({"message_name": "payment", "variables": [1]}, "processVariables"),
        ({"message_name": "payment", "correlation_keys": "x"}, "correlationKeys"),
        ({"message_name": "payment", "business_key": "x" * 300}, "businessKey"),
    ):
        with pytest.raises(InvalidInputError) as info:
            messages.correlate(session, actor="crm", **kwargs)  # type: ignore[arg-type]
        assert [p.field for p in info.value.problems] == [field]
    assert open_names(session, instances.list_instances(session)[0][0].id) == []


def test_a_waiting_instance_takes_the_message_before_a_start_event_unless_all(session: Session, deployed: None) -> None:
    [started] = messages.correlate(session, "new-lead", "crm", business_key="L-2")
    # The new instance waits at its user task; a process that also waits for "new-lead" takes it first.
    text = (DATA / "messages.bpmn").read_text().replace('messageRef="Message_Payment"', 'messageRef="Message_Lead"')
    definitions.deploy(session, [("messages.bpmn", text.encode())], "owner1")
    waiting = instances.start_instance(session, "msg_receive", "sales1", {}, "R")
    session.commit()
    [result] = messages.correlate(session, "new-lead", "crm")
    assert (result.result_type, result.instance.id) == ("Execution", waiting.id)
    both = messages.correlate(session, "new-lead", "crm", all_matches=True)
    assert [r.result_type for r in both] == ["ProcessDefinition"]  # nothing waits any more
    assert both[0].instance.id not in (started.instance.id, waiting.id)
