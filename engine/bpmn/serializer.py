"""Turn workflows and specs into JSON and back; a stored workflow leaves its spec out."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    MessageEventDefinitionConverter,
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.multiinstance_task import ParallelMultiInstanceTask, SequentialMultiInstanceTask

from engine.bpmn.scripting import SCRIPT_ENGINE
from engine.bpmn.timer_values import CamundaCycleTimerEventDefinition, use_camunda_cycles

CAMUNDA_MI = (ParallelMultiInstanceTask, SequentialMultiInstanceTask)


class SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Convert a top-level workflow without its spec, which is stored once per version."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self, dct: dict[str, Any], spec: Any = None, subprocess_specs: dict[str, Any] | None = None
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _config() -> dict[Any, Any]:
    config = dict(CAMUNDA_CONFIG)
    # Send and receive tasks and plain message events use the generic message definition, which the
    # Camunda configuration leaves out.
    config[MessageEventDefinition] = MessageEventDefinitionConverter
    config[CamundaCycleTimerEventDefinition] = TimerConditionalEventDefinitionConverter
    # External service tasks wait, started, for their worker; the Camunda configuration has no converter.
    config[ServiceTask] = BpmnTaskSpecConverter
    return config


def _configure() -> BpmnWorkflowSerializer:
    config = _config()
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return BpmnWorkflowSerializer(registry)


SERIALIZER = _configure()
_SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config()))


def dump_spec(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    """Return a JSON-ready dict of a process spec and the specs it calls."""
    registry = _SPEC_SERIALIZER.registry
    return {
        "spec": registry.convert(spec),
        "subprocess_specs": {name: registry.convert(sub) for name, sub in subprocess_specs.items()},
    }


def load_spec(dct: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Rebuild a spec and its called specs from ``dump_spec`` output."""
    registry = _SPEC_SERIALIZER.registry
    spec = registry.restore(json.loads(json.dumps(dct["spec"])))
    subs = {name: registry.restore(sub) for name, sub in json.loads(json.dumps(dct["subprocess_specs"])).items()}
    normalize_specs(spec, subs)
    return spec, subs


def normalize_specs(spec: Any, subprocess_specs: dict[str, Any]) -> None:
    """Give Camunda multi-instance tasks their input collection up front; let cycle timers take cron.

    SpiffWorkflow's Camunda multi-instance task sets ``data_input`` on its spec only when a task first
    becomes ready. A spec restored from storage (after a restart, or in another worker) lacks it, and a
    waiting multi-instance task then appends its results to the collection instead of updating each item.
    With a collection and no cardinality the fix is static, so it is applied to every spec here.
    """
    for process in [spec, *subprocess_specs.values()]:
        if process is None:
            continue
        for task_spec in process.task_specs.values():
            use_camunda_cycles(task_spec)
            _drop_correlation_properties(task_spec)
            if isinstance(task_spec, CAMUNDA_MI) and task_spec.cardinality is None:
                if task_spec.data_output is not None and task_spec.data_input is None:
                    task_spec.data_input = TaskDataReference(task_spec.data_output.bpmn_id)
                if task_spec.output_item is not None and task_spec.input_item is None:
                    task_spec.input_item = TaskDataReference(task_spec.output_item.bpmn_id)


def _drop_correlation_properties(task_spec: Any) -> None:
    """Camunda 7 correlates messages by name, business key and variables; it ignores BPMN correlation properties.

    SpiffWorkflow would evaluate their retrieval expressions against each message's payload instead.
    """
    definition = getattr(task_spec, "event_definition", None)
    for inner in [definition, *getattr(definition, "event_definitions", [])]:
        if isinstance(inner, MessageEventDefinition):
            inner.correlation_properties = []


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow's state (not its spec) to JSON text."""
    registry = SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = SERIALIZER.to_dict(workflow)
        dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
        return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_workflow(text: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a live workflow from stored JSON and its version's spec."""
    dct = json.loads(text, cls=SERIALIZER.json_decoder_cls)
    SERIALIZER.migrate(dct)
    workflow = SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def to_jsonable(value: Any) -> Any:
    """Convert task data into plain JSON values (dates as ISO text) for storage outside the workflow."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)
