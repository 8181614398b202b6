"""Run the four seed processes end to end through the JSON API alone, each task by a user of its group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api_helpers import auth
from flask import Flask
from flask.testing import FlaskClient

from engine import timers

# The demo user who works each group's tasks, and one who must not see them.
WORKER = {
    "team-lead": "lead",
    "promotion": "promo",
    "sales": "sales",
    "service": "service",
    "hr": "hr",
    "risk": "risk",
    "departments": "dept",
}
OUTSIDER = {group: ("hr" if group != "hr" else "sales") for group in WORKER}


class Api:
    """Drive one instance through the API the way its groups' users would."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self.instance_id = 0

    def start(self, key: str, user: str, title: str) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/processes/{key}/instances", json={"title": title}, headers=auth(user))
        assert response.status_code == 201, response.get_data(as_text=True)
        body: dict[str, Any] = response.get_json()
        self.instance_id = body["id"]
        return body

    def instance(self) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/instances/{self.instance_id}", headers=auth("manager"))
        assert response.status_code == 200
        return response.get_json()  # type: ignore[no-any-return]

    def open_elements(self) -> list[str]:
        return sorted(t["element_id"] for t in self.instance()["tasks"])

    def queue(self, user: str) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/tasks?scope=groups", headers=auth(user))
        assert response.status_code == 200
        return [t for t in response.get_json() if t["instance_id"] == self.instance_id]

    def work(self, element_id: str, group: str, data: dict[str, Any]) -> dict[str, Any]:
        """Find the task in its group's queue, read its form, claim and complete it; return the instance."""
        user = WORKER[group]
        found = sorted((t for t in self.queue(user) if t["element_id"] == element_id), key=lambda t: t["id"])
        assert found, f"{element_id} not in the {group} queue; open: {self.open_elements()}"
        task = found[0]
        assert task["group"] == group
        assert task["id"] not in {t["id"] for t in self.queue(OUTSIDER[group])}
        detail = self.client.get(f"/api/v1/tasks/{task['id']}", headers=auth(user)).get_json()
        assert set(data) <= {f["id"] for f in detail["form"]["fields"]}
        claimed = self.client.post(f"/api/v1/tasks/{task['id']}/claim", headers=auth(user))
        assert claimed.status_code == 200 and claimed.get_json()["assignee"] == user
        response = self.client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=auth(user))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["task"]["status"] == "completed"
        return body["instance"]  # type: ignore[no-any-return]

    def fire_timers(self, after: timedelta) -> int:
        factory = self.app.extensions["engine"]["session_factory"]
        return timers.fire_due_timers(factory, now=datetime.now(UTC) + after)

    def events(self) -> list[str]:
        response = self.client.get(f"/api/v1/instances/{self.instance_id}/events", headers=auth("manager"))
        return [e["type"] for e in response.get_json()]


def test_complaint_resolved_by_service(app: Flask, client: FlaskClient) -> None:
    api = Api(app, client)
    api.start("complaint", "service", "投诉 华信科技")
    assert api.open_elements() == ["Task_RecordComplaint"]
    record = {
        "customer_name": "华信科技有限公司",
        "customer_contact": "13800000000",
        "channel": "phone",
        "category": "delivery",
        "tier": "standard",
        "order_reference": "SO-2024-0815",
        "description": "订购的设备延迟两周仍未送达",
    }
    api.work("Task_RecordComplaint", "service", record)
    api.work(
        "Task_FirstResponse",
        "service",
        {"response_channel": "phone", "customer_reached": True, "response_note": "已致电客户"},
    )
    api.work(
        "Task_Investigate",
        "service",
        {"root_cause": "物流商调度失误", "proposed_solution": "安排加急补发", "needs_department": False},
    )
    api.work("Task_InformCustomer", "service", {"resolution_summary": "已加急补发", "compensation": "赠送延保"})
    api.work("Task_SatisfactionSurvey", "service", {"satisfaction_result": "satisfied", "satisfaction_score": 5})
    instance = api.work(
        "Task_FeedbackSummary",
        "service",
        {
            "feedback_summary": "交付延迟导致投诉",
            "improvement_area": "delivery",
            "improvement_suggestions": "与物流商约定时效",
            "notified_departments": "交付部",
        },
    )
    assert instance["status"] == "completed"
    assert instance["ended_at"] is not None
    assert instance["data"]["severity"] == "normal"
    assert "completed" in api.events()


