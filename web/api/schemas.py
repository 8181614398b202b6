"""Shape the API's JSON: one schema per resource, next to the function that builds it from an engine view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.views import (
    DeployResult,
    EventView,
    FormFieldView,
    InstanceDetail,
    InstanceErrorView,
    ProcessVersionView,
    TaskDetail,
    TaskSummary,
)

INSTANCE_STATUSES = ["running", "completed", "error", "suspended", "terminated"]
TASK_STATUSES = ["open", "completed", "cancelled"]


def ref(name: str) -> dict[str, Any]:
    """Point at a schema of ``SCHEMAS``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _string(nullable: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": "string", **({"nullable": True} if nullable else {}), **extra}


def _when(nullable: bool = False) -> dict[str, Any]:
    return _string(nullable, format="date-time")


def _integer(nullable: bool = False) -> dict[str, Any]:
    return {"type": "integer", **({"nullable": True} if nullable else {})}


def _object(properties: dict[str, Any], nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": list(properties), "properties": properties}
    if nullable:
        schema["nullable"] = True
    return schema


ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}

TASK_PROPERTIES: dict[str, Any] = {
    "id": _integer(),
    "instance_id": _integer(),
    "instance_title": _string(),
    "process_key": _string(),
    "process_name": _string(),
    "element_id": _string(),
    "name": _string(),
    "group": _string(nullable=True),
    "assignee": _string(nullable=True),
    "due_at": _when(nullable=True),
    "priority": _integer(),
    "status": _string(enum=TASK_STATUSES),
    "created_at": _when(),
    "completed_at": _when(nullable=True),
    "completed_by": _string(nullable=True),
}
INSTANCE_ERROR = _object({"element_id": _string(nullable=True), "message": _string()}, nullable=True)
INSTANCE_SUMMARY_PROPERTIES: dict[str, Any] = {
    "id": _integer(),
    "process_key": _string(),
    "process_name": _string(),
    "version": _integer(),
    "title": _string(),
    "business_key": _string(nullable=True),
    "status": _string(enum=INSTANCE_STATUSES),
    "started_at": _when(),
    "ended_at": _when(nullable=True),
    "started_by": _string(nullable=True),
    "error": INSTANCE_ERROR,
}
NUMBER_OR_NULL: dict[str, Any] = {"type": "number", "nullable": True}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error", "message", "details"],
        "properties": {
            "error": _string(description="a short code: bad_request, unauthorized, forbidden, not_found, ..."),
            "message": _string(),
            "details": {
                "type": "array",
                "description": "form data: {field, message}; definitions: {file, element_id, line, message}",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": _string(),
                        "file": _string(),
                        "element_id": _string(nullable=True),
                        "line": _integer(nullable=True),
                        "message": _string(),
                    },
                },
            },
        },
    },
    "ProcessVersion": _object(
        {
            "key": _string(),
            "name": _string(),
            "version": _integer(),
            "deployed_at": _when(),
            "deployed_by": _string(nullable=True),
            "documentation": _string(),
            "fallback_group": _string(nullable=True),
        }
    ),
    "Deployment": _object(
        {
            "processes": {
                "type": "array",
                "items": _object({"key": _string(), "version": _integer(), "created": {"type": "boolean"}}),
            },
            "warnings": {
                "type": "array",
                "items": _object(
                    {
                        "file": _string(),
                        "element_id": _string(nullable=True),
                        "line": {"type": "integer", "nullable": True},
                        "message": _string(),
                    }
                ),
            },
        }
    ),
    "Task": _object(TASK_PROPERTIES),
    "FormField": _object(
        {
            "id": _string(),
            "label": _string(),
            "type": _string(description="string, long, double, boolean, date or enum"),
            "required": {"type": "boolean"},
            "default": {"description": "the field's default value, of the field's type, or null"},
            "options": {"type": "array", "items": _object({"id": _string(), "name": _string()})},
            "min": NUMBER_OR_NULL,
            "max": NUMBER_OR_NULL,
            "minlength": _integer(nullable=True),
            "maxlength": _integer(nullable=True),
            "readonly": {"type": "boolean"},
        }
    ),
    "TaskDetail": _object(
        {
            **TASK_PROPERTIES,
            "form": _object({"fields": {"type": "array", "items": ref("FormField")}}),
            "documentation": _string(),
            "data": ANY_OBJECT,
            "submitted": {**ANY_OBJECT, "nullable": True},
        }
    ),
    "InstanceSummary": _object(INSTANCE_SUMMARY_PROPERTIES),
    "Instance": _object(
        {**INSTANCE_SUMMARY_PROPERTIES, "data": ANY_OBJECT, "tasks": {"type": "array", "items": ref("Task")}}
    ),
    "InstancePage": _object(
        {
            "items": {"type": "array", "items": ref("InstanceSummary")},
            "total": _integer(),
            "page": _integer(),
            "per_page": _integer(),
        }
    ),
    "Event": _object(
        {
            "type": _string(),
            "actor": _string(nullable=True),
            "at": _when(),
            "element_id": _string(nullable=True),
            "data": ANY_OBJECT,
        }
    ),
    "CompletedTask": _object({"task": ref("Task"), "instance": ref("Instance")}),
    "StartInstance": {
        "type": "object",
        "properties": {
            "title": _string(nullable=True, maxLength=300, description="defaults to the process name and time"),
            "data": {**ANY_OBJECT, "description": "initial process data"},
            "business_key": _string(
                nullable=True,
                maxLength=200,
                description="your identifier of what the instance is about; unique among the process's unfinished "
                "instances (409 when taken)",
            ),
        },
    },
    "Terminate": {"type": "object", "properties": {"reason": _string(maxLength=2000)}},
    "Retry": {
        "type": "object",
        "properties": {"data": {**ANY_OBJECT, "description": "merged into the data"}},
    },
    "Assign": {
        "type": "object",
        "required": ["user"],
        "properties": {"user": _string(description="a user name")},
    },
    "Complete": {
        "type": "object",
        "properties": {"data": {**ANY_OBJECT, "description": "the form's field values by field id"}},
    },
}


