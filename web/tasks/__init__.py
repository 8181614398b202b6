"""Staff task queues and task pages."""

from flask import Blueprint

bp = Blueprint("tasks", __name__)

from web.tasks import views  # noqa: E402,F401
