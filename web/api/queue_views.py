"""Routes of the JSON API for paged queues: one page of my tasks or my groups' tasks, with a capped count."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user, login_required

from engine import task_queue
from engine.views import Paging
from web.api import bp
from web.api.inputs import int_arg, str_arg
from web.api.openapi import operation, query
from web.api.schemas import SCHEMAS, _integer, _object, ref, task_json
from web.db import get_session

SCHEMAS["QueuePage"] = _object(
    {
        "items": {"type": "array", "items": ref("Task")},
        "total": _integer(),
        "total_capped": {"type": "boolean", "description": "true when more tasks wait than total counts"},
        "page": _integer(),
        "per_page": _integer(),
    }
)


@bp.get("/queue")
@operation(
    "One page of a queue, ordered by due date, priority, then age",
    tag="tasks",
    response="QueuePage",
    errors=(400, 422),
    description=(
        "mine: open tasks I hold; groups: unclaimed open tasks of my groups. Counts stop at "
        f"{task_queue.COUNT_CAP} and pages reach that far; filter to find more."
    ),
    params=(
        query("queue", {"type": "string", "enum": ["mine", "groups"], "default": "groups"}),
        query("process", {"type": "string"}, "a process key"),
        query("overdue", {"type": "boolean", "default": False}, "only tasks past their due date"),
        query("page", {"type": "integer", "minimum": 1, "default": 1}),
        query("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": task_queue.PER_PAGE}),
    ),
)
@login_required  # type: ignore[misc]
def queue_page() -> Any:
    """Return one page of the caller's queue."""
    page = task_queue.queue_page(
        get_session(),
        current_user.name,
        str_arg("queue", "groups") or "groups",
        str_arg("process"),
        str_arg("overdue") in ("1", "true"),
        int_arg("page", 1, maximum=1_000_000) or 1,
        int_arg("per_page", task_queue.PER_PAGE, maximum=1_000_000) or task_queue.PER_PAGE,
    )
    return jsonify(page_json(page, [task_json(t) for t in page.tasks]))


def page_json(page: Paging, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Shape one page of a paged view (queue or cases) for the API."""
    return {
        "items": items,
        "total": min(page.total, page.count_cap),
        "total_capped": page.capped,
        "page": page.page,
        "per_page": page.per_page,
    }
