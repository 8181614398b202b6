"""Route of the JSON API that correlates a message, as POST /engine-rest/message does with plain values."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import login_required

from engine import FieldProblem, InvalidInputError, messages
from web.api import bp
from web.api.changes import commit_change
from web.api.inputs import MAX_ID, json_body, object_field, string_field
from web.api.openapi import operation
from web.api.schemas import ANY_OBJECT, SCHEMAS, _object, _string, instance_json, ref

SCHEMAS.update(
    {
        "CorrelateMessage": {
            "type": "object",
            "required": ["message_name"],
            "properties": {
                "message_name": _string(maxLength=300, description="the bpmn:message name"),
                "business_key": _string(nullable=True, maxLength=200),
                "correlation_keys": {**ANY_OBJECT, "description": "instance variables that must be equal"},
                "variables": {**ANY_OBJECT, "description": "set on the path after the receiving element"},
                "instance_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID, "nullable": True},
                "all": {"type": "boolean", "description": "deliver to every match instead of refusing several"},
            },
        },
        "Correlation": _object(
            {
                "result_type": _string(enum=["Execution", "ProcessDefinition"]),
                "element_id": _string(),
                "instance": ref("Instance"),
            }
        ),
    }
)


@bp.post("/messages")
@operation(
    "Correlate a message to waiting instances, or start a process with it",
    tag="instances",
    response="[Correlation]",
    body="CorrelateMessage",
    body_required=True,
    errors=(403, 404, 409, 422),
    description=(
        "Workers, managers and admins. Matches running instances waiting for the message by business key, "
        "correlation keys and instance id; a message start event of a process when nothing waits. 404 when "
        "nothing matches, 409 when several match without all. Camunda's own call is POST /engine-rest/message."
    ),
)
@login_required  # type: ignore[misc]
def correlate_message() -> Any:
    """Deliver a message and return where it went."""
    body = json_body(required=True)
    instance_id = body.get("instance_id")
    if instance_id is not None and (isinstance(instance_id, bool) or not isinstance(instance_id, int)):
        raise InvalidInputError(
            "instance_id: must be a whole number", [FieldProblem("instance_id", "must be a whole number")]
        )
    flag = body.get("all", False)
    if not isinstance(flag, bool):
        raise InvalidInputError("all: must be true or false", [FieldProblem("all", "must be true or false")])
    results = commit_change(
        messages.correlate,
        string_field(body, "message_name", required=True),
        string_field(body, "business_key"),
        object_field(body, "correlation_keys"),
        object_field(body, "variables"),
        instance_id,
        flag,
    )
    return jsonify(
        [
            {"result_type": r.result_type, "element_id": r.element_id, "instance": instance_json(r.instance)}
            for r in results
        ]
    )
