"""What a diagram declares for talking to other systems: business keys, message starts, external tasks.

Also the parser that turns external send tasks and message throw/end events into waiting service tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import SendTaskParser
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent, SendTask, ServiceTask
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEndEventParser, CamundaIntermediateThrowEventParser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
# Elements that become external tasks with camunda:type="external" (on the element itself), and events
# whose message event definition carries it (Camunda's message end and intermediate throw events).
EXTERNAL_TAGS = ("serviceTask", "sendTask")
EXTERNAL_EVENT_TAGS = ("intermediateThrowEvent", "endEvent")
BUSINESS_KEY_PROPERTY = "businessKey"


def business_key_field(process: Any) -> str | None:
    """Name the variable whose value becomes an instance's business key, if the diagram names one.

    Two ways, Camunda's first: ``camunda:formData businessKey="field"`` on the start event's form, or a
    ``camunda:property name="businessKey" value="variable"`` among the process's extension properties.
    """
    for start in process.iterfind("bpmn:startEvent", NS):
        form = start.find("bpmn:extensionElements/camunda:formData", NS)
        if form is not None and (form.get("businessKey") or "").strip():
            return str(form.get("businessKey")).strip()
    for prop in process.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
        if prop.get("name") == BUSINESS_KEY_PROPERTY and (prop.get("value") or "").strip():
            return str(prop.get("value")).strip()
    return None


def message_names(root: Any) -> dict[str, str]:
    """Map each bpmn:message id of a file to its name."""
    return {m.get("id"): m.get("name") or "" for m in root.iterfind("bpmn:message", NS)}


def message_starts(process: Any, root: Any) -> dict[str, str]:
    """Map message names to the top-level start events of the process that they start."""
    names = message_names(root)
    starts: dict[str, str] = {}
    for start in process.iterfind("bpmn:startEvent", NS):
        for definition in start.iterfind("bpmn:messageEventDefinition", NS):
            name = names.get(definition.get("messageRef") or "")
            if name:
                starts.setdefault(name, start.get("id"))
    return starts


def is_external(element: Any) -> bool:
    """Tell whether an element is a Camunda external task."""
    return bool(element.get(f"{{{CAMUNDA_NS}}}type") == "external")


def _external_definition(event: Any) -> Any:
    """The message event definition that makes a throw or end event an external task, if any."""
    for definition in event.iterfind("bpmn:messageEventDefinition", NS):
        if is_external(definition):
            return definition
    return None


def _external_elements(root: Any) -> list[tuple[Any, Any]]:
    """(element, the node carrying camunda:type/topic/taskPriority) for each external task of a file."""
    found = []
    for tag in EXTERNAL_TAGS:
        found += [(e, e) for e in root.iterfind(f".//bpmn:{tag}", NS) if is_external(e)]
    for tag in EXTERNAL_EVENT_TAGS:
        for event in root.iterfind(f".//bpmn:{tag}", NS):
            definition = _external_definition(event)
            if definition is not None:
                found.append((event, definition))
    return found


def external_tasks(root: Any) -> dict[str, dict[str, Any]]:
    """Describe every external task of a file: its topic and priority, keyed by element id."""
    found: dict[str, dict[str, Any]] = {}
    for element, source in _external_elements(root):
        priority = (source.get(f"{{{CAMUNDA_NS}}}taskPriority") or "").strip()
        found[element.get("id")] = {
            "topic": (source.get(f"{{{CAMUNDA_NS}}}topic") or "").strip(),
            "priority": int(priority) if priority.lstrip("-").isdigit() else 0,
            "name": element.get("name") or element.get("id"),
        }
    return found


def check(root: Any, add: Callable[[Any, str], None]) -> None:
    """Report external tasks without a usable topic or priority, and a business key naming no variable."""
    for element, source in _external_elements(root):
        topic = (source.get(f"{{{CAMUNDA_NS}}}topic") or "").strip()
        if not topic:
            add(element, "external task has no camunda:topic; workers fetch tasks by topic")
        elif len(topic) > 200 or topic.startswith(("${", "#{")):
            add(element, f"camunda:topic {topic!r} must be a plain name of at most 200 characters")
        priority = (source.get(f"{{{CAMUNDA_NS}}}taskPriority") or "").strip()
        if priority and not priority.lstrip("-").isdigit():
            add(element, f"camunda:taskPriority {priority!r} is not an integer")
    for process in root.iterfind("bpmn:process", NS):
        field = business_key_field(process)
        if field is not None and not field.isidentifier():
            add(process, f"business key {field!r} must name a form field or variable (an identifier)")


def _service_task(parser: Any) -> Any:
    return ServiceTask(parser.spec, parser.bpmn_id, **parser.bpmn_attributes)


class _SendTaskParser(SendTaskParser):  # type: ignore[misc]
    """A send task with camunda:type="external" waits for a worker instead of throwing its message."""

    def create_task(self) -> Any:
        return _service_task(self) if is_external(self.node) else super().create_task()


class _ThrowEventParser(CamundaIntermediateThrowEventParser):  # type: ignore[misc]
    def create_task(self) -> Any:
        return _service_task(self) if _external_definition(self.node) is not None else super().create_task()


class _EndEventParser(CamundaEndEventParser):  # type: ignore[misc]
    def create_task(self) -> Any:
        if _external_definition(self.node) is None:
            return super().create_task()
        task = _service_task(self)
        task.connect(self.spec.end)
        return task


class TeamflowParser(CamundaParser):  # type: ignore[misc]
    """SpiffWorkflow's Camunda parser, with send tasks and message throw/end events as external tasks."""

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("sendTask"): (_SendTaskParser, SendTask),
        full_tag("intermediateThrowEvent"): (_ThrowEventParser, IntermediateThrowEvent),
        full_tag("endEvent"): (_EndEventParser, EndEvent),
    }
