"""Routes of the JSON API for definitions and instances, each a thin call to an engine service."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, url_for
from flask_login import current_user, login_required

from engine import audit, definitions, instances
from web.api import bp
from web.api.changes import commit_change
from web.api.inputs import (
    ID,
    MAX_ID,
    form_text,
    int_arg,
    json_body,
    object_field,
    str_arg,
    string_field,
    uploaded_files,
)
from web.api.openapi import build, operation, query
from web.api.schemas import (
    INSTANCE_STATUSES,
    deployment_json,
    event_json,
    instance_json,
    instance_summary_json,
    process_json,
)
from web.auth import role_required
from web.clock import team_zone
from web.db import get_session

VERSION = query(
    "version",
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "a version number; the latest when left out",
)
MANAGER_ONLY = "Managers and admins only."


def _created(payload: dict[str, Any], location: str) -> Response:
    response = jsonify(payload)
    response.status_code = 201
    response.headers["Location"] = location
    return response


@bp.get("/openapi.json")
@operation("This description of the API, an OpenAPI 3.0 document", tag="meta", response="object", public=True)
def openapi() -> Any:
    """Return the OpenAPI description, generated from the routes."""
    return jsonify(build(current_app))


# Definitions


@bp.get("/processes")
@operation("The latest version of each process", tag="definitions", response="[ProcessVersion]")
@login_required  # type: ignore[misc]
def list_processes() -> Any:
    """List the latest version of each deployed process."""
    return jsonify([process_json(p) for p in definitions.list_processes(get_session())])


@bp.get("/processes/<key>/versions")
@operation("Every version of a process, oldest first", tag="definitions", response="[ProcessVersion]", errors=(404,))
@login_required  # type: ignore[misc]
def list_versions(key: str) -> Any:
    """List every version of one process."""
    return jsonify([process_json(p) for p in definitions.list_versions(get_session(), key)])


@bp.get("/processes/<key>/xml")
@operation(
    "The BPMN of a version",
    tag="definitions",
    response="xml",
    content_type="application/xml",
    params=(VERSION,),
    errors=(400, 404, 422),
)
@login_required  # type: ignore[misc]
def process_xml(key: str) -> Any:
    """Return the BPMN text of a version (the latest unless ``version`` is given)."""
    xml = definitions.get_xml(get_session(), key, int_arg("version", None))
    return Response(xml, mimetype="application/xml")


@bp.post("/deployments")
@operation(
    "Deploy .bpmn and .dmn files",
    tag="definitions",
    response="Deployment",
    status=201,
    body="Upload",
    body_required=True,
    multipart=True,
    errors=(400, 403, 422),
    description=(
        "Owners and admins only. Each changed process becomes a new version. With `fallback_group`, human "
        "tasks naming no known group go to that group and are listed in `warnings`; without it they are refused."
    ),
)
@role_required("owner")
def deploy() -> Any:
    """Deploy the uploaded files; unchanged processes keep their version."""
    results = commit_change(definitions.deploy, uploaded_files(), form_text("note") or "", form_text("fallback_group"))
    return _created(deployment_json(results), url_for("api.list_processes"))


# Instances


@bp.post("/processes/<key>/instances")
@operation(
    "Start an instance of the latest version",
    tag="instances",
    response="Instance",
    status=201,
    body="StartInstance",
    errors=(403, 404, 409, 422),
)
@login_required  # type: ignore[misc]
def start_instance(key: str) -> Any:
    """Start the latest version of a process with a title and initial data."""
    body = json_body()
    title = string_field(body, "title")
    data = object_field(body, "data")
    business_key = string_field(body, "business_key")
    instance = commit_change(instances.start_instance, key, data, title, business_key, True, str(team_zone()))
    return _created(instance_json(instance), url_for("api.get_instance", instance_id=instance.id))


@bp.get("/instances")
@operation(
    "Instances, newest first, one page at a time",
    tag="instances",
    response="InstancePage",
    errors=(400, 422),
    params=(
        query("process", {"type": "string"}, "a process key"),
        query("status", {"type": "string", "enum": INSTANCE_STATUSES}),
        query(
            "business_key",
            {"type": "string", "maxLength": 201},
            "a business key; a trailing * matches every key starting with the text before it",
        ),
        query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}),
        query("per_page", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
    ),
)
@login_required  # type: ignore[misc]
def list_instances() -> Any:
    """List instances matching the filters."""
    page = int_arg("page", 1, maximum=1_000_000) or 1
    per_page = int_arg("per_page", 50, maximum=500) or 50
    items, total = instances.list_instances(
        get_session(),
        str_arg("process"),
        str_arg("status"),
        page,
        per_page,
        current_user.name,
        str_arg("business_key"),
    )
    return jsonify(
        {
            "items": [instance_summary_json(i) for i in items],
            "total": total,
            "page": page,
            "per_page": per_page,
        }
    )


@bp.get(f"/instances/<{ID}:instance_id>")
@operation("An instance with its data and open tasks", tag="instances", response="Instance", errors=(403, 404))
@login_required  # type: ignore[misc]
def get_instance(instance_id: int) -> Any:
    """Return one instance to someone who takes part in it (or a manager or owner)."""
    return jsonify(instance_json(instances.get_instance(get_session(), instance_id, current_user.name)))


@bp.get(f"/instances/<{ID}:instance_id>/events")
@operation("The audit trail of an instance, oldest first", tag="instances", response="[Event]", errors=(403, 404))
@login_required  # type: ignore[misc]
def list_events(instance_id: int) -> Any:
    """Return an instance's events to someone who takes part in it (or a manager or owner)."""
    return jsonify([event_json(e) for e in audit.list_events(get_session(), instance_id, current_user.name)])


