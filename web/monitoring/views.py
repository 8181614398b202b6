"""Routes of the managers' pages: each reads the request, calls one engine service and renders its view."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import (
    ConflictError,
    FieldProblem,
    InvalidInputError,
    audit,
    definitions,
    instances,
    monitoring,
    people,
)
from engine.views import Dashboard
from web.db import get_session
from web.monitoring import bp
from web.monitoring.display import (
    COLUMN_TEXT,
    FIGURE_TITLES,
    audit_lines,
    chart_of,
    csv_text,
    row_label,
    status_text,
    throughput_chart,
)
from web.tasks.display import diagram_names, problem_text
from web.tasks.views import names

ID = "int(min=1, max=2147483647)"
ACTIONS = ("suspend", "resume", "terminate", "retry", "data")


def _tz() -> str:
    return str(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def _dashboard(period: str) -> Dashboard:
    return monitoring.dashboard(get_session(), current_user.name, period, _tz())


@bp.get("/")
def dashboard() -> Any:
    period = request.args.get("period") or "30d"
    board = _dashboard(period)
    charts = {t.id: chart_of(t) for t in board.team}
    return render_template(
        "monitoring/dashboard.html",
        board=board,
        period=period,
        periods=monitoring.PERIODS,
        charts=charts,
        throughput=throughput_chart(board),
        titles=FIGURE_TITLES,
        columns=COLUMN_TEXT,
        **names(),
    )


def _table(board: Dashboard, name: str, group_names: dict[str, str], user_names: dict[str, str]) -> Any:
    if name == "processes":
        header = [_("Process"), *(status_text(s) for s in monitoring.STATUSES), _("Median cycle time (s)")]
        header += [_("90th percentile cycle time (s)"), _("Open tasks"), _("Overdue tasks")]
        rows = [
            [p.name, *(p.counts.get(s, 0) for s in monitoring.STATUSES), p.median_seconds, p.p90_seconds]
            + [p.open_tasks, p.overdue_tasks]
            for p in board.processes
        ]
    elif name == "groups":
        header = [_("Process"), _("Group"), _("Open tasks"), _("Overdue tasks")]
        rows = [[g.process_name, group_names.get(g.group or "", g.group), g.open, g.overdue] for g in board.groups]
    elif name == "overdue":
        header = [_("Task"), _("Instance"), _("Process"), _("Held by"), _("Due"), _("Overdue (h)"), _("Held (h)")]
        rows = [
            [
                o.task.name,
                o.task.instance_title,
                o.task.process_name,
                user_names.get(o.task.assignee or "", o.task.assignee)
                or group_names.get(o.task.group or "", o.task.group),
                o.task.due_at.isoformat() if o.task.due_at else "",
                round(o.overdue_seconds / 3600, 1),
                round(o.held_seconds / 3600, 1),
            ]
            for o in board.overdue
        ]
    elif name == "throughput":
        header = [_("Period start"), _("Started"), _("Completed")]
        rows = [[p.bucket, p.started, p.completed] for p in board.throughput]
    else:
        table = next((t for t in board.team if t.id == name), None)
        if table is None:
            return None
        header = [_("Item"), *(str(COLUMN_TEXT.get(c, c)) for c in table.columns)]
        rows = [[row_label(r), *r.values] for r in table.rows]
    return header, rows


@bp.get("/export/<name>.csv")
def export(name: str) -> Any:
    board = _dashboard(request.args.get("period") or "30d")
    known = names()
    table = _table(board, name, known["group_names"], known["user_names"])
    if table is None:
        return render_template("error.html", status=404, message=_("No such table."), details=[]), 404
    return Response(
        csv_text(*table),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}.csv"},
    )


@bp.get("/instances", endpoint="instances")
def instance_list() -> Any:
    session = get_session()
    filters = {k: v for k, v in request.args.items() if v != ""}
    try:
        page = monitoring.search_instances(session, current_user.name, filters, _tz())
        problems: list[FieldProblem] = []
    except InvalidInputError as exc:
        page = monitoring.search_instances(session, current_user.name, {}, _tz())
        problems = exc.problems
    processes = definitions.list_processes(session)
    return (
        render_template(
            "monitoring/instances.html",
            page=page,
            filters=filters,
            problems={p.field: problem_text(p.message) for p in problems},
            processes=processes,
            groups=people.list_groups(session),
            users=people.list_users(session),
            statuses=monitoring.STATUSES,
            sorts=("started", "ended", "title", "status", "process", "cycle"),
            **names(),
        ),
        422 if problems else 200,
    )


def _render_instance(instance_id: int, kept: dict[str, Any] | None = None, message: str = "", status: int = 200) -> Any:
    session = get_session()
    detail = instances.get_instance(session, instance_id, current_user.name)
    events = audit.list_events(session, instance_id, current_user.name)
    xml = definitions.get_xml(session, detail.process_key, detail.version)
    diagram = diagram_names(xml)
    known = names()
    members: dict[str, list[Any]] = {}
    for user in people.list_users(session):
        for group in user.groups:
            members.setdefault(group, []).append(user)
    completed_tasks = {e.element_id for e in events if e.type == "completed" and e.element_id}
    marks = {
        "xml": xml,
        "completed": sorted(set(detail.completed_elements) | completed_tasks),
        "active": list(detail.active_elements),
        "error": [detail.error.element_id] if detail.error and detail.error.element_id else [],
    }
    return (
        render_template(
            "monitoring/instance.html",
            i=detail,
            lines=audit_lines(events, diagram, known["user_names"], known["group_names"]),
            comments=[e for e in events if e.type == "comment"],
            diagram=diagram,
            marks=marks,
            members=members,
            kept=kept or {},
            message=message,
            tz=_tz(),
            **known,
        ),
        status,
    )


@bp.get(f"/instances/<{ID}:instance_id>")
def instance(instance_id: int) -> Any:
    return _render_instance(instance_id)


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


def _typed_value(kind: str, raw: str) -> Any:
    """Read an edited data value as the type the manager chose."""
    if kind == "text":
        return raw
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise InvalidInputError("value", [FieldProblem("value", "must be a number")]) from None
        return int(number) if number.is_integer() and "." not in raw else number
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise InvalidInputError("value", [FieldProblem("value", "must be true or false")])
        return raw == "true"
    if kind == "json":
        try:
            return json.loads(raw)
        except ValueError:
            raise InvalidInputError("value", [FieldProblem("value", "must be JSON")]) from None
    raise InvalidInputError("type", [FieldProblem("type", "one of text, number, boolean, json")])


def _done(instance_id: int, text: str) -> Any:
    get_session().commit()
    flash(text, "success")
    return redirect(url_for("monitoring.instance", instance_id=instance_id))


@bp.post(f"/instances/<{ID}:instance_id>/<action>")
def act(instance_id: int, action: str) -> Any:
    """Suspend, resume, terminate, retry or edit data; a conflict or bad input shows the page again, form kept."""
    if action not in ACTIONS:
        return render_template("error.html", status=404, message=_("No such action."), details=[]), 404
    session = get_session()
    reason = request.form.get("reason", "").strip()
    kept = {"form": action, **request.form.to_dict()}
    try:
        if action in ("terminate",) and not reason:
            raise InvalidInputError("reason", [FieldProblem("reason", "is required")])
        if len(reason) > 2000:
            raise InvalidInputError("reason", [FieldProblem("reason", "must have at most 2000 characters")])
        if action == "suspend":
            instances.suspend_instance(session, instance_id, current_user.name, reason, _version())
            return _done(instance_id, _("The instance is suspended."))
        if action == "resume":
            instances.resume_instance(session, instance_id, current_user.name, reason, _version())
            return _done(instance_id, _("The instance goes on."))
        if action == "terminate":
            instances.terminate_instance(session, instance_id, current_user.name, reason, _version())
            return _done(instance_id, _("The instance is terminated."))
        if action == "retry":
            after = instances.retry_instance(session, instance_id, current_user.name, None, reason, _version())
            if after.status == "error":
                get_session().commit()
                flash(
                    _("The step failed again: %(message)s", message=after.error.message if after.error else ""),
                    "warning",
                )
                return redirect(url_for("monitoring.instance", instance_id=instance_id))
            return _done(instance_id, _("The failed step ran again."))
        name = request.form.get("name", "").strip()
        value = _typed_value(request.form.get("type", "text"), request.form.get("value", ""))
        instances.edit_data(session, instance_id, current_user.name, name, value, reason, _version())
        return _done(instance_id, _("The data value is changed."))
    except ConflictError:
        session.rollback()
        message = _("Someone else changed this instance meanwhile. Check it again; what you entered is kept below.")
        return _render_instance(instance_id, kept, message, 409)
    except InvalidInputError as exc:
        session.rollback()
        problems = "; ".join(f"{p.field}: {problem_text(p.message)}" for p in exc.problems)
        return _render_instance(instance_id, kept, _("Please correct: %(problems)s", problems=problems), 422)


def _local(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInputError("due_at", [FieldProblem("due_at", "must be a date and time")]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(_tz()))


@bp.post(f"/tasks/<{ID}:task_id>/<action>")
def act_on_task(task_id: int, action: str) -> Any:
    """Reassign a task or move its due date, with a reason; conflicts keep what was entered."""
    if action not in ("assign", "due"):
        return render_template("error.html", status=404, message=_("No such action."), details=[]), 404
    session = get_session()
    task = instances.get_task(session, task_id, current_user.name).summary
    reason = request.form.get("reason", "").strip()[:2000]
    kept = {"form": f"{action}-{task_id}", **request.form.to_dict()}
    try:
        if action == "assign":
            instances.assign_task(
                session,
                task_id,
                current_user.name,
                request.form.get("user", ""),
                reason,
                request.form.get("expected", None),
            )
            text = _("The task is reassigned.")
        else:
            expected_raw = request.form.get("expected")
            expected: Any = instances.UNCHECKED
            if expected_raw is not None:
                expected = datetime.fromisoformat(expected_raw) if expected_raw else None
            instances.change_due_date(
                session, task_id, current_user.name, _local(request.form.get("due_at", "")), reason, expected
            )
            text = _("The due date is changed.")
    except ConflictError:
        session.rollback()
        message = _("Someone else changed this task meanwhile. Check it again; what you entered is kept below.")
        return _render_instance(task.instance_id, kept, message, 409)
    except InvalidInputError as exc:
        session.rollback()
        problems = "; ".join(f"{p.field}: {problem_text(p.message)}" for p in exc.problems)
        return _render_instance(task.instance_id, kept, _("Please correct: %(problems)s", problems=problems), 422)
    return _done(task.instance_id, text)


@bp.get("/processes/<key>/heatmap")
def heatmap(key: str) -> Any:
    session = get_session()
    version_raw = request.args.get("version", "")
    days_raw = request.args.get("days", "30")
    if (version_raw and not version_raw.isdigit()) or not days_raw.isdigit():
        raise InvalidInputError("version or days", [FieldProblem("days", "whole numbers")])
    heat = monitoring.heatmap(session, current_user.name, key, int(version_raw) if version_raw else None, int(days_raw))
    xml = definitions.get_xml(session, key, heat.version)
    return render_template(
        "monitoring/heatmap.html",
        heat=heat,
        xml=xml,
        processes=definitions.list_processes(session),
        day_choices=monitoring.HEATMAP_DAYS,
        cells=[
            {"id": e.element_id, "waiting": e.waiting, "p50": e.median_seconds, "p90": e.p90_seconds, "n": e.completed}
            for e in heat.elements
        ],
        diagram=diagram_names(xml),
    )
