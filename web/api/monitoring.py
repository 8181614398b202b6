"""Routes of the JSON API for managers: the dashboard, the filtered instance list, the heatmap, corrections."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from flask import current_app, jsonify, request
from flask_login import current_user, login_required

from engine import FieldProblem, InvalidInputError, instances, monitoring
from engine.views import Dashboard, Heatmap, InstancePage
from web.api import bp
from web.api.changes import commit_change
from web.api.inputs import ID, int_arg, json_body, str_arg, string_field
from web.api.openapi import operation, query
from web.api.schemas import (
    INSTANCE_STATUSES,
    SCHEMAS,
    _integer,
    _object,
    _string,
    instance_json,
    instance_summary_json,
    ref,
    task_json,
)
from web.auth import role_required
from web.db import get_session

MANAGERS_ONLY = "Managers and admins only."
NUMBER_OR_NULL: dict[str, Any] = {"type": "number", "nullable": True}
COUNTS: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "integer"}}
FILTERS: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}

SCHEMAS.update(
    {
        "Dashboard": _object(
            {
                "processes": {
                    "type": "array",
                    "items": _object(
                        {
                            "key": _string(),
                            "name": _string(),
                            "counts": COUNTS,
                            "median_seconds": NUMBER_OR_NULL,
                            "p90_seconds": NUMBER_OR_NULL,
                            "open_tasks": _integer(),
                            "overdue_tasks": _integer(),
                        }
                    ),
                },
                "groups": {
                    "type": "array",
                    "items": _object(
                        {
                            "process_key": _string(),
                            "group": _string(nullable=True),
                            "open": _integer(),
                            "overdue": _integer(),
                        }
                    ),
                },
                "overdue": {
                    "type": "array",
                    "items": _object(
                        {"task": ref("Task"), "overdue_seconds": {"type": "number"}, "held_seconds": {"type": "number"}}
                    ),
                },
                "overdue_total": _integer(),
                "throughput": {
                    "type": "array",
                    "items": _object(
                        {"bucket": _string(format="date"), "started": _integer(), "completed": _integer()}
                    ),
                },
                "unit": _string(enum=["day", "week"]),
                "team": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": _string(),
                            "process_key": _string(),
                            "columns": {"type": "array", "items": _string()},
                            "rows": {
                                "type": "array",
                                "items": _object(
                                    {
                                        "key": _string(),
                                        "label": _string(),
                                        "values": {"type": "array", "items": NUMBER_OR_NULL},
                                        "filters": FILTERS,
                                    }
                                ),
                            },
                        }
                    ),
                },
            }
        ),
        "MonitorInstancePage": _object(
            {
                "items": {"type": "array", "items": ref("InstanceSummary")},
                "total": _integer(),
                "counts": COUNTS,
                "page": _integer(),
                "per_page": _integer(),
            }
        ),
        "Heatmap": _object(
            {
                "key": _string(),
                "name": _string(),
                "version": _integer(),
                "versions": {"type": "array", "items": _integer()},
                "days": _integer(),
                "elements": {
                    "type": "array",
                    "items": _object(
                        {
                            "element_id": _string(),
                            "waiting": _integer(),
                            "completed": _integer(),
                            "median_seconds": NUMBER_OR_NULL,
                            "p90_seconds": NUMBER_OR_NULL,
                        }
                    ),
                },
            }
        ),
        "EditData": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": _string(maxLength=100),
                "value": {"description": "any JSON value"},
                "reason": _string(maxLength=2000),
                "version": {"type": "integer", "description": "the row version the caller saw; a newer one is 409"},
            },
        },
        "ChangeDue": {
            "type": "object",
            "properties": {
                "due_at": _string(nullable=True, format="date-time"),
                "reason": _string(maxLength=2000),
            },
        },
    }
)

FILTER_PARAMS = (
    query("process", {"type": "string"}, "a process key"),
    query("version", {"type": "integer", "minimum": 1}),
    query("status", {"type": "string", "enum": INSTANCE_STATUSES}),
    query("from", {"type": "string", "format": "date"}, "started on or after this local date"),
    query("to", {"type": "string", "format": "date"}, "started on or before this local date"),
    query("started_by", {"type": "string"}),
    query("q", {"type": "string", "maxLength": 200}, "part of the title or business key"),
    query("step", {"type": "string"}, "an element with an open task"),
    query("group", {"type": "string"}, "the group of an open task"),
    query("overdue", {"type": "string", "enum": ["0", "1"]}),
    query("error", {"type": "string", "enum": ["0", "1"]}),
    query("reached", {"type": "string"}, "an element that had a task"),
    query("failed", {"type": "string"}, "an element whose task failed its stage"),
    query("end", {"type": "string"}, "the end event reached"),
    query("fact", {"type": "string"}, "key data as name:value"),
    query("sort", {"type": "string", "enum": ["started", "ended", "title", "status", "process", "cycle", "id"]}),
    query("dir", {"type": "string", "enum": ["asc", "desc"]}),
    query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}),
    query("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 25}),
)


def _tz() -> str:
    return str(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def dashboard_json(board: Dashboard) -> dict[str, Any]:
    return {
        "processes": [asdict(p) for p in board.processes],
        "groups": [
            {"process_key": g.process_key, "group": g.group, "open": g.open, "overdue": g.overdue} for g in board.groups
        ],
        "overdue": [
            {"task": task_json(o.task), "overdue_seconds": o.overdue_seconds, "held_seconds": o.held_seconds}
            for o in board.overdue
        ],
        "overdue_total": board.overdue_total,
        "throughput": [asdict(p) for p in board.throughput],
        "unit": board.unit,
        "team": [
            {
                "id": t.id,
                "process_key": t.process_key,
                "columns": list(t.columns),
                "rows": [
                    {"key": r.key, "label": r.label, "values": list(r.values), "filters": dict(r.filters)}
                    for r in t.rows
                ],
            }
            for t in board.team
        ],
    }


def page_json(page: InstancePage) -> dict[str, Any]:
    return {
        "items": [instance_summary_json(i) for i in page.items],
        "total": page.total,
        "counts": page.counts,
        "page": page.page,
        "per_page": page.per_page,
    }


def heatmap_json(heat: Heatmap) -> dict[str, Any]:
    return {**asdict(heat), "versions": list(heat.versions), "elements": [asdict(e) for e in heat.elements]}


@bp.get("/monitor/dashboard")
@operation(
    "The managers' dashboard: figures per process, team load, overdue tasks, throughput, team figures",
    tag="monitoring",
    response="Dashboard",
    params=(query("period", {"type": "string", "enum": list(monitoring.PERIODS), "default": "30d"}),),
    errors=(400, 403, 422),
    description=MANAGERS_ONLY
    + " Times are in seconds; every team-figure row names the instance-list filters behind it.",
)
@login_required  # type: ignore[misc]
def monitor_dashboard() -> Any:
    """Return the dashboard's figures."""
    period = str_arg("period", "30d") or "30d"
    return jsonify(dashboard_json(monitoring.dashboard(get_session(), current_user.name, period, _tz())))


