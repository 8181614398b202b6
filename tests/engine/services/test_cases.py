"""My cases and withdrawing: what a person started or worked on, where it stands, and taking one back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    audit,
    cases,
    definitions,
    instances,
    task_queue,
)

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def started(session: Session, users: dict[str, str]) -> list[int]:
    """Three simple instances started by sales1; the first one's task is done (it waits for the lead)."""
    definitions.deploy_paths(session, [DATA / "simple.bpmn"], "owner1")
    ids = [
        instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, f"订单 {n}").id for n in (1, 2, 3)
    ]
    [first] = task_queue.list_tasks(session, instance_id=ids[0], status="open")
    instances.complete_task(session, first.id, "sales1", {"amount": 500})
    session.commit()
    return ids


def test_my_cases_show_where_each_stands_newest_first(session: Session, started: list[int]) -> None:
    page = cases.my_cases(session, "sales1")
    assert [c.title for c in page.cases] == ["订单 3", "订单 2", "订单 1"] and page.total == 3
    waiting = page.cases[2]
    assert [(s.name, s.group, s.assignee) for s in waiting.steps] == [("审核", "team-lead", None)]
    assert not waiting.may_withdraw and page.cases[0].may_withdraw
    [step] = waiting.steps
    instances.claim_task(session, step.id, "lead1")
    session.commit()
    assert cases.my_cases(session, "sales1").cases[2].steps[0].assignee == "lead1"
    # The lead took part by claiming; someone who never touched them sees none.
    assert [c.title for c in cases.my_cases(session, "lead1").cases] == ["订单 1"]
    assert cases.my_cases(session, "service1").cases == ()


def test_my_cases_page_through(session: Session, started: list[int]) -> None:
    first = cases.my_cases(session, "sales1", page=1, per_page=2)
    second = cases.my_cases(session, "sales1", page=2, per_page=2)
    assert [c.title for c in first.cases + second.cases] == ["订单 3", "订单 2", "订单 1"]
    assert (first.total, first.pages, first.has_next, second.has_next) == (3, 2, True, False)


@pytest.mark.parametrize(("page", "per_page", "field"), [(0, 25, "page"), (10_000, 25, "page"), (1, 0, "per_page")])
def test_my_cases_refuse_pages_out_of_range(
    session: Session, started: list[int], page: int, per_page: int, field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        cases.my_cases(session, "sales1", page=page, per_page=per_page)
    assert [p.field for p in info.value.problems] == [field]


def test_the_starter_withdraws_while_the_first_task_is_open(session: Session, started: list[int]) -> None:
    detail = instances.withdraw_instance(session, started[1], "sales1", "  客户重复下单  ")
    session.commit()
    assert detail.status == "terminated" and detail.tasks == () and detail.ended_at is not None
    assert [t.status for t in task_queue.list_tasks(session, instance_id=started[1])] == ["cancelled"]
    events = [(e.type, e.actor, e.data.get("reason")) for e in audit.list_events(session, started[1])]
    assert events[-1] == ("withdrawn", "sales1", "客户重复下单")
    assert task_queue.group_tasks(session, "sales1")[0].instance_id == started[2]


@pytest.mark.parametrize(
    ("who", "which", "error"),
    [
        ("sales1", 0, ConflictError),  # its first task was completed already
        ("manager1", 1, PermissionDeniedError),  # not the starter, even as a manager
        ("service1", 1, PermissionDeniedError),
    ],
)
def test_withdraw_is_refused(session: Session, started: list[int], who: str, which: int, error: type) -> None:
    with pytest.raises(error):
        instances.withdraw_instance(session, started[which], who, "误操作")
    session.rollback()
    assert instances.get_instance(session, started[which]).status == "running"


def test_withdraw_needs_a_reason_and_an_instance(session: Session, started: list[int]) -> None:
    for reason in ("", "   ", "x" * 2001):
        with pytest.raises(InvalidInputError) as info:
            instances.withdraw_instance(session, started[1], "sales1", reason)
        assert [p.field for p in info.value.problems] == ["reason"]
    with pytest.raises(NotFoundError):
        instances.withdraw_instance(session, 99_999, "sales1", "误操作")
    instances.withdraw_instance(session, started[1], "sales1", "误操作")
    session.commit()
    with pytest.raises(ConflictError):
        instances.withdraw_instance(session, started[1], "sales1", "再次")
