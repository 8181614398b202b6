"""The persisted step does only the work its process needs: statements per completed task, by kind of process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from engine import definitions, instances, task_queue
from engine.bpmn import events

DATA = Path(__file__).resolve().parents[1] / "data"


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    bind = session.get_bind()

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(bind, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", record)


def _open_task_id(session: Session, instance_id: int) -> int:
    [task] = task_queue.list_tasks(session, instance_id=instance_id, status="open")
    return task.id


def test_a_rework_round_without_timers_messages_or_external_tasks_skips_their_tables(
    session: Session, users: dict[str, str]
) -> None:
    definitions.deploy_paths(session, [DATA / "loop.bpmn"], "owner1")
    instance_id = instances.start_instance(session, "loop", "sales1", {}, "循环").id
    session.commit()
    for _ in range(2):
        task_id = _open_task_id(session, instance_id)
        with statements(session) as seen:
            instances.complete_task(session, task_id, "sales1", {"done": False})
        session.commit()
    touched = " ".join(seen)
    assert not any(table in touched for table in ("FROM timer", "FROM message_subscription", "FROM external_task"))
    # The user, the task and its locked instance, candidate groups; task, counts and audit of the completion;
    # the instance; the open tasks, the new task, its group, counts and audit; the earlier round; the version.
    assert len(seen) <= 16, seen
    detail = instances.get_instance(session, instance_id)
    assert [t.element_id for t in detail.tasks] == ["Task_Work"]


@pytest.mark.parametrize(
    ("name", "key", "kinds"),
    [
        ("loop.bpmn", "loop", frozenset()),
        ("timers.bpmn", "timers", frozenset({"timer"})),
        ("messages.bpmn", "msg_receive", frozenset({"message"})),
        ("messages.bpmn", "msg_gateway", frozenset({"message", "timer"})),
    ],
)
def test_wait_kinds_name_the_events_a_process_can_wait_for(
    session: Session, users: dict[str, str], name: str, key: str, kinds: frozenset[str]
) -> None:
    definitions.deploy_paths(session, [DATA / name], "owner1")
    spec, subs = definitions.spec_for(session, definitions.version_row(session, key).id)
    assert events.wait_kinds(spec, subs) == kinds