def iso(moment: datetime | None) -> str | None:
    """Write a time as ISO 8601 in UTC (naive times are taken as UTC)."""
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat()


def process_json(view: ProcessVersionView) -> dict[str, Any]:
    """Build a ``ProcessVersion``."""
    return {
        "key": view.key,
        "name": view.name,
        "version": view.version,
        "deployed_at": iso(view.deployed_at),
        "deployed_by": view.deployed_by,
        "documentation": view.documentation or "",
        "fallback_group": view.fallback_group,
    }


def deployment_json(results: list[DeployResult]) -> dict[str, Any]:
    """Build a ``Deployment``."""
    return {
        "processes": [{"key": r.key, "version": r.version, "created": r.created} for r in results],
        "warnings": [
            {"file": w.file, "element_id": w.element_id, "line": w.line, "message": w.message}
            for w in dict.fromkeys(w for r in results for w in r.warnings)
        ],
    }


def task_json(task: TaskSummary) -> dict[str, Any]:
    """Build a ``Task``."""
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "instance_title": task.instance_title,
        "process_key": task.process_key,
        "process_name": task.process_name,
        "element_id": task.element_id,
        "name": task.name,
        "group": task.group,
        "assignee": task.assignee,
        "due_at": iso(task.due_at),
        "priority": task.priority,
        "status": task.status,
        "created_at": iso(task.created_at),
        "completed_at": iso(task.completed_at),
        "completed_by": task.completed_by,
    }


def field_json(field: FormFieldView) -> dict[str, Any]:
    """Build a ``FormField``."""
    return {
        "id": field.id,
        "label": field.label,
        "type": field.type,
        "required": field.required,
        "default": field.default,
        "options": [{"id": o.id, "name": o.name} for o in field.options],
        "min": field.min,
        "max": field.max,
        "minlength": field.minlength,
        "maxlength": field.maxlength,
        "readonly": field.readonly,
    }


def task_detail_json(detail: TaskDetail) -> dict[str, Any]:
    """Build a ``TaskDetail``: the task, its form, documentation and its instance's data."""
    return {
        **task_json(detail.summary),
        "form": {"fields": [field_json(f) for f in detail.form]},
        "documentation": detail.documentation or "",
        "data": detail.instance_data,
        "submitted": detail.submitted,
    }


def _error_json(error: InstanceErrorView | None) -> dict[str, Any] | None:
    return None if error is None else {"element_id": error.element_id, "message": error.message}


def instance_summary_json(instance: InstanceDetail) -> dict[str, Any]:
    """Build an ``InstanceSummary``."""
    return {
        "id": instance.id,
        "process_key": instance.process_key,
        "process_name": instance.process_name,
        "version": instance.version,
        "title": instance.title,
        "business_key": instance.business_key,
        "status": instance.status,
        "started_at": iso(instance.started_at),
        "ended_at": iso(instance.ended_at),
        "started_by": instance.started_by,
        "error": _error_json(instance.error),
    }


def instance_json(instance: InstanceDetail) -> dict[str, Any]:
    """Build an ``Instance``: the summary plus its data and open tasks."""
    return {
        **instance_summary_json(instance),
        "data": instance.data,
        "tasks": [task_json(t) for t in instance.tasks],
    }


def event_json(event: EventView) -> dict[str, Any]:
    """Build an ``Event``."""
    return {
        "type": event.type,
        "actor": event.actor,
        "at": iso(event.at),
        "element_id": event.element_id,
        "data": event.data,
    }
