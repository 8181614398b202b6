"""Live workflows kept between transactions: reused on a hot instance, never after a rollback or another's write."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine import instances, task_queue
from engine.bpmn import runner, serializer
from engine.repositories import instances as instances_repo
from engine.repositories import workflow_cache
from engine.services import definitions, projection

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every deserialization of a stored workflow."""
    seen: list[str] = []
    real = serializer.load_workflow

    def counting(text: str, spec: object, subs: dict[str, object]) -> object:
        seen.append(text)
        return real(text, spec, subs)

    monkeypatch.setattr(serializer, "load_workflow", counting)
    return seen


@pytest.fixture
def loop(session: Session, users: dict[str, str]) -> int:
    definitions.deploy_paths(session, [DATA / "loop.bpmn"], "owner1")
    instance_id = instances.start_instance(session, "loop", "sales1", {}, "loop").id
    session.commit()
    return instance_id


def complete_round(factory: sessionmaker[Session], instance_id: int) -> int:
    with factory.begin() as session:
        [task] = task_queue.list_tasks(session, instance_id=instance_id, status="open")
        instances.complete_task(session, task.id, "sales1", {"done": False})
    return task.id


def rounds(factory: sessionmaker[Session], instance_id: int) -> int:
    with factory() as session:
        return int(instances.get_instance(session, instance_id).data["rounds"])


def test_a_hot_instance_is_not_deserialized_again(
    session_factory: sessionmaker[Session], loop: int, loads: list[str]
) -> None:
    for _ in range(3):
        complete_round(session_factory, loop)
    assert len(loads) <= 1  # at most the first step after the start reads the stored workflow
    assert rounds(session_factory, loop) == 3


def test_a_rolled_back_change_is_never_reused(
    session_factory: sessionmaker[Session], loop: int, loads: list[str]
) -> None:
    complete_round(session_factory, loop)
    with session_factory() as session:
        instance = instances_repo.get(session, loop)
        assert instance is not None
        workflow = projection.load(session, instance)
        [ready] = runner.ready_tasks(workflow)
        runner.complete_task(workflow, ready.spiff_id, {"done": False}, projection.PRUNE_DEPTH)
        projection.save(session, instance, workflow, "sales1")
        session.rollback()
    before = len(loads)
    complete_round(session_factory, loop)
    assert len(loads) == before + 1  # read from the database again, not the half-done workflow
    assert rounds(session_factory, loop) == 2


def test_a_change_written_by_another_process_is_read_from_the_database(
    session_factory: sessionmaker[Session], loop: int, loads: list[str]
) -> None:
    complete_round(session_factory, loop)
    ours = dict(workflow_cache._entries)  # this process's cache, holding the instance after round 1
    workflow_cache.clear()  # another process, with a cache of its own, does round 2
    complete_round(session_factory, loop)
    workflow_cache.clear()
    workflow_cache._entries.update(ours)  # back in this process: its entry is one row version behind
    before = len(loads)
    complete_round(session_factory, loop)
    assert len(loads) == before + 1
    assert rounds(session_factory, loop) == 3
