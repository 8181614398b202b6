"""Routes of the JSON API for a person's own cases: list them with where each stands, withdraw one."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user, login_required

from engine import cases, instances
from engine.views import CaseView
from web.api import bp
from web.api.changes import commit_change
from web.api.inputs import ID, int_arg, json_body, string_field
from web.api.openapi import operation, query
from web.api.queue_views import page_json
from web.api.schemas import (
    INSTANCE_STATUSES,
    SCHEMAS,
    _integer,
    _object,
    _string,
    _when,
    instance_json,
    iso,
    ref,
    task_json,
)
from web.db import get_session

SCHEMAS.update(
    {
        "Case": _object(
            {
                "id": _integer(),
                "process_key": _string(),
                "process_name": _string(),
                "title": _string(),
                "status": _string(enum=INSTANCE_STATUSES),
                "started_at": _when(),
                "ended_at": _when(nullable=True),
                "started_by": _string(nullable=True),
                "steps": {"type": "array", "items": ref("Task"), "description": "open tasks and who holds them"},
                "may_withdraw": {"type": "boolean"},
            }
        ),
        "CasePage": _object(
            {
                "items": {"type": "array", "items": ref("Case")},
                "total": _integer(),
                "total_capped": {"type": "boolean", "description": "true when there are more than total"},
                "page": _integer(),
                "per_page": _integer(),
            }
        ),
        "Withdraw": {
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": _string(minLength=1, maxLength=2000)},
        },
    }
)


def case_json(case: CaseView) -> dict[str, Any]:
    """Shape a case for the API."""
    return {
        "id": case.id,
        "process_key": case.process_key,
        "process_name": case.process_name,
        "title": case.title,
        "status": case.status,
        "started_at": iso(case.started_at),
        "ended_at": iso(case.ended_at),
        "started_by": case.started_by,
        "steps": [task_json(t) for t in case.steps],
        "may_withdraw": case.may_withdraw,
    }


@bp.get("/cases")
@operation(
    "My cases: instances I started or took part in, newest first",
    tag="instances",
    response="CasePage",
    errors=(400, 422),
    params=(
        query("page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 1}),
        query("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": cases.PER_PAGE}),
    ),
)
@login_required  # type: ignore[misc]
def list_cases() -> Any:
    """List one page of the caller's cases with their open steps."""
    page = cases.my_cases(
        get_session(),
        current_user.name,
        int_arg("page", 1, maximum=1_000_000) or 1,
        int_arg("per_page", cases.PER_PAGE, maximum=1_000_000) or cases.PER_PAGE,
    )
    return jsonify(page_json(page, [case_json(c) for c in page.cases]))


@bp.post(f"/instances/<{ID}:instance_id>/withdraw")
@operation(
    "Withdraw an instance I started by mistake",
    tag="instances",
    response="Instance",
    body="Withdraw",
    body_required=True,
    errors=(403, 404, 409, 422),
    description="Only its starter, and only while no task of it has been completed; the reason goes to the audit log.",
)
@login_required  # type: ignore[misc]
def withdraw_instance(instance_id: int) -> Any:
    """End an instance its caller started, with a reason."""
    reason = string_field(json_body(required=True), "reason", required=True) or ""
    return jsonify(instance_json(commit_change(instances.withdraw_instance, instance_id, reason)))
