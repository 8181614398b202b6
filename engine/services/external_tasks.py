"""Hand external tasks to outside workers: fetch and lock by topic, complete, fail, throw BPMN errors.

Every change is one conditional update of the task's row, so that exactly one of any number of racing
workers (in any number of processes) locks or completes a task; the instance's row version guards the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import events, runner, serializer
from engine.db import utcnow
from engine.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from engine.models import ExternalTask, ProcessInstance
from engine.repositories import audit
from engine.repositories import external_tasks as repo
from engine.repositories import instances as instances_repo
from engine.services import people, projection
from engine.services.forms import unstorable
from engine.views import ExternalTaskView

WORKERS = ("worker", "manager", "admin")
MAX_TASKS = 100
MAX_LOCK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicRequest:
    """One topic a worker fetches: how long to lock, which variables to send, and optional filters."""

    name: str
    lock_duration_ms: int
    variables: tuple[str, ...] | None = None
    business_key: str | None = None
    process_keys: tuple[str, ...] = ()


def _invalid(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"{field}: {message}", [FieldProblem(field, message)])


def _whole(value: Any, field: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise _invalid(field, f"must be a whole number from {minimum} to {maximum}")
    return value


def _worker(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise _invalid("workerId", "is required (at most 255 characters)")
    return value


def _values(value: Mapping[str, Any] | None, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if reason := unstorable(value):
        raise _invalid(field, reason)
    return dict(serializer.to_jsonable(dict(value)))


def _view(session: Session, task: ExternalTask, names: Sequence[str] | None = None) -> ExternalTaskView:
    instance = instances_repo.get(session, task.instance_id)
    assert instance is not None
    data = {**(instance.data or {}), **(task.context or {})}
    if names is not None:
        data = {name: data[name] for name in names if name in data}
    return ExternalTaskView(
        id=task.id,
        instance_id=task.instance_id,
        process_key=task.process_key,
        version=instance.version,
        business_key=instance.business_key,
        element_id=task.element_id,
        name=task.name,
        topic=task.topic,
        priority=task.priority,
        worker_id=task.worker_id,
        lock_expires_at=task.lock_expires_at,
        retries=task.retries,
        error_message=task.error_message,
        error_details=task.error_details,
        created_at=task.created_at,
        variables=data,
    )


def fetch_and_lock(
    session: Session,
    worker_id: str,
    actor: str,
    topics: Sequence[TopicRequest],
    max_tasks: int,
    use_priority: bool = False,
) -> list[ExternalTaskView]:
    """Lock up to ``max_tasks`` open tasks of the topics for a worker and return them with their variables.

    A task is open for fetching when nobody holds an unexpired lock on it, it has retries left, its
    retry timeout has passed and its instance runs.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises InvalidInputError: no worker id, a bad number of tasks, lock duration or topic.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    worker_id = _worker(worker_id)
    max_tasks = _whole(max_tasks, "maxTasks", 0, MAX_TASKS)
    now = utcnow()
    locked: list[ExternalTaskView] = []
    for topic in topics:
        if not isinstance(topic.name, str) or not topic.name:
            raise _invalid("topicName", "is required")
        duration = _whole(topic.lock_duration_ms, "lockDuration", 1, MAX_LOCK_MS)
        until = now + timedelta(milliseconds=duration)
        left = max_tasks - len(locked)
        if left <= 0:
            break
        for row in repo.candidates(
            session, topic.name, now, left, use_priority, topic.business_key, topic.process_keys
        ):
            if repo.lock(session, row.id, worker_id, now, until):
                session.refresh(row)
                locked.append(_view(session, row, topic.variables))
    return locked


def _open(session: Session, task_id: int) -> ExternalTask:
    task = repo.get(session, task_id)
    if task is None or task.status != "open":
        raise NotFoundError(f"External task with id {task_id} does not exist")
    return task


def _held(task: ExternalTask, worker_id: str, verb: str, now: datetime) -> None:
    """Refuse a worker that does not hold the task's lock, or whose lock expired."""
    if task.worker_id != worker_id or task.lock_expires_at is None:
        holder = task.worker_id if task.lock_expires_at and task.lock_expires_at > now else None
        raise ConflictError(
            f"External Task {task.id} cannot be {verb} by worker '{worker_id}'. It is locked by worker '{holder}'."
        )
    if task.lock_expires_at <= now:
        raise ConflictError(
            f"External Task {task.id} cannot be {verb} by worker '{worker_id}'. "
            f"Its lock expired at {task.lock_expires_at.isoformat()}; fetch and lock it again."
        )


