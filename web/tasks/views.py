"""Routes of the task queues."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user, login_required

from engine import task_queue
from web.db import get_session
from web.tasks import bp


@bp.route("/")
@login_required  # type: ignore[misc]
def queue() -> Any:
    session = get_session()
    mine = task_queue.my_tasks(session, current_user.name)
    groups = task_queue.group_tasks(session, current_user.name)
    return render_template("tasks/queue.html", mine=mine, groups=groups)
