"""Routes of the task queues, the task page, starting instances and the in-app badge."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import (
    ConflictError,
    EngineError,
    FieldProblem,
    InvalidInputError,
    PermissionDeniedError,
    definitions,
    instances,
    people,
    task_queue,
)
from engine.views import TaskSummary, UserView
from web.clock import team_today, team_zone
from web.db import get_session
from web.notify import send_pending
from web.tasks import bp
from web.tasks.page import render_history, render_task_page

# Ids outside the database's integer range match no route (404) instead of overflowing a query.
TASK_ID = "int(min=1, max=2147483647)"

MANAGERS = ("manager", "admin")
# The menu badge counts up to this and then shows "99+".
BADGE_CAP = 99


def _filters(args: Any = None) -> dict[str, Any]:
    """The queue page's filters and page numbers, from its query string.

    :raises InvalidInputError: a page number that is not a whole number.
    """
    args = request.args if args is None else args
    pages = {}
    for name in ("page", "mine_page"):
        raw = args.get(name) or "1"
        if not raw.isdigit() or len(raw) > 6:
            raise InvalidInputError(f"{name}: a page number", [FieldProblem(name, "a page number from 1")])
        pages[name] = int(raw)
    return {"process": args.get("process") or None, "overdue": args.get("overdue") == "1", **pages}


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _assignable() -> dict[str, list[UserView]]:
    """Members of each group, for the managers' reassign menus."""
    if not current_user.has_role(*MANAGERS):
        return {}
    by_group: dict[str, list[UserView]] = {}
    for user in people.list_users(get_session()):
        for group in user.groups:
            by_group.setdefault(group, []).append(user)
    return by_group


def names() -> dict[str, Any]:
    """Display names of groups and users, for rows and history."""
    session = get_session()
    return {
        "group_names": people.group_names(session),
        "user_names": {u.name: u.display_name for u in people.list_users(session)},
    }


def _queue_context(
    process: str | None = None, overdue: bool = False, page: int = 1, mine_page: int = 1
) -> dict[str, Any]:
    session = get_session()
    mine = task_queue.queue_page(session, current_user.name, "mine", process, overdue, mine_page)
    groups = task_queue.queue_page(session, current_user.name, "groups", process, overdue, page)
    return {
        **names(),
        "mine": mine,
        "groups": groups,
        "process": process,
        "overdue": overdue,
        "assignable": _assignable(),
        "badge": task_queue.badge_count(session, current_user.name, cap=BADGE_CAP),
    }


@bp.route("/")
@login_required  # type: ignore[misc]
def queue() -> Any:
    processes = definitions.list_processes(get_session())
    return render_template("tasks/queue.html", processes=processes, **_queue_context(**_filters()))


@bp.route("/queue/fragment")
@login_required  # type: ignore[misc]
def queue_fragment() -> Any:
    return render_template("tasks/_queues.html", **_queue_context(**_filters()))


@bp.route("/badge")
@login_required  # type: ignore[misc]
def badge() -> Any:
    badge = task_queue.badge_count(get_session(), current_user.name, cap=BADGE_CAP)
    return render_template("tasks/_badge.html", badge=badge)


@bp.route("/completed")
@login_required  # type: ignore[misc]
def completed() -> Any:
    tasks = task_queue.completed_by(get_session(), current_user.name)
    return render_template("tasks/completed.html", tasks=tasks, **names())


def _row_response(task: TaskSummary, error: str | None = None, status: int = 200) -> Any:
    """After claim, unclaim or reassign: both queues again (htmx), or a redirect with a flash."""
    if _htmx() and request.form.get("view") == "page":
        # Claimed from the task page: only the claim status changes, the form the user is filling in stays.
        context = {"t": task, "row_error": error, **names()}
        return render_template("tasks/_claim_status.html", **context), status
    if _htmx():
        # Re-render both queues as filtered and paged on the page the row lives on, so the row
        # lands in the right table and both counts and empty-state texts agree.
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.headers.get("HX-Current-URL", "")).query).items()}
        try:
            filters = _filters(query)
        except InvalidInputError:
            filters = {}
        context = _queue_context(**filters)
        context.update(row_error=error, error_task=task.id, oob_badge=True)
        return render_template("tasks/_queues.html", **context), status
    if error:
        flash(error, "warning")
    target = request.form.get("next", "")
    if not (target.startswith("/") and not target.startswith("//")):
        target = url_for("tasks.queue")
    return redirect(target)


