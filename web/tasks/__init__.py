"""Staff task queues, task pages, starting instances and the in-app badge."""

from datetime import UTC, datetime

from flask import Blueprint

from engine.views import TaskSummary
from web.tasks.display import waited, when

bp = Blueprint("tasks", __name__)
bp.add_app_template_filter(when, "when")
bp.add_app_template_filter(waited, "waited")


@bp.app_template_global()
def is_overdue(task: TaskSummary) -> bool:
    """Tell whether a queue row is open past its due time."""
    return task.is_overdue(datetime.now(UTC))


@bp.app_template_global()
def now_utc() -> datetime:
    return datetime.now(UTC)


from web.tasks import cases, views  # noqa: E402,F401
