"""Business keys: given at start or taken from the variable the diagram names, unique while unfinished."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine import ConflictError, DefinitionError, InvalidInputError, audit, definitions, instances, task_queue

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def keyed(session: Session, users: dict[str, str]) -> None:
    definitions.deploy_paths(session, [DATA / "keyed.bpmn", DATA / "simple.bpmn"], "owner1")
    session.commit()


def test_a_key_given_at_start_is_unique_among_unfinished_instances_of_the_process(
    session: Session, keyed: None
) -> None:
    first = instances.start_instance(session, "keyed", "sales1", {}, "A", business_key=" SO-1 ")
    session.commit()
    assert first.business_key == "SO-1"
    with pytest.raises(ConflictError, match=f"instance {first.id} of keyed"):
        instances.start_instance(session, "keyed", "sales1", {}, "B", business_key="SO-1")
    session.rollback()
    # Another process may use the same key, and an ended instance gives its key free.
    other = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "C", business_key="SO-1")
    instances.terminate_instance(session, first.id, "manager1", "test")
    again = instances.start_instance(session, "keyed", "sales1", {}, "D", business_key="SO-1")
    session.commit()
    assert (other.business_key, again.business_key) == ("SO-1", "SO-1")
    started = [e for e in audit.list_events(session, again.id) if e.type == "started"]
    assert started[0].data["business_key"] == "SO-1"


@pytest.mark.parametrize("bad", ["x" * 201, "a\nb", 12.5])
def test_a_bad_key_is_refused_naming_the_field_and_stores_nothing(session: Session, keyed: None, bad: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        instances.start_instance(session, "keyed", "sales1", {}, "A", business_key=bad)  # type: ignore[arg-type]
    assert [p.field for p in info.value.problems] == ["business_key"]
    session.rollback()
    assert instances.list_instances(session)[1] == 0


def test_the_key_comes_from_the_form_field_the_diagram_names(session: Session, keyed: None) -> None:
    first = instances.start_instance(session, "keyed", "sales1", {}, "A")
    assert first.business_key is None
    [task] = task_queue.list_tasks(session, instance_id=first.id, status="open")
    instances.complete_task(session, task.id, "sales1", {"orderNo": "SO-7"})
    session.commit()
    assert instances.get_instance(session, first.id).business_key == "SO-7"
    # A second open order with the same number cannot take it: the form is refused, nothing changes.
    second = instances.start_instance(session, "keyed", "sales1", {}, "B")
    session.commit()
    [task2] = task_queue.list_tasks(session, instance_id=second.id, status="open")
    with pytest.raises(ConflictError, match="orderNo"):
        instances.complete_task(session, task2.id, "sales1", {"orderNo": "SO-7"})
    session.rollback()
    assert [t.id for t in task_queue.list_tasks(session, instance_id=second.id, status="open")] == [task2.id]
    # Start data naming the variable sets the key at once.
    third = instances.start_instance(session, "keyed", "sales1", {"orderNo": "SO-8"}, "C")
    assert third.business_key == "SO-8"


def test_instances_are_found_by_exact_key_or_prefix(session: Session, keyed: None) -> None:
    for key in ("SO-1", "SO-12", "PO-1", "SO_%"):
        instances.start_instance(session, "keyed", "sales1", {}, key, business_key=key)
    session.commit()

    def found(text: str) -> list[str | None]:
        return sorted(i.business_key for i in instances.list_instances(session, business_key=text)[0])

    assert found("SO-1") == ["SO-1"]
    assert found("SO-1*") == ["SO-1", "SO-12"]
    assert found("SO_*") == ["SO_%"]
    assert found("nothing") == []


def test_camundas_start_form_business_key_names_the_variable_too(session: Session, users: dict[str, str]) -> None:
    text = (DATA / "keyed.bpmn").read_text()
    text = text.replace(
        """    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="businessKey" value="orderNo" />
      </camunda:properties>
    </bpmn:extensionElements>
""",
        "",
    ).replace(
        '<bpmn:startEvent id="StartEvent_1" name="开始" />',
        '<bpmn:startEvent id="StartEvent_1" name="开始"><bpmn:extensionElements>'
        '<camunda:formData businessKey="customerNo"><camunda:formField id="customerNo" type="string" />'
        "</camunda:formData></bpmn:extensionElements></bpmn:startEvent>",
    )
    assert "camunda:property" not in text and 'businessKey="customerNo"' in text
    definitions.deploy(session, [("keyed.bpmn", text.encode())], "owner1")
    inst = instances.start_instance(session, "keyed", "sales1", {"customerNo": "K-1"}, "A")
    assert inst.business_key == "K-1"
    with pytest.raises(DefinitionError, match="business key 'a b' must name a form field"):
        definitions.deploy(
            session, [("keyed.bpmn", text.replace('businessKey="customerNo"', 'businessKey="a b"').encode())], "owner1"
        )
