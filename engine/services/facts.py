"""Keep what the reports read as it happens: key data per instance, stage outcomes, end event, cycle time.

The reports never load a workflow: every figure is an SQL aggregate over the instance, task, audit and
instance_fact tables. This module decides which instance data counts as key data of each process and which
user tasks decide a stage (their outcome is "pass" or "fail"), and writes them when tasks complete and
instances end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance
from engine.repositories import facts as repo

# Instance data kept per process for the team figures (the latest value wins).
KEY_DATA: dict[str, tuple[str, ...]] = {
    "complaint": (
        "category",
        "tier",
        "channel",
        "severity",
        "unsatisfied_count",
        "satisfaction_result",
        "satisfaction_score",
    ),
    "sales": (
        "industry",
        "source",
        "customer_class",
        "credit_rating",
        "discount_percent",
        "discount_approval",
        "discount_decision",
        "outcome",
        "lost_reason",
        "estimated_deal_size",
        "contract_amount",
    ),
    "recruitment": ("position", "level", "headcount", "hired_count", "plan_status", "posting_count"),
    "promotion": (
        "budget",
        "goal_met",
        "strategy_round",
        "approval_required",
        "strategy_decision",
        "channel_count",
        "ad_spend",
        "pr_spend",
        "event_spend",
        "actual_cost",
    ),
}

# User tasks that decide a stage: (process, element) -> (fields that must all pass, passing values).
STAGE_OUTCOMES: dict[tuple[str, str], tuple[tuple[str, ...], tuple[Any, ...]]] = {
    ("recruitment", "Task_ScreenResume"): (("resume_result",), ("pass",)),
    ("recruitment", "Task_PhoneInterview"): (("phone_result",), ("pass",)),
    ("recruitment", "Task_Interview"): (("interview_result",), ("pass",)),
    ("recruitment", "Task_BackgroundCheck"): (("education_verified", "employment_verified"), (True,)),
    ("recruitment", "Task_HiringDecision"): (("hire_decision",), ("hire",)),
    ("recruitment", "Task_SendOffer"): (("offer_reply",), ("accepted",)),
    ("complaint", "Task_SatisfactionSurvey"): (("satisfaction_result",), ("satisfied",)),
    ("sales", "Task_ApproveCreditException"): (("credit_exception",), ("approve",)),
    ("sales", "Task_ApproveDiscount"): (("discount_decision",), ("approve",)),
    ("sales", "Task_Negotiate"): (("negotiation_result",), ("agreed",)),
    ("sales", "Task_ReviewContract"): (("contract_review",), ("approve",)),
    ("promotion", "Task_ApproveStrategy"): (("strategy_decision",), ("approve",)),
}


def outcome(process_key: str, element_id: str, values: Mapping[str, Any]) -> str | None:
    """Return "pass" or "fail" for a task that decides a stage, None for any other task."""
    rule = STAGE_OUTCOMES.get((process_key, element_id))
    if rule is None:
        return None
    fields, passing = rule
    return "pass" if all(values.get(f) in passing for f in fields) else "fail"


def _fact_value(value: Any) -> tuple[str | None, float | None]:
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("true" if value else "false"), (1.0 if value else 0.0)
    if isinstance(value, int | float):
        return str(value)[:300], float(value)
    if isinstance(value, str):
        return value[:300], None
    return None, None  # lists and objects are no key data


def record_key_data(session: Session, instance: ProcessInstance, data: Mapping[str, Any], now: datetime) -> None:
    """Store the process's key data from the instance's current data, writing only what changed."""
    names = KEY_DATA.get(instance.process_key)
    if not names:
        return
    wanted = {name: _fact_value(data[name]) for name in names if name in data}
    wanted = {name: pair for name, pair in wanted.items() if pair != (None, None)}
    if not wanted:
        return
    stored = repo.for_instance(session, instance.id)
    for name, (value, number) in wanted.items():
        row = stored.get(name)
        if row is None:
            repo.add(session, instance.id, instance.process_key, name, value, number, now)
        elif (row.value, row.number) != (value, number):
            row.value, row.number, row.updated_at = value, number, now


def record_end(instance: ProcessInstance, end: tuple[str, str] | None, now: datetime) -> None:
    """Keep where a completed instance ended and how long it ran."""
    if end is not None:
        instance.end_event_id, instance.end_event_name = end[0], end[1][:300]
    instance.cycle_seconds = max(0.0, (now - instance.started_at).total_seconds())


# User tasks whose first opening is timed from the instance's start (time to hire: the onboarding).
TIMED_ELEMENTS = {("recruitment", "Task_Onboard")}


def first_outcome_name(element_id: str) -> str:
    """The key data naming how an instance's first task at a stage-deciding element went."""
    return f"first:{element_id}"


def reached_after_name(element_id: str) -> str:
    """The key data holding the seconds from an instance's start to its first task at an element."""
    return f"reached_after:{element_id}"


def task_opened(session: Session, task: HumanTask, instance: ProcessInstance) -> None:
    """Count a new user task, and the instance reaching its element for the first time."""
    # A completed element had a task before this one: only a step reached for the first time needs the query.
    first = task.element_id not in (instance.completed_elements or []) and not repo.reached_before(
        session, task.instance_id, task.element_id, task.id
    )
    repo.tally(session, task.process_key, task.element_id, tasks=1, instances=1 if first else 0)
    if first and (task.process_key, task.element_id) in TIMED_ELEMENTS:
        seconds = max(0.0, (task.created_at - instance.started_at).total_seconds())
        name = reached_after_name(task.element_id)
        repo.add(session, instance.id, instance.process_key, name, str(round(seconds)), seconds, task.created_at)


def task_completed(session: Session, task: HumanTask, values: Mapping[str, Any]) -> None:
    """Mark a completed task passed or failed when it decides a stage, and add it to the running counts."""
    task.outcome = outcome(task.process_key, task.element_id, values)
    count_completion(session, task)


def count_completion(session: Session, task: HumanTask) -> None:
    """Add a completed task (its outcome already set) to the running counts and first outcomes."""
    done = task.completed_at or task.created_at
    increments: dict[str, float] = {"completed": 1, "total_seconds": max(0.0, (done - task.created_at).total_seconds())}
    if task.outcome == "pass":
        increments["passed"] = 1
    elif task.outcome == "fail":
        increments["failed"] = 1
    if task.due_at is not None:
        increments["with_due"] = 1
        increments["in_time"] = 1 if done <= task.due_at else 0
    repo.tally(session, task.process_key, task.element_id, **increments)
    if task.outcome is not None:
        name = first_outcome_name(task.element_id)
        if name not in repo.for_instance(session, task.instance_id):
            repo.add(session, task.instance_id, task.process_key, name, task.outcome, None, done)
