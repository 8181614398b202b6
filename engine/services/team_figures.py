"""Build the team figures of the seed's four processes from stored key data, task outcomes and end events.

Each figure is a small table (``FigureTable``) whose rows carry the instance-list filters behind them, so
that every number on the dashboard links to the instances it counts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.repositories import monitoring as repo
from engine.services import definitions, facts
from engine.views import FigureRow, FigureTable

SALES_FUNNEL = ("Task_RegisterProspect", "Task_SalesVisit", "Task_DraftProposal", "Task_Negotiate", "Task_SignContract")
SALES_STAGES = (
    "Task_RegisterProspect",
    "Task_AssessCredit",
    "Task_SalesVisit",
    "Task_DraftProposal",
    "Task_ApproveDiscount",
    "Task_Negotiate",
    "Task_ReviewContract",
    "Task_SignContract",
    "Task_ConfirmDelivery",
    "Task_ReturnVisit",
)
RECRUITMENT_STAGES = (
    "Task_ScreenResume",
    "Task_PhoneInterview",
    "Task_Interview",
    "Task_BackgroundCheck",
    "Task_HiringDecision",
    "Task_SendOffer",
)
PROMOTION_CHANNELS = (("advertising", "ad_spend"), ("pr", "pr_spend"), ("event", "event_spend"))


def _labels(session: Session, version_id: int) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Task names and enum option names of a version (the latest), for readable rows."""
    meta = definitions.meta_for(session, version_id)
    tasks: dict[str, str] = {}
    options: dict[str, dict[str, str]] = {}
    for element_id, info in meta.items():
        if not element_id or not isinstance(info, dict):
            continue
        tasks[element_id] = str(info.get("name") or element_id)
        for field in info.get("form") or []:
            for option in field.get("options") or []:
                options.setdefault(field["id"], {})[str(option["id"])] = str(option["name"])
    return tasks, options


