"""The JSON API under /api/v1: HTTP Basic or session logins, JSON errors, an OpenAPI description."""

from flask import Blueprint

from web.api.inputs import check_request

bp = Blueprint("api", __name__)
bp.before_request(check_request)

from web.api import (  # noqa: E402,F401
    admin_views,
    case_views,
    editor_views,
    message_views,
    monitoring,
    queue_views,
    task_views,
    views,
)
