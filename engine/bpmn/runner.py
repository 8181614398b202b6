"""Drive a live workflow: create it, run engine steps, complete tasks, fire timers, prune history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import camunda_io  # noqa: F401 - installs Camunda's input/output parameter hooks
from engine.bpmn.scripting import SCRIPT_ENGINE

OPEN_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class WorkflowFailure(Exception):
    """A script, condition or decision failed while the workflow ran."""

    def __init__(self, element_id: str | None, message: str) -> None:
        super().__init__(message)
        self.element_id = element_id
        self.message = message


@dataclass(frozen=True)
class ReadyTask:
    """A task waiting for a person."""

    spiff_id: str
    element_id: str
    name: str
    data: dict[str, Any]


@dataclass(frozen=True)
class WaitingTimer:
    """A timer event waiting in the workflow."""

    spiff_id: str
    element_id: str
    due_at: datetime
    is_start: bool
    repeat_left: int | None = None
    interval_seconds: float | None = None
    cron: str | None = None


def create_workflow(spec: Any, subprocess_specs: dict[str, Any], data: dict[str, Any]) -> BpmnWorkflow:
    """Create a workflow whose first tasks see ``data``."""
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def _element_of(exc: BaseException) -> str | None:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None) or getattr(exc, "task_spec", None)
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)


def _message_of(exc: BaseException) -> str:
    inner = getattr(exc, "error", None) or getattr(exc, "exception", None)
    message = str(exc.args[0]) if exc.args else exc.__class__.__name__
    if inner is not None and str(inner) not in message:
        message = f"{message}: {inner.__class__.__name__}: {inner}"
    notes = [n for n in getattr(exc, "notes", []) if n not in message]
    return " ".join([message, *notes]).strip()


def run_steps(workflow: BpmnWorkflow, prune_depth: int = 200) -> None:
    """Run every automatic task until only people or timers can move the workflow on.

    :raises WorkflowFailure: a script, gateway condition or decision failed.
    """
    try:
        workflow.refresh_timers()
        workflow.do_engine_steps()
    except (WorkflowException, Exception) as exc:
        element = _element_of(exc)
        if element is None and (timer := _failing_timer(workflow)) is not None:
            raise WorkflowFailure(*timer) from exc
        raise WorkflowFailure(element, _message_of(exc)) from exc
    prune_history(workflow, prune_depth)


def _failing_timer(workflow: BpmnWorkflow) -> tuple[str, str] | None:
    """Find the timer whose expression cannot be turned into a time (SpiffWorkflow does not say which)."""
    for task in workflow.get_tasks(state=TaskState.WAITING | TaskState.READY | TaskState.ERROR):
        definition = _timer_definition(task)
        if definition is None or task._get_internal_data("event_value") is not None:
            continue
        try:
            value = workflow.script_engine.evaluate(task, definition.expression)
        except Exception as exc:
            return task.task_spec.bpmn_id, f"timer expression {definition.expression!r} failed: {_message_of(exc)}"
        try:
            if isinstance(definition, CycleTimerEventDefinition):
                TimerEventDefinition.parse_iso_recurring_interval(value)
            else:
                TimerEventDefinition.parse_time_or_duration(value)
        except Exception:
            return task.task_spec.bpmn_id, f"timer value {value!r} is not an ISO-8601 duration, date or cycle"
    return None


def ready_tasks(workflow: BpmnWorkflow) -> list[ReadyTask]:
    """List the tasks that wait for a person."""
    return [
        ReadyTask(str(task.id), task.task_spec.bpmn_id, task.task_spec.bpmn_name or task.task_spec.bpmn_id, task.data)
        for task in workflow.get_tasks(state=TaskState.READY, manual=True)
    ]


def complete_task(workflow: BpmnWorkflow, spiff_id: str, data: dict[str, Any], prune_depth: int = 200) -> None:
    """Complete a ready task with the submitted data, then run the steps after it.

    :raises KeyError: the task is not ready in this workflow.
    :raises WorkflowFailure: something after it failed.
    """
    task = workflow.get_task_from_id(UUID(spiff_id))
    if task is None or task.state != TaskState.READY:
        raise KeyError(spiff_id)
    task.data.update(data)
    try:
        task.run()
    except Exception as exc:
        raise WorkflowFailure(task.task_spec.bpmn_id, _message_of(exc)) from exc
    run_steps(workflow, prune_depth)


def _timer_definition(task: Any) -> TimerEventDefinition | None:
    """The timer a waiting task waits for, also inside an event-based gateway's multiple event."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        definition = next((d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)), None)
    return definition if isinstance(definition, TimerEventDefinition) else None


def _timer_due(task: Any) -> datetime | None:
    definition = _timer_definition(task)
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        return datetime.fromisoformat(value["next"])
    parsed = TimerEventDefinition.parse_time_or_duration(value)
    return parsed if isinstance(parsed, datetime) else None


def waiting_timers(workflow: BpmnWorkflow) -> list[WaitingTimer]:
    """List the timers that wait, with the time each falls due."""
    timers = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if _timer_definition(task) is None:
            continue
        due = _timer_due(task)
        if due is None:
            continue
        value = task._get_internal_data("event_value")
        cycle = value if isinstance(value, dict) else {}
        timers.append(
            WaitingTimer(
                str(task.id),
                task.task_spec.bpmn_id,
                due.astimezone(UTC),
                isinstance(task.task_spec, StartEvent),
                cycle.get("cycles"),
                cycle.get("duration"),
                cycle.get("cron"),
            )
        )
    return timers


