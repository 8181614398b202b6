"""Start instances and act on them and their tasks: claim, assign, complete, suspend, retry, withdraw."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import runner, serializer
from engine.db import utcnow
from engine.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError, PermissionDeniedError
from engine.models import HumanTask, ProcessInstance, TaskComment
from engine.repositories import audit
from engine.repositories import instances as repo
from engine.repositories import tasks as tasks_repo
from engine.services import business_keys, definitions, external_tasks, facts, forms, people, projection
from engine.services.forms import unstorable
from engine.services.present import instance_detail, task_detail, task_summary
from engine.views import CommentView, InstanceDetail, TaskDetail, TaskSummary, UserView

MANAGERS = ("manager", "admin")
UNCHECKED = object()  # no expected value given: do not check for a concurrent change


def start_instance(
    session: Session,
    key: str,
    actor: str,
    data: Mapping[str, Any] | None = None,
    title: str | None = None,
    business_key: str | None = None,
    check_starters: bool = True,
    time_zone: str = "UTC",
) -> InstanceDetail:
    """Start the latest version of a process with initial data, a title and a business key.

    ``check_starters`` False lets a message start the process whoever sent it. Without a title, the
    instance is called by its process and start time in ``time_zone`` (the team's), until the variable
    its diagram names in the property ``titleField`` gets a value.
    Without a ``business_key``, the instance takes the value of the variable its diagram names as
    business key as soon as that variable has one (from ``data`` or a later form).

    :raises NotFoundError: no such process.
    :raises PermissionDeniedError: the process names starter groups the actor is not in.
    :raises InvalidInputError: data is not an object, the title is too long or the business key is bad.
    :raises ConflictError: an unfinished instance of the process holds the business key.
    """
    user = people.actor(session, actor)
    business_key = business_keys.checked(business_key)
    if data is not None and not isinstance(data, Mapping):
        raise InvalidInputError("data must be an object", [FieldProblem("data", "must be an object")])
    if reason := unstorable(data) or unstorable(title):
        raise InvalidInputError(f"data {reason}", [FieldProblem("data", reason)])
    if title is not None and len(title) > 300:
        raise InvalidInputError("title too long", [FieldProblem("title", "at most 300 characters")])
    version = definitions.version_row(session, key)
    starters = version.task_meta.get("", {}).get("start_groups") or []
    if check_starters and starters and not (set(starters) & set(user.groups)) and not user.has_role(*MANAGERS):
        raise PermissionDeniedError(f"{actor} may not start {key}: only {', '.join(starters)}")
    if business_key is not None:
        business_keys.ensure_free(session, key, business_key)
    initial = serializer.to_jsonable(dict(data or {}))
    spec, subs = definitions.spec_for(session, version.id)
    workflow = runner.create_workflow(spec, subs, initial)
    instance = repo.add(
        session,
        ProcessInstance(
            process_version_id=version.id,
            process_key=key,
            version=version.version,
            title=(title or "").strip() or projection.automatic_title(version.name, time_zone),
            business_key=business_key,
            status="running",
            data=initial,
            workflow="{}",
            started_by=actor,
            started_at=utcnow(),
        ),
    )
    audit.record(
        session,
        "started",
        actor,
        instance.id,
        key,
        None,
        {"data": initial, "version": version.version, "business_key": business_key},
    )
    _advance(session, instance, workflow, actor, lambda: runner.run_steps(workflow, projection.PRUNE_DEPTH))
    return instance_detail(session, instance)


def _advance(session: Session, instance: ProcessInstance, workflow: Any, actor: str, step: Any) -> list[HumanTask]:
    """Run a step of the workflow and save what it became; return the tasks it opened."""
    try:
        step()
    except runner.WorkflowFailure as failure:
        projection.record_failure(session, instance, failure, actor)
    return projection.save(session, instance, workflow, actor)


def _instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = repo.get(session, instance_id)
    if instance is None:
        raise NotFoundError(f"instance {instance_id} not found")
    return instance


def _locked(session: Session, instance_id: int) -> ProcessInstance:
    """The instance, held until the transaction ends: changes to one instance run one after another."""
    instance = repo.lock(session, instance_id)
    if instance is None:
        raise NotFoundError(f"instance {instance_id} not found")
    return instance


def _task(session: Session, task_id: int, with_form: bool = False) -> HumanTask:
    task = tasks_repo.get_with_form(session, task_id) if with_form else tasks_repo.get(session, task_id)
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    return task


def get_instance(session: Session, instance_id: int, actor: str | None = None) -> InstanceDetail:
    """Return an instance with its open tasks, data and error.

    With an ``actor``, only people who take part in the instance (started it, or hold, did or may work
    one of its tasks), managers, owners and admins may see it.

    :raises NotFoundError: no such instance.
    :raises PermissionDeniedError: the actor takes no part in it.
    """
    instance = _instance(session, instance_id)
    if actor is not None:
        check_may_read(session, instance, actor)
    return instance_detail(session, instance)


def check_may_read(session: Session, instance: ProcessInstance, actor: str) -> None:
    """Raise PermissionDeniedError unless the actor may see the instance's data and history."""
    user = people.actor(session, actor)
    if user.has_role(*MANAGERS, "owner"):
        return
    if not repo.takes_part(session, instance.id, actor, list(user.groups)):
        raise PermissionDeniedError(f"{actor} takes no part in instance {instance.id}")


def get_task(session: Session, task_id: int, actor: str | None = None) -> TaskDetail:
    """Return a task with its form.

    :raises NotFoundError: no such task.
    :raises PermissionDeniedError: the actor may not see it.
    """
    task = _task(session, task_id)
    if actor is not None:
        user = people.actor(session, actor)
        if not (_may_work(session, task, user) or task.completed_by == actor or user.has_role(*MANAGERS)):
            raise PermissionDeniedError(f"{actor} may not see task {task_id}")
    return task_detail(session, task)


def _may_work(session: Session, task: HumanTask, user: UserView) -> bool:
    if task.assignee == user.name:
        return True
    return bool(set(tasks_repo.candidate_groups(session, task.id)) & set(user.groups))


def _open_task(
    session: Session, task_id: int, allow_suspended: bool = False, with_form: bool = False
) -> tuple[HumanTask, ProcessInstance]:
    """The task and its instance, locked and reread, so a change made meanwhile shows up as a conflict."""
    task = _task(session, task_id, with_form)
    instance = _locked(session, task.instance_id)
    session.refresh(task)
    if task.status != "open":
        raise ConflictError(f"task {task_id} is no longer open (it is {task.status})")
    if allow_suspended and instance.status in ("suspended", "error"):
        return task, instance
    if instance.status == "suspended":
        raise ConflictError(f"instance {instance.id} is suspended")
    if instance.status != "running":
        raise ConflictError(f"instance {instance.id} is {instance.status}")
    return task, instance


def claim_task(session: Session, task_id: int, actor: str) -> TaskSummary:
    """Take an open task of one of the actor's groups.

    :raises NotFoundError: no such task.
    :raises PermissionDeniedError: the actor is not a candidate.
    :raises ConflictError: claimed by someone else, or no longer open.
    """
    user = people.actor(session, actor)
    task, instance = _open_task(session, task_id)
    if task.assignee == actor:
        return task_summary(session, task)
    if not _may_work(session, task, user):
        raise PermissionDeniedError(f"{actor} is not in the group of task {task_id}")
    if task.assignee is not None or not tasks_repo.claim(session, task.id, actor, utcnow()):
        session.refresh(task)
        raise ConflictError(f"task {task_id} is already claimed by {task.assignee}")
    audit.record(session, "claimed", actor, instance.id, instance.process_key, task.element_id, {"task_id": task.id})
    session.flush()
    return task_summary(session, task)


def unclaim_task(session: Session, task_id: int, actor: str) -> TaskSummary:
    """Give a claimed task back to its group's queue.

    :raises NotFoundError: no such task.
    :raises PermissionDeniedError: neither the assignee nor a manager.
    :raises ConflictError: no longer open.
    """
    user = people.actor(session, actor)
    task, instance = _open_task(session, task_id)
    if task.assignee != actor and not user.has_role(*MANAGERS):
        raise PermissionDeniedError(f"{actor} does not hold task {task_id}")
    previous, task.assignee, task.claimed_at = task.assignee, None, None
    audit.record(
        session,
        "unclaimed",
        actor,
        instance.id,
        instance.process_key,
        task.element_id,
        {"task_id": task.id, "previous": previous},
    )
    session.flush()
    return task_summary(session, task)


def assign_task(
    session: Session,
    task_id: int,
    actor: str,
    user_name: str,
    reason: str = "",
    expected_assignee: str | None = None,
) -> TaskSummary:
    """Give a task to a named user (managers only).

    With ``expected_assignee`` ("" for nobody), a task someone else reassigned meanwhile is a conflict.

    :raises NotFoundError: no such task or user.
    :raises PermissionDeniedError: the actor is not a manager.
    :raises ConflictError: no longer open, or no longer held by ``expected_assignee``.
    :raises InvalidInputError: the user is not in the task's group.
    """
    people.require_role(people.actor(session, actor), *MANAGERS)
    target = people.get_user(session, user_name)
    task, instance = _open_task(session, task_id)
    if expected_assignee is not None and (task.assignee or "") != expected_assignee:
        raise ConflictError(f"task {task_id} was reassigned meanwhile (now held by {task.assignee or 'nobody'})")
    if not _may_work(session, task, target):
        raise InvalidInputError(
            f"{user_name} is not in the group of task {task_id}",
            [FieldProblem("user", f"{user_name} is not in the task's group")],
        )
    previous, task.assignee, task.claimed_at = task.assignee, target.name, utcnow()
    audit.record(
        session,
        "assigned",
        actor,
        instance.id,
        instance.process_key,
        task.element_id,
        {"task_id": task.id, "user": target.name, "previous": previous, **_reason(reason)},
    )
    session.flush()
    return task_summary(session, task)


def complete_task(
    session: Session, task_id: int, actor: str, data: Mapping[str, Any], today: date | None = None
) -> TaskSummary:
    """Complete a task with form data, then run the instance on to its next wait.

    A member of the task's group may complete an unclaimed task, which claims it.

    :param today: the team's date, for date fields that must not lie in the past.

    :raises NotFoundError: no such task.
    :raises PermissionDeniedError: the actor is not in the task's group.
    :raises ConflictError: claimed by someone else (unless the actor is a manager), no longer open,
        or the instance changed underneath.
    :raises InvalidInputError: the data fails the form's rules (one problem per field).
    """
    user = people.actor(session, actor)
    task, instance = _open_task(session, task_id, with_form=True)
    manager = user.has_role(*MANAGERS)
    if not _may_work(session, task, user) and not manager:
        raise PermissionDeniedError(f"{actor} is not in the group of task {task_id}")
    if task.assignee not in (None, actor) and not manager:
        raise ConflictError(f"task {task_id} is claimed by {task.assignee}")
    values = forms.validate(task.form, data, today)
    workflow = projection.load(session, instance)
    now = utcnow()
    task.status, task.completed_at, task.completed_by = "completed", now, actor
    task.assignee = task.assignee or actor
    task.submitted = values
    facts.task_completed(session, task, values)
    audit.record(
        session,
        "completed",
        actor,
        instance.id,
        instance.process_key,
        task.element_id,
        {"task_id": task.id, "name": task.name, "data": values},
    )

    def step() -> None:
        try:
            runner.complete_task(workflow, task.spiff_task_id, values, projection.PRUNE_DEPTH)
        except KeyError:
            raise ConflictError(f"task {task_id} is no longer ready in its instance") from None

    opened = _advance(session, instance, workflow, actor, step)
    meta = projection.task_meta(session, instance)
    for row in opened:
        _explain_return(session, row, task, meta.get(row.element_id, {}))
    return task_summary(session, task)


def _explain_return(session: Session, row: HumanTask, done: HumanTask, info: Mapping[str, Any]) -> None:
    """Say why a task came round again: the diagram's reason variable when it changed, else the decision that sent it.

    The reason variable keeps its value after its round, so an unchanged value is an old reason.
    """
    previous = tasks_repo.earlier_round(session, row)
    if previous is None:
        row.reason = None
        return
    field = info.get("reason_field")
    if row.reason is not None and field and (previous.context or {}).get(field) == (row.context or {}).get(field):
        row.reason = None
    if row.reason is None and done.element_id != row.element_id:
        row.reason = forms.decision_text(done.name, done.form, done.submitted or {}) or None


def add_comment(session: Session, task_id: int, actor: str, text: str) -> CommentView:
    """Leave a remark on a task; it shows in the instance's history.

    :raises NotFoundError: no such task.
    :raises PermissionDeniedError: the actor may not see the task.
    :raises InvalidInputError: empty or too long.
    """
    get_task(session, task_id, actor)
    text = (text or "").strip()
    if not text or len(text) > 4000 or unstorable(text):
        raise InvalidInputError("comment", [FieldProblem("text", "1 to 4000 characters")])
    task = _task(session, task_id)
    comment = tasks_repo.add_comment(session, TaskComment(task_id=task_id, author=actor, text=text, at=utcnow()))
    audit.record(
        session,
        "comment",
        actor,
        task.instance_id,
        task.process_key,
        task.element_id,
        {"task_id": task_id, "text": text},
    )
    return CommentView(comment.id, task_id, actor, text, comment.at)


def _managed_instance(session: Session, instance_id: int, actor: str, expected_version: int | None) -> ProcessInstance:
    """Load an instance for a manager's action, refusing it when it changed since the manager saw it."""
    people.require_role(people.actor(session, actor), *MANAGERS)
    instance = _locked(session, instance_id)
    if expected_version is not None and expected_version != instance.row_version:
        raise ConflictError(f"instance {instance_id} was changed by someone else; reload and try again")
    return instance


def _reason(reason: str | None) -> dict[str, Any]:
    text = (reason or "").strip()[:2000]
    return {"reason": text} if text else {}


def suspend_instance(
    session: Session, instance_id: int, actor: str, reason: str = "", expected_version: int | None = None
) -> InstanceDetail:
    """Pause an instance: its tasks cannot be worked and its timers wait.

    :raises PermissionDeniedError: not a manager.
    :raises NotFoundError: no such instance.
    :raises ConflictError: the instance is not running or failed, or changed since ``expected_version``.
    """
    instance = _managed_instance(session, instance_id, actor, expected_version)
    if instance.status not in ("running", "error"):
        raise ConflictError(f"instance {instance_id} is {instance.status} and cannot be suspended")
    instance.status = "suspended"
    audit.record(session, "suspended", actor, instance.id, instance.process_key, None, _reason(reason))
    repo.save(session, instance)
    return instance_detail(session, instance)


def resume_instance(
    session: Session, instance_id: int, actor: str, reason: str = "", expected_version: int | None = None
) -> InstanceDetail:
    """Let a suspended instance go on.

    :raises PermissionDeniedError: not a manager.
    :raises NotFoundError: no such instance.
    :raises ConflictError: the instance is not suspended, or changed since ``expected_version``.
    """
    instance = _managed_instance(session, instance_id, actor, expected_version)
    if instance.status != "suspended":
        raise ConflictError(f"instance {instance_id} is {instance.status}, not suspended")
    instance.status = "error" if instance.error_message else "running"
    audit.record(session, "resumed", actor, instance.id, instance.process_key, None, _reason(reason))
    repo.save(session, instance)
    return instance_detail(session, instance)


def terminate_instance(
    session: Session, instance_id: int, actor: str, reason: str = "", expected_version: int | None = None
) -> InstanceDetail:
    """End an instance for good: open tasks are cancelled and timers dropped.

    :raises PermissionDeniedError: not a manager.
    :raises NotFoundError: no such instance.
    :raises ConflictError: the instance has already ended, or changed since ``expected_version``.
    """
    instance = _managed_instance(session, instance_id, actor, expected_version)
    if instance.status in ("completed", "terminated"):
        raise ConflictError(f"instance {instance_id} has already ended ({instance.status})")
    return _end(session, instance, actor, "terminated", reason[:2000])


def withdraw_instance(session: Session, instance_id: int, actor: str, reason: str) -> InstanceDetail:
    """Let the starter take back an instance started by mistake, while its first task is still open.

    The instance ends like a terminated one; the audit log records "withdrawn" with the reason.

    :raises NotFoundError: no such instance.
    :raises PermissionDeniedError: the actor did not start it.
    :raises ConflictError: it is no longer running, or a task of it was completed already.
    :raises InvalidInputError: no reason, or one longer than 2000 characters.
    """
    people.actor(session, actor)
    instance = _instance(session, instance_id)
    if instance.started_by != actor:
        raise PermissionDeniedError(f"only the person who started instance {instance_id} may withdraw it")
    if instance.status != "running":
        raise ConflictError(f"instance {instance_id} is {instance.status} and can no longer be withdrawn")
    if repo.has_completed_task(session, instance_id):
        raise ConflictError(f"instance {instance_id} has a completed task and can no longer be withdrawn")
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000 or unstorable(reason):
        raise InvalidInputError("reason: 1 to 2000 characters", [FieldProblem("reason", "1 to 2000 characters")])
    return _end(session, instance, actor, "withdrawn", reason)


def _end(session: Session, instance: ProcessInstance, actor: str, event: str, reason: str) -> InstanceDetail:
    workflow = projection.load(session, instance)
    runner.cancel(workflow)
    instance.status = "terminated"
    instance.ended_at = utcnow()
    audit.record(session, event, actor, instance.id, instance.process_key, None, {"reason": reason})
    projection.save(session, instance, workflow, actor)
    return instance_detail(session, instance)


def retry_instance(
    session: Session,
    instance_id: int,
    actor: str,
    data: Mapping[str, Any] | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> InstanceDetail:
    """Run the failed step of an instance again, with corrected data merged in.

    :raises PermissionDeniedError: not a manager.
    :raises NotFoundError: no such instance.
    :raises ConflictError: the instance is not in the error state, or changed since ``expected_version``.
    :raises InvalidInputError: data is not an object.
    """
    instance = _managed_instance(session, instance_id, actor, expected_version)
    if instance.status != "error":
        raise ConflictError(f"instance {instance_id} is {instance.status}, not failed")
    if data is not None and not isinstance(data, Mapping):
        raise InvalidInputError("data must be an object", [FieldProblem("data", "must be an object")])
    if problem := unstorable(data):
        raise InvalidInputError(f"data {problem}", [FieldProblem("data", problem)])
    values = serializer.to_jsonable(dict(data or {}))
    workflow = projection.load(session, instance)
    external_tasks.reset_incidents(session, instance.id)
    instance.status, instance.error_message, instance.error_element_id = "running", None, None
    failed_at = instance.error_element_id
    audit.record(
        session, "retried", actor, instance.id, instance.process_key, failed_at, {"data": values, **_reason(reason)}
    )
    instance.status, instance.error_message, instance.error_element_id = "running", None, None
    _advance(session, instance, workflow, actor, lambda: runner.retry(workflow, values, projection.PRUNE_DEPTH))
    return instance_detail(session, instance)


def list_instances(
    session: Session,
    process_key: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
    actor: str | None = None,
    business_key: str | None = None,
) -> tuple[list[InstanceDetail], int]:
    """Return one page of instances, newest first, and the total count.

    With an ``actor`` who is not a manager or owner, only instances they take part in are listed.
    ``business_key`` matches exactly, or as a prefix when it ends with ``*``.

    :raises InvalidInputError: bad page or status.
    :raises PermissionDeniedError: unknown actor.
    """
    if status and status not in ("running", "completed", "error", "suspended", "terminated"):
        message = f"unknown status {status!r}"
        raise InvalidInputError(f"status: {message}", [FieldProblem("status", message)])
    if not 1 <= page <= 1_000_000 or not 1 <= per_page <= 500:
        message = "1 <= page <= 1000000, 1 <= per_page <= 500"
        raise InvalidInputError(f"page: {message}", [FieldProblem("page", message)])
    participant = None
    if actor is not None:
        user = people.actor(session, actor)
        if not user.has_role(*MANAGERS, "owner"):
            participant = (user.name, list(user.groups))
    if business_key is not None and len(business_key) > business_keys.MAX_LENGTH + 1:
        message = f"at most {business_keys.MAX_LENGTH} characters"
        raise InvalidInputError(f"business_key: {message}", [FieldProblem("business_key", message)])
    rows, total = repo.search(session, process_key, status, (page - 1) * per_page, per_page, participant, business_key)
    return [instance_detail(session, row, with_tasks=False) for row in rows], total


def change_due_date(
    session: Session,
    task_id: int,
    actor: str,
    due_at: datetime | None,
    reason: str = "",
    expected_due: datetime | None | object = UNCHECKED,
) -> TaskSummary:
    """Move an open task's due date (None: no due date), with the reason kept in the audit log.

    With ``expected_due``, a due date someone else changed meanwhile is a conflict.

    :raises PermissionDeniedError: not a manager.
    :raises NotFoundError: no such task.
    :raises ConflictError: the task is no longer open, or its due date changed meanwhile.
    :raises InvalidInputError: the due date has no time zone.
    """
    people.require_role(people.actor(session, actor), *MANAGERS)
    task, instance = _open_task(session, task_id, allow_suspended=True)
    if due_at is not None and due_at.tzinfo is None:
        raise InvalidInputError("due_at needs a time zone", [FieldProblem("due_at", "needs a time zone")])
    if expected_due is not UNCHECKED and expected_due != task.due_at:
        raise ConflictError(f"the due date of task {task_id} was changed meanwhile")
    previous, task.due_at = task.due_at, due_at
    audit.record(
        session,
        "due_changed",
        actor,
        instance.id,
        instance.process_key,
        task.element_id,
        {
            "task_id": task.id,
            "due_at": due_at.isoformat() if due_at else None,
            "previous": previous.isoformat() if previous else None,
            **_reason(reason),
        },
    )
    session.flush()
    return task_summary(session, task)


def edit_data(
    session: Session,
    instance_id: int,
    actor: str,
    name: str,
    value: Any,
    reason: str = "",
    expected_version: int | None = None,
) -> InstanceDetail:
    """Set one data value of an unfinished instance, as its open or failed steps see it.

    :raises PermissionDeniedError: not a manager.
    :raises NotFoundError: no such instance.
    :raises ConflictError: the instance has ended, or changed since ``expected_version``.
    :raises InvalidInputError: a bad name or a value that cannot be stored.
    """
    instance = _managed_instance(session, instance_id, actor, expected_version)
    if instance.status in ("completed", "terminated"):
        raise ConflictError(f"instance {instance_id} has ended ({instance.status}); its data is final")
    if not isinstance(name, str) or not name.isidentifier() or len(name) > 100:
        raise InvalidInputError("name", [FieldProblem("name", "a variable name: letters, digits and _")])
    if problem := unstorable({name: value}):
        raise InvalidInputError(f"value {problem}", [FieldProblem("value", problem)])
    stored = serializer.to_jsonable({name: value})[name]
    previous = (instance.data or {}).get(name)
    workflow = projection.load(session, instance)
    runner.set_data(workflow, name, stored)
    for row in tasks_repo.open_for_instance(session, instance.id):
        if row.context and name in row.context:
            row.context = {**row.context, name: stored}
    audit.record(
        session,
        "data_changed",
        actor,
        instance.id,
        instance.process_key,
        None,
        {"name": name, "value": stored, "previous": previous, **_reason(reason)},
    )
    projection.save(session, instance, workflow, actor)
    return instance_detail(session, instance)
