"""Drive the promotion process through the engine: its scenarios, who sees each task, the approval table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from steps import PROCESSES, complete_as_group, completed_elements, naive, open_elements, open_task

from engine.bpmn.dmn import evaluate_decision
from engine.errors import InvalidInputError
from engine.services import instances, timers

APPROVAL_TABLE = PROCESSES / "promotion_approval.dmn"
FILES = ("promotion.bpmn", "promotion_approval.dmn")

# A user of another group for every lane, to prove that tasks stay in their own queue.
OUTSIDER = {"promotion": "sales", "team-lead": "promotion"}

CHANNEL_TASKS = {
    "advertising": "Task_Advertising",
    "pr": "Task_PublicRelations",
    "event": "Task_MarketingEvent",
}
RESEARCH = {
    "research_topic": "华东地区中小企业市场",
    "market_info": "中小企业数字化需求快速增长",
    "competitors": "两家主要竞争对手本季度降价10%",
    "customer_needs": "更低的上手成本和本地化服务",
    "market_trends": "短视频和行业展会获客效果提升",
}
STRATEGY = {
    "goal_description": "新品上市三十天内提升华东地区知名度",
    "target_reach": 100000,
    "target_leads": 500,
    "target_conversions": 50,
    "use_advertising": True,
    "use_pr": True,
    "use_event": False,
    "new_channel": False,
    "content": "新品功能演示视频与客户案例",
    "budget": 30000,
    "campaign_days": 30,
}
RECORDS = {
    "Task_Advertising": {
        "ad_media": "行业网站与短视频平台",
        "ad_spend": 18000,
        "ad_impressions": 250000,
        "ad_notes": "首周点击率2.1%",
    },
    "Task_PublicRelations": {"pr_partners": "华东商报", "pr_spend": 6000, "pr_coverage": 4},
    "Task_MarketingEvent": {
        "event_type": "product_launch",
        "event_date": "2024-10-15",
        "event_spend": 12000,
        "event_attendees": 320,
        "event_notes": "现场签约8家",
    },
}
MET = {
    "actual_reach": 120000,
    "actual_leads": 620,
    "actual_conversions": 55,
    "actual_cost": 29000,
    "lessons_learned": "短视频带来的线索质量最高",
}
MISSED = {**MET, "actual_leads": 310, "actual_conversions": 21, "lessons_learned": "线索不足，转化偏低"}
CLOSING = {
    "summary": "目标全部达成",
    "best_channel": "advertising",
    "recommendations": "下季度加大短视频投放",
}


# Complete the one open task of an element as its group's user, checking that only that group sees and may do it.
complete = partial(complete_as_group, OUTSIDER)


def start(session: Any, users: dict[str, str]) -> int:
    inst = instances.start_instance(session, "promotion", actor=users["promotion"], title="新品上市推广")
    session.commit()
    assert open_elements(session, inst.id) == ["Task_MarketResearch"]
    complete(session, users, inst.id, "Task_MarketResearch", "promotion", RESEARCH)
    assert open_elements(session, inst.id) == ["Task_DraftStrategy"]
    return inst.id


def draft_strategy(session: Any, users: dict[str, str], instance_id: int, **changes: Any) -> None:
    """Submit the strategy, with some of its fields changed."""
    complete(session, users, instance_id, "Task_DraftStrategy", "promotion", {**STRATEGY, **changes})


def run_campaign(
    session: Any,
    session_factory: Any,
    users: dict[str, str],
    instance_id: int,
    channels: list[str],
    days: int = 30,
) -> None:
    """Record each chosen activity, then let the campaign period end; evaluation is next."""
    expected = sorted(CHANNEL_TASKS[c] for c in channels)
    assert open_elements(session, instance_id) == expected
    for element_id in expected:
        task = open_task(session, instance_id, element_id)
        # Each activity is due by the end of the campaign period.
        assert abs(naive(task.due_at) - naive(task.created_at) - timedelta(days=days)) < timedelta(minutes=1)
        complete(session, users, instance_id, element_id, "promotion", RECORDS[element_id])
    # All activities recorded, but the evaluation waits for the end of the period.
    assert open_elements(session, instance_id) == []
    assert instances.get_instance(session, instance_id).status == "running"
    now = datetime.now(UTC)
    assert timers.fire_due_timers(session_factory, now=now + timedelta(days=days - 1)) == 0
    assert timers.fire_due_timers(session_factory, now=now + timedelta(days=days + 1)) == 1
    session.expire_all()
    assert open_elements(session, instance_id) == ["Task_EvaluateResults"]


def test_small_budget_needs_no_approval_and_meets_goal(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    draft_strategy(session, users, instance_id)
    data = instances.get_instance(session, instance_id).data
    assert data["approval_required"] is False
    assert data["channels"] == ["advertising", "pr"]
    run_campaign(session, session_factory, users, instance_id, ["advertising", "pr"])
    complete(session, users, instance_id, "Task_EvaluateResults", "promotion", MET)
    assert open_elements(session, instance_id) == ["Task_ClosingSummary"]
    complete(session, users, instance_id, "Task_ClosingSummary", "promotion", CLOSING)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["goal_met"] is True
    assert inst.data["strategy_round"] == 1
    done = set(completed_elements(session, instance_id))
    assert "Task_ApproveStrategy" not in done
    assert "Task_MarketingEvent" not in done


def test_large_budget_approved_after_one_send_back(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    draft_strategy(session, users, instance_id, budget=80000, use_event=True)
    assert open_elements(session, instance_id) == ["Task_ApproveStrategy"]
    approval = open_task(session, instance_id, "Task_ApproveStrategy")
    assert abs(naive(approval.due_at) - naive(approval.created_at) - timedelta(days=2)) < timedelta(minutes=1)
    assert instances.get_instance(session, instance_id).data["approval_reason"] == "预算超过50000元"
    complete(
        session,
        users,
        instance_id,
        "Task_ApproveStrategy",
        "team-lead",
        {"strategy_decision": "return", "review_comments": "预算偏高，请压缩展会费用"},
    )
    assert open_elements(session, instance_id) == ["Task_DraftStrategy"]
    assert instances.get_instance(session, instance_id).data["review_comments"] == "预算偏高，请压缩展会费用"

    draft_strategy(session, users, instance_id, budget=60000, use_event=True)
    assert open_elements(session, instance_id) == ["Task_ApproveStrategy"]
    complete(
        session,
        users,
        instance_id,
        "Task_ApproveStrategy",
        "team-lead",
        {"strategy_decision": "approve", "review_comments": "同意"},
    )
    run_campaign(session, session_factory, users, instance_id, ["advertising", "pr", "event"])
    complete(session, users, instance_id, "Task_EvaluateResults", "promotion", MET)
    complete(session, users, instance_id, "Task_ClosingSummary", "promotion", CLOSING)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["strategy_decision"] == "approve"
    assert inst.data["budget"] == 60000
    assert inst.data["strategy_round"] == 2


def test_new_channel_needs_approval_even_on_a_small_budget(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    draft_strategy(session, users, instance_id, budget=8000, new_channel=True, new_channel_name="直播带货")
    assert open_elements(session, instance_id) == ["Task_ApproveStrategy"]
    assert instances.get_instance(session, instance_id).data["approval_reason"] == "启用新渠道"


def test_goal_missed_once_then_adjusted_and_met(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    draft_strategy(session, users, instance_id)
    run_campaign(session, session_factory, users, instance_id, ["advertising", "pr"])
    complete(session, users, instance_id, "Task_EvaluateResults", "promotion", MISSED)
    data = instances.get_instance(session, instance_id).data
    assert data["goal_met"] is False
    assert data["reach_met"] is True
    assert data["leads_met"] is False
    assert open_elements(session, instance_id) == ["Task_OptimiseStrategy"]
    complete(
        session,
        users,
        instance_id,
        "Task_OptimiseStrategy",
        "promotion",
        {"gap_analysis": "公关报道带来的线索很少", "optimisation_plan": "停掉公关，增加行业展会"},
    )
    assert open_elements(session, instance_id) == ["Task_DraftStrategy"]

    draft_strategy(session, users, instance_id, use_pr=False, use_event=True, campaign_days=14)
    run_campaign(session, session_factory, users, instance_id, ["advertising", "event"], days=14)
    complete(session, users, instance_id, "Task_EvaluateResults", "promotion", MET)
    complete(session, users, instance_id, "Task_ClosingSummary", "promotion", CLOSING)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["goal_met"] is True
    assert inst.data["strategy_round"] == 2
    assert inst.data["campaign_period"] == "P14D"
    done = completed_elements(session, instance_id)
    assert done.count("Task_EvaluateResults") == 2
    assert done.count("Task_PublicRelations") == 1


def test_only_one_channel_chosen(deployed: Any, session: Any, session_factory: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    draft_strategy(session, users, instance_id, use_advertising=False, use_pr=False, use_event=True, campaign_days=7)
    assert instances.get_instance(session, instance_id).data["channels"] == ["event"]
    run_campaign(session, session_factory, users, instance_id, ["event"], days=7)
    complete(session, users, instance_id, "Task_EvaluateResults", "promotion", MET)
    complete(session, users, instance_id, "Task_ClosingSummary", "promotion", {**CLOSING, "best_channel": "event"})

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    done = set(completed_elements(session, instance_id))
    assert "Task_Advertising" not in done
    assert "Task_PublicRelations" not in done


def test_period_ending_before_the_activities_waits_for_them(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    draft_strategy(session, users, instance_id, use_advertising=False, use_pr=True, campaign_days=10)
    assert timers.fire_due_timers(session_factory, now=datetime.now(UTC) + timedelta(days=11)) == 1
    session.expire_all()
    assert open_elements(session, instance_id) == ["Task_PublicRelations"]
    complete(session, users, instance_id, "Task_PublicRelations", "promotion", RECORDS["Task_PublicRelations"])
    assert open_elements(session, instance_id) == ["Task_EvaluateResults"]


def test_strategy_without_a_channel_is_refused_at_once(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    task = open_task(session, instance_id, "Task_DraftStrategy")
    with pytest.raises(InvalidInputError) as caught:
        instances.complete_task(
            session,
            task.id,
            users["promotion"],
            {**STRATEGY, "use_advertising": False, "use_pr": False, "use_event": False},
        )
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("use_advertising", "needs at least one of its group")
    ]
    session.rollback()
    assert open_task(session, instance_id, "Task_DraftStrategy").id == task.id


def test_a_send_back_needs_comments_and_shows_them_on_the_strategy(
    deployed: Any, session: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    draft_strategy(session, users, instance_id, budget=80000)
    review = open_task(session, instance_id, "Task_ApproveStrategy")
    with pytest.raises(InvalidInputError) as caught:
        instances.complete_task(session, review.id, users["team-lead"], {"strategy_decision": "return"})
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("review_comments", "is required with this choice")
    ]
    session.rollback()
    complete(
        session,
        users,
        instance_id,
        "Task_ApproveStrategy",
        "team-lead",
        {"strategy_decision": "return", "review_comments": "预算偏高"},
    )
    again = instances.get_task(session, open_task(session, instance_id, "Task_DraftStrategy").id)
    assert again.reason == "审批推广策略：退回修改；审批意见：预算偏高"


def test_strategy_form_rejects_bad_input(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    task = open_task(session, instance_id, "Task_DraftStrategy")
    with pytest.raises(InvalidInputError) as caught:
        instances.complete_task(
            session,
            task.id,
            actor=users["promotion"],
            data={**STRATEGY, "budget": -1, "campaign_days": 0, "content": ""},
        )
    assert {p.field for p in caught.value.problems} == {"budget", "campaign_days", "content"}
    session.rollback()


@pytest.mark.parametrize(
    ("budget", "new_channel", "required", "reason"),
    [
        (80000, False, True, "预算超过50000元"),
        (50001, False, True, "预算超过50000元"),
        (90000, True, True, "预算超过50000元"),
        (50000, False, False, "预算不超过50000元且未启用新渠道"),
        (0, False, False, "预算不超过50000元且未启用新渠道"),
        (50000, True, True, "启用新渠道"),
        (1000, True, True, "启用新渠道"),
    ],
)
def test_approval_table(budget: int, new_channel: bool, required: bool, reason: str) -> None:
    result = evaluate_decision(APPROVAL_TABLE, {"budget": budget, "new_channel": new_channel})
    assert result == {"approval_required": required, "approval_reason": reason}
