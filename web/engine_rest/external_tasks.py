"""Routes of Camunda's external-task API: fetchAndLock with long polling, complete, failure, bpmnError, locks.

Long polling (``asyncResponseTimeout``) holds a request thread, so each web process lets at most
``EXTERNAL_TASK_LONG_POLLS`` requests wait at once (default 4) for at most
``EXTERNAL_TASK_MAX_WAIT_MS`` (default 60 s); a request over the bound is answered at once with what there is.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_login import current_user

from engine import FieldProblem, InvalidInputError, NotFoundError, external_tasks
from engine.views import ExternalTaskView
from web.api.inputs import json_body
from web.db import get_session
from web.engine_rest import bp
from web.engine_rest.variables import parse, render

POLL_SECONDS = 0.25
_LOCK = threading.Lock()


def camunda_time(value: datetime | None) -> str | None:
    """Format a time as Camunda does: ``2026-12-01T08:30:00.000+0000``."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def task_json(task: ExternalTaskView, with_variables: bool = True) -> dict[str, Any]:
    """Build Camunda's (Locked)ExternalTaskDto."""
    body: dict[str, Any] = {
        "id": str(task.id),
        "activityId": task.element_id,
        "activityInstanceId": f"{task.element_id}:{task.id}",
        "executionId": str(task.instance_id),
        "processInstanceId": str(task.instance_id),
        "processDefinitionId": f"{task.process_key}:{task.version}",
        "processDefinitionKey": task.process_key,
        "processDefinitionVersionTag": None,
        "businessKey": task.business_key,
        "topicName": task.topic,
        "workerId": task.worker_id,
        "lockExpirationTime": camunda_time(task.lock_expires_at),
        "createTime": camunda_time(task.created_at),
        "retries": task.retries,
        "errorMessage": task.error_message,
        "errorDetails": task.error_details,
        "priority": task.priority,
        "suspended": False,
        "tenantId": None,
        "extensionProperties": {},
    }
    if with_variables:
        body["variables"] = render(task.variables)
    return body


def _id(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        raise NotFoundError(f"External task with id {raw} does not exist")
    return int(raw)


def _invalid(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"{field}: {message}", [FieldProblem(field, message)])


def _topics(body: dict[str, Any]) -> list[external_tasks.TopicRequest]:
    raw = body.get("topics") or []
    if not isinstance(raw, list):
        raise _invalid("topics", "must be a list")
    topics = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("topicName"), str):
            raise _invalid("topics", "each topic needs a topicName")
        names = item.get("variables")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise _invalid("variables", "must be a list of variable names")
        keys = item.get("processDefinitionKeyIn") or (
            [item["processDefinitionKey"]] if item.get("processDefinitionKey") else []
        )
        business_key = item.get("businessKey")
        topics.append(
            external_tasks.TopicRequest(
                item["topicName"],
                item.get("lockDuration"),  # type: ignore[arg-type]
                tuple(names) if names is not None else None,
                business_key if isinstance(business_key, str) else None,
                tuple(str(k) for k in keys) if isinstance(keys, list) else (),
            )
        )
    return topics


def _poll_slots() -> threading.BoundedSemaphore:
    with _LOCK:
        slots = current_app.extensions.get("external_task_polls")
        if slots is None:
            slots = threading.BoundedSemaphore(int(current_app.config.get("EXTERNAL_TASK_LONG_POLLS", 4)))
            current_app.extensions["external_task_polls"] = slots
    return slots  # type: ignore[no-any-return]


