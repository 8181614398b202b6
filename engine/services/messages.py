"""Correlate messages from other systems to waiting instances, or start processes with them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import events, runner, serializer
from engine.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from engine.models import MessageSubscription, ProcessInstance
from engine.repositories import audit
from engine.repositories import instances as instances_repo
from engine.repositories import subscriptions as repo
from engine.services import business_keys, instances, people, projection
from engine.services.forms import unstorable
from engine.services.present import instance_detail
from engine.views import CorrelationResult

SENDERS = ("worker", "manager", "admin")


def _object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{field}: must be an object", [FieldProblem(field, "must be an object")])
    if reason := unstorable(value):
        raise InvalidInputError(f"{field}: {reason}", [FieldProblem(field, reason)])
    return dict(serializer.to_jsonable(dict(value)))


def correlate(
    session: Session,
    message_name: str,
    actor: str,
    business_key: str | None = None,
    correlation_keys: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    instance_id: int | None = None,
    all_matches: bool = False,
) -> list[CorrelationResult]:
    """Deliver a message to what waits for it, as Camunda 7 correlates: by name, business key and variables.

    A waiting element matches when its instance is running, holds the business key (if given) and has
    every correlation key as a variable of equal value. A message start event of a process's current
    version matches when no instance id and no correlation keys are given; it starts an instance with the
    business key and the variables. Without ``all_matches`` waiting elements come first: a start event
    is used only when nothing waits. The variables are set on the path after each receiving element.

    :raises PermissionDeniedError: the actor is not a worker, manager or admin.
    :raises InvalidInputError: no message name, or keys or variables that are not objects.
    :raises NotFoundError: nothing matches.
    :raises ConflictError: several match and ``all_matches`` is not set, or an instance moved on meanwhile.
    """
    people.require_role(people.actor(session, actor), *SENDERS)
    if not isinstance(message_name, str) or not message_name.strip() or len(message_name) > 300:
        raise InvalidInputError("messageName: is required", [FieldProblem("messageName", "is required")])
    business_key = business_keys.checked(business_key, "businessKey")
    keys = _object(correlation_keys, "correlationKeys")
    values = _object(variables, "processVariables")
    waiting = [
        (sub, inst)
        for sub, inst in repo.waiting(session, message_name, business_key, instance_id)
        if all(k in (inst.data or {}) and inst.data[k] == v for k, v in keys.items())
    ]
    starts = list(repo.starts(session, message_name)) if instance_id is None and not keys else []
    if not all_matches and waiting:
        starts = []  # as in Camunda, a waiting execution takes the message before any start event
    count = len(waiting) + len(starts)
    if count == 0:
        raise NotFoundError(
            f"Cannot correlate message '{message_name}': No process definition or execution matches the parameters"
        )
    if count > 1 and not all_matches:
        where = ", ".join(
            [f"instance {inst.id} at {sub.element_id}" for sub, inst in waiting]
            + [f"start event {sub.element_id} of {sub.process_key}" for sub in starts]
        )
        raise ConflictError(
            f"Cannot correlate message '{message_name}': {count} executions or process definitions match "
            f"the parameters ({where}); set 'all' to correlate to every one"
        )
    results = [_deliver(session, sub, inst, actor, values) for sub, inst in waiting]
    results += [_start(session, sub, actor, business_key, values) for sub in starts]
    return results


def _record(
    session: Session, instance: ProcessInstance, sub: MessageSubscription, actor: str, values: dict[str, Any]
) -> None:
    audit.record(
        session,
        "message_received",
        actor,
        instance.id,
        instance.process_key,
        sub.element_id,
        {"message": sub.message_name, "variables": values, "business_key": instance.business_key},
    )


def _run(
    session: Session,
    instance: ProcessInstance,
    sub: MessageSubscription,
    spiff_id: str,
    values: dict[str, Any],
    actor: str,
) -> None:
    workflow = projection.load(session, instance)
    _record(session, instance, sub, actor, values)
    try:
        if not events.deliver_message(workflow, spiff_id, sub.message_name, values, projection.PRUNE_DEPTH):
            raise ConflictError(f"instance {instance.id} no longer waits for '{sub.message_name}' at {sub.element_id}")
    except runner.WorkflowFailure as failure:
        projection.record_failure(session, instance, failure, actor)
    projection.save(session, instance, workflow, actor)


def _deliver(
    session: Session, sub: MessageSubscription, instance: ProcessInstance, actor: str, values: dict[str, Any]
) -> CorrelationResult:
    # Hold the instance as every change does (instances_repo.lock); a change that got there first shows now.
    instance = instances_repo.lock(session, instance.id) or instance
    if instance.status != "running":
        raise ConflictError(f"instance {instance.id} is {instance.status}")
    _run(session, instance, sub, sub.spiff_task_id or "", values, actor)
    return CorrelationResult("Execution", instance_detail(session, instance), sub.element_id)


def _start(
    session: Session, sub: MessageSubscription, actor: str, business_key: str | None, values: dict[str, Any]
) -> CorrelationResult:
    detail = instances.start_instance(session, sub.process_key, actor, values, None, business_key, check_starters=False)
    instance = instances_repo.get(session, detail.id)
    assert instance is not None
    workflow = projection.load(session, instance)
    waiting = [w for w in events.waiting_messages(workflow) if w.is_start and w.message_name == sub.message_name]
    if not waiting:
        raise ConflictError(f"{sub.process_key} no longer starts with message '{sub.message_name}'")
    _run(session, instance, sub, waiting[0].spiff_id, values, actor)
    return CorrelationResult("ProcessDefinition", instance_detail(session, instance), sub.element_id)
