"""Build the views handed to callers from mapped rows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance
from engine.repositories import definitions as definitions_repo
from engine.repositories import instances as instances_repo
from engine.repositories import tasks as tasks_repo
from engine.repositories import timers as timers_repo
from engine.services import forms
from engine.views import InstanceDetail, InstanceErrorView, TaskDetail, TaskSummary, TimerView


def summary_from_row(task: HumanTask, title: str, process_name: str) -> TaskSummary:
    return TaskSummary(
        id=task.id,
        instance_id=task.instance_id,
        instance_title=title,
        process_key=task.process_key,
        process_name=process_name,
        element_id=task.element_id,
        name=task.name,
        group=task.group_id,
        assignee=task.assignee,
        due_at=task.due_at,
        priority=task.priority,
        status=task.status,
        created_at=task.created_at,
        completed_at=task.completed_at,
        completed_by=task.completed_by,
        subject=task.subject,
    )


def task_summary(session: Session, task: HumanTask) -> TaskSummary:
    instance = instances_repo.get(session, task.instance_id)
    assert instance is not None
    version = definitions_repo.get_by_id(session, instance.process_version_id)
    return summary_from_row(task, instance.title, version.name if version else task.process_key)


def task_detail(session: Session, task: HumanTask) -> TaskDetail:
    instance = instances_repo.get(session, task.instance_id)
    assert instance is not None
    return TaskDetail(
        summary=task_summary(session, task),
        form=forms.field_views(task.form),
        documentation=task.documentation,
        # The task's own data as it became ready: in a step run once per item (an applicant) it holds that
        # item's values, never another item's. Only rows older than the context column fall back.
        instance_data=dict(task.context) if task.context is not None else dict(instance.data or {}),
        submitted=task.submitted,
        reason=task.reason,
        last_round=dict(previous.submitted or {}) if (previous := tasks_repo.earlier_round(session, task)) else None,
    )


def instance_detail(session: Session, instance: ProcessInstance, with_tasks: bool = True) -> InstanceDetail:
    version = definitions_repo.get_by_id(session, instance.process_version_id)
    name = version.name if version else instance.process_key
    tasks: tuple[TaskSummary, ...] = ()
    timers: tuple[TimerView, ...] = ()
    if with_tasks:
        tasks = tuple(
            summary_from_row(t, instance.title, name) for t in tasks_repo.open_for_instance(session, instance.id)
        )
        timers = tuple(
            TimerView(t.id, instance.id, t.element_id, t.due_at) for t in timers_repo.for_instance(session, instance.id)
        )
    error = InstanceErrorView(instance.error_element_id, instance.error_message) if instance.error_message else None
    active = tuple(sorted({t.element_id for t in tasks} | {t.element_id for t in timers}))
    if error and error.element_id:
        active = tuple(a for a in active if a != error.element_id)
    return InstanceDetail(
        id=instance.id,
        process_key=instance.process_key,
        process_name=name,
        version=instance.version,
        title=instance.title,
        status=instance.status,
        data=dict(instance.data or {}),
        tasks=tasks,
        started_at=instance.started_at,
        ended_at=instance.ended_at,
        started_by=instance.started_by,
        error=error,
        completed_elements=tuple(instance.completed_elements or ()),
        active_elements=active,
        timers=timers,
        business_key=instance.business_key,
        row_version=instance.row_version,
        end_event_name=instance.end_event_name,
    )
