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
        "customer_satisfied",
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
        "approved",
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
    ("complaint", "Task_SatisfactionSurvey"): (("customer_satisfied",), (True,)),
    ("sales", "Task_ApproveCreditException"): (("credit_exception",), ("approve",)),
    ("sales", "Task_ApproveDiscount"): (("discount_decision",), ("approve",)),
    ("sales", "Task_Negotiate"): (("negotiation_result",), ("agreed",)),
    ("sales", "Task_ReviewContract"): (("contract_review",), ("approve",)),
    ("promotion", "Task_ApproveStrategy"): (("approved",), (True,)),
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


def record_outcome(task: HumanTask, values: Mapping[str, Any]) -> None:
    """Mark a completed task that decides a stage as passed or failed."""
    task.outcome = outcome(task.process_key, task.element_id, values)
