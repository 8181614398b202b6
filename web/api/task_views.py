"""Routes of the JSON API for tasks: queues, detail with the form, claim, assign and complete."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user, login_required

from engine import instances, task_queue
from web.api import bp
from web.api.changes import commit_change
from web.api.inputs import ID, json_body, object_field, str_arg, string_field
from web.api.openapi import operation, query
from web.api.schemas import TASK_STATUSES, instance_json, task_detail_json, task_json
from web.auth import role_required
from web.clock import team_today
from web.db import get_session


@bp.get("/tasks")
@operation(
    "A task list",
    tag="tasks",
    response="[Task]",
    errors=(403, 422),
    description="mine: claimed by or assigned to me; groups: unclaimed tasks of my groups; all: managers.",
    params=(
        query("scope", {"type": "string", "enum": ["mine", "groups", "all"], "default": "mine"}),
        query("process", {"type": "string"}, "a process key"),
        query("status", {"type": "string", "enum": TASK_STATUSES, "default": "open"}),
    ),
)
@login_required  # type: ignore[misc]
def list_tasks() -> Any:
    """List the caller's tasks in a scope."""
    tasks = task_queue.tasks_for(
        get_session(),
        current_user.name,
        str_arg("scope", "mine") or "mine",
        str_arg("status", "open"),
        str_arg("process"),
    )
    return jsonify([task_json(t) for t in tasks])


@bp.get(f"/tasks/<{ID}:task_id>")
@operation("A task with its form", tag="tasks", response="TaskDetail", errors=(403, 404))
@login_required  # type: ignore[misc]
def get_task(task_id: int) -> Any:
    """Return a task the caller may see, with its form fields."""
    return jsonify(task_detail_json(instances.get_task(get_session(), task_id, current_user.name)))


@bp.post(f"/tasks/<{ID}:task_id>/claim")
@operation("Claim a task of one of my groups", tag="tasks", response="Task", errors=(403, 404, 409))
@login_required  # type: ignore[misc]
def claim_task(task_id: int) -> Any:
    """Take an open task."""
    return jsonify(task_json(commit_change(instances.claim_task, task_id)))


@bp.post(f"/tasks/<{ID}:task_id>/unclaim")
@operation("Give a claimed task back to its group", tag="tasks", response="Task", errors=(403, 404, 409))
@login_required  # type: ignore[misc]
def unclaim_task(task_id: int) -> Any:
    """Release a task the caller holds (managers may release any)."""
    return jsonify(task_json(commit_change(instances.unclaim_task, task_id)))


@bp.post(f"/tasks/<{ID}:task_id>/assign")
@operation(
    "Assign a task to a user",
    tag="tasks",
    response="Task",
    body="Assign",
    body_required=True,
    errors=(403, 404, 409, 422),
    description="Managers only.",
)
@role_required("manager")
def assign_task(task_id: int) -> Any:
    """Give a task to a named user."""
    user = string_field(json_body(required=True), "user", required=True) or ""
    return jsonify(task_json(commit_change(instances.assign_task, task_id, user)))


@bp.post(f"/tasks/<{ID}:task_id>/complete")
@operation(
    "Complete a task with its form data",
    tag="tasks",
    response="CompletedTask",
    body="Complete",
    errors=(403, 404, 409, 422),
    description=(
        "A member of the task's group may complete an unclaimed task, which claims it. A task claimed by "
        "someone else gives 409 unless the caller is a manager."
    ),
)
@login_required  # type: ignore[misc]
def complete_task(task_id: int) -> Any:
    """Complete a task, run its instance on and return both."""
    data = object_field(json_body(), "data") or {}
    task = commit_change(instances.complete_task, task_id, data, team_today())
    instance = instances.get_instance(get_session(), task.instance_id)
    return jsonify({"task": task_json(task), "instance": instance_json(instance)})
