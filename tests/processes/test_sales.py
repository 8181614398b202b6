"""Drive the sales process through the engine: scenarios, who sees each task, credit and discount tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from steps import PROCESSES, complete_as_group, completed_elements, naive, open_elements, open_task

from engine.bpmn.dmn import evaluate_decision
from engine.errors import InvalidInputError
from engine.services import instances, timers

CREDIT_TABLE = PROCESSES / "sales_credit_rating.dmn"
DISCOUNT_TABLE = PROCESSES / "sales_discount_approval.dmn"
FILES = ("sales.bpmn", "sales_credit_rating.dmn", "sales_discount_approval.dmn")

# A user of another group for every lane, to prove that tasks stay in their own queue.
OUTSIDER = {
    "sales": "service",
    "risk": "sales",
    "team-lead": "sales",
    "departments": "sales",
    "service": "sales",
}

PROSPECT = {
    "company_name": "华南精密机械有限公司",
    "industry": "manufacturing",
    "contact_name": "陈立",
    "contact_phone": "13800000000",
    "source": "trade_show",
    "estimated_deal_size": 600000,
    "customer_class": "key",
    "assessment": "产线升级需求明确",
}
GOOD_CREDIT = {"years_in_business": 8, "payment_history": "good"}
VISIT = {
    "visit_date": "2025-03-03",
    "customer_needs": "两条产线的自动化改造",
    "products_presented": "A 型设备",
}
PROPOSAL = {
    "proposed_products": "A 型设备 2 台",
    "list_price": 600000,
    "discount_percent": 5,
    "service_commitments": "一年质保，48 小时上门",
}
AGREED = {"negotiation_result": "agreed", "agreed_amount": 570000, "agreed_terms": "30% 预付，验收后付清"}
CONTRACT = {
    "contract_no": "HT-2025-031",
    "signed_date": "2025-03-20",
    "contract_amount": 570000,
    "delivery_days": 14,
}
DELIVERED = {"delivered_date": "2025-04-02", "quality_passed": True, "delivery_notes": "按期交付"}
RETURN_VISIT = {
    "satisfaction": "satisfied",
    "issues": "无",
    "repeat_interest": True,
    "referral_willing": True,
    "visit_summary": "客户计划下半年增购",
}


# Complete the one open task of an element as its group's user, checking that only that group sees and may do it;
# every sales task has a due date.
complete = partial(complete_as_group, OUTSIDER, due=True)


def reason_of(session: Any, instance_id: int, element_id: str) -> str | None:
    """Why the open task of an element came back, as its page shows it."""
    return instances.get_task(session, open_task(session, instance_id, element_id).id).reason


def start(session: Any, users: dict[str, str], **credit: Any) -> int:
    """Register the prospect and rate its credit; return the instance id."""
    inst = instances.start_instance(session, "sales", actor=users["sales"], title="商机 华南精密机械")
    session.commit()
    assert open_elements(session, inst.id) == ["Task_RegisterProspect"]
    complete(session, users, inst.id, "Task_RegisterProspect", "sales", PROSPECT)
    assert open_elements(session, inst.id) == ["Task_AssessCredit"]
    complete(session, users, inst.id, "Task_AssessCredit", "risk", {**GOOD_CREDIT, **credit})
    return inst.id


def visit_and_propose(session: Any, users: dict[str, str], instance_id: int, discount: int = 5) -> None:
    complete(session, users, instance_id, "Task_SalesVisit", "sales", VISIT)
    complete(session, users, instance_id, "Task_DraftProposal", "sales", {**PROPOSAL, "discount_percent": discount})


def sign_contract(session: Any, users: dict[str, str], instance_id: int, **contract: Any) -> None:
    complete(session, users, instance_id, "Task_Negotiate", "sales", AGREED)
    complete(session, users, instance_id, "Task_ReviewContract", "risk", {"contract_review": "approve"})
    complete(session, users, instance_id, "Task_SignContract", "sales", {**CONTRACT, **contract})


def deliver_and_follow_up(session: Any, session_factory: Any, users: dict[str, str], instance_id: int) -> None:
    complete(session, users, instance_id, "Task_ConfirmDelivery", "departments", DELIVERED)
    # The return visit waits 30 days after delivery.
    assert open_elements(session, instance_id) == []
    now = datetime.now(UTC)
    assert timers.fire_due_timers(session_factory, now=now + timedelta(days=29)) == 0
    assert timers.fire_due_timers(session_factory, now=now + timedelta(days=31)) == 1
    session.expire_all()
    assert open_elements(session, instance_id) == ["Task_ReturnVisit"]
    complete(session, users, instance_id, "Task_ReturnVisit", "service", RETURN_VISIT)


def test_won_without_discount_approval(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    assert open_elements(session, instance_id) == ["Task_SalesVisit"]
    visit_and_propose(session, users, instance_id, discount=5)
    assert open_elements(session, instance_id) == ["Task_Negotiate"]
    sign_contract(session, users, instance_id)
    delivery = open_task(session, instance_id, "Task_ConfirmDelivery")
    assert abs(naive(delivery.due_at) - naive(delivery.created_at) - timedelta(days=14)) < timedelta(minutes=1)
    deliver_and_follow_up(session, session_factory, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["credit_rating"] == "A"
    assert inst.data["discount_approval"] == "none"
    assert inst.data["outcome"] == "won"
    assert inst.data["contract_no"] == "HT-2025-031"
    assert inst.data["satisfaction"] == "satisfied"
    done = completed_elements(session, instance_id)
    assert "Task_ApproveDiscount" not in done
    assert "Task_EscalateLateDelivery" not in done


def test_won_after_team_lead_discount_approval(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    visit_and_propose(session, users, instance_id, discount=15)
    assert open_elements(session, instance_id) == ["Task_ApproveDiscount"]
    complete(
        session,
        users,
        instance_id,
        "Task_ApproveDiscount",
        "team-lead",
        {"discount_decision": "approve", "discount_comments": "重点客户，同意"},
    )
    assert open_elements(session, instance_id) == ["Task_Negotiate"]
    sign_contract(session, users, instance_id)
    deliver_and_follow_up(session, session_factory, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["discount_approval"] == "team_lead"
    assert inst.data["discount_decision"] == "approve"
    assert inst.data["outcome"] == "won"


def test_discount_sent_back_to_the_proposal(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    # Above 20 %: straight back to the proposal, with a note why.
    visit_and_propose(session, users, instance_id, discount=25)
    assert open_elements(session, instance_id) == ["Task_DraftProposal"]
    assert instances.get_instance(session, instance_id).data["proposal_feedback"] == "折扣 25% 超过 20%，请调整销售方案"
    assert reason_of(session, instance_id, "Task_DraftProposal") == "折扣 25% 超过 20%，请调整销售方案"
    # 18 %: the team lead refuses, back to the proposal again.
    complete(session, users, instance_id, "Task_DraftProposal", "sales", {**PROPOSAL, "discount_percent": 18})
    complete(
        session,
        users,
        instance_id,
        "Task_ApproveDiscount",
        "team-lead",
        {"discount_decision": "reject", "discount_comments": "折扣过高"},
    )
    assert open_elements(session, instance_id) == ["Task_DraftProposal"]
    # The old note on the 25 % is no reason any more: the team lead's refusal is.
    assert reason_of(session, instance_id, "Task_DraftProposal") == "折扣审批：驳回；审批意见：折扣过高"
    complete(session, users, instance_id, "Task_DraftProposal", "sales", {**PROPOSAL, "discount_percent": 10})
    assert open_elements(session, instance_id) == ["Task_Negotiate"]
    assert completed_elements(session, instance_id).count("Task_DraftProposal") == 3


def test_lost_in_negotiation(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    visit_and_propose(session, users, instance_id)
    # A revision first, then the customer walks away.
    complete(
        session,
        users,
        instance_id,
        "Task_Negotiate",
        "sales",
        {"negotiation_result": "revise", "negotiation_notes": "客户要求延长质保"},
    )
    assert open_elements(session, instance_id) == ["Task_DraftProposal"]
    complete(session, users, instance_id, "Task_DraftProposal", "sales", {**PROPOSAL, "discount_percent": 8})
    complete(
        session,
        users,
        instance_id,
        "Task_Negotiate",
        "sales",
        {"negotiation_result": "lost", "negotiation_notes": "客户选择了竞争对手"},
    )

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["outcome"] == "lost"
    assert inst.data["lost_reason"] == "谈判失败：客户选择了竞争对手"
    assert "Task_ReviewContract" not in completed_elements(session, instance_id)


def test_credit_d_refused(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, payment_history="default", years_in_business=3)
    assert open_elements(session, instance_id) == ["Task_ApproveCreditException"]
    complete(
        session,
        users,
        instance_id,
        "Task_ApproveCreditException",
        "team-lead",
        {"credit_exception": "refuse", "exception_comments": "曾有坏账"},
    )

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["credit_rating"] == "D"
    assert inst.data["outcome"] == "lost"
    assert inst.data["lost_reason"] == "客户信用等级为D，团队负责人未批准合作：曾有坏账"
    assert "Task_SalesVisit" not in completed_elements(session, instance_id)


def test_credit_d_approved_with_prepayment(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, payment_history="late", years_in_business=1)
    complete(
        session,
        users,
        instance_id,
        "Task_ApproveCreditException",
        "team-lead",
        {"credit_exception": "approve", "prepayment_percent": 50},
    )
    assert open_elements(session, instance_id) == ["Task_SalesVisit"]
    assert instances.get_instance(session, instance_id).data["prepayment_percent"] == 50


def test_credit_d_approved_without_prepayment_is_no_approval(
    deployed: Any, session: Any, users: dict[str, str]
) -> None:
    """The rulebook allows a D customer only on prepayment terms: approving with none ends the deal."""
    instance_id = start(session, users, payment_history="late", years_in_business=1)
    complete(
        session,
        users,
        instance_id,
        "Task_ApproveCreditException",
        "team-lead",
        {"credit_exception": "approve", "prepayment_percent": 0},
    )
    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed" and inst.data["outcome"] == "lost"
    assert "Task_SalesVisit" not in completed_elements(session, instance_id)


def test_contract_sent_back_once_then_signed(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    visit_and_propose(session, users, instance_id)
    complete(session, users, instance_id, "Task_Negotiate", "sales", AGREED)
    complete(
        session,
        users,
        instance_id,
        "Task_ReviewContract",
        "risk",
        {"contract_review": "return", "review_comments": "违约责任条款不明确"},
    )
    assert open_elements(session, instance_id) == ["Task_Negotiate"]
    assert reason_of(session, instance_id, "Task_Negotiate") == "合同审核：退回修改；审核意见：违约责任条款不明确"
    sign_contract(session, users, instance_id)
    deliver_and_follow_up(session, session_factory, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["outcome"] == "won"
    done = completed_elements(session, instance_id)
    assert done.count("Task_ReviewContract") == 2
    assert done.count("Task_Negotiate") == 2


def test_late_delivery_escalated(deployed: Any, session: Any, session_factory: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    visit_and_propose(session, users, instance_id)
    sign_contract(session, users, instance_id, delivery_days=10)
    delivery = open_task(session, instance_id, "Task_ConfirmDelivery")
    assert abs(naive(delivery.due_at) - naive(delivery.created_at) - timedelta(days=10)) < timedelta(minutes=1)

    now = datetime.now(UTC)
    assert timers.fire_due_timers(session_factory, now=now + timedelta(days=9)) == 0
    assert timers.fire_due_timers(session_factory, now=now + timedelta(days=11)) == 1
    session.expire_all()
    # The timer does not interrupt: delivery stays open beside the team lead's escalation.
    assert open_elements(session, instance_id) == ["Task_ConfirmDelivery", "Task_EscalateLateDelivery"]
    assert open_task(session, instance_id, "Task_ConfirmDelivery").id == delivery.id
    escalation = open_task(session, instance_id, "Task_EscalateLateDelivery")
    assert escalation.priority == 80
    complete(
        session,
        users,
        instance_id,
        "Task_EscalateLateDelivery",
        "team-lead",
        {"escalation_actions": "协调生产部加班", "new_delivery_date": "2025-04-15"},
    )
    assert open_elements(session, instance_id) == ["Task_ConfirmDelivery"]
    deliver_and_follow_up(session, session_factory, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["outcome"] == "won"
    assert inst.data["escalation_actions"] == "协调生产部加班"


def test_prospect_form_rejects_bad_input(deployed: Any, session: Any, users: dict[str, str]) -> None:
    inst = instances.start_instance(session, "sales", actor=users["sales"])
    session.commit()
    task = open_task(session, inst.id, "Task_RegisterProspect")
    with pytest.raises(InvalidInputError) as caught:
        instances.complete_task(
            session,
            task.id,
            actor=users["sales"],
            data={**PROSPECT, "estimated_deal_size": -1, "source": "billboard", "contact_phone": "123"},
        )
    assert {p.field for p in caught.value.problems} >= {"estimated_deal_size", "source", "contact_phone"}
    session.rollback()


@pytest.mark.parametrize(
    ("payment_history", "years", "deal_size", "rating"),
    [
        ("default", 10, 100_000, "D"),
        ("default", 0, 10_000_000, "D"),
        ("late", 1, 100_000, "D"),
        ("late", 2, 100_000, "C"),
        ("late", 20, 10_000_000, "C"),
        ("none", 0, 1_000_001, "C"),
        ("none", 10, 1_000_000, "B"),
        ("none", 0, 50_000, "B"),
        ("good", 0, 50_000, "B"),
        ("good", 1, 10_000_000, "B"),
        ("good", 5, 10_000_000, "A"),
        ("good", 30, 0, "A"),
        ("good", 2, 5_000_000, "A"),
        ("good", 4, 1_000, "A"),
        ("good", 2, 5_000_001, "B"),
        ("good", 4, 8_000_000, "B"),
    ],
)
def test_credit_rating_table(payment_history: str, years: int, deal_size: int, rating: str) -> None:
    result = evaluate_decision(
        CREDIT_TABLE,
        {"payment_history": payment_history, "years_in_business": years, "estimated_deal_size": deal_size},
    )
    assert result == {"credit_rating": rating}


@pytest.mark.parametrize(
    ("discount", "approval"),
    [
        (0, "none"),
        (10, "none"),
        (11, "team_lead"),
        (15, "team_lead"),
        (20, "team_lead"),
        (21, "rework"),
        (100, "rework"),
    ],
)
def test_discount_approval_table(discount: int, approval: str) -> None:
    assert evaluate_decision(DISCOUNT_TABLE, {"discount_percent": discount}) == {"discount_approval": approval}


def test_an_untitled_deal_is_named_after_its_customer_once_registered(
    deployed: Any, session: Any, users: dict[str, str]
) -> None:
    inst = instances.start_instance(session, "sales", actor=users["sales"], time_zone="Asia/Shanghai")
    session.commit()
    assert inst.title.startswith("销售流程 20")  # the process and when it started, until the customer is known
    complete(session, users, inst.id, "Task_RegisterProspect", "sales", PROSPECT)
    assert instances.get_instance(session, inst.id).title == "销售流程 · 华南精密机械有限公司"
    titled = instances.start_instance(session, "sales", actor=users["sales"], title="华南二期")
    session.commit()
    complete(session, users, titled.id, "Task_RegisterProspect", "sales", PROSPECT)
    assert instances.get_instance(session, titled.id).title == "华南二期"  # a title someone typed stays
