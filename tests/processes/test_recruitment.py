"""Drive the recruitment process through the engine: its scenarios, who sees each task, the rounds table."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from steps import PROCESSES, complete_as_group, completed_elements, open_elements, open_tasks

from engine.bpmn.dmn import evaluate_decision
from engine.errors import InvalidInputError
from engine.services import instances

ROUNDS_TABLE = PROCESSES / "recruitment_interview_rounds.dmn"
FILES = ("recruitment.bpmn", "recruitment_interview_rounds.dmn")

# A user of another group for every lane, to prove that tasks stay in their own queue.
OUTSIDER = {"hr": "sales", "team-lead": "hr"}

PLAN = {
    "position": "销售专员",
    "level": "junior",
    "headcount": 1,
    "requirements": "两年以上销售经验，沟通能力强",
    "channel_job_sites": True,
    "channel_campus": True,
}
POSTING = {"posting_date": "2025-01-06", "posting_links": "招聘网站、校园招聘"}
PASS = {"resume_result": "pass"}
PHONE_PASS = {"phone_result": "pass", "phone_notes": "表达清晰"}
INTERVIEW_PASS = {
    "interview_result": "pass",
    "score_knowledge": 4,
    "score_experience": 3,
    "score_communication": 5,
    "score_teamwork": 4,
    "interview_comments": "综合表现良好",
}
BACKGROUND_OK = {"education_verified": True, "employment_verified": True}
HIRE = {"hire_decision": "hire", "offered_salary": 9000, "planned_start_date": "2030-02-10"}
OFFER_ACCEPTED = {"offer_sent_date": "2025-01-27", "offer_reply": "accepted"}
ONBOARD = {"start_date": "2025-02-10", "employee_no": "MK-0101", "documents_complete": True}
TRAINING = {
    "trainer": "王经理",
    "covered_company": True,
    "covered_culture": True,
    "covered_rules": True,
    "covered_products": True,
    "covered_processes": True,
}


# Complete an open task of an element as its group's user, checking that only that group sees and may do it;
# every recruitment task has a due date. With several applicants in parallel, ``nth`` picks among the open
# tasks of one element in creation order, which follows the order of the names entered by HR.
complete = partial(complete_as_group, OUTSIDER, nth=0, due=True)


def start(session: Any, users: dict[str, str], names: str, **plan: Any) -> int:
    """Start a plan, post it and enter the applicants; return the instance id."""
    inst = instances.start_instance(session, "recruitment", actor=users["team-lead"], title="招聘 销售专员")
    session.commit()
    assert open_elements(session, inst.id) == ["Task_DraftPlan"]
    complete(session, users, inst.id, "Task_DraftPlan", "team-lead", {**PLAN, **plan})
    assert open_elements(session, inst.id) == ["Task_PostJob"]
    complete(session, users, inst.id, "Task_PostJob", "hr", POSTING)
    complete(session, users, inst.id, "Task_CollectApplicants", "hr", {"applicant_names": names})
    return inst.id


def pass_screening(session: Any, users: dict[str, str], instance_id: int, nth: int = 0) -> None:
    complete(session, users, instance_id, "Task_ScreenResume", "hr", PASS, nth=nth)
    complete(session, users, instance_id, "Task_PhoneInterview", "hr", PHONE_PASS, nth=nth)


def hire_after_interviews(session: Any, users: dict[str, str], instance_id: int, nth: int = 0) -> None:
    complete(session, users, instance_id, "Task_BackgroundCheck", "hr", BACKGROUND_OK, nth=nth)
    complete(session, users, instance_id, "Task_HiringDecision", "team-lead", HIRE, nth=nth)
    complete(session, users, instance_id, "Task_SendOffer", "hr", OFFER_ACCEPTED, nth=nth)
    complete(session, users, instance_id, "Task_Onboard", "hr", ONBOARD, nth=nth)
    assert "Task_OnboardingTraining" in open_elements(session, instance_id)
    complete(session, users, instance_id, "Task_OnboardingTraining", "team-lead", TRAINING, nth=nth)


def close_plan(session: Any, users: dict[str, str], instance_id: int) -> None:
    assert open_elements(session, instance_id) == ["Task_ReviewPlan"]
    complete(
        session,
        users,
        instance_id,
        "Task_ReviewPlan",
        "team-lead",
        {"review_decision": "close", "review_comments": "本期暂停招聘"},
    )


def test_hired_on_the_first_round(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, "张三")
    assert open_elements(session, instance_id) == ["Task_ScreenResume"]
    pass_screening(session, users, instance_id)
    assert open_elements(session, instance_id) == ["Task_Interview"]
    complete(session, users, instance_id, "Task_Interview", "team-lead", INTERVIEW_PASS)
    # A junior position has one round: straight on to the background check.
    assert open_elements(session, instance_id) == ["Task_BackgroundCheck"]
    hire_after_interviews(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["interview_rounds"] == 1
    assert inst.data["plan_status"] == "filled"
    assert inst.data["hired_names"] == ["张三"]
    assert inst.data["hired_count"] == 1
    [applicant] = inst.data["applicants"]
    assert applicant["name"] == "张三"
    assert applicant["result"] == "hired"
    assert applicant["rounds_passed"] == 1
    assert applicant["employee_no"] == "MK-0101"
    assert [r["round"] for r in applicant["interviews"]] == [1]
    done = completed_elements(session, instance_id)
    assert done.count("Task_Interview") == 1
    assert "Task_ReviewPlan" not in done


def test_hired_after_three_rounds(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, "李四", level="manager", position="销售经理")
    pass_screening(session, users, instance_id)
    for _ in range(3):
        assert open_elements(session, instance_id) == ["Task_Interview"]
        complete(session, users, instance_id, "Task_Interview", "team-lead", INTERVIEW_PASS)
    assert open_elements(session, instance_id) == ["Task_BackgroundCheck"]
    hire_after_interviews(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["interview_rounds"] == 3
    [applicant] = inst.data["applicants"]
    assert applicant["result"] == "hired"
    assert applicant["rounds_passed"] == 3
    assert [r["round"] for r in applicant["interviews"]] == [1, 2, 3]
    done = completed_elements(session, instance_id)
    assert done.count("Task_Interview") == 3


def test_rejected_at_resume_screening(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, "王五")
    complete(
        session,
        users,
        instance_id,
        "Task_ScreenResume",
        "hr",
        {"resume_result": "fail", "resume_notes": "缺少销售经验"},
    )
    close_plan(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["plan_status"] == "closed"
    assert inst.data["hired_count"] == 0
    [applicant] = inst.data["applicants"]
    assert applicant["result"] == "rejected"
    assert applicant["reason"] == "简历筛选未通过：缺少销售经验"
    done = set(completed_elements(session, instance_id))
    assert "Task_PhoneInterview" not in done


def test_rejected_in_round_two(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, "赵六", level="senior")
    pass_screening(session, users, instance_id)
    complete(session, users, instance_id, "Task_Interview", "team-lead", INTERVIEW_PASS)
    assert open_elements(session, instance_id) == ["Task_Interview"]
    complete(
        session,
        users,
        instance_id,
        "Task_Interview",
        "team-lead",
        {
            **INTERVIEW_PASS,
            "interview_result": "fail",
            "score_teamwork": 2,
            "interview_comments": "团队协作意识不足",
        },
    )
    close_plan(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["interview_rounds"] == 2
    [applicant] = inst.data["applicants"]
    assert applicant["result"] == "rejected"
    assert applicant["reason"] == "第2轮面试未通过：团队协作意识不足"
    assert applicant["rounds_passed"] == 1
    assert [(r["round"], r["result"]) for r in applicant["interviews"]] == [(1, "pass"), (2, "fail")]
    done = set(completed_elements(session, instance_id))
    assert "Task_BackgroundCheck" not in done


def test_failed_background_check(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, "孙七")
    pass_screening(session, users, instance_id)
    complete(session, users, instance_id, "Task_Interview", "team-lead", INTERVIEW_PASS)
    complete(
        session,
        users,
        instance_id,
        "Task_BackgroundCheck",
        "hr",
        {"education_verified": True, "employment_verified": False, "background_notes": "工作经历与简历不符"},
    )
    close_plan(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    [applicant] = inst.data["applicants"]
    assert applicant["result"] == "rejected"
    assert applicant["reason"] == "背景调查未通过：工作经历与简历不符"
    done = set(completed_elements(session, instance_id))
    assert "Task_HiringDecision" not in done


def test_offer_declined_then_hired_from_a_second_batch(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, "周八")
    pass_screening(session, users, instance_id)
    complete(session, users, instance_id, "Task_Interview", "team-lead", INTERVIEW_PASS)
    complete(session, users, instance_id, "Task_BackgroundCheck", "hr", BACKGROUND_OK)
    complete(session, users, instance_id, "Task_HiringDecision", "team-lead", HIRE)
    complete(
        session,
        users,
        instance_id,
        "Task_SendOffer",
        "hr",
        {"offer_sent_date": "2025-01-27", "offer_reply": "declined", "decline_reason": "已接受其他公司录用"},
    )
    # Headcount not reached: the team lead decides to keep recruiting.
    assert open_elements(session, instance_id) == ["Task_ReviewPlan"]
    inst = instances.get_instance(session, instance_id)
    [declined] = inst.data["applicants"]
    assert declined["result"] == "declined"
    assert declined["reason"] == "候选人拒绝录用通知：已接受其他公司录用"
    complete(session, users, instance_id, "Task_ReviewPlan", "team-lead", {"review_decision": "continue"})
    assert open_elements(session, instance_id) == ["Task_PostJob"]
    complete(session, users, instance_id, "Task_PostJob", "hr", POSTING)
    complete(session, users, instance_id, "Task_CollectApplicants", "hr", {"applicant_names": "吴九\n郑十"})

    # One path per applicant, side by side.
    assert open_elements(session, instance_id) == ["Task_ScreenResume", "Task_ScreenResume"]
    complete(
        session,
        users,
        instance_id,
        "Task_ScreenResume",
        "hr",
        {"resume_result": "fail", "resume_notes": "专业不符"},
        nth=1,
    )
    pass_screening(session, users, instance_id)
    complete(session, users, instance_id, "Task_Interview", "team-lead", INTERVIEW_PASS)
    hire_after_interviews(session, users, instance_id)

    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["plan_status"] == "filled"
    assert inst.data["hired_names"] == ["吴九"]
    results = [(a["name"], a["result"], a["reason"]) for a in inst.data["all_applicants"]]
    assert results == [
        ("周八", "declined", "候选人拒绝录用通知：已接受其他公司录用"),
        ("吴九", "hired", ""),
        ("郑十", "rejected", "简历筛选未通过：专业不符"),
    ]


def test_no_applicants_goes_to_the_team_lead(deployed: Any, session: Any, users: dict[str, str]) -> None:
    instance_id = start(session, users, "  \n")
    close_plan(session, users, instance_id)
    inst = instances.get_instance(session, instance_id)
    assert inst.status == "completed"
    assert inst.data["applicants"] == []
    assert inst.data["plan_status"] == "closed"


def test_plan_form_rejects_bad_input(deployed: Any, session: Any, users: dict[str, str]) -> None:
    inst = instances.start_instance(session, "recruitment", actor=users["team-lead"])
    session.commit()
    [task] = open_tasks(session, inst.id, "Task_DraftPlan")
    with pytest.raises(InvalidInputError) as caught:
        instances.complete_task(
            session,
            task.id,
            actor=users["team-lead"],
            data={**PLAN, "headcount": 0, "level": "intern", "position": ""},
        )
    assert {p.field for p in caught.value.problems} >= {"headcount", "level", "position"}
    session.rollback()


@pytest.mark.parametrize(("level", "rounds"), [("junior", 1), ("senior", 2), ("manager", 3)])
def test_interview_rounds_table(level: str, rounds: int) -> None:
    assert evaluate_decision(ROUNDS_TABLE, {"level": level}) == {"interview_rounds": rounds}


def test_each_applicants_task_holds_only_that_applicants_data(
    deployed: Any, session: Any, users: dict[str, str]
) -> None:
    instance_id = start(session, users, "李明\n赵磊")
    complete(
        session,
        users,
        instance_id,
        "Task_ScreenResume",
        "hr",
        {"resume_result": "pass", "resume_notes": "李明：经验丰富"},
    )
    phone, screening = (
        open_tasks(session, instance_id, "Task_PhoneInterview"),
        open_tasks(session, instance_id, "Task_ScreenResume"),
    )
    assert [t.subject for t in phone] == ["李明"] and [t.subject for t in screening] == ["赵磊"]
    zhao = instances.get_task(session, screening[0].id, users["hr"])
    assert zhao.instance_data["applicant_name"] == "赵磊"
    assert zhao.instance_data.get("resume_result") is None
    assert not zhao.instance_data.get("resume_notes")
    li = instances.get_task(session, phone[0].id, users["hr"])
    assert (li.instance_data["applicant_name"], li.instance_data["resume_result"]) == ("李明", "pass")