@bp.get("/monitor/instances")
@operation(
    "Instances matching the managers' filters, one page at a time, with counts per status",
    tag="monitoring",
    response="MonitorInstancePage",
    params=FILTER_PARAMS,
    errors=(400, 403, 422),
    description=MANAGERS_ONLY + " A malformed filter is a 422 naming it.",
)
@login_required  # type: ignore[misc]
def monitor_instances() -> Any:
    """Search instances with the list's filters."""
    filters = {k: v for k, v in request.args.items() if v != ""}
    return jsonify(page_json(monitoring.search_instances(get_session(), current_user.name, filters, _tz())))


@bp.get("/monitor/processes/<key>/heatmap")
@operation(
    "Instances waiting at each element now, and time spent in each user task, for one version",
    tag="monitoring",
    response="Heatmap",
    params=(
        query("version", {"type": "integer", "minimum": 1}, "a version number; the latest when left out"),
        query("days", {"type": "integer", "enum": list(monitoring.HEATMAP_DAYS), "default": 30}),
    ),
    errors=(400, 403, 404, 422),
    description=MANAGERS_ONLY,
)
@login_required  # type: ignore[misc]
def monitor_heatmap(key: str) -> Any:
    """Return the heatmap of a process version."""
    days = int_arg("days", 30, minimum=1, maximum=100_000) or 30
    heat = monitoring.heatmap(get_session(), current_user.name, key, int_arg("version", None), days)
    return jsonify(heatmap_json(heat))


@bp.post(f"/instances/<{ID}:instance_id>/data")
@operation(
    "Set one data value of an unfinished instance, with a reason",
    tag="monitoring",
    response="Instance",
    body="EditData",
    body_required=True,
    errors=(403, 404, 409, 422),
    description=MANAGERS_ONLY + " Give the version you saw to be told (409) when someone changed it meanwhile.",
)
@role_required("manager")
def edit_instance_data(instance_id: int) -> Any:
    """Change a data value the instance's open or failed steps see."""
    body = json_body(required=True)
    name = string_field(body, "name", required=True) or ""
    reason = string_field(body, "reason", default="") or ""
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise InvalidInputError("version", [FieldProblem("version", "must be a whole number")])
    detail = commit_change(instances.edit_data, instance_id, name, body.get("value"), reason[:2000], version)
    return jsonify(instance_json(detail))


@bp.post(f"/tasks/<{ID}:task_id>/due")
@operation(
    "Change an open task's due date (null removes it), with a reason",
    tag="monitoring",
    response="Task",
    body="ChangeDue",
    errors=(403, 404, 409, 422),
    description=MANAGERS_ONLY + " The due date needs a time zone.",
)
@login_required  # type: ignore[misc]
def change_due_date(task_id: int) -> Any:
    """Move a task's due date."""
    body = json_body()
    raw = string_field(body, "due_at")
    reason = string_field(body, "reason", default="") or ""
    due = None
    if raw:
        try:
            due = datetime.fromisoformat(raw)
            due.astimezone(UTC)  # a time zone pushing the moment out of range fails here, not in the database
        except (ValueError, OverflowError):
            raise InvalidInputError("due_at", [FieldProblem("due_at", "must be an ISO 8601 date-time")]) from None
        if due.tzinfo is None:
            raise InvalidInputError("due_at", [FieldProblem("due_at", "needs a time zone")])
    return jsonify(task_json(commit_change(instances.change_due_date, task_id, due, reason[:2000])))
