"""Diagrams read as Camunda 7 reads them: the legacy namespace, expression service tasks, data stores,
loopDataInputRef, Camunda dates and dateTime(); SpiffWorkflow's own extensions are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from engine import DefinitionError, definitions, instances

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="{ns}"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <process id="reading" name="Reading" isExecutable="true">
    <startEvent id="start" />
    <sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    {compute}
    <sequenceFlow id="f2" sourceRef="compute" targetRef="review" />
    <userTask id="review" name="Review" camunda:candidateGroups="sales"
        camunda:dueDate="${{dateTime().plusDays(2).toDate()}}">
      <extensionElements>
        <camunda:formData>
          <camunda:formField id="since" label="Since" type="date" defaultValue="10/12/2014" />
        </camunda:formData>
      </extensionElements>
    </userTask>
    <sequenceFlow id="f3" sourceRef="review" targetRef="end" />
    <endEvent id="end" />
  </process>
</definitions>
"""
EXPRESSION = '<serviceTask id="compute" camunda:expression="${{amount * 2}}" camunda:resultVariable="total" />'
STORE = """<task id="compute" name="Store">
      <dataOutputAssociation id="a1"><targetRef>store_ref</targetRef></dataOutputAssociation>
    </task>
    <dataStoreReference id="store_ref" dataStoreRef="store" />"""


def deploy(session: Session, compute: str, ns: str = "http://camunda.org/schema/1.0/bpmn") -> None:
    xml = HEAD.format(ns=ns, compute=compute).replace("<definitions", "<definitions", 1)
    if "dataStoreReference" in compute:
        xml = xml.replace("</definitions>", '<dataStore id="store" name="Ledger" /></definitions>')
    definitions.deploy(session, [("reading.bpmn", xml.encode())], "owner1", fallback_group="team-lead")


@pytest.mark.parametrize("ns", ["http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn"])
def test_an_expression_service_task_runs_and_stores_its_result(
    session: Session, users: dict[str, str], ns: str
) -> None:
    deploy(session, EXPRESSION.replace("{{", "{").replace("}}", "}"), ns)
    inst = instances.start_instance(session, "reading", "sales1", {"amount": 21})
    [task] = instances.get_instance(session, inst.id).tasks
    assert (task.name, task.group) == ("Review", "sales")  # the legacy namespace names the group too
    assert instances.get_instance(session, inst.id).data["total"] == 42
    assert task.due_at is not None
    assert timedelta(days=1, hours=23) < task.due_at - inst.started_at <= timedelta(days=2, minutes=1)
    [field] = instances.get_task(session, task.id).form
    assert field.default == "2014-12-10"  # Camunda's dd/MM/yyyy default as an ISO date


def test_a_data_store_is_documentation(session: Session, users: dict[str, str]) -> None:
    deploy(session, STORE)
    inst = instances.start_instance(session, "reading", "sales1", {})
    assert [t.name for t in instances.get_instance(session, inst.id).tasks] == ["Store"]


@pytest.mark.parametrize(
    ("compute", "words"),
    [
        ('<serviceTask id="compute" camunda:expression="${invoiceService.archive(id)}" />', "calls a Java bean"),
        ('<serviceTask id="compute" camunda:class="org.example.Archive" />', "Java class 'org.example.Archive'"),
        ('<serviceTask id="compute" camunda:delegateExpression="${archive}" />', "delegate expression"),
        (
            '<scriptTask id="compute" scriptFormat="groovy"><script>x = 1</script></scriptTask>',
            "groovy scripts cannot run",
        ),
        (
            '<scriptTask id="compute"><extensionElements><spiffworkflow:preScript>x = 1</spiffworkflow:preScript>'
            "</extensionElements><script>y = 2</script></scriptTask>",
            "spiffworkflow:preScript is SpiffWorkflow's own extension",
        ),
        (
            '<task id="compute"><extensionElements><camunda:executionListener class="org.example.L" event="start" />'
            "</extensionElements></task>",
            "executionListener 'org.example.L' runs Java",
        ),
    ],
)
def test_what_cannot_run_is_refused_with_a_way_out(
    session: Session, users: dict[str, str], compute: str, words: str
) -> None:
    with pytest.raises(DefinitionError) as info:
        deploy(session, compute)
    [problem] = [p for p in info.value.problems if words in p.message]
    assert problem.element_id == "compute"
    assert "spiffworkflow" in words or "external task" in problem.message
    assert definitions.list_processes(session) == []


IO_TASK = """<userTask id="compute" name="Prepare" camunda:candidateGroups="sales">
      <extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="greeting">Dear ${name}</camunda:inputParameter>
          <camunda:inputParameter name="codes">
            <camunda:list><camunda:value>a</camunda:value><camunda:value>${name}</camunda:value></camunda:list>
          </camunda:inputParameter>
          <camunda:inputParameter name="limits">
            <camunda:map><camunda:entry key="max">${amount + 1}</camunda:entry></camunda:map>
          </camunda:inputParameter>
          <camunda:outputParameter name="total">${amount * 2}</camunda:outputParameter>
        </camunda:inputOutput>
      </extensionElements>
    </userTask>"""


def test_input_and_output_parameters_are_applied(session: Session, users: dict[str, str]) -> None:
    deploy(session, IO_TASK)
    inst = instances.start_instance(session, "reading", "sales1", {"name": "Li", "amount": 21})
    [task] = instances.get_instance(session, inst.id).tasks
    data = instances.get_task(session, task.id).instance_data
    assert (data["greeting"], data["codes"], data["limits"]) == ("Dear Li", ["a", "Li"], {"max": 22})
    instances.complete_task(session, task.id, "sales1", {})
    detail = instances.get_instance(session, inst.id)
    assert [t.name for t in detail.tasks] == ["Review"]
    assert detail.data["total"] == 42


def test_a_script_as_parameter_value_is_refused(session: Session, users: dict[str, str]) -> None:
    script = IO_TASK.replace("Dear ${name}", '<camunda:script scriptFormat="javascript">1</camunda:script>')
    with pytest.raises(DefinitionError) as info:
        deploy(session, script)
    [problem] = info.value.problems
    assert problem.element_id == "compute" and "javascript script" in problem.message
    assert "external task" in problem.message
