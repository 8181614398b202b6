"""Read task queues from the task table, never loading a workflow."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.errors import FieldProblem, InvalidInputError, PermissionDeniedError
from engine.repositories import tasks as repo
from engine.services import people
from engine.services.present import summary_from_row
from engine.views import QueuePage, TaskSummary

STATUSES = ("open", "completed", "cancelled")
PER_PAGE = 50
# Queues count and page through at most this many tasks: beyond it a filter finds work faster than paging.
COUNT_CAP = 1000


def _rows(rows: object) -> list[TaskSummary]:
    return [summary_from_row(task, title, name) for task, title, name in rows]  # type: ignore[attr-defined]


def my_tasks(session: Session, user: str, process_key: str | None = None, overdue: bool = False) -> list[TaskSummary]:
    """Open tasks claimed by or assigned to the user, by due date, priority, then age."""
    return _rows(repo.for_user(session, user, process_key, utcnow() if overdue else None))


def group_tasks(
    session: Session, user: str, process_key: str | None = None, overdue: bool = False
) -> list[TaskSummary]:
    """Unclaimed open tasks of the user's groups, by due date, priority, then age.

    :raises PermissionDeniedError: unknown user.
    """
    groups = people.actor(session, user).groups
    return _rows(repo.for_groups(session, list(groups), process_key, utcnow() if overdue else None))


def queue_page(
    session: Session,
    user: str,
    which: str = "groups",
    process_key: str | None = None,
    overdue: bool = False,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> QueuePage:
    """One page of the user's own tasks (``mine``) or their groups' unclaimed ones (``groups``).

    Ordered like ``my_tasks``; the count stops past ``COUNT_CAP`` so that it stays cheap at any volume.

    :raises InvalidInputError: unknown queue, or a page or page size out of range.
    :raises PermissionDeniedError: unknown user.
    """
    if which not in ("mine", "groups"):
        raise InvalidInputError("queue: use mine or groups", [FieldProblem("queue", "use mine or groups")])
    if not 1 <= per_page <= 200:
        raise InvalidInputError("per_page: 1 to 200", [FieldProblem("per_page", "1 to 200")])
    last = -(-COUNT_CAP // per_page)
    if not 1 <= page <= last:
        raise InvalidInputError(f"page: 1 to {last}", [FieldProblem("page", f"1 to {last}")])
    groups = list(people.actor(session, user).groups) if which == "groups" else None
    rows, total = repo.queue_page(
        session,
        user,
        groups,
        process_key,
        utcnow() if overdue else None,
        (page - 1) * per_page,
        per_page,
        COUNT_CAP,
    )
    return QueuePage(tuple(_rows(rows)), page, per_page, total, COUNT_CAP)


def completed_by(session: Session, user: str) -> list[TaskSummary]:
    """Tasks the user completed, newest first."""
    return _rows(repo.completed_by(session, user))


def list_tasks(
    session: Session,
    instance_id: int | None = None,
    status: str | None = None,
    process_key: str | None = None,
    overdue: bool = False,
) -> list[TaskSummary]:
    """Every task matching the filters (for managers and tests).

    :raises InvalidInputError: unknown status.
    """
    if status and status not in STATUSES:
        raise InvalidInputError(
            f"status: unknown status {status!r}", [FieldProblem("status", f"unknown status {status!r}")]
        )
    return _rows(repo.search(session, status, process_key, instance_id, utcnow() if overdue else None))


def tasks_for(
    session: Session, user: str, scope: str = "mine", status: str | None = "open", process_key: str | None = None
) -> list[TaskSummary]:
    """The API's task list: ``mine``, ``groups`` or (managers only) ``all``.

    :raises InvalidInputError: unknown scope or status.
    :raises PermissionDeniedError: ``all`` asked by a non-manager.
    """
    if status and status not in STATUSES:
        raise InvalidInputError(
            f"status: unknown status {status!r}", [FieldProblem("status", f"unknown status {status!r}")]
        )
    actor = people.actor(session, user)
    if scope == "all":
        if not actor.has_role("manager"):
            raise PermissionDeniedError("only managers see all tasks")
        return list_tasks(session, status=status, process_key=process_key)
    if scope == "mine":
        if status == "completed":
            return [t for t in completed_by(session, user) if not process_key or t.process_key == process_key]
        if status in (None, "open"):
            return my_tasks(session, user, process_key)
        return []
    if scope == "groups":
        if status in (None, "open"):
            return group_tasks(session, user, process_key)
        return _rows(repo.visible_to(session, user, list(actor.groups), status, process_key))
    raise InvalidInputError("scope: use mine, groups or all", [FieldProblem("scope", "use mine, groups or all")])


def badge_count(session: Session, user: str, since: object = None, cap: int | None = None) -> int:
    """How many open tasks wait for the user (assigned, or unclaimed in their groups), up to ``cap`` + 1.

    :raises PermissionDeniedError: unknown user.
    """
    actor = people.actor(session, user)
    return repo.new_since(session, user, list(actor.groups), since, cap)  # type: ignore[arg-type]