@bp.post(f"/instances/<{ID}:instance_id>/suspend")
@operation(
    "Suspend an instance",
    tag="instances",
    response="Instance",
    errors=(403, 404, 409),
    description=MANAGER_ONLY,
)
@login_required  # type: ignore[misc]
def suspend_instance(instance_id: int) -> Any:
    """Pause a running or failed instance."""
    return jsonify(instance_json(commit_change(instances.suspend_instance, instance_id)))


@bp.post(f"/instances/<{ID}:instance_id>/resume")
@operation(
    "Resume a suspended instance",
    tag="instances",
    response="Instance",
    errors=(403, 404, 409),
    description=MANAGER_ONLY,
)
@login_required  # type: ignore[misc]
def resume_instance(instance_id: int) -> Any:
    """Let a suspended instance go on."""
    return jsonify(instance_json(commit_change(instances.resume_instance, instance_id)))


@bp.post(f"/instances/<{ID}:instance_id>/terminate")
@operation(
    "Terminate an instance",
    tag="instances",
    response="Instance",
    body="Terminate",
    errors=(403, 404, 409, 422),
    description=MANAGER_ONLY,
)
@login_required  # type: ignore[misc]
def terminate_instance(instance_id: int) -> Any:
    """End an instance for good, with a reason."""
    reason = string_field(json_body(), "reason", default="") or ""
    return jsonify(instance_json(commit_change(instances.terminate_instance, instance_id, reason)))


@bp.post(f"/instances/<{ID}:instance_id>/retry")
@operation(
    "Retry the failed step of an instance",
    tag="instances",
    response="Instance",
    body="Retry",
    errors=(403, 404, 409, 422),
    description=MANAGER_ONLY + " Data given is merged in first.",
)
@login_required  # type: ignore[misc]
def retry_instance(instance_id: int) -> Any:
    """Run a failed instance's step again with corrected data."""
    data = object_field(json_body(), "data")
    return jsonify(instance_json(commit_change(instances.retry_instance, instance_id, data)))