def test_complaint_response_deadline_escalates(app: Flask, client: FlaskClient) -> None:
    api = Api(app, client)
    api.start("complaint", "service", "投诉 加急")
    api.work(
        "Task_RecordComplaint",
        "service",
        {
            "customer_name": "华信",
            "customer_contact": "13800000000",
            "channel": "email",
            "category": "billing",
            "tier": "vip",
            "description": "账单金额错误",
        },
    )
    assert api.instance()["data"]["severity"] == "critical"
    assert api.fire_timers(timedelta(hours=3)) == 1
    assert api.open_elements() == ["Task_EscalateResponse", "Task_FirstResponse"]
    instance = api.work(
        "Task_EscalateResponse",
        "team-lead",
        {"escalation_action": "remind", "escalation_note": "请立即联系客户"},
    )
    assert instance["status"] == "running"
    assert api.open_elements() == ["Task_FirstResponse"]


def test_recruitment_hired_on_the_first_round(app: Flask, client: FlaskClient) -> None:
    api = Api(app, client)
    api.start("recruitment", "lead", "招聘 销售专员")
    api.work(
        "Task_DraftPlan",
        "team-lead",
        {
            "position": "销售专员",
            "level": "junior",
            "headcount": 1,
            "requirements": "两年以上销售经验",
            "channel_job_sites": True,
        },
    )
    api.work("Task_PostJob", "hr", {"posting_date": "2025-01-06", "posting_links": "招聘网站"})
    api.work("Task_CollectApplicants", "hr", {"applicant_names": "张三"})
    api.work("Task_ScreenResume", "hr", {"resume_result": "pass"})
    api.work("Task_PhoneInterview", "hr", {"phone_result": "pass"})
    api.work(
        "Task_Interview",
        "team-lead",
        {
            "interview_result": "pass",
            "score_knowledge": 4,
            "score_experience": 3,
            "score_communication": 5,
            "score_teamwork": 4,
        },
    )
    api.work("Task_BackgroundCheck", "hr", {"education_verified": True, "employment_verified": True})
    api.work("Task_HiringDecision", "team-lead", {"hire_decision": "hire", "offered_salary": 9000})
    api.work("Task_SendOffer", "hr", {"offer_sent_date": "2025-01-27", "offer_reply": "accepted"})
    api.work(
        "Task_Onboard",
        "hr",
        {"start_date": "2025-02-10", "employee_no": "MK-0101", "documents_complete": True},
    )
    instance = api.work(
        "Task_OnboardingTraining",
        "team-lead",
        {
            "trainer": "王经理",
            "covered_company": True,
            "covered_culture": True,
            "covered_rules": True,
            "covered_products": True,
            "covered_processes": True,
        },
    )
    assert instance["status"] == "completed"
    assert instance["data"]["hired_names"] == ["张三"]
    assert instance["data"]["interview_rounds"] == 1


def test_sales_won_with_the_return_visit_after_thirty_days(app: Flask, client: FlaskClient) -> None:
    api = Api(app, client)
    api.start("sales", "sales", "商机 华南精密机械")
    api.work(
        "Task_RegisterProspect",
        "sales",
        {
            "company_name": "华南精密机械有限公司",
            "industry": "manufacturing",
            "contact_name": "陈立",
            "contact_phone": "13800000000",
            "source": "trade_show",
            "estimated_deal_size": 600000,
            "customer_class": "key",
        },
    )
    api.work("Task_AssessCredit", "risk", {"years_in_business": 8, "payment_history": "good"})
    api.work("Task_SalesVisit", "sales", {"visit_date": "2025-03-03", "customer_needs": "产线自动化改造"})
    api.work(
        "Task_DraftProposal",
        "sales",
        {
            "proposed_products": "A 型设备 2 台",
            "list_price": 600000,
            "discount_percent": 5,
            "service_commitments": "一年质保",
        },
    )
    api.work(
        "Task_Negotiate", "sales", {"negotiation_result": "agreed", "agreed_amount": 570000, "agreed_terms": "30% 预付"}
    )
    api.work("Task_ReviewContract", "risk", {"contract_review": "approve"})
    api.work(
        "Task_SignContract",
        "sales",
        {
            "contract_no": "HT-2025-031",
            "signed_date": "2025-03-20",
            "contract_amount": 570000,
            "delivery_days": 14,
        },
    )
    instance = api.work("Task_ConfirmDelivery", "departments", {"delivered_date": "2025-04-02", "quality_passed": True})
    assert instance["status"] == "running" and instance["tasks"] == []
    assert api.fire_timers(timedelta(days=29)) == 0
    assert api.fire_timers(timedelta(days=31)) == 1
    instance = api.work(
        "Task_ReturnVisit",
        "service",
        {"satisfaction": "satisfied", "repeat_interest": True, "referral_willing": True},
    )
    assert instance["status"] == "completed"
    assert instance["data"]["outcome"] == "won"
    assert instance["data"]["credit_rating"] == "A"


