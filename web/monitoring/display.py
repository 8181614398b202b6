"""Say the managers' figures in the page language: durations, figure titles, columns, audit lines and CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from engine.views import Dashboard, EventView, FigureRow, FigureTable
from web.tasks.display import EVENT_TEXT, DiagramNames, when

STATUS_TEXT = {
    "running": lazy_gettext("Running"),
    "completed": lazy_gettext("Completed"),
    "error": lazy_gettext("In error"),
    "suspended": lazy_gettext("Suspended"),
    "terminated": lazy_gettext("Terminated"),
}

FIGURE_TITLES = {
    "complaint_service": lazy_gettext("Complaints: service quality"),
    "complaint_category": lazy_gettext("Complaints by category"),
    "complaint_tier": lazy_gettext("Complaints by customer tier"),
    "sales_funnel": lazy_gettext("Sales funnel: from prospect to won"),
    "sales_outcomes": lazy_gettext("Sales outcomes and lost reasons"),
    "sales_credit": lazy_gettext("Customer credit grades"),
    "sales_discount": lazy_gettext("Discount approvals by the team lead"),
    "sales_stage_time": lazy_gettext("Average time per sales stage"),
    "recruitment_stages": lazy_gettext("Recruitment: applicants and pass rate per stage"),
    "recruitment_time_to_hire": lazy_gettext("Time to hire (plan start to offer accepted)"),
    "recruitment_plans": lazy_gettext("Hiring plans: filled or closed"),
    "promotion_status": lazy_gettext("Campaigns by status"),
    "promotion_goals": lazy_gettext("Campaign goals met and missed"),
    "promotion_budget": lazy_gettext("Campaign spend by channel (CNY)"),
}

COLUMN_TEXT = {
    "instances": lazy_gettext("Instances"),
    "count": lazy_gettext("Count"),
    "of": lazy_gettext("Out of"),
    "share": lazy_gettext("Share"),
    "completed": lazy_gettext("Completed tasks"),
    "avg_seconds": lazy_gettext("Average time"),
    "median_seconds": lazy_gettext("Median"),
    "p90_seconds": lazy_gettext("90th percentile"),
    "applicants": lazy_gettext("Applicants"),
    "passed": lazy_gettext("Passed"),
    "pass_rate": lazy_gettext("Pass rate"),
    "campaigns": lazy_gettext("Campaigns"),
    "amount": lazy_gettext("Amount"),
}

ROW_TEXT = {
    "answered_in_time": lazy_gettext("First answer within the severity deadline"),
    "escalated": lazy_gettext("Escalated to the team lead"),
    "satisfied_first": lazy_gettext("Customer satisfied with the first answer"),
    "rework_loops": lazy_gettext("Rework loops (customer not satisfied)"),
    "won": lazy_gettext("Won"),
    "approved": lazy_gettext("Approved"),
    "rejected": lazy_gettext("Rejected"),
    "time_to_hire": lazy_gettext("Hires"),
    "met": lazy_gettext("Goal met"),
    "missed": lazy_gettext("Goal missed (strategy optimised)"),
    "advertising": lazy_gettext("Advertising"),
    "pr": lazy_gettext("Public relations"),
    "event": lazy_gettext("Marketing events"),
    "planned": lazy_gettext("Planned budget"),
    **STATUS_TEXT,
}

MORE_EVENT_TEXT = {
    "data_changed": lazy_gettext("changed a data value"),
    "due_changed": lazy_gettext("changed the due date"),
    "business_key": lazy_gettext("set the business key"),
    "message_received": lazy_gettext("a message arrived"),
    "external_task_created": lazy_gettext("work handed to an external system"),
    "external_task_completed": lazy_gettext("the external system finished its work"),
    "external_task_failed": lazy_gettext("the external system reported a failure"),
    "external_task_retries": lazy_gettext("changed the retries of external work"),
    "bpmn_error": lazy_gettext("the external system reported a business error"),
    "incident": lazy_gettext("an incident stopped the instance"),
    "withdrawn": lazy_gettext("withdrew the instance"),
}

TIME_COLUMNS = {"avg_seconds", "median_seconds", "p90_seconds"}
PERCENT_COLUMNS = {"share", "pass_rate"}


def duration(seconds: float | None) -> str:
    """Say a duration briefly: minutes under an hour, hours under two days, else days."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(n)s min", n=max(0, round(seconds / 60)))
    if seconds < 48 * 3600:
        return _("%(n)s h", n=f"{seconds / 3600:.1f}")
    return _("%(n)s d", n=f"{seconds / 86400:.1f}")