def _running(session: Session, task: ExternalTask) -> ProcessInstance:
    # Held like every change to an instance (instances_repo.lock), so a concurrent change waits its turn.
    instance = instances_repo.lock(session, task.instance_id)
    if instance is None or instance.status != "running":
        state = instance.status if instance else "gone"
        raise ConflictError(f"External Task {task.id}: its instance {task.instance_id} is {state}")
    return instance


def _record(session: Session, kind: str, actor: str, task: ExternalTask, **data: Any) -> None:
    audit.record(
        session,
        kind,
        actor,
        task.instance_id,
        task.process_key,
        task.element_id,
        {"task_id": task.id, "topic": task.topic, **data},
    )


def complete(
    session: Session, task_id: int, actor: str, worker_id: str, variables: Mapping[str, Any] | None = None
) -> None:
    """Complete a locked task with the worker's variables and run its instance on.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises NotFoundError: no open task of that id.
    :raises ConflictError: the worker does not hold the lock, its lock expired, another call completed the
        task first, or the instance is not running or changed underneath.
    :raises InvalidInputError: no worker id, or variables that cannot be stored.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    worker_id = _worker(worker_id)
    values = _values(variables, "variables")
    now = utcnow()
    task = _open(session, task_id)
    _held(task, worker_id, "completed", now)
    instance = _running(session, task)
    if not repo.finish(session, task.id, worker_id, now, "completed"):
        raise ConflictError(f"External Task {task.id} was completed or unlocked meanwhile")
    session.refresh(task)
    workflow = projection.load(session, instance)
    _record(session, "external_task_completed", actor, task, worker_id=worker_id, variables=values)
    try:
        events.complete_started(workflow, task.spiff_task_id, values, projection.PRUNE_DEPTH)
    except KeyError:
        raise ConflictError(f"External Task {task.id} no longer waits in instance {instance.id}") from None
    except runner.WorkflowFailure as failure:
        projection.record_failure(session, instance, failure, actor)
    projection.save(session, instance, workflow, actor)


def _incident(session: Session, task: ExternalTask, message: str, actor: str) -> None:
    """Stop the instance at the task until a manager retries it."""
    instance = instances_repo.get(session, task.instance_id)
    assert instance is not None
    task.retries = 0
    task.worker_id, task.lock_expires_at = None, None
    instance.status = "error"
    instance.error_message = f"{task.name} ({task.topic}): {message}"[:4000]
    instance.error_element_id = task.element_id
    _record(session, "incident", actor, task, message=message[:4000])
    instances_repo.save(session, instance)


def handle_failure(
    session: Session,
    task_id: int,
    actor: str,
    worker_id: str,
    error_message: str | None,
    error_details: str | None,
    retries: int,
    retry_timeout_ms: int = 0,
) -> None:
    """Record a worker's failure: the task is fetched again after the timeout while retries are left.

    With no retries left it becomes an incident: the instance shows the error until a manager retries.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises NotFoundError: no open task of that id.
    :raises ConflictError: the worker does not hold the lock, or its lock expired.
    :raises InvalidInputError: bad retries, retry timeout or texts.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    worker_id = _worker(worker_id)
    retries = _whole(retries, "retries", 0, 1_000_000)
    timeout = _whole(retry_timeout_ms, "retryTimeout", 0, MAX_LOCK_MS)
    for field, text in (("errorMessage", error_message), ("errorDetails", error_details)):
        if text is not None and (not isinstance(text, str) or unstorable(text) or len(text) > 100_000):
            raise _invalid(field, "must be text of at most 100000 characters")
    now = utcnow()
    task = _open(session, task_id)
    _held(task, worker_id, "failed", now)
    message = (error_message or "failed")[:4000]
    task.error_message, task.error_details = message, error_details
    task.retries = retries
    task.retry_at = now + timedelta(milliseconds=timeout) if timeout else None
    task.worker_id, task.lock_expires_at = None, None
    _record(session, "external_task_failed", actor, task, worker_id=worker_id, message=message, retries=retries)
    if retries == 0:
        _incident(session, task, message, actor)
    session.flush()


