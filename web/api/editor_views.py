"""Routes of the JSON API for process owners: drafts, validation, dry runs, scenarios, diffs and deploys."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user, login_required

from engine import NotFoundError, definitions, editing, trials
from engine.views import DiffView, DraftView, ProblemView, ProcessRow, ScenarioView, TrialView
from web.api import bp
from web.api.inputs import json_body, string_field, uploaded_files
from web.api.openapi import operation, query
from web.api.schemas import SCHEMAS, deployment_json, iso, process_json
from web.auth import role_required
from web.db import get_session

OWNERS_ONLY = "Owners and admins only."
ANY = {"type": "object", "additionalProperties": True}
SCHEMAS.update(
    {
        "Draft": {
            "type": "object",
            "required": ["files"],
            "properties": {
                "files": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "file name (.bpmn or .dmn) -> XML text",
                },
                "bpmn_file": {"type": "string"},
            },
        },
        "Steps": {
            "type": "object",
            "properties": {
                "steps": {
                    "type": "array",
                    "items": ANY,
                    "description": '{"task": element id, "data": {...}} completes a task; {"timer": id} fires one',
                }
            },
        },
        "Scenario": {
            "type": "object",
            "required": ["name", "steps"],
            "properties": {
                "name": {"type": "string"},
                "steps": {"type": "array", "items": ANY},
                "expected_end": {"type": "string", "nullable": True},
                "expected_data": ANY,
            },
        },
        "Validate": {
            "type": "object",
            "properties": {"fallback_group": {"type": "string", "description": "as on deploy"}},
        },
        "NewProcess": {
            "type": "object",
            "required": ["key", "name"],
            "properties": {
                "key": {"type": "string", "description": "the new process id"},
                "name": {"type": "string"},
                "copy_from": {"type": "string", "description": "copy this process's latest version"},
            },
        },
        "NotedUpload": {
            "type": "object",
            "required": ["files", "note"],
            "properties": {
                "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "note": {"type": "string"},
                "confirm": {"type": "string", "enum": ["true", "false"]},
                "fallback_group": {"type": "string"},
            },
        },
        "DeployDraft": {
            "type": "object",
            "required": ["note"],
            "properties": {
                "note": {"type": "string", "description": "what changed and why"},
                "confirm": {"type": "boolean", "description": "deploy although scenarios fail"},
                "fallback_group": {"type": "string", "description": "group for user tasks naming no known group"},
            },
        },
    }
)


def row_json(row: ProcessRow) -> dict[str, Any]:
    return {
        **process_json(row.latest),
        "deploy_note": row.latest.deploy_note,
        "running": [{"version": v, "instances": n} for v, n in row.running],
        "has_draft": row.has_draft,
    }


def draft_json(draft: DraftView) -> dict[str, Any]:
    return {
        "key": draft.key,
        "bpmn_file": draft.bpmn_file,
        "files": draft.files,
        "base_version": draft.base_version,
        "saved": draft.updated_at is not None,
        "updated_at": iso(draft.updated_at),
    }


def problem_json(problem: ProblemView) -> dict[str, Any]:
    return asdict(problem)


def trial_json(trial: TrialView) -> dict[str, Any]:
    return {
        **asdict(trial),
        "steps": [asdict(s) for s in trial.steps],
        "waiting": list(trial.waiting),
    }


def scenario_json(scenario: ScenarioView) -> dict[str, Any]:
    return {**asdict(scenario), "steps": list(scenario.steps)}


def diff_json(diff: DiffView) -> dict[str, Any]:
    return {
        "key": diff.key,
        "left": diff.left,
        "right": diff.right,
        "left_files": diff.left_files,
        "right_files": diff.right_files,
        "changes": [{**asdict(c), "changes": [list(x) for x in c.changes]} for c in diff.changes],
    }


def _created(payload: dict[str, Any]) -> Response:
    response = jsonify(payload)
    response.status_code = 201
    return response


def _commit() -> None:
    get_session().commit()


@bp.get("/processes/overview")
@operation(
    "Every process with its latest version, deploy note and running instances per version",
    tag="editor",
    response="object",
)
@login_required  # type: ignore[misc]
def processes_overview() -> Any:
    """List processes for the processes home."""
    return jsonify({"processes": [row_json(r) for r in editing.home(get_session(), current_user.name)]})


@bp.get("/processes/<key>/draft")
@operation(
    "Your draft of a process (the latest version's files when you have none)",
    tag="editor",
    response="object",
    errors=(403, 404),
    description=OWNERS_ONLY,
)
@role_required("owner")
def get_draft(key: str) -> Any:
    return jsonify(draft_json(editing.get_draft(get_session(), key, current_user.name)))


@bp.put("/processes/<key>/draft")
@operation(
    "Save your draft of a process; drafts never run",
    tag="editor",
    response="object",
    body="Draft",
    body_required=True,
    errors=(403, 422),
    description=OWNERS_ONLY,
)
@role_required("owner")
def save_draft(key: str) -> Any:
    body = json_body(required=True)
    draft = editing.save_draft(
        get_session(), key, current_user.name, body.get("files"), string_field(body, "bpmn_file")
    )
    _commit()
    return jsonify(draft_json(draft))


@bp.delete("/processes/<key>/draft")
@operation("Throw your draft away", tag="editor", response="object", errors=(403, 404), description=OWNERS_ONLY)
@role_required("owner")
def discard_draft(key: str) -> Any:
    editing.discard_draft(get_session(), key, current_user.name)
    _commit()
    return jsonify({"deleted": True})


@bp.post("/processes/<key>/draft/validate")
@operation(
    "Check your draft exactly as deploy would, and run the process's scenarios on it",
    tag="editor",
    response="object",
    body="Validate",
    errors=(403, 404, 422),
    description=OWNERS_ONLY,
)
@role_required("owner")
def validate_draft(key: str) -> Any:
    body = json_body()
    problems = editing.validate(get_session(), key, current_user.name, string_field(body, "fallback_group"))
    valid = not [p for p in problems if p.kind != "warning"]
    return jsonify({"valid": valid, "problems": [problem_json(p) for p in problems]})


@bp.post("/processes/<key>/draft/dry-run")
@operation(
    "Run your draft in memory with task data in order; nothing is stored",
    tag="editor",
    response="object",
    body="Steps",
    errors=(403, 404, 422),
    description=OWNERS_ONLY,
)
@role_required("owner")
def dry_run_draft(key: str) -> Any:
    body = json_body()
    trial = editing.dry_run(get_session(), key, current_user.name, body.get("steps", []))
    return jsonify(trial_json(trial))


@bp.post("/processes/<key>/draft/deploy")
@operation(
    "Deploy your draft as the next version, with a note",
    tag="editor",
    response="Deployment",
    status=201,
    body="DeployDraft",
    body_required=True,
    errors=(403, 404, 422),
    description=OWNERS_ONLY + " Failing scenarios block the deploy unless confirm is true.",
)
@role_required("owner")
def deploy_draft(key: str) -> Any:
    body = json_body(required=True)
    results = editing.deploy_draft(
        get_session(),
        key,
        current_user.name,
        string_field(body, "note"),
        body.get("confirm") is True,
        string_field(body, "fallback_group"),
    )
    _commit()
    return _created(deployment_json(results))


@bp.post("/processes/new")
@operation(
    "Start a draft of a new process: empty, or a copy of another",
    tag="editor",
    response="object",
    status=201,
    body="NewProcess",
    body_required=True,
    errors=(403, 404, 422),
    description=OWNERS_ONLY,
)
@role_required("owner")
def new_process() -> Any:
    body = json_body(required=True)
    draft = editing.new_process(
        get_session(),
        string_field(body, "key", required=True) or "",
        string_field(body, "name", required=True) or "",
        current_user.name,
        string_field(body, "copy_from"),
    )
    _commit()
    return _created(draft_json(draft))


@bp.post("/deployments/noted")
@operation(
    "Deploy .bpmn and .dmn files with a note, after the scenarios",
    tag="editor",
    response="Deployment",
    status=201,
    body="NotedUpload",
    body_required=True,
    multipart=True,
    errors=(403, 422),
    description=OWNERS_ONLY,
)
@role_required("owner")
def deploy_noted() -> Any:
    results = editing.deploy_files(
        get_session(),
        uploaded_files(),
        current_user.name,
        request.form.get("note"),
        request.form.get("confirm") == "true",
        request.form.get("fallback_group") or None,
    )
    _commit()
    return _created(deployment_json(results))


@bp.get("/processes/<key>/scenarios")
@operation("The named scenarios of a process", tag="editor", response="object")
@login_required  # type: ignore[misc]
def list_scenarios(key: str) -> Any:
    return jsonify({"scenarios": [scenario_json(s) for s in trials.list_scenarios(get_session(), key)]})


@bp.put("/processes/<key>/scenarios")
@operation(
    "Create or replace a named scenario",
    tag="editor",
    response="object",
    body="Scenario",
    body_required=True,
    errors=(403, 422),
    description=OWNERS_ONLY,
)
@role_required("owner")
def save_scenario(key: str) -> Any:
    body = json_body(required=True)
    scenario = trials.save_scenario(
        get_session(),
        key,
        current_user.name,
        body.get("name"),
        body.get("steps"),
        body.get("expected_end"),
        body.get("expected_data"),
    )
    _commit()
    return jsonify(scenario_json(scenario))


@bp.delete("/processes/<key>/scenarios/<name>")
@operation("Delete a scenario", tag="editor", response="object", errors=(403, 404), description=OWNERS_ONLY)
@role_required("owner")
def delete_scenario(key: str, name: str) -> Any:
    trials.delete_scenario(get_session(), key, name, current_user.name)
    _commit()
    return jsonify({"deleted": True})


@bp.get("/processes/<key>/diff")
@operation(
    "What changed between two versions, or a version and your draft",
    tag="editor",
    response="object",
    params=(
        query("left", {"type": "string"}, "a version number or 'draft'; the previous version when left out"),
        query("right", {"type": "string"}, "a version number or 'draft'; the latest when left out"),
    ),
    errors=(404, 422),
)
@login_required  # type: ignore[misc]
def diff_versions(key: str) -> Any:
    session = get_session()
    latest = definitions.version_row(session, key).version
    right = request.args.get("right") or str(latest)
    left = request.args.get("left") or str(max(1, (int(right) if right.isdigit() else latest + 1) - 1))
    return jsonify(diff_json(editing.diff(session, key, left, right, current_user.name)))


@bp.get("/processes/<key>/versions/<int(min=1, max=2147483647):version>/files/<name>")
@operation(
    "One file of a version, as deployed",
    tag="editor",
    response="xml",
    content_type="application/xml",
    errors=(404,),
)
@login_required  # type: ignore[misc]
def version_file(key: str, version: int, name: str) -> Any:
    files = definitions.get_files(get_session(), key, version)
    if name not in files:
        raise NotFoundError(f"version {version} of {key!r} has no file {name!r}")
    return Response(files[name], mimetype="application/xml")
