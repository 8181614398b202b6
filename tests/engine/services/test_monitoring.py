"""Managers' figures: every aggregate and team figure against hand-computed data, on SQLite and PostgreSQL.

Most tests build instances, tasks and key data with known times directly, so that each figure can be
worked out by hand; one drives the real complaint process to show the engine records what reports read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from engine.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from engine.models import HumanTask, InstanceFact, ProcessInstance, Timer
from engine.repositories.monitoring import percentile_disc
from engine.services import audit, definitions, facts, instances, monitoring

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "engine" / "data"
NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
H = 3600.0


@pytest.fixture
def seeded(session: Session, users: dict[str, str]) -> dict[str, int]:
    """The four processes deployed; return their version ids."""
    definitions.deploy_paths(session, [ROOT / "processes"], "owner1")
    session.commit()
    return {p.key: definitions.version_row(session, p.key).id for p in definitions.list_processes(session)}


class Builder:
    """Insert instances, tasks and key data with chosen times."""

    def __init__(self, session: Session, versions: dict[str, int]) -> None:
        self.session = session
        self.versions = versions

    def instance(
        self,
        key: str,
        status: str = "running",
        started_hours_ago: float = 10,
        hours: float | None = None,
        end: str | None = None,
        title: str = "",
        error_at: str | None = None,
        **facts: Any,
    ) -> ProcessInstance:
        started = NOW - timedelta(hours=started_hours_ago)
        row = ProcessInstance(
            process_version_id=self.versions[key],
            process_key=key,
            version=1,
            title=title or f"{key} {started_hours_ago}",
            status=status,
            data={},
            workflow="{}",
            started_by="sales1",
            started_at=started,
            ended_at=started + timedelta(hours=hours) if hours is not None else None,
            cycle_seconds=hours * H if hours is not None and status == "completed" else None,
            end_event_id=end,
            end_event_name=f"名称 {end}" if end else None,
            error_message="boom" if error_at else None,
            error_element_id=error_at,
        )
        self.session.add(row)
        self.session.flush()
        for name, value in facts.items():
            number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            self.session.add(InstanceFact(instance_id=row.id, process_key=key, name=name, value=text, number=number))
        return row

    def task(
        self,
        instance: ProcessInstance,
        element: str,
        created_hours_ago: float = 5,
        took: float | None = None,
        due_in: float | None = None,
        outcome: str | None = None,
        group: str | None = "service",
        assignee: str | None = None,
    ) -> HumanTask:
        created = NOW - timedelta(hours=created_hours_ago)
        row = HumanTask(
            instance_id=instance.id,
            spiff_task_id=f"{instance.id}-{element}-{created_hours_ago}",
            process_key=instance.process_key,
            element_id=element,
            name=element,
            group_id=group,
            assignee=assignee,
            status="completed" if took is not None else "open",
            due_at=created + timedelta(hours=due_in) if due_in is not None else None,
            created_at=created,
            completed_at=created + timedelta(hours=took) if took is not None else None,
            outcome=outcome,
        )
        self.session.add(row)
        self.session.flush()
        # Count the task as the engine does when it opens and completes one.
        facts.task_opened(self.session, row, instance)
        if took is not None:
            facts.count_completion(self.session, row)
        self.session.flush()
        return row


@pytest.fixture
def build(session: Session, seeded: dict[str, int]) -> Builder:
    return Builder(session, seeded)


def test_percentile_disc_by_hand() -> None:
    assert percentile_disc([], 0.5) is None
    assert percentile_disc([5], 0.9) == 5
    assert percentile_disc([4, 1, 3, 2], 0.5) == 2
    assert percentile_disc(list(range(1, 11)), 0.9) == 9
    assert percentile_disc(list(range(1, 11)), 0.95) == 10


def test_dashboard_counts_cycle_times_groups_and_overdue(session: Session, build: Builder) -> None:
    for hours in (1, 2, 3, 4, 10):  # median 3 h, 90th percentile 10 h
        build.instance("complaint", "completed", started_hours_ago=20, hours=hours, end="End_ComplaintClosed")
    late = build.instance("complaint", title="迟到的投诉")
    build.instance("complaint", "error", error_at="Script_InitHandling")
    build.instance("complaint", "suspended")
    build.instance("sales", "completed", started_hours_ago=50, hours=48, end="EndEvent_Won")
    # Open tasks: two service tasks (one 3 h overdue, held by service1 since it was created), one risk task.
    build.task(late, "Task_FirstResponse", created_hours_ago=5, due_in=2, assignee="service1")
    build.task(late, "Task_Investigate", created_hours_ago=1, due_in=24)
    sale = build.instance("sales")
    build.task(sale, "Task_AssessCredit", created_hours_ago=30, due_in=6, group="risk")
    build.task(late, "Task_RecordComplaint", created_hours_ago=9, took=1)  # completed: counts nowhere
    session.commit()

    board = monitoring.dashboard(session, "manager1", "30d", "Asia/Shanghai", now=NOW)
    by_key = {p.key: p for p in board.processes}
    complaint = by_key["complaint"]
    assert complaint.counts == {"running": 1, "completed": 5, "error": 1, "suspended": 1, "terminated": 0}
    assert (complaint.median_seconds, complaint.p90_seconds) == (3 * H, 10 * H)
    assert (complaint.open_tasks, complaint.overdue_tasks) == (2, 1)
    assert (by_key["sales"].median_seconds, by_key["sales"].p90_seconds) == (48 * H, 48 * H)
    assert by_key["recruitment"].counts["running"] == 0 and by_key["recruitment"].median_seconds is None
    assert [(g.process_key, g.group, g.open, g.overdue) for g in board.groups] == [
        ("complaint", "service", 2, 1),
        ("sales", "risk", 1, 1),
    ]
    assert board.overdue_total == 2
    # Longest overdue first: the risk task was due 24 h ago, the first response 3 h ago.
    assert [(o.task.element_id, o.overdue_seconds, o.held_seconds) for o in board.overdue] == [
        ("Task_AssessCredit", 24 * H, 30 * H),
        ("Task_FirstResponse", 3 * H, 5 * H),
    ]
    assert board.overdue[1].task.assignee == "service1"
    assert board.overdue[1].task.instance_title == "迟到的投诉"


def test_throughput_per_local_day_and_week(session: Session, build: Builder) -> None:
    # NOW is 2026-06-15 12:00 in Shanghai (a Monday). 06-14 23:30 UTC is already 06-15 in Shanghai.
    build.instance("complaint", started_hours_ago=4.5)  # 06-14 23:30 UTC -> 06-15
    build.instance("complaint", started_hours_ago=5)  # 06-14 23:00 UTC -> 06-15 07:00
    build.instance("complaint", started_hours_ago=21)  # 06-14 07:00 UTC -> 06-14 15:00
    build.instance("sales", "completed", started_hours_ago=30, hours=25)  # started 06-14 06:00, ended 06-15 07:00
    build.instance("complaint", started_hours_ago=24 * 40)  # outside 30 days
    session.commit()
    points = monitoring.throughput(session, "30d", "Asia/Shanghai", NOW)
    assert len(points) == 30 and points[-1].bucket == "2026-06-15" and points[0].bucket == "2026-05-17"
    by_day = {p.bucket: (p.started, p.completed) for p in points}
    assert by_day["2026-06-15"] == (2, 1)
    assert by_day["2026-06-14"] == (2, 0)
    assert sum(p.started for p in points) == 4
    weeks = monitoring.throughput(session, "12w", "Asia/Shanghai", NOW)
    assert weeks[-1].bucket == "2026-06-15"  # the Monday of this week
    assert (weeks[-1].started, weeks[-1].completed) == (2, 1)
    assert (weeks[-2].bucket, weeks[-2].started) == ("2026-06-08", 2)
    assert sum(p.started for p in monitoring.throughput(session, "52w", "Asia/Shanghai", NOW)) == 5
    only_sales = monitoring.throughput(session, "30d", "Asia/Shanghai", NOW, "sales")
    assert sum(p.started for p in only_sales) == 1


def figure(board: Any, table_id: str) -> dict[str, tuple[Any, ...]]:
    table = next(t for t in board.team if t.id == table_id)
    return {row.key: row.values for row in table.rows}


def test_complaint_figures(session: Session, build: Builder) -> None:
    a = build.instance("complaint", "completed", hours=5, category="delivery", tier="vip")
    b = build.instance("complaint", "completed", hours=5, category="delivery", tier="standard")
    c = build.instance("complaint", category="billing", tier="standard")
    for inst in (a, b, c):
        build.task(inst, "Task_RecordComplaint", took=0.1)
    build.task(a, "Task_FirstResponse", due_in=2, took=1)  # in time
    build.task(b, "Task_FirstResponse", due_in=2, took=3)  # late
    build.task(b, "Task_EscalateResponse", took=1, group="team-lead")
    build.task(c, "Task_FirstResponse", due_in=2)  # still open: not counted
    build.task(a, "Task_SatisfactionSurvey", created_hours_ago=4, took=1, outcome="pass")
    build.task(b, "Task_SatisfactionSurvey", created_hours_ago=4, took=1, outcome="fail")
    build.task(b, "Task_SatisfactionSurvey", created_hours_ago=2, took=1, outcome="pass")
    session.commit()
    board = monitoring.dashboard(session, "manager1", now=NOW)
    service = figure(board, "complaint_service")
    assert service["answered_in_time"] == (1, 2, 50.0)
    assert service["escalated"] == (1, 3, 33.3)
    assert service["satisfied_first"] == (1, 2, 50.0)
    assert service["rework_loops"][0] == 1
    assert figure(board, "complaint_category") == {"delivery": (2,), "billing": (1,)}
    assert figure(board, "complaint_tier") == {"standard": (2,), "vip": (1,)}
    category = next(t for t in board.team if t.id == "complaint_category")
    assert category.rows[0].label == "交付物流"  # the diagram's option name
    assert dict(category.rows[0].filters) == {"process": "complaint", "fact": "category:delivery"}
    # The filters behind each figure find exactly the instances it counts.
    assert found(session, dict(category.rows[0].filters)) == {a.id, b.id}
    rework = next(r for t in board.team if t.id == "complaint_service" for r in t.rows if r.key == "rework_loops")
    assert found(session, dict(rework.filters)) == {b.id}


def found(session: Session, filters: dict[str, str]) -> set[int]:
    return {i.id for i in monitoring.search_instances(session, "manager1", filters, "Asia/Shanghai", NOW).items}


def test_sales_figures(session: Session, build: Builder) -> None:
    won = build.instance("sales", "completed", hours=40, end="EndEvent_Won", credit_rating="A")
    lost = build.instance(
        "sales", "completed", hours=10, end="EndEvent_LostNegotiation", credit_rating="B", discount_decision="reject"
    )
    refused = build.instance("sales", "completed", hours=2, end="EndEvent_LostCredit", credit_rating="D")
    for inst in (won, lost, refused):
        build.task(inst, "Task_RegisterProspect", took=1, group="sales")
    for inst in (won, lost):
        build.task(inst, "Task_SalesVisit", took=3, group="sales")
        build.task(inst, "Task_DraftProposal", took=2, group="sales")
    build.task(lost, "Task_ApproveDiscount", took=1, outcome="fail", group="team-lead")
    build.task(won, "Task_ApproveDiscount", took=1, outcome="pass", group="team-lead")
    build.task(won, "Task_Negotiate", took=4, outcome="pass", group="sales")
    build.task(lost, "Task_Negotiate", took=8, outcome="fail", group="sales")
    build.task(won, "Task_SignContract", took=1, group="sales")
    session.commit()
    board = monitoring.dashboard(session, "manager1", now=NOW)
    assert figure(board, "sales_funnel") == {
        "Task_RegisterProspect": (3,),
        "Task_SalesVisit": (2,),
        "Task_DraftProposal": (2,),
        "Task_Negotiate": (2,),
        "Task_SignContract": (1,),
        "won": (1,),
    }
    outcomes = figure(board, "sales_outcomes")
    assert outcomes == {"EndEvent_Won": (1,), "EndEvent_LostNegotiation": (1,), "EndEvent_LostCredit": (1,)}
    assert figure(board, "sales_credit") == {"A": (1,), "B": (1,), "D": (1,)}
    assert figure(board, "sales_discount") == {"approved": (1,), "rejected": (1,)}
    stage_time = figure(board, "sales_stage_time")
    assert stage_time["Task_Negotiate"] == (2, 6 * H)  # (4 h + 8 h) / 2
    assert stage_time["Task_SalesVisit"] == (2, 3 * H)
    assert found(session, {"process": "sales", "end": "EndEvent_LostCredit"}) == {refused.id}


def test_recruitment_figures(session: Session, build: Builder) -> None:
    filled = build.instance("recruitment", "completed", started_hours_ago=100, hours=90, end="EndEvent_PlanFilled")
    closed = build.instance("recruitment", "completed", started_hours_ago=100, hours=50, end="EndEvent_PlanClosed")
    build.instance("recruitment")
    for outcome in ("pass", "pass", "pass", "fail"):
        build.task(filled, "Task_ScreenResume", took=1, outcome=outcome, group="hr")
    build.task(closed, "Task_ScreenResume", took=1, outcome="fail", group="hr")
    for outcome in ("pass", "pass", "fail"):
        build.task(filled, "Task_PhoneInterview", took=1, outcome=outcome, group="hr")
    build.task(filled, "Task_PhoneInterview", group="hr")  # still open: counted as an applicant, not decided
    build.task(filled, "Task_Onboard", created_hours_ago=40, took=1, group="hr")  # 60 h after the plan started
    build.task(filled, "Task_Onboard", created_hours_ago=20, took=1, group="hr")  # second hire: not the first
    session.commit()
    board = monitoring.dashboard(session, "manager1", now=NOW)
    stages = figure(board, "recruitment_stages")
    assert stages["Task_ScreenResume"] == (5, 3, 60.0)
    assert stages["Task_PhoneInterview"] == (4, 2, 66.7)
    assert stages["Task_Interview"] == (0, 0, None)
    assert figure(board, "recruitment_time_to_hire")["time_to_hire"] == (1, 60 * H, 60 * H)
    assert figure(board, "recruitment_plans") == {"EndEvent_PlanFilled": (1,), "EndEvent_PlanClosed": (1,)}


def test_promotion_figures(session: Session, build: Builder) -> None:
    met = build.instance("promotion", "completed", hours=30, budget=80000, ad_spend=30000, event_spend=12000)
    again = build.instance("promotion", budget=20000, ad_spend=5000, pr_spend=8000)
    build.instance("promotion", "terminated", budget=1000)
    build.task(met, "Task_OptimiseStrategy", took=1, group="promotion")
    build.task(met, "Task_ClosingSummary", took=1, group="promotion")
    build.task(again, "Task_OptimiseStrategy", took=1, group="promotion")
    session.commit()
    board = monitoring.dashboard(session, "manager1", now=NOW)
    assert figure(board, "promotion_status") == {"running": (1,), "completed": (1,), "terminated": (1,)}
    assert figure(board, "promotion_goals") == {"met": (1,), "missed": (2,)}
    assert figure(board, "promotion_budget") == {
        "advertising": (2, 35000.0),
        "pr": (1, 8000.0),
        "event": (1, 12000.0),
        "planned": (3, 101000.0),
    }


def test_instance_list_filters_sorting_and_pages(session: Session, build: Builder) -> None:
    a = build.instance("complaint", started_hours_ago=30, title="华信 投诉 100%")
    b = build.instance("complaint", "error", started_hours_ago=20, title="东方 投诉", error_at="Script_InitHandling")
    c = build.instance("sales", "completed", started_hours_ago=10, hours=2, title="华信 销售", end="EndEvent_Won")
    build.task(a, "Task_FirstResponse", due_in=1, group="service")  # overdue
    build.task(b, "Task_Investigate", due_in=100, group="departments")
    session.commit()
    assert found(session, {}) == {a.id, b.id, c.id}
    assert found(session, {"process": "complaint"}) == {a.id, b.id}
    assert found(session, {"status": "completed"}) == {c.id}
    assert found(session, {"error": "1"}) == {b.id}
    assert found(session, {"q": "华信"}) == {a.id, c.id}
    assert found(session, {"q": "100%"}) == {a.id}
    assert found(session, {"q": "_"}) == set()
    assert found(session, {"step": "Task_FirstResponse"}) == {a.id}
    assert found(session, {"group": "departments"}) == {b.id}
    assert found(session, {"overdue": "1"}) == {a.id}
    assert found(session, {"started_by": "sales1", "version": "1"}) == {a.id, b.id, c.id}
    assert found(session, {"started_by": "nobody"}) == set()
    # In Shanghai a started 06-14 06:00, b 06-14 16:00 and c 06-15 02:00 (06-14 18:00 UTC).
    assert found(session, {"from": "2026-06-15", "to": "2026-06-15"}) == {c.id}
    assert found(session, {"to": "2026-06-14"}) == {a.id, b.id}
    assert found(session, {"from": "2026-06-14", "to": "2026-06-14"}) == {a.id, b.id}
    page = monitoring.search_instances(
        session, "manager1", {"sort": "started", "dir": "asc", "per_page": "2", "page": "2"}, now=NOW
    )
    assert [i.id for i in page.items] == [c.id]
    assert (page.total, page.page, page.per_page) == (3, 2, 2)
    assert page.counts == {"running": 1, "error": 1, "completed": 1}
    titles = monitoring.search_instances(session, "manager1", {"sort": "title", "dir": "asc"}, now=NOW)
    assert [i.title for i in titles.items] == sorted(i.title for i in titles.items)


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-06-02", "to": "2026-06-01"}, "to"),
        ({"page": "0"}, "page"),
        ({"per_page": "x"}, "per_page"),
        ({"sort": "secret"}, "sort"),
        ({"fact": "nocolon"}, "fact"),
        ({"q": "x" * 201}, "q"),
        ({"error": "1", "status": "running"}, "error"),
    ],
)
def test_bad_filters_name_the_field(
    session: Session, seeded: dict[str, int], filters: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        monitoring.search_instances(session, "manager1", filters)
    assert [p.field for p in caught.value.problems] == [field]


def test_only_managers(session: Session, seeded: dict[str, int]) -> None:
    with pytest.raises(PermissionDeniedError):
        monitoring.dashboard(session, "service1")
    with pytest.raises(PermissionDeniedError):
        monitoring.search_instances(session, "sales1", {})
    with pytest.raises(PermissionDeniedError):
        monitoring.heatmap(session, "hr1", "complaint")
    with pytest.raises(InvalidInputError):
        monitoring.dashboard(session, "manager1", period="1y")


def test_heatmap_waiting_and_task_times(session: Session, build: Builder) -> None:
    a = build.instance("complaint")
    b = build.instance("complaint")
    build.instance("complaint", "error", error_at="Script_InitHandling")
    done = build.instance("complaint", "completed", hours=3)
    build.task(a, "Task_FirstResponse")
    build.task(b, "Task_FirstResponse")
    build.task(b, "Task_Investigate")
    for took in (1, 2, 3, 4):
        build.task(done, "Task_Investigate", created_hours_ago=20 + took, took=took)
    build.task(done, "Task_Investigate", created_hours_ago=24 * 40, took=50)  # before the period
    session.add(Timer(instance_id=a.id, element_id="Timer_ResponseDeadline", due_at=NOW + timedelta(hours=1)))
    session.commit()
    heat = monitoring.heatmap(session, "manager1", "complaint", days=30, now=NOW)
    cells = {e.element_id: e for e in heat.elements}
    assert cells["Task_FirstResponse"].waiting == 2
    assert cells["Task_Investigate"].waiting == 1
    assert cells["Script_InitHandling"].waiting == 1
    assert cells["Timer_ResponseDeadline"].waiting == 1
    investigate = cells["Task_Investigate"]
    assert (investigate.completed, investigate.median_seconds, investigate.p90_seconds) == (4, 2 * H, 4 * H)
    assert heat.version == 1 and heat.versions == (1,)
    with pytest.raises(NotFoundError):
        monitoring.heatmap(session, "manager1", "complaint", version=9)
    with pytest.raises(InvalidInputError):
        monitoring.heatmap(session, "manager1", "complaint", days=3)


def test_the_engine_records_key_data_outcomes_end_event_and_cycle_time(
    session: Session, seeded: dict[str, int]
) -> None:
    def complete(element: str, user: str, data: dict[str, Any]) -> None:
        task = next(t for t in instances.get_instance(session, inst.id).tasks if t.element_id == element)
        instances.complete_task(session, task.id, user, data)
        session.commit()

    inst = instances.start_instance(session, "complaint", "service1", title="投诉")
    complete(
        "Task_RecordComplaint",
        "service1",
        {"customer_name": "甲", "customer_contact": "1", "channel": "phone", "category": "billing", "tier": "vip"}
        | {"description": "账单金额错误，多收了费用"},
    )
    complete(
        "Task_FirstResponse",
        "service1",
        {"response_channel": "phone", "customer_reached": True, "response_note": "已受理"},
    )
    for satisfied in ("unsatisfied", "satisfied"):
        complete("Task_Investigate", "service1", {"root_cause": "系统", "proposed_solution": "退款"})
        complete("Task_InformCustomer", "service1", {"resolution_summary": "已退款"})
        complete(
            "Task_SatisfactionSurvey",
            "service1",
            {"satisfaction_result": satisfied, "satisfaction_score": 3, "customer_comment": "回访记录"},
        )
    complete(
        "Task_FeedbackSummary",
        "service1",
        {
            "feedback_summary": "计费错误",
            "improvement_area": "billing",
            "improvement_suggestions": "核对计费规则",
            "notified_departments": "财务部",
        },
    )
    row = session.get(ProcessInstance, inst.id)
    assert row is not None and row.status == "completed"
    assert (row.end_event_id, row.end_event_name) == ("End_ComplaintClosed", "投诉结案")
    assert row.cycle_seconds is not None and row.cycle_seconds >= 0
    facts = {f.name: (f.value, f.number) for f in session.query(InstanceFact).filter_by(instance_id=inst.id)}
    assert facts["category"] == ("billing", None)
    assert facts["severity"] == ("critical", None)
    assert facts["unsatisfied_count"] == ("1", 1.0)
    assert facts["satisfaction_result"] == ("satisfied", None)
    outcomes = [
        t.outcome
        for t in session.query(HumanTask).filter_by(instance_id=inst.id).order_by(HumanTask.id)
        if t.element_id == "Task_SatisfactionSurvey"
    ]
    assert outcomes == ["fail", "pass"]
    board = monitoring.dashboard(session, "manager1")
    assert figure(board, "complaint_service")["satisfied_first"] == (0, 1, 0.0)
    assert figure(board, "complaint_category") == {"billing": (1,)}


def test_manager_corrections_are_audited_and_raced_changes_conflict(session: Session, users: dict[str, str]) -> None:
    definitions.deploy_paths(session, [DATA / "simple.bpmn"], "owner1")
    inst = instances.start_instance(session, "simple", "sales1", {"divisor_check": 0}, "订单")
    session.commit()
    task = instances.get_instance(session, inst.id).tasks[0]
    seen = instances.get_instance(session, inst.id).row_version

    changed = instances.edit_data(session, inst.id, "manager1", "divisor_check", 5, "客户更正", seen)
    session.commit()
    assert changed.data["divisor_check"] == 5
    assert instances.get_task(session, task.id).instance_data["divisor_check"] == 5
    with pytest.raises(ConflictError):  # a second manager still looking at the old version
        instances.edit_data(session, inst.id, "manager1", "divisor_check", 7, "", seen)
    session.rollback()
    with pytest.raises(InvalidInputError):
        instances.edit_data(session, inst.id, "manager1", "not a name", 1)
    with pytest.raises(PermissionDeniedError):
        instances.edit_data(session, inst.id, "sales1", "divisor_check", 1)
    session.rollback()

    due = NOW + timedelta(days=3)
    moved = instances.change_due_date(session, task.id, "manager1", due, "客户要求延期", expected_due=task.due_at)
    session.commit()
    assert moved.due_at == due
    with pytest.raises(ConflictError):
        instances.change_due_date(session, task.id, "manager1", None, "", expected_due=task.due_at)
    session.rollback()
    with pytest.raises(ConflictError):
        instances.assign_task(session, task.id, "manager1", "sales1", "", expected_assignee="someone")
    session.rollback()
    instances.assign_task(session, task.id, "manager1", "sales1", "休假替班", expected_assignee="")
    instances.suspend_instance(session, inst.id, "manager1", "等待客户确认")
    instances.resume_instance(session, inst.id, "manager1", "客户已确认")
    session.commit()
    events = {e.type: e for e in audit.list_events(session, inst.id)}
    assert events["data_changed"].data == {
        "name": "divisor_check",
        "value": 5,
        "previous": 0,
        "reason": "客户更正",
    }
    assert events["due_changed"].data["reason"] == "客户要求延期"
    assert events["assigned"].data["reason"] == "休假替班"
    assert events["suspended"].data == {"reason": "等待客户确认"}
    assert events["resumed"].data == {"reason": "客户已确认"}
    stale = instances.get_instance(session, inst.id).row_version - 1
    with pytest.raises(ConflictError):
        instances.terminate_instance(session, inst.id, "manager1", "重复", stale)