def status_text(status: str) -> str:
    return str(STATUS_TEXT.get(status, status))


def row_label(row: FigureRow) -> str:
    return row.label or str(ROW_TEXT.get(row.key, row.key))


def cell(column: str, value: Any) -> str:
    if value is None:
        return "—"
    if column in TIME_COLUMNS:
        return duration(float(value))
    if column in PERCENT_COLUMNS:
        return f"{value:g}%"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def link(filters: tuple[tuple[str, str], ...] | dict[str, Any]) -> str:
    """The instance list filtered to what a figure counts."""
    items = filters.items() if isinstance(filters, dict) else filters
    return url_for("monitoring.instances", **{k: v for k, v in items if v not in (None, "")})


def chart_of(table: FigureTable) -> str:
    """The chart a figure table draws, as JSON for the charts bundle ("" for tables without one)."""
    if table.chart == "none" or not any(r.values[0] for r in table.rows):
        return ""  # nothing counted yet: the table says so, an empty chart would only look broken
    column = table.columns[0]
    return json.dumps(
        {
            "type": table.chart,
            "labels": [row_label(r) for r in table.rows],
            "series": [{"name": str(COLUMN_TEXT.get(column, column)), "data": [r.values[0] or 0 for r in table.rows]}],
            "links": [link(r.filters) for r in table.rows],
        },
        ensure_ascii=False,
    )


def throughput_chart(board: Dashboard) -> str:
    return json.dumps(
        {
            "type": "line",
            "labels": [p.bucket for p in board.throughput],
            "series": [
                {"name": _("Started"), "data": [p.started for p in board.throughput]},
                {"name": _("Completed"), "data": [p.completed for p in board.throughput]},
            ],
            "links": [period_link(p.bucket, board.unit) for p in board.throughput],
        },
        ensure_ascii=False,
    )


def period_link(bucket: str, unit: str) -> str:
    """The instance list of the instances started in one day or week."""
    last = date.fromisoformat(bucket) + timedelta(days=6 if unit == "week" else 0)
    return url_for("monitoring.instances", **{"from": bucket, "to": last.isoformat()})


@dataclass(frozen=True)
class AuditLine:
    """One entry of an instance's audit trail on the managers' instance page."""

    type: str
    at: str
    actor: str
    text: str
    subject: str
    note: str
    reason: str


def audit_lines(
    events: list[EventView], names: DiagramNames, people: dict[str, str], groups: dict[str, str]
) -> list[AuditLine]:
    """Every audit entry, oldest first: who, when, what, with the submitted data and the reason given."""
    lines = []
    for event in events:
        data = event.data or {}
        text = EVENT_TEXT.get(event.type) or MORE_EVENT_TEXT.get(event.type) or event.type
        subject = names.elements.get(event.element_id or "", str(data.get("name") or event.element_id or ""))
        note = ""
        if isinstance(data.get("data"), dict) and data["data"]:
            note = "; ".join(f"{names.fields.get(k, k)}: {names.value_text(k, v)}" for k, v in data["data"].items())
        elif event.type == "comment":
            note = str(data.get("text", ""))
        elif event.type == "assigned":
            note = people.get(str(data.get("user")), str(data.get("user") or ""))
        elif event.type == "data_changed":
            name = str(data.get("name"))
            note = (
                f"{names.fields.get(name, name)}: {names.value_text(name, data.get('previous'))}"
                f" → {names.value_text(name, data.get('value'))}"
            )
        elif event.type == "due_changed":
            note = f"{when(_moment(data.get('previous'))) or '—'} → {when(_moment(data.get('due_at'))) or '—'}"
        elif event.type in ("error", "incident", "external_task_failed", "bpmn_error"):
            note = str(data.get("message") or data.get("error_message") or data.get("code") or "")
        elif event.type == "task_created":
            assignee = data.get("assignee")
            note = people.get(assignee, assignee) if assignee else groups.get(data.get("group") or "", "")
        actor = _("System") if event.actor == "system" else people.get(event.actor or "", event.actor or "")
        lines.append(
            AuditLine(event.type, when(event.at), actor, str(text), subject, note[:600], str(data.get("reason", "")))
        )
    return lines


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def csv_text(header: list[str], rows: list[list[Any]]) -> str:
    """A CSV document with a byte-order mark, so that spreadsheet programs read the Chinese right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return out.getvalue()


def _safe(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def local_input(moment: datetime | None, tz: str) -> str:
    """Write a time as a datetime-local input shows it, in the given zone."""
    if moment is None:
        return ""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
