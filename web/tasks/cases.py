"""Routes of "my cases": the instances a person started or took part in, and withdrawing one."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import ConflictError, FieldProblem, InvalidInputError, cases, instances
from web.db import get_session
from web.tasks import bp
from web.tasks.views import TASK_ID, names


def _page() -> int:
    raw = request.args.get("page") or "1"
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidInputError("page: a page number", [FieldProblem("page", "a page number from 1")])
    return int(raw)


def _render(status: int = 200, **context: Any) -> Any:
    page = cases.my_cases(get_session(), current_user.name, _page())
    return render_template("tasks/cases.html", cases=page, **names(), **context), status


@bp.route("/cases")
@login_required  # type: ignore[misc]
def cases_page() -> Any:
    return _render()


@bp.route(f"/cases/<{TASK_ID}:instance_id>/withdraw", methods=["POST"])
@login_required  # type: ignore[misc]
def withdraw(instance_id: int) -> Any:
    session = get_session()
    reason = request.form.get("reason", "")
    try:
        done = instances.withdraw_instance(session, instance_id, current_user.name, reason)
        session.commit()
    except InvalidInputError:
        session.rollback()
        error = _("Say in a few words why you withdraw it (at most 2000 characters).")
        return _render(422, error_case=instance_id, error=error, reason=reason)
    except ConflictError:
        session.rollback()
        error = _("This case can no longer be withdrawn: it has moved on or ended.")
        return _render(409, error_case=instance_id, error=error, reason=reason)
    flash(_("You withdrew “%(title)s”.", title=done.title), "success")
    return redirect(url_for("tasks.cases_page"))