@bp.post("/external-task/fetchAndLock")
def fetch_and_lock() -> Any:
    """Lock tasks of the topics for the worker; wait up to ``asyncResponseTimeout`` ms when there are none."""
    body = json_body(required=True)
    topics = _topics(body)
    use_priority = body.get("usePriority") is True
    timeout = body.get("asyncResponseTimeout") or 0
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
        raise _invalid("asyncResponseTimeout", "must be a number of milliseconds")
    session = get_session()

    def once() -> list[ExternalTaskView]:
        locked = external_tasks.fetch_and_lock(
            session,
            body.get("workerId"),
            current_user.name,
            topics,
            body.get("maxTasks", 10),
            use_priority,  # type: ignore[arg-type]
        )
        session.commit()
        return locked

    locked = once()
    wait = min(float(timeout), float(current_app.config.get("EXTERNAL_TASK_MAX_WAIT_MS", 60_000))) / 1000
    if not locked and wait > 0:
        slots = _poll_slots()
        if slots.acquire(blocking=False):
            try:
                deadline = time.monotonic() + wait
                while not locked and time.monotonic() < deadline:
                    time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
                    locked = once()
            finally:
                slots.release()
    return jsonify([task_json(t) for t in locked])


def _variables(body: dict[str, Any]) -> dict[str, Any]:
    return {**parse(body.get("variables"), "variables"), **parse(body.get("localVariables"), "localVariables")}


def _done() -> Response:
    get_session().commit()
    return Response(status=204)


@bp.post("/external-task/<task_id>/complete")
def complete(task_id: str) -> Any:
    """Complete a locked task with variables."""
    body = json_body(required=True)
    external_tasks.complete(get_session(), _id(task_id), current_user.name, body.get("workerId"), _variables(body))  # type: ignore[arg-type]
    return _done()


@bp.post("/external-task/<task_id>/failure")
def failure(task_id: str) -> Any:
    """Report a failure with the retries left and a retry timeout."""
    body = json_body(required=True)
    external_tasks.handle_failure(
        get_session(),
        _id(task_id),
        current_user.name,
        body.get("workerId"),  # type: ignore[arg-type]
        body.get("errorMessage"),
        body.get("errorDetails"),
        body.get("retries", 0),
        body.get("retryTimeout", 0) or 0,
    )
    return _done()


@bp.post("/external-task/<task_id>/bpmnError")
def bpmn_error(task_id: str) -> Any:
    """Throw a BPMN error from the task for a boundary error event to catch."""
    body = json_body(required=True)
    external_tasks.handle_bpmn_error(
        get_session(),
        _id(task_id),
        current_user.name,
        body.get("workerId"),  # type: ignore[arg-type]
        body.get("errorCode"),  # type: ignore[arg-type]
        body.get("errorMessage"),
        parse(body.get("variables"), "variables"),
    )
    return _done()


@bp.post("/external-task/<task_id>/extendLock")
def extend_lock(task_id: str) -> Any:
    """Lock the task for ``newDuration`` ms from now."""
    body = json_body(required=True)
    external_tasks.extend_lock(
        get_session(),
        _id(task_id),
        current_user.name,
        body.get("workerId"),
        body.get("newDuration"),  # type: ignore[arg-type]
    )
    return _done()


@bp.post("/external-task/<task_id>/unlock")
def unlock(task_id: str) -> Any:
    """Give the task back to the pool."""
    external_tasks.unlock(get_session(), _id(task_id), current_user.name)
    return _done()


@bp.put("/external-task/<task_id>/retries")
def set_retries(task_id: str) -> Any:
    """Set the retries of a task; retries above 0 resolve its incident."""
    body = json_body(required=True)
    external_tasks.set_retries(get_session(), _id(task_id), current_user.name, body.get("retries"))  # type: ignore[arg-type]
    return _done()


@bp.get("/external-task/<task_id>")
def get_task(task_id: str) -> Any:
    """One open external task."""
    return jsonify(task_json(external_tasks.get_task(get_session(), _id(task_id), current_user.name), False))


@bp.get("/external-task")
def list_tasks() -> Any:
    """Open external tasks, filtered by topicName, processInstanceId, workerId and noRetriesLeft."""
    instance = request.args.get("processInstanceId")
    tasks = external_tasks.list_tasks(
        get_session(),
        current_user.name,
        request.args.get("topicName"),
        int(instance) if instance and instance.isdigit() and int(instance) < 2**31 else (0 if instance else None),
        request.args.get("workerId"),
        request.args.get("noRetriesLeft") == "true",
    )
    return jsonify([task_json(t, False) for t in tasks])
