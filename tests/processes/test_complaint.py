"""Drive the complaint process through the engine: its scenarios, who sees each task, the severity table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from steps import PROCESSES, complete_as_group, completed_elements, naive, open_elements, open_task

from engine.bpmn.dmn import evaluate_decision
from engine.errors import InvalidInputError
from engine.services import instances, timers

SEVERITY_TABLE = PROCESSES / "complaint_severity.dmn"
FILES = ("complaint.bpmn", "complaint_severity.dmn")

# A user of another group for every lane, to prove that tasks stay in their own queue.
OUTSIDER = {"service": "sales", "team-lead": "service", "departments": "service"}

RECORD = {
    "customer_name": "华信科技有限公司",
    "customer_contact": "13800000000",
    "channel": "phone",
    "category": "delivery",
    "tier": "standard",
    "order_reference": "SO-2024-0815",
    "description": "订购的设备延迟两周仍未送达",
}
RESPONSE = {
    "response_channel": "phone",
    "customer_reached": True,
    "response_note": "已致电客户，确认受理并说明处理安排",
}
INVESTIGATION = {
    "root_cause": "物流商调度失误",
    "proposed_solution": "安排加急补发",
    "needs_department": False,
}
INFORM = {"resolution_summary": "已加急补发，预计明日送达", "compensation": "赠送一年延保"}
SATISFIED = {"satisfaction_result": "satisfied", "satisfaction_score": 5, "customer_comment": "处理及时"}
UNSATISFIED = {"satisfaction_result": "unsatisfied", "satisfaction_score": 2, "customer_comment": "仍未解决"}
SUMMARY = {
    "feedback_summary": "交付延迟导致投诉",
    "improvement_area": "delivery",
    "improvement_suggestions": "与物流商约定时效并每日跟踪",
    "notified_departments": "交付部",
}


# Complete the one open task of an element as its group's user, checking that only that group sees and may do it.
complete = partial(complete_as_group, OUTSIDER)


def start(session: Any, users: dict[str, str], **record: Any) -> int:
    inst = instances.start_instance(session, "complaint", actor=users["service"], title="投诉 华信科技")
    session.commit()
    assert open_elements(session, inst.id) == ["Task_RecordComplaint"]
    complete(session, users, inst.id, "Task_RecordComplaint", "service", {**RECORD, **record})
    return inst.id


def investigate(session: Any, users: dict[str, str], instance_id: int, **changes: Any) -> None:
    """Submit the investigation, with some of its fields changed."""
    complete(session, users, instance_id, "Task_Investigate", "service", {**INVESTIGATION, **changes})


def resolve_and_close(session: Any, users: dict[str, str], instance_id: int) -> None:
    complete(session, users, instance_id, "Task_InformCustomer", "service", INFORM)
    complete(session, users, instance_id, "Task_SatisfactionSurvey", "service", SATISFIED)
    assert open_elements(session, instance_id) == ["Task_FeedbackSummary"]
    complete(session, users, instance_id, "Task_FeedbackSummary", "service", SUMMARY)


def test_resolved_by_service_alone(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    assert open_elements(session, instance_id) == ["Task_FirstResponse"]
    complete(session, users, instance_id, "Task_FirstResponse", "service", RESPONSE)
    investigate(session, users, instance_id)
    assert open_elements(session, instance_id) == ["Task_InformCustomer"]
    resolve_and_close(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.tasks == [] or all(t.status != "open" for t in inst.tasks)
    assert inst.data["severity"] == "normal"
    assert inst.data["response_deadline"] == "PT24H"
    assert inst.data["unsatisfied_count"] == 0
    assert inst.data["feedback_summary"] == SUMMARY["feedback_summary"]
    done = set(completed_elements(session, instance_id))
    assert "Task_DepartmentResolve" not in done
    assert "Task_EscalateResponse" not in done


def test_resolved_with_a_department(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, category="product_quality", tier="key")
    complete(session, users, instance_id, "Task_FirstResponse", "service", RESPONSE)
    investigate(session, users, instance_id, needs_department=True, department="quality")
    assert open_elements(session, instance_id) == ["Task_DepartmentResolve"]
    complete(
        session,
        users,
        instance_id,
        "Task_DepartmentResolve",
        "departments",
        {
            "department_action": "更换批次并复检",
            "department_result": "已为客户更换合格产品",
            "completed_on": "2024-09-02",
        },
    )
    assert open_elements(session, instance_id) == ["Task_InformCustomer"]
    resolve_and_close(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["severity"] == "high"
    assert inst.data["department"] == "quality"
    assert inst.data["completed_on"] == "2024-09-02"


def test_unsatisfied_once_then_satisfied(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    complete(session, users, instance_id, "Task_FirstResponse", "service", RESPONSE)
    investigate(session, users, instance_id)
    complete(session, users, instance_id, "Task_InformCustomer", "service", INFORM)
    complete(session, users, instance_id, "Task_SatisfactionSurvey", "service", UNSATISFIED)
    # Back to the investigation; the first time without the team lead.
    assert open_elements(session, instance_id) == ["Task_Investigate"]
    assert instances.get_instance(session, instance_id).data["unsatisfied_count"] == 1
    investigate(session, users, instance_id, root_cause="补发货物型号错误", proposed_solution="更换正确型号")
    resolve_and_close(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["unsatisfied_count"] == 1
    assert inst.data["root_cause"] == "补发货物型号错误"
    done = completed_elements(session, instance_id)
    assert done.count("Task_Investigate") == 2
    assert "Task_LeadIntervention" not in done


def test_unsatisfied_twice_brings_in_the_team_lead(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users)
    complete(session, users, instance_id, "Task_FirstResponse", "service", RESPONSE)
    for _ in range(2):
        investigate(session, users, instance_id)
        complete(session, users, instance_id, "Task_InformCustomer", "service", INFORM)
        complete(session, users, instance_id, "Task_SatisfactionSurvey", "service", UNSATISFIED)
    assert open_elements(session, instance_id) == ["Task_LeadIntervention"]
    complete(
        session,
        users,
        instance_id,
        "Task_LeadIntervention",
        "team-lead",
        {"lead_instructions": "负责人亲自跟进并给予补偿", "compensation_decision": "approve"},
    )
    assert open_elements(session, instance_id) == ["Task_Investigate"]
    investigate(session, users, instance_id)
    resolve_and_close(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["unsatisfied_count"] == 2
    assert inst.data["compensation_decision"] == "approve"


def test_response_deadline_missed_is_escalated(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users, category="billing", tier="vip")
    response = open_task(session, instance_id, "Task_FirstResponse")
    assert instances.get_instance(session, instance_id).data["severity"] == "critical"
    assert response.due_at is not None
    assert abs(naive(response.due_at) - naive(response.created_at) - timedelta(hours=2)) < timedelta(minutes=1)
    assert response.priority == 90

    now = datetime.now(UTC)
    assert timers.fire_due_timers(session_factory, now=now + timedelta(hours=1)) == 0
    session.expire_all()
    assert open_elements(session, instance_id) == ["Task_FirstResponse"]

    assert timers.fire_due_timers(session_factory, now=now + timedelta(hours=3)) == 1
    session.expire_all()
    # The timer does not interrupt: the response stays open beside the team lead's escalation.
    assert open_elements(session, instance_id) == ["Task_EscalateResponse", "Task_FirstResponse"]
    assert open_task(session, instance_id, "Task_FirstResponse").id == response.id
    complete(
        session,
        users,
        instance_id,
        "Task_EscalateResponse",
        "team-lead",
        {"escalation_action": "remind", "escalation_note": "请立即联系客户"},
    )
    assert timers.fire_due_timers(session_factory, now=now + timedelta(hours=10)) == 0
    session.expire_all()
    complete(session, users, instance_id, "Task_FirstResponse", "service", RESPONSE)
    investigate(session, users, instance_id)
    resolve_and_close(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["escalation_action"] == "remind"


def test_response_in_time_is_not_escalated(
    deployed: Any, session: Any, session_factory: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users)
    complete(session, users, instance_id, "Task_FirstResponse", "service", RESPONSE)
    assert timers.fire_due_timers(session_factory, now=datetime.now(UTC) + timedelta(days=2)) == 0
    session.expire_all()
    assert open_elements(session, instance_id) == ["Task_Investigate"]


def test_forms_reject_bad_input(deployed: Any, session: Any, users: dict[str, str]) -> None:
    inst = instances.start_instance(session, "complaint", actor=users["service"])
    session.commit()
    task = open_task(session, inst.id, "Task_RecordComplaint")
    with pytest.raises(InvalidInputError) as caught:
        instances.complete_task(
            session,
            task.id,
            actor=users["service"],
            data={**RECORD, "category": "weather", "description": "差"},
        )
    assert {p.field for p in caught.value.problems} >= {"category", "description"}
    session.rollback()
    instance_id = start(session, users)
    complete(session, users, instance_id, "Task_FirstResponse", "service", RESPONSE)
    investigate(session, users, instance_id)
    complete(session, users, instance_id, "Task_InformCustomer", "service", INFORM)
    survey = open_task(session, instance_id, "Task_SatisfactionSurvey")
    with pytest.raises(InvalidInputError):
        instances.complete_task(session, survey.id, actor=users["service"], data={**SATISFIED, "satisfaction_score": 6})
    session.rollback()


@pytest.mark.parametrize(
    ("category", "tier", "severity", "deadline", "priority"),
    [
        ("product_quality", "vip", "critical", "PT2H", 90),
        ("billing", "vip", "critical", "PT2H", 90),
        ("delivery", "vip", "high", "PT4H", 70),
        ("service_attitude", "vip", "high", "PT4H", 70),
        ("other", "vip", "high", "PT4H", 70),
        ("product_quality", "key", "high", "PT4H", 70),
        ("billing", "key", "high", "PT4H", 70),
        ("delivery", "key", "high", "PT4H", 70),
        ("service_attitude", "key", "normal", "PT24H", 50),
        ("other", "key", "normal", "PT24H", 50),
        ("product_quality", "standard", "high", "PT4H", 70),
        ("billing", "standard", "normal", "PT24H", 50),
        ("delivery", "standard", "normal", "PT24H", 50),
        ("service_attitude", "standard", "normal", "PT24H", 50),
        ("other", "standard", "normal", "PT24H", 50),
    ],
)
def test_severity_table(category: str, tier: str, severity: str, deadline: str, priority: int) -> None:
    result = evaluate_decision(SEVERITY_TABLE, {"category": category, "tier": tier})
    assert result == {"severity": severity, "response_deadline": deadline, "response_priority": priority}
