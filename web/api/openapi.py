"""Describe the API as OpenAPI 3.0, built from the routes' own declarations and the schemas beside them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask

from web.api.inputs import MAX_ID
from web.api.schemas import SCHEMAS, ref

F = TypeVar("F", bound=Callable[..., Any])
ERROR_TEXT = {
    400: "Malformed request: not JSON, not an object, a bad parameter or a missing CSRF token",
    401: "Not logged in: send HTTP Basic credentials or a session cookie",
    403: "Not allowed",
    404: "Unknown",
    409: "Conflict: the state changed, or the task is claimed by another user or no longer open",
    413: "Too large",
    422: "Invalid: details name each field, or each problem in a definition",
}
CONVERTER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Operation:
    """What a route takes and returns, for the description."""

    summary: str
    tag: str
    response: str | None
    status: int = 200
    content_type: str = "application/json"
    params: tuple[dict[str, Any], ...] = ()
    body: str | None = None
    body_required: bool = False
    multipart: bool = False
    errors: tuple[int, ...] = ()
    public: bool = False
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


OPERATIONS: dict[str, Operation] = {}


def operation(summary: str, *, tag: str, response: str | None, **options: Any) -> Callable[[F], F]:
    """Declare a route's summary, parameters, body, response and error statuses.

    :param response: the name of a schema in ``SCHEMAS``, ``"[Name]"`` for an array of it, or None.
    """

    def decorate(view: F) -> F:
        OPERATIONS[f"api.{view.__name__}"] = Operation(summary, tag, response, **options)
        return view

    return decorate


def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """Describe a query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _schema_of(name: str) -> dict[str, Any]:
    if name == "object":
        return {"type": "object"}
    if name.startswith("["):
        return {"type": "array", "items": ref(name[1:-1])}
    return ref(name)


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params: list[dict[str, Any]] = []

    def replace(match: re.Match[str]) -> str:
        if match["converter"] == "int":
            schema: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        else:
            schema = {"type": "string", "minLength": 1}
        params.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
        return "{" + match["name"] + "}"

    return CONVERTER.sub(replace, rule), params


def _error(status: int) -> dict[str, Any]:
    return {"description": ERROR_TEXT[status], "content": {"application/json": {"schema": ref("Error")}}}


def _operation(endpoint: str, method: str, op: Operation, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        schema = {"type": "string"} if op.content_type != "application/json" else _schema_of(op.response)
        success["content"] = {op.content_type: {"schema": schema}}
    statuses = set(op.errors) | ({401} if not op.public else set())
    if method != "GET":
        statuses.add(400)  # a cookie-authenticated write without its CSRF token
    if op.body is not None:
        statuses |= {400, 413}
    result: dict[str, Any] = {
        "operationId": endpoint.removeprefix("api."),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": [*path_params, *op.params],
        "responses": {str(op.status): success, **{str(s): _error(s) for s in sorted(statuses)}},
        **op.extra,
    }
    if op.description:
        result["description"] = op.description
    if op.public:
        result["security"] = []
    if op.body is not None:
        media = "multipart/form-data" if op.multipart else "application/json"
        result["requestBody"] = {"required": op.body_required, "content": {media: {"schema": ref(op.body)}}}
    return result


def build(app: Flask) -> dict[str, Any]:
    """Describe every API route of the app that declared itself with ``operation``."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue
        path, params = _path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, method, op, params)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Teamflow API",
            "version": "1",
            "description": (
                "Start and follow process instances and work their tasks. Authenticate with HTTP Basic, "
                "or with the browser session cookie plus an X-CSRFToken header on writes. Every error is "
                '{"error", "message", "details"}.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {
                **SCHEMAS,
                "Upload": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "fallback_group": {"type": "string", "description": "group for tasks naming no known group"},
                    },
                },
            },
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"basicAuth": []}, {"cookieAuth": []}],
    }