def test_sales_lost_in_negotiation(app: Flask, client: FlaskClient) -> None:
    api = Api(app, client)
    api.start("sales", "sales", "商机 失败")
    api.work(
        "Task_RegisterProspect",
        "sales",
        {
            "company_name": "某公司",
            "industry": "manufacturing",
            "contact_name": "李",
            "contact_phone": "13800000000",
            "source": "trade_show",
            "estimated_deal_size": 100000,
            "customer_class": "normal",
        },
    )
    api.work("Task_AssessCredit", "risk", {"years_in_business": 8, "payment_history": "good"})
    api.work("Task_SalesVisit", "sales", {"visit_date": "2025-03-03", "customer_needs": "设备"})
    api.work(
        "Task_DraftProposal",
        "sales",
        {
            "proposed_products": "A 型",
            "list_price": 100000,
            "discount_percent": 5,
            "service_commitments": "一年质保",
        },
    )
    instance = api.work(
        "Task_Negotiate", "sales", {"negotiation_result": "lost", "negotiation_notes": "客户选择了竞争对手"}
    )
    assert instance["status"] == "completed"
    assert instance["data"]["outcome"] == "lost"


def test_promotion_small_budget_goal_met(app: Flask, client: FlaskClient) -> None:
    api = Api(app, client)
    api.start("promotion", "promo", "新品上市推广")
    api.work(
        "Task_MarketResearch",
        "promotion",
        {
            "research_topic": "华东地区中小企业市场",
            "market_info": "需求增长",
            "competitors": "两家主要竞争对手",
            "customer_needs": "本地化服务",
            "market_trends": "短视频",
        },
    )
    api.work(
        "Task_DraftStrategy",
        "promotion",
        {
            "goal_description": "提升知名度",
            "target_reach": 100000,
            "target_leads": 500,
            "target_conversions": 50,
            "use_advertising": True,
            "use_pr": True,
            "use_event": False,
            "new_channel": False,
            "content": "演示视频",
            "budget": 30000,
            "campaign_days": 30,
        },
    )
    assert api.open_elements() == ["Task_Advertising", "Task_PublicRelations"]
    api.work(
        "Task_Advertising",
        "promotion",
        {"ad_media": "短视频平台", "ad_spend": 18000, "ad_impressions": 250000},
    )
    api.work("Task_PublicRelations", "promotion", {"pr_partners": "华东商报", "pr_spend": 6000, "pr_coverage": 4})
    assert api.open_elements() == []
    assert api.fire_timers(timedelta(days=31)) == 1
    api.work(
        "Task_EvaluateResults",
        "promotion",
        {
            "actual_reach": 120000,
            "actual_leads": 620,
            "actual_conversions": 55,
            "actual_cost": 29000,
            "lessons_learned": "短视频线索质量最高",
        },
    )
    instance = api.work(
        "Task_ClosingSummary",
        "promotion",
        {"summary": "目标全部达成", "best_channel": "advertising", "recommendations": "加大短视频投放"},
    )
    assert instance["status"] == "completed"
    assert instance["data"]["goal_met"] is True
    assert instance["data"]["approval_required"] is False
