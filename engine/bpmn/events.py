"""Deliver events from outside into a live workflow: messages, and the outcomes of external tasks."""

from __future__ import annotations

import weakref
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import runner


@dataclass(frozen=True)
class WaitingMessage:
    """A task that waits for a named message."""

    spiff_id: str
    element_id: str
    message_name: str
    is_start: bool


def _message_definitions(task_spec: Any) -> list[MessageEventDefinition]:
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return [d for d in definition.event_definitions if isinstance(d, MessageEventDefinition)]
    return [definition] if isinstance(definition, MessageEventDefinition) else []


# What each parsed spec can wait for, computed once per spec object (specs are cached per version).
_WAIT_KINDS: weakref.WeakKeyDictionary[Any, frozenset[str]] = weakref.WeakKeyDictionary()


def wait_kinds(spec: Any, subprocess_specs: dict[str, Any]) -> frozenset[str]:
    """Tell which outside events ("timer", "message") a process or its sub-processes can ever wait for.

    An instance of a process that has no timer (or message) event has no timer (or subscription) rows,
    so saving it need not look for them.
    """
    kinds = _WAIT_KINDS.get(spec)
    if kinds is None:
        found: set[str] = set()
        for process in (spec, *subprocess_specs.values()):
            for task_spec in process.task_specs.values():
                definition = getattr(task_spec, "event_definition", None)
                inner = (
                    definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
                )
                for each in inner:
                    if isinstance(each, TimerEventDefinition):
                        found.add("timer")
                    elif isinstance(each, MessageEventDefinition):
                        found.add("message")
        kinds = _WAIT_KINDS[spec] = frozenset(found)
    return kinds


def waiting_messages(workflow: BpmnWorkflow) -> list[WaitingMessage]:
    """List every task of the workflow (and its sub-processes) that waits for a message."""
    found = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        for definition in _message_definitions(task.task_spec):
            found.append(
                WaitingMessage(
                    str(task.id), task.task_spec.bpmn_id, definition.name, isinstance(task.task_spec, StartEvent)
                )
            )
    return found


def _payload(definition: MessageEventDefinition, task: Any, variables: dict[str, Any]) -> Any:
    if not isinstance(definition, CamundaMessageEventDefinition):
        return dict(variables)  # merged into the task's data as it is
    if definition.result_var:
        return {"payload": dict(variables), "result_var": definition.result_var}
    # Camunda's definition writes its payload into one variable; point it at a variable that is set anyway,
    # so that no extra "<element>_Response" variable appears.
    key = next(iter(variables), None) or next(iter(task.data), None) or "message"
    return {"payload": {**task.data, **variables}.get(key), "result_var": key}


def deliver_message(
    workflow: BpmnWorkflow, spiff_id: str, name: str, variables: dict[str, Any], prune_depth: int = 200
) -> bool:
    """Hand a message to the task waiting for it, with variables for the path after it, and run on.

    :returns: False when the task no longer waits for that message.
    :raises WorkflowFailure: something after the message failed.
    """
    task = workflow.get_task_from_id(UUID(spiff_id))
    if task is None or task.state != TaskState.WAITING:
        return False
    definition = next((d for d in _message_definitions(task.task_spec) if d.name == name), None)
    if definition is None:
        return False
    task.data.update(variables)
    event = BpmnEvent(definition, payload=_payload(definition, task, variables))
    task.task_spec.catch(task, event)
    task.task_spec._update(task)
    runner.run_steps(workflow, prune_depth)
    return True


@dataclass(frozen=True)
class StartedTask:
    """A service task that waits for an external worker."""

    spiff_id: str
    element_id: str
    data: dict[str, Any]


def started_tasks(workflow: BpmnWorkflow, element_ids: Collection[str]) -> list[StartedTask]:
    """List the started tasks of the given elements: external tasks waiting for their worker."""
    return [
        StartedTask(str(task.id), task.task_spec.bpmn_id, task.data)
        for task in workflow.get_tasks(state=TaskState.STARTED)
        if task.task_spec.bpmn_id in element_ids
    ]


def _started(workflow: BpmnWorkflow, spiff_id: str) -> Any:
    task = workflow.get_task_from_id(UUID(spiff_id))
    if task is None or task.state != TaskState.STARTED:
        raise KeyError(spiff_id)
    return task


def complete_started(workflow: BpmnWorkflow, spiff_id: str, variables: dict[str, Any], prune_depth: int = 200) -> None:
    """Complete a started task with the worker's variables and run on.

    :raises KeyError: the task is not started in this workflow.
    :raises WorkflowFailure: something after it failed.
    """
    task = _started(workflow, spiff_id)
    task.data.update(variables)
    task.complete()
    runner.run_steps(workflow, prune_depth)


def throw_error(
    workflow: BpmnWorkflow, spiff_id: str, code: str, message: str, variables: dict[str, Any], prune_depth: int = 200
) -> bool:
    """Throw a BPMN error from a started task; True when a boundary or event sub-process caught it.

    :raises KeyError: the task is not started in this workflow.
    :raises WorkflowFailure: something after the catching event failed.
    """
    task = _started(workflow, spiff_id)
    payload = {**variables, "errorCode": code, "errorMessage": message}
    event = BpmnEvent(ErrorEventDefinition(code, code=code), payload=payload, target=task.workflow)
    waiting = workflow.event_manager.tasks.values()
    if not any(t.task_spec.event_definition.catches(t, event) for t in waiting):
        return False
    task.data.update(variables)
    workflow.catch(event)
    workflow.bpmn_events = [e for e in workflow.bpmn_events if e is not event]
    runner.run_steps(workflow, prune_depth)
    return True