def _display(name: str | None) -> str:
    """A person's display name, for messages."""
    user = people.find_user(get_session(), name) if name else None
    return user.display_name if user else (name or "?")


def _conflict_text(task_id: int) -> str:
    """Say why a task can no longer be worked, from its current state."""
    try:
        task = instances.get_task(get_session(), task_id).summary
    except EngineError:
        return _("The task no longer exists.")
    if task.status == "completed":
        return _("Someone else completed this task in the meantime (%(who)s).", who=_display(task.completed_by))
    if task.status != "open":
        return _("This task was cancelled in the meantime.")
    if task.assignee and task.assignee != current_user.name:
        return _("%(who)s claimed this task in the meantime.", who=_display(task.assignee))
    return _("The process changed in the meantime. Please try again.")


def _act(task_id: int, action: str) -> Any:
    session = get_session()
    try:
        if action == "claim":
            task = instances.claim_task(session, task_id, current_user.name)
            message = _("You claimed the task.")
        elif action == "unclaim":
            task = instances.unclaim_task(session, task_id, current_user.name)
            message = _("The task is back in its group's queue.")
        else:
            user = request.form.get("user", "").strip()
            if not user:
                abort(400)
            task = instances.assign_task(session, task_id, current_user.name, user)
            message = _("The task was assigned to %(who)s.", who=task.assignee)
        session.commit()
    except (ConflictError, PermissionDeniedError) as exc:
        session.rollback()
        text = _conflict_text(task_id) if isinstance(exc, ConflictError) else _("You may not do this.")
        try:
            current = instances.get_task(session, task_id).summary
        except EngineError:
            flash(text, "warning")
            return redirect(url_for("tasks.queue"))
        return _row_response(current, text)
    if not _htmx():
        flash(message, "success")
    return _row_response(task)


@bp.route(f"/tasks/<{TASK_ID}:task_id>/claim", methods=["POST"])
@login_required  # type: ignore[misc]
def claim(task_id: int) -> Any:
    return _act(task_id, "claim")


@bp.route(f"/tasks/<{TASK_ID}:task_id>/unclaim", methods=["POST"])
@login_required  # type: ignore[misc]
def unclaim(task_id: int) -> Any:
    return _act(task_id, "unclaim")


@bp.route(f"/tasks/<{TASK_ID}:task_id>/assign", methods=["POST"])
@login_required  # type: ignore[misc]
def assign(task_id: int) -> Any:
    if not current_user.has_role(*MANAGERS):
        abort(403)
    return _act(task_id, "assign")


@bp.route(f"/tasks/<{TASK_ID}:task_id>")
@login_required  # type: ignore[misc]
def task(task_id: int) -> Any:
    return render_task_page(task_id)


def _submitted(detail_form: Any) -> dict[str, Any]:
    """The posted values: every field of the form, and anything else posted (which the engine refuses)."""
    data: dict[str, Any] = {}
    for spec in detail_form:
        if spec.readonly:
            continue
        if spec.type == "boolean":
            data[spec.id] = "true" if request.form.get(spec.id) in ("true", "on", "1") else "false"
        elif spec.id in request.form:
            data[spec.id] = request.form[spec.id]
    known = {spec.id for spec in detail_form}
    for name in request.form:
        if name not in known and name not in ("csrf_token", "confirm_takeover"):
            data[name] = request.form[name]
    return data


