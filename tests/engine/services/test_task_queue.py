"""Queue pages: the same order as the full queues, page by page, with a count that stops at its cap."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine import InvalidInputError, definitions, instances, task_queue

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def seven(session: Session, users: dict[str, str]) -> list[int]:
    """Seven open sales tasks; sales1 claims two of them."""
    definitions.deploy_paths(session, [DATA / "simple.bpmn"], "owner1")
    ids = [instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}).id for _ in range(7)]
    tasks = [t.id for t in task_queue.group_tasks(session, "sales1")]
    for task_id in tasks[1:3]:
        instances.claim_task(session, task_id, "sales1")
    session.commit()
    return ids


def test_pages_keep_the_queue_order(session: Session, seven: list[int]) -> None:
    whole = [t.id for t in task_queue.group_tasks(session, "sales1")]
    paged = [
        t.id for n in (1, 2, 3) for t in task_queue.queue_page(session, "sales1", "groups", page=n, per_page=2).tasks
    ]
    assert len(whole) == 5 and paged == whole
    first = task_queue.queue_page(session, "sales1", "groups", per_page=2)
    assert (first.total, first.pages, first.has_next, first.capped) == (5, 3, True, False)
    mine = task_queue.queue_page(session, "sales1", "mine")
    assert [t.id for t in mine.tasks] == [t.id for t in task_queue.my_tasks(session, "sales1")] and mine.total == 2
    assert task_queue.queue_page(session, "sales1", "groups", process_key="other").total == 0
    assert task_queue.queue_page(session, "sales1", "groups", overdue=True).total == 0
    assert task_queue.queue_page(session, "service1", "groups").tasks == ()


def test_the_count_stops_at_its_cap(session: Session, seven: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_queue, "COUNT_CAP", 3)
    page = task_queue.queue_page(session, "sales1", "groups", per_page=2)
    assert (page.total, page.capped, page.pages) == (4, True, 2)  # 5 tasks, counted to 3 + 1
    assert len(task_queue.queue_page(session, "sales1", "groups", page=2, per_page=2).tasks) == 2
    with pytest.raises(InvalidInputError):
        task_queue.queue_page(session, "sales1", "groups", page=3, per_page=2)
    assert task_queue.badge_count(session, "sales1", cap=3) == 4 and task_queue.badge_count(session, "sales1") == 7


@pytest.mark.parametrize(
    ("args", "field"),
    [({"which": "all"}, "queue"), ({"page": 0}, "page"), ({"page": 21}, "page"), ({"per_page": 500}, "per_page")],
)
def test_bad_page_requests_name_the_field(session: Session, seven: list[int], args: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInputError) as info:
        task_queue.queue_page(session, "sales1", **args)
    assert [p.field for p in info.value.problems] == [field]
