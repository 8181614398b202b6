"""Map engine errors to HTTP responses: JSON under /api/, an HTML page elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine import (
    ConflictError,
    DefinitionError,
    EngineError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)

log = logging.getLogger(__name__)

STATUS = {
    NotFoundError: 404,
    PermissionDeniedError: 403,
    ConflictError: 409,
    InvalidInputError: 422,
    DefinitionError: 422,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}


def details_of(exc: EngineError) -> list[dict[str, Any]]:
    if isinstance(exc, InvalidInputError):
        return [{"field": p.field, "message": p.message} for p in exc.problems]
    if isinstance(exc, DefinitionError):
        return [
            {"file": p.file, "element_id": p.element_id, "line": p.line, "message": p.message} for p in exc.problems
        ]
    return []


def status_of(exc: EngineError) -> int:
    for cls, status in STATUS.items():
        if isinstance(exc, cls):
            return status
    return 500


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    if request.path.startswith("/engine-rest/"):
        from web.engine_rest import camunda_error

        # Camunda's clients expect its error shape, and 400 for invalid input.
        return camunda_error(400 if status == 422 else status, message)
    if wants_json():
        response = jsonify({"error": code, "message": message, "details": details or []})
        response.status_code = status
        response.headers.update(headers or {})
        return response
    return render_template("error.html", status=status, message=message, details=details or []), status, headers or {}


def init_app(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError) -> Any:
        status = status_of(exc)
        if status == 500:
            log.exception("engine error")
            return error_response(500, "server_error", "internal error")
        return error_response(status, exc.code, exc.message, details_of(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        headers = {k: v for k, v in exc.get_headers() if k == "Retry-After"}
        return error_response(status, HTTP_CODES.get(status, "error"), exc.description or exc.name, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        return error_response(500, "server_error", "internal error")