def handle_bpmn_error(
    session: Session,
    task_id: int,
    actor: str,
    worker_id: str,
    error_code: str,
    error_message: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> bool:
    """Throw a BPMN error from the task: a boundary error event or event sub-process with the code catches it.

    An error that nothing catches becomes an incident. Returns True when it was caught.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises NotFoundError: no open task of that id.
    :raises ConflictError: the worker does not hold the lock, its lock expired, or the instance moved on.
    :raises InvalidInputError: no error code, or variables that cannot be stored.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    worker_id = _worker(worker_id)
    if not isinstance(error_code, str) or not error_code.strip() or len(error_code) > 300:
        raise _invalid("errorCode", "is required")
    values = _values(variables, "variables")
    now = utcnow()
    task = _open(session, task_id)
    _held(task, worker_id, "reported a BPMN error", now)
    instance = _running(session, task)
    workflow = projection.load(session, instance)
    message = error_message if isinstance(error_message, str) else ""
    data = {"worker_id": worker_id, "code": error_code, "message": message[:4000], "variables": values}
    try:
        caught = events.throw_error(workflow, task.spiff_task_id, error_code, message, values, projection.PRUNE_DEPTH)
    except KeyError:
        raise ConflictError(f"External Task {task.id} no longer waits in instance {instance.id}") from None
    except runner.WorkflowFailure as failure:
        caught = True
        projection.record_failure(session, instance, failure, actor)
    if not caught:
        _record(session, "bpmn_error", actor, task, caught=False, **data)
        _incident(session, task, f"BPMN error {error_code!r} was thrown and nothing catches it", actor)
        return False
    if not repo.finish(session, task.id, worker_id, now, "cancelled"):
        raise ConflictError(f"External Task {task.id} was completed or unlocked meanwhile")
    session.refresh(task)
    _record(session, "bpmn_error", actor, task, caught=True, **data)
    projection.save(session, instance, workflow, actor)
    return True


def extend_lock(session: Session, task_id: int, actor: str, worker_id: str, new_duration_ms: int) -> None:
    """Lock the task for ``new_duration_ms`` from now, for the worker that holds it.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises NotFoundError: no open task of that id.
    :raises ConflictError: the worker does not hold the lock, or its lock expired.
    :raises InvalidInputError: bad duration or worker id.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    worker_id = _worker(worker_id)
    duration = _whole(new_duration_ms, "newDuration", 1, MAX_LOCK_MS)
    now = utcnow()
    task = _open(session, task_id)
    _held(task, worker_id, "extended", now)
    task.lock_expires_at = now + timedelta(milliseconds=duration)
    session.flush()


def unlock(session: Session, task_id: int, actor: str) -> None:
    """Give a locked task back to the pool at once.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises NotFoundError: no open task of that id.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    task = _open(session, task_id)
    task.worker_id, task.lock_expires_at = None, None
    session.flush()


def set_retries(session: Session, task_id: int, actor: str, retries: int) -> None:
    """Give a task retries again; an incident it caused is resolved and its instance runs again.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises NotFoundError: no open task of that id.
    :raises InvalidInputError: retries is not a whole number of at least 0.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    retries = _whole(retries, "retries", 0, 1_000_000)
    task = _open(session, task_id)
    incident = task.retries == 0
    task.retries, task.retry_at = retries, None
    _record(session, "external_task_retries", actor, task, retries=retries)
    instance = instances_repo.get(session, task.instance_id)
    if incident and retries > 0 and instance is not None and instance.error_element_id == task.element_id:
        if instance.status == "error":
            instance.status = "running"
        instance.error_message, instance.error_element_id = None, None
        instances_repo.save(session, instance)
    elif retries == 0 and not incident:
        _incident(session, task, task.error_message or "retries set to 0", actor)
    session.flush()


def reset_incidents(session: Session, instance_id: int) -> None:
    """Give every incident of an instance one retry (the manager's retry of a failed instance)."""
    for task in repo.open_for_instance(session, instance_id):
        if task.retries == 0:
            task.retries, task.retry_at = 1, None


def get_task(session: Session, task_id: int, actor: str) -> ExternalTaskView:
    """Return an open external task with its variables.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises NotFoundError: no open task of that id.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    return _view(session, _open(session, task_id))


def list_tasks(
    session: Session,
    actor: str,
    topic: str | None = None,
    instance_id: int | None = None,
    worker_id: str | None = None,
    incidents_only: bool = False,
) -> list[ExternalTaskView]:
    """Open external tasks (at most 100), oldest first.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    """
    people.require_role(people.actor(session, actor), *WORKERS)
    rows = repo.search(session, topic, instance_id, worker_id, incidents_only)
    return [_view(session, row, ()) for row in rows]