@bp.route(f"/tasks/<{TASK_ID}:task_id>", methods=["POST"])
@login_required  # type: ignore[misc]
def complete(task_id: int) -> Any:
    session = get_session()
    detail = instances.get_task(session, task_id, current_user.name)
    data = _submitted(detail.form)
    holder = detail.summary.assignee
    takes_over = holder not in (None, current_user.name) and current_user.has_role(*MANAGERS)
    if takes_over and detail.summary.status == "open" and not request.form.get("confirm_takeover"):
        # A manager may complete a task someone else holds, but only on purpose.
        message = _("Confirm that you complete this task in place of %(who)s.", who=_display(holder))
        return render_task_page(task_id, values=data, status=422, takeover_error=message)
    before = {t.id for t in task_queue.list_tasks(session, instance_id=detail.summary.instance_id, status="open")}
    try:
        done = instances.complete_task(session, task_id, current_user.name, data, team_today())
        session.commit()
    except InvalidInputError as exc:
        session.rollback()
        return render_task_page(task_id, values=data, problems=exc.problems, status=422)
    except ConflictError:
        session.rollback()
        return render_task_page(task_id, values=data, conflict=_conflict_text(task_id), status=409)
    send_pending(current_app._get_current_object())
    flash(_("Task “%(task)s” completed.", task=done.name), "success")
    for returned in _returned(done.instance_id, before):
        group = people.group_names(session).get(returned.summary.group or "", returned.summary.group or "")
        flash(
            _(
                "“%(task)s” went back to %(group)s: %(reason)s",
                task=returned.summary.name,
                group=group,
                reason=returned.reason,
            ),
            "warning",
        )
    return redirect(url_for("tasks.queue"))


def _returned(instance_id: int, before: set[int]) -> list[Any]:
    """Tasks a completion opened that came round again with a reason (work sent back)."""
    session = get_session()
    opened = [t for t in task_queue.list_tasks(session, instance_id=instance_id, status="open") if t.id not in before]
    details = [instances.get_task(session, t.id) for t in opened]
    return [d for d in details if d.reason]


@bp.route(f"/tasks/<{TASK_ID}:task_id>/comment", methods=["POST"])
@login_required  # type: ignore[misc]
def comment(task_id: int) -> Any:
    session = get_session()
    try:
        instances.add_comment(session, task_id, current_user.name, request.form.get("text", ""))
        session.commit()
    except InvalidInputError:
        session.rollback()
        if _htmx():
            # htmx swaps only successful answers: the message comes back inside the history card.
            return render_history(task_id, _("A comment needs 1 to 4000 characters."))
        flash(_("A comment needs 1 to 4000 characters."), "warning")
        return redirect(url_for("tasks.task", task_id=task_id) + "#history")
    if _htmx():  # only the history changes: what the user typed into the form stays
        return render_history(task_id)
    flash(_("Your comment was added."), "success")
    return redirect(url_for("tasks.task", task_id=task_id) + "#history")


def _may_start(process: Any) -> bool:
    return (
        not process.start_groups
        or bool(set(process.start_groups) & set(current_user.groups))
        or (current_user.has_role(*MANAGERS))
    )


@bp.route("/start")
@login_required  # type: ignore[misc]
def start() -> Any:
    processes = [p for p in definitions.list_processes(get_session()) if _may_start(p)]
    return render_template("tasks/start.html", processes=processes, errors={}, values={})


@bp.route("/start/<key>", methods=["POST"])
@login_required  # type: ignore[misc]
def start_instance(key: str) -> Any:
    session = get_session()
    title = request.form.get("title", "").strip()
    business_key = request.form.get("business_key", "").strip()
    try:
        started = instances.start_instance(
            session, key, current_user.name, {}, title or None, business_key or None, time_zone=str(team_zone())
        )
        session.commit()
    except (InvalidInputError, ConflictError) as exc:
        session.rollback()
        processes = [p for p in definitions.list_processes(session) if _may_start(p)]
        if isinstance(exc, ConflictError):
            errors = {key: {"business_key": _("An open instance of this process already has this business key.")}}
        elif any(p.field == "business_key" for p in exc.problems):
            errors = {key: {"business_key": _("Enter at most 200 characters.")}}
        else:
            errors = {key: {"title": _("Enter at most 300 characters.")}}
        values = {key: {"title": title, "business_key": business_key}}
        status = 409 if isinstance(exc, ConflictError) else 422
        return render_template("tasks/start.html", processes=processes, errors=errors, values=values), status
    send_pending(current_app._get_current_object())
    flash(_("Started “%(title)s”.", title=started.title), "success")
    for task in started.tasks:
        if task.assignee == current_user.name or (task.assignee is None and task.group in current_user.groups):
            return redirect(url_for("tasks.task", task_id=task.id))
    return redirect(url_for("tasks.queue"))
