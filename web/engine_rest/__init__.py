"""Camunda 7's REST API under /engine-rest: messages and external tasks, for Camunda's published clients."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from engine import PermissionDeniedError
from web.api.inputs import check_request

bp = Blueprint("engine_rest", __name__)
# Camunda names its errors by exception type; the status says the rest.
ERROR_TYPES = {
    400: "InvalidRequestException",
    401: "AuthenticationException",
    403: "AuthorizationException",
    404: "InvalidRequestException",
    405: "InvalidRequestException",
    409: "BadUserRequestException",
    413: "InvalidRequestException",
    415: "InvalidRequestException",
    500: "ProcessEngineException",
}
ROLES = ("worker", "manager", "admin")


def camunda_error(status: int, message: str, error_type: str | None = None) -> Any:
    """Answer as Camunda's REST API does: ``{"type", "message"}``."""
    response = jsonify({"type": error_type or ERROR_TYPES.get(status, "RestException"), "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="teamflow"'
    return response


@bp.before_request
def _authenticate() -> Any:
    if not current_user.is_authenticated:
        return camunda_error(401, "send HTTP Basic credentials of a user with the worker role")
    check_request()
    if not current_user.has_role(*ROLES):
        raise PermissionDeniedError(f"{current_user.name} needs the role worker")
    return None


from web.engine_rest import external_tasks, views  # noqa: E402,F401
