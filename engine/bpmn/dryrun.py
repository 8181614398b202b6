"""Run a workflow in memory from given task data, recording the path and the data after each step.

Nothing here touches a database: timers are fired at once instead of waiting, and no task reaches a queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import runner, serializer

MAX_STEPS = 500


class StepRefused(Exception):
    """A step's data fails the task's form; the message names the fields."""


@dataclass
class Step:
    element_id: str
    name: str
    kind: str
    data: dict[str, Any]


@dataclass
class Outcome:
    steps: list[Step] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)  # ready tasks: (element id, name)
    ended: list[str] = field(default_factory=list)
    finished: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    error_element: str | None = None
    error: str | None = None
    consumed: int = 0


def _snapshot(workflow: Any) -> dict[str, Any]:
    return dict(serializer.to_jsonable(runner.current_data(workflow)))


def _finish(workflow: Any, outcome: Outcome) -> Outcome:
    completed, active, failed = runner.element_states(workflow)
    outcome.completed = sorted(completed)
    outcome.active = sorted(active | failed)
    outcome.waiting = [(t.element_id, t.name) for t in runner.ready_tasks(workflow)]
    outcome.ended = sorted(
        {
            t.task_spec.bpmn_id
            for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(t.task_spec, EndEvent) and getattr(t.task_spec, "bpmn_id", None)
        }
    )
    outcome.finished = runner.is_completed(workflow)
    outcome.data = _snapshot(workflow)
    return outcome


def _fail(workflow: Any, outcome: Outcome, element_id: str | None, message: str) -> Outcome:
    _finish(workflow, outcome)
    outcome.error_element, outcome.error = element_id, message
    return outcome


def _fire_lone_timers(workflow: Any, outcome: Outcome) -> None:
    """While no person has work, let the earliest waiting timer fire (time passes at once in a dry run)."""
    while not runner.ready_tasks(workflow) and not runner.is_completed(workflow) and len(outcome.steps) < MAX_STEPS:
        timers = [t for t in runner.waiting_timers(workflow) if not t.is_start]
        if not timers:
            return
        first = min(timers, key=lambda t: t.due_at)
        runner.fire_timer(workflow, first.spiff_id)
        outcome.steps.append(Step(first.element_id, first.element_id, "timer", _snapshot(workflow)))


def run(
    spec: Any,
    subprocess_specs: dict[str, Any],
    steps: Sequence[Mapping[str, Any]],
    prepare: Callable[[str, Mapping[str, Any]], dict[str, Any]],
    names: Mapping[str, str] | None = None,
) -> Outcome:
    """Start a workflow and feed it ``steps`` in order; stop at the first one that does not fit.

    :param steps: ``{"task": element id, "data": {...}}`` completes that ready task; ``{"timer": element id}``
        fires that waiting timer (for a boundary timer while its task is still open).
    :param prepare: turns a step's raw data into the task's values (the form's checks); raises StepRefused.
    :param names: element names for the recorded steps.
    """
    names = names or {}
    outcome = Outcome()
    workflow = runner.create_workflow(spec, subprocess_specs, {})
    try:
        runner.run_steps(workflow)
        outcome.steps.append(Step("", "", "start", _snapshot(workflow)))
        _fire_lone_timers(workflow, outcome)
        for index, step in enumerate(steps[:MAX_STEPS], start=1):
            if "timer" in step:
                element_id = str(step["timer"])
                found = [t for t in runner.waiting_timers(workflow) if t.element_id == element_id]
                if not found:
                    return _fail(workflow, outcome, element_id, f"step {index}: timer {element_id} is not waiting")
                runner.fire_timer(workflow, found[0].spiff_id)
                outcome.steps.append(Step(element_id, names.get(element_id, element_id), "timer", _snapshot(workflow)))
            else:
                element_id = str(step.get("task") or "")
                ready = [t for t in runner.ready_tasks(workflow) if t.element_id == element_id]
                if not ready:
                    open_ids = ", ".join(t.element_id for t in runner.ready_tasks(workflow)) or "none"
                    return _fail(
                        workflow,
                        outcome,
                        element_id or None,
                        f"step {index}: task {element_id or '?'} is not open (open: {open_ids})",
                    )
                try:
                    values = prepare(element_id, step.get("data") or {})
                except StepRefused as exc:
                    return _fail(workflow, outcome, element_id, f"step {index}: {exc}")
                runner.complete_task(workflow, ready[0].spiff_id, values)
                outcome.steps.append(Step(element_id, ready[0].name, "task", _snapshot(workflow)))
            outcome.consumed = index
            _fire_lone_timers(workflow, outcome)
    except runner.WorkflowFailure as failure:
        return _fail(workflow, outcome, failure.element_id, failure.message)
    return _finish(workflow, outcome)
