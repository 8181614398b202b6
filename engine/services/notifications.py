"""Hand out new tasks to announce, each exactly once: the notification outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.repositories import tasks as repo
from engine.services.present import summary_from_row
from engine.views import TaskSummary


def claim_new_tasks(session: Session, limit: int = 200) -> list[TaskSummary]:
    """Return open tasks that nobody was told about yet, marking them as told.

    Tasks created by people, by timers or by the API all pass through here once, whichever process
    (web request or timer worker) asks first.
    """
    ids = repo.claim_unnotified(session, utcnow(), limit)
    return [summary_from_row(task, title, name) for task, title, name in repo.with_titles(session, ids)]