def fire_timer(workflow: BpmnWorkflow, spiff_id: str, prune_depth: int = 200) -> bool:
    """Make one waiting timer due now and run the workflow on from it; False if it no longer waits.

    :raises WorkflowFailure: something after the timer failed.
    """
    task = workflow.get_task_from_id(UUID(spiff_id))
    if task is None or task.state != TaskState.WAITING:
        return False
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    definition = _timer_definition(task)
    if isinstance(definition, CycleTimerEventDefinition):
        value = dict(task._get_internal_data("event_value") or {})
        if not value:
            return False
        value["next"] = past
        if isinstance(task.task_spec, StartEvent):
            # As in Camunda, each firing of a cycle start event is an instance of its own that runs once;
            # the timer table starts the next one.
            value["cycles"] = 1
        task._set_internal_data(event_value=value)
    else:
        task._set_internal_data(event_value=past)
    run_steps(workflow, prune_depth)
    return True


def retry(workflow: BpmnWorkflow, data: dict[str, Any], prune_depth: int = 200) -> None:
    """Run failed tasks again, with corrected data merged into theirs.

    :raises WorkflowFailure: it failed again.
    """
    failed = workflow.get_tasks(state=TaskState.ERROR)
    for task in failed:
        task.data.update(data)
        task._set_state(TaskState.READY)
    run_steps(workflow, prune_depth)


def cancel(workflow: BpmnWorkflow) -> None:
    """Cancel every unfinished task."""
    workflow.cancel()


def is_completed(workflow: BpmnWorkflow) -> bool:
    """Tell whether nothing is left to do."""
    return bool(workflow.is_completed())


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Return the instance's data as its open tasks see it (or as it ended)."""
    data: dict[str, Any] = dict(workflow.data)
    if workflow.is_completed():
        if workflow.last_task is not None:
            data.update(workflow.last_task.data)
        return data
    tasks = workflow.get_tasks(state=OPEN_STATES)
    if not tasks and workflow.last_task is not None:
        data.update(workflow.last_task.data)
    for task in sorted(tasks, key=lambda t: t.last_state_change):
        data.update(task.data)
    return data


def element_states(workflow: BpmnWorkflow) -> tuple[set[str], set[str], set[str]]:
    """Return the element ids that are completed, active (waiting for work) and failed."""
    completed, active, failed = set(), set(), set()
    # The task dictionaries hold what the tree iterator visits, without walking the tree (order is irrelevant).
    everything = [workflow.tasks.values(), *(sub.tasks.values() for sub in workflow.subprocesses.values())]
    for task in (task for tasks in everything for task in tasks):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            active.add(bpmn_id)
        elif task.state == TaskState.ERROR:
            failed.add(bpmn_id)
    return completed, active, failed


def end_event(workflow: BpmnWorkflow) -> tuple[str, str] | None:
    """Return the id and name of the top-level end event the workflow finished at (the last one reached)."""
    reached = [
        t
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if isinstance(t.task_spec, EndEvent) and t.workflow is workflow and getattr(t.task_spec, "bpmn_id", None)
    ]
    if not reached:
        return None
    last = max(reached, key=lambda t: t.last_state_change)
    return str(last.task_spec.bpmn_id), str(last.task_spec.bpmn_name or last.task_spec.bpmn_id)


def set_data(workflow: BpmnWorkflow, name: str, value: Any) -> int:
    """Set one data value wherever the open (or failed) tasks and the workflow see it; return how many places."""
    places = 0
    for task in workflow.get_tasks(state=OPEN_STATES):
        task.data[name] = value
        places += 1
    if name in workflow.data or not places:
        workflow.data[name] = value
        places += 1
    return places


def _depth(task: Any) -> int:
    depth = 0
    while task.parent is not None:
        task = task.parent
        depth += 1
    return depth


def prune_history(workflow: BpmnWorkflow, max_depth: int) -> int:
    """Cut finished history from the top of a deep task tree; return how many tasks were removed.

    Every loop round adds levels to the task tree, and SpiffWorkflow's iterators stop at depth 1000,
    after which open work becomes invisible. Once the unfinished tasks all sit below one task deeper
    than ``max_depth``, everything above that task is finished history: it is dropped and the task is
    hung directly under the root. Completed elements stay recorded by the caller.
    """
    unfinished = [
        t
        for t in workflow.tasks.values()
        if not t.has_state(TaskState.FINISHED_MASK) and not t.has_state(TaskState.PREDICTED_MASK)
    ]
    if not unfinished:
        return 0
    # Lowest common ancestor of every unfinished task.
    paths = []
    for task in unfinished:
        path = []
        node = task
        while node is not None:
            path.append(node)
            node = node.parent
        paths.append(path[::-1])
    if len(paths[0]) <= max_depth:
        return 0
    common = None
    for level in zip(*paths, strict=False):
        if all(node is level[0] for node in level):
            common = level[0]
        else:
            break
    root = workflow.task_tree
    if common is None or common is root or common.parent is root:
        return 0
    if _depth(common) <= max_depth // 2:
        return 0
    keep = {task.id for task in common}  # common and all its descendants
    removed = [task_id for task_id in workflow.tasks if task_id not in keep and task_id != root.id]
    for task_id in removed:
        workflow.tasks.pop(task_id, None)
        workflow.subprocesses.pop(task_id, None)
    root._children = [common.id]
    common._parent = root.id
    return len(removed)
