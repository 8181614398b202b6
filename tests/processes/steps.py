"""Steps the process tests share: deploy a process's files, find open tasks, complete them as their group."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.errors import PermissionDeniedError
from engine.services import definitions, instances, task_queue

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def deploy(session: Any, names: tuple[str, ...]) -> Any:
    """Deploy these files of processes/ as the owner and commit; return the deployment results."""
    results = definitions.deploy_paths(session, [PROCESSES / name for name in names], actor="owner1")
    session.commit()
    return results


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def open_tasks(session: Any, instance_id: int, element_id: str | None = None) -> list[Any]:
    """The instance's open tasks (of one element, if given) in creation order."""
    tasks = task_queue.list_tasks(session, instance_id=instance_id, status="open")
    return sorted((t for t in tasks if element_id in (None, t.element_id)), key=lambda t: t.id)


def open_elements(session: Any, instance_id: int) -> list[str]:
    return sorted(t.element_id for t in open_tasks(session, instance_id))


def open_task(session: Any, instance_id: int, element_id: str) -> Any:
    found = open_tasks(session, instance_id, element_id)
    assert len(found) == 1, f"{element_id} open once; open: {open_elements(session, instance_id)}"
    return found[0]


def completed_elements(session: Any, instance_id: int) -> list[str]:
    return [t.element_id for t in task_queue.list_tasks(session, instance_id=instance_id, status="completed")]


def complete_as_group(
    outsiders: dict[str, str],
    session: Any,
    users: dict[str, str],
    instance_id: int,
    element_id: str,
    group: str,
    data: dict[str, Any],
    nth: int | None = None,
    *,
    due: bool = False,
) -> Any:
    """Complete a task as its group's user, after checking that only that group sees and may do it.

    ``outsiders`` names, for each group, a group whose user must neither see nor complete its tasks.
    Without ``nth`` the element must be open exactly once; with several applicants in parallel, ``nth``
    picks among the open tasks of one element in creation order, which follows the order of the names
    entered by HR. With ``due`` the task must have a due date.
    """
    if nth is None:
        task = open_task(session, instance_id, element_id)
    else:
        found = open_tasks(session, instance_id, element_id)
        assert len(found) > nth, f"{element_id} not open; open: {open_elements(session, instance_id)}"
        task = found[nth]
    assert task.group == group
    if due:
        assert task.due_at is not None
    assert task.id in {t.id for t in task_queue.group_tasks(session, users[group])}
    outsider = users[outsiders[group]]
    assert task.id not in {t.id for t in task_queue.group_tasks(session, outsider)}
    with pytest.raises(PermissionDeniedError):
        instances.complete_task(session, task.id, actor=outsider, data=data)
    session.rollback()
    instances.complete_task(session, task.id, actor=users[group], data=data)
    session.commit()
    return task