def _share(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _fact_table(
    session: Session, key: str, name: str, table_id: str, options: dict[str, dict[str, str]]
) -> FigureTable:
    rows = tuple(
        FigureRow(
            key=str(value),
            label=options.get(name, {}).get(str(value), str(value)),
            values=(n,),
            filters=(("process", key), ("fact", f"{name}:{value}")),
        )
        for value, n in repo.fact_counts(session, key, name)
        if value is not None
    )
    return FigureTable(table_id, key, ("instances",), rows)


def _ends_table(
    session: Session, key: str, table_id: str, ends: list[tuple[str, str | None, int]] | None = None
) -> FigureTable:
    rows = tuple(
        FigureRow(end_id, name or end_id, (n,), (("process", key), ("end", end_id)))
        for end_id, name, n in (ends if ends is not None else repo.end_event_counts(session, key))
    )
    return FigureTable(table_id, key, ("instances",), rows, chart="pie")


def complaint_figures(session: Session, version_id: int) -> tuple[FigureTable, ...]:
    key = "complaint"
    _tasks, options = _labels(session, version_id)
    stats = repo.element_stats(session, key)
    response = stats.get("Task_FirstResponse", {})
    total, in_time = int(response.get("with_due", 0)), int(response.get("in_time", 0))
    started = int(stats.get("Task_RecordComplaint", {}).get("instances", 0))
    escalated = int(stats.get("Task_EscalateResponse", {}).get("instances", 0))
    firsts = dict(repo.fact_counts(session, key, facts.first_outcome_name("Task_SatisfactionSurvey")))
    surveyed, first_pass = sum(firsts.values()), firsts.get("pass", 0)
    survey = stats.get("Task_SatisfactionSurvey", {})
    loops = int(survey.get("failed", 0))
    reached = (("process", key), ("reached", "Task_FirstResponse"))
    service = FigureTable(
        "complaint_service",
        key,
        ("count", "of", "share"),
        (
            FigureRow("answered_in_time", "", (in_time, total, _share(in_time, total)), reached),
            FigureRow(
                "escalated",
                "",
                (escalated, started, _share(escalated, started)),
                (("process", key), ("reached", "Task_EscalateResponse")),
            ),
            FigureRow(
                "satisfied_first",
                "",
                (first_pass, surveyed, _share(first_pass, surveyed)),
                (("process", key), ("reached", "Task_SatisfactionSurvey")),
            ),
            FigureRow(
                "rework_loops",
                "",
                (loops, surveyed, None),
                (("process", key), ("failed", "Task_SatisfactionSurvey")),
            ),
        ),
        chart="none",
    )
    return (
        service,
        _fact_table(session, key, "category", "complaint_category", options),
        _fact_table(session, key, "tier", "complaint_tier", options),
    )


def sales_figures(session: Session, version_id: int) -> tuple[FigureTable, ...]:
    key = "sales"
    tasks, options = _labels(session, version_id)
    stats = repo.element_stats(session, key)
    funnel_rows = [
        FigureRow(
            element,
            tasks.get(element, element),
            (int(stats.get(element, {}).get("instances", 0)),),
            (("process", key), ("reached", element)),
        )
        for element in SALES_FUNNEL
    ]
    ends = list(repo.end_event_counts(session, key))
    won = sum(n for end_id, _name, n in ends if end_id == "EndEvent_Won")
    funnel_rows.append(FigureRow("won", "", (won,), (("process", key), ("end", "EndEvent_Won"))))
    approvals = stats.get("Task_ApproveDiscount", {})
    discount = FigureTable(
        "sales_discount",
        key,
        ("count",),
        (
            FigureRow(
                "approved",
                "",
                (int(approvals.get("passed", 0)),),
                (("process", key), ("fact", "discount_decision:approve")),
            ),
            FigureRow(
                "rejected",
                "",
                (int(approvals.get("failed", 0)),),
                (("process", key), ("fact", "discount_decision:reject")),
            ),
        ),
    )
    stages = FigureTable(
        "sales_stage_time",
        key,
        ("completed", "avg_seconds"),
        tuple(
            FigureRow(
                element,
                tasks.get(element, element),
                (int(stats[element]["completed"]), round(stats[element]["avg_seconds"], 1)),
                (("process", key), ("reached", element)),
            )
            for element in SALES_STAGES
            if element in stats and stats[element]["completed"]
        ),
    )
    return (
        FigureTable("sales_funnel", key, ("instances",), tuple(funnel_rows), chart="funnel"),
        _ends_table(session, key, "sales_outcomes", ends),
        _fact_table(session, key, "credit_rating", "sales_credit", options),
        discount,
        stages,
    )


def recruitment_figures(session: Session, version_id: int) -> tuple[FigureTable, ...]:
    key = "recruitment"
    tasks, _options = _labels(session, version_id)
    stats = repo.element_stats(session, key)
    stage_rows = []
    for element in RECRUITMENT_STAGES:
        s = stats.get(element, {})
        decided = int(s.get("passed", 0) + s.get("failed", 0))
        stage_rows.append(
            FigureRow(
                element,
                tasks.get(element, element),
                (int(s.get("tasks", 0)), int(s.get("passed", 0)), _share(s.get("passed", 0), decided)),
                (("process", key), ("reached", element)),
            )
        )
    hires, median, p90 = repo.fact_percentiles(session, key, facts.reached_after_name("Task_Onboard"))
    hire = FigureTable(
        "recruitment_time_to_hire",
        key,
        ("count", "median_seconds", "p90_seconds"),
        (FigureRow("time_to_hire", "", (hires, median, p90), (("process", key), ("reached", "Task_Onboard"))),),
        chart="none",
    )
    return (
        FigureTable("recruitment_stages", key, ("applicants", "passed", "pass_rate"), tuple(stage_rows)),
        hire,
        _ends_table(session, key, "recruitment_plans"),
    )


def promotion_figures(session: Session, counts: dict[str, int]) -> tuple[FigureTable, ...]:
    key = "promotion"
    stats = repo.element_stats(session, key)
    status_rows = tuple(
        FigureRow(status, "", (n,), (("process", key), ("status", status))) for status, n in counts.items() if n
    )
    met = int(stats.get("Task_ClosingSummary", {}).get("instances", 0))
    missed = int(stats.get("Task_OptimiseStrategy", {}).get("tasks", 0))
    goals = FigureTable(
        "promotion_goals",
        key,
        ("count",),
        (
            FigureRow("met", "", (met,), (("process", key), ("reached", "Task_ClosingSummary"))),
            FigureRow("missed", "", (missed,), (("process", key), ("reached", "Task_OptimiseStrategy"))),
        ),
        chart="pie",
    )
    sums = repo.fact_sums(session, key, [field for _channel, field in PROMOTION_CHANNELS] + ["budget"])
    budget_rows = tuple(
        FigureRow(channel, "", (sums.get(field, (0, 0.0))[0], sums.get(field, (0, 0.0))[1]), (("process", key),))
        for channel, field in PROMOTION_CHANNELS
    )
    planned = sums.get("budget", (0, 0.0))
    budget_rows += (FigureRow("planned", "", (planned[0], planned[1]), (("process", key),)),)
    return (
        FigureTable("promotion_status", key, ("instances",), status_rows, chart="pie"),
        goals,
        FigureTable("promotion_budget", key, ("campaigns", "amount"), budget_rows),
    )


def all_figures(session: Session, latest: dict[str, int], promotion_counts: dict[str, int]) -> tuple[FigureTable, ...]:
    """Return the team figures of every seed process that is deployed (``latest``: key -> version id)."""
    figures: list[FigureTable] = []
    if "complaint" in latest:
        figures += complaint_figures(session, latest["complaint"])
    if "sales" in latest:
        figures += sales_figures(session, latest["sales"])
    if "recruitment" in latest:
        figures += recruitment_figures(session, latest["recruitment"])
    if "promotion" in latest:
        figures += promotion_figures(session, promotion_counts)
    return tuple(figures)
