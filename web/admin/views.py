"""Routes of the admin pages; every change goes through engine.people, which checks the role and audits it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import ConflictError, InvalidInputError, NotFoundError, people
from engine.views import UserView
from web.admin import bp
from web.auth import role_required
from web.db import get_session

ID = "int(min=1, max=2147483647)"


def _field_texts() -> dict[str, str]:
    """What each field needs, in the user's language (the engine names the field, in English)."""
    return {
        "name": _("A user name without spaces, at most 100 characters."),
        "display_name": _("At most 200 characters."),
        "email": _("An email address like name@example.com."),
        "password": _("At least 4 characters."),
        "role": _("Choose among the roles shown."),
        "roles": _("Choose at least one role."),
        "group": _("Choose among the groups shown."),
        "id": _("1 to 64 lower-case letters, digits, - or _."),
        "group_name": _("1 to 200 characters."),
    }


def _errors(exc: InvalidInputError, rename: dict[str, str] | None = None) -> dict[str, str]:
    texts = _field_texts()
    found = {}
    for problem in exc.problems:
        field = (rename or {}).get(problem.field, problem.field)
        found[field] = texts.get(field, problem.message)
    return found


def _context() -> dict[str, Any]:
    session = get_session()
    return {"all_groups": people.list_groups(session), "all_roles": people.ROLES}


def _role_names() -> dict[str, str]:
    return {
        "staff": _("Staff"),
        "manager": _("Manager"),
        "owner": _("Process owner"),
        "admin": _("Admin"),
        "worker": _("Connected system"),
    }


@bp.app_context_processor
def _admin_globals() -> dict[str, Any]:
    return {"role_names": _role_names}


@bp.route("/")
@role_required("admin")
def index() -> Any:
    return redirect(url_for("admin.users"))


@bp.route("/users")
@role_required("admin")
def users() -> Any:
    session = get_session()
    return render_template(
        "admin/users.html", users=people.list_users(session), group_names=people.group_names(session)
    )


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def new_user() -> Any:
    form: dict[str, Any] = {"groups": [], "roles": ["staff"]}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = {
            "name": request.form.get("name", ""),
            "display_name": request.form.get("display_name", ""),
            "email": request.form.get("email", ""),
            "groups": request.form.getlist("groups"),
            "roles": request.form.getlist("roles"),
        }
        session = get_session()
        try:
            view = people.create_user(
                session,
                form["name"],
                request.form.get("password", ""),
                form["groups"],
                form["roles"],
                form["display_name"].strip() or None,
                form["email"].strip() or None,
                actor=current_user.name,
            )
            session.commit()
        except InvalidInputError as exc:
            session.rollback()
            errors, status = _errors(exc), 422
        except ConflictError:
            session.rollback()
            errors, status = {"name": _("This user name is taken already.")}, 409
        else:
            flash(_("User %(name)s was created.", name=view.display_name), "success")
            return redirect(url_for("admin.user", user_id=view.id))
    return render_template("admin/new_user.html", form=form, errors=errors, **_context()), status


def _load(user_id: int) -> UserView:
    view = people.get_user_by_id(get_session(), user_id)
    if view is None:
        raise NotFoundError(f"user {user_id} not found")
    return view


def _user_page(user_id: int, status: int = 200, **extra: Any) -> Any:
    view = _load(user_id)
    context = {"u": view, "form": {"groups": list(view.groups), "roles": list(view.roles)}, "errors": {}}
    context.update(extra)
    return render_template("admin/user.html", **context, **_context()), status


@bp.route(f"/users/<{ID}:user_id>")
@role_required("admin")
def user(user_id: int) -> Any:
    return _user_page(user_id)


@bp.route(f"/users/<{ID}:user_id>/access", methods=["POST"])
@role_required("admin")
def user_access(user_id: int) -> Any:
    session = get_session()
    form = {
        "display_name": request.form.get("display_name", ""),
        "groups": request.form.getlist("groups"),
        "roles": request.form.getlist("roles"),
    }
    try:
        people.set_access(session, user_id, form["groups"], form["roles"], current_user.name, form["display_name"])
        session.commit()
    except InvalidInputError as exc:
        session.rollback()
        return _user_page(user_id, 422, form=form, errors=_errors(exc))
    except ConflictError:
        session.rollback()
        return _user_page(user_id, 409, form=form, errors={"roles": _("You cannot take the admin role from yourself.")})
    flash(_("Groups and roles were saved."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route(f"/users/<{ID}:user_id>/password", methods=["POST"])
@role_required("admin")
def user_password(user_id: int) -> Any:
    session = get_session()
    try:
        view = people.reset_password(session, user_id, request.form.get("password", ""), current_user.name)
        session.commit()
    except InvalidInputError as exc:
        session.rollback()
        return _user_page(user_id, 422, password_errors=_errors(exc))
    flash(_("The password of %(name)s was reset; tell them the new one.", name=view.display_name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route(f"/users/<{ID}:user_id>/active", methods=["POST"])
@role_required("admin")
def user_active(user_id: int) -> Any:
    session = get_session()
    active = request.form.get("active") == "1"
    try:
        view = people.set_active(session, user_id, active, current_user.name)
        session.commit()
    except ConflictError:
        session.rollback()
        return _user_page(user_id, 409, active_error=_("You cannot disable your own account."))
    if view.active:
        flash(_("%(name)s can log in again.", name=view.display_name), "success")
    else:
        flash(_("%(name)s is disabled and can no longer log in.", name=view.display_name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


def _groups_page(status: int = 200, **extra: Any) -> Any:
    session = get_session()
    members: dict[str, int] = {}
    for u in people.list_users(session):
        for g in u.groups:
            members[g] = members.get(g, 0) + 1
    context = {"groups": people.list_groups(session), "members": members, "form": {}, "errors": {}}
    context.update(extra)
    return render_template("admin/groups.html", **context), status


@bp.route("/groups")
@role_required("admin")
def groups() -> Any:
    return _groups_page()


@bp.route("/groups", methods=["POST"])
@role_required("admin")
def new_group() -> Any:
    session = get_session()
    form = {"id": request.form.get("id", ""), "name": request.form.get("name", "")}
    try:
        view = people.add_group(session, form["id"], form["name"], actor=current_user.name)
        session.commit()
    except InvalidInputError as exc:
        session.rollback()
        return _groups_page(422, form=form, errors=_errors(exc, {"name": "group_name"}))
    except ConflictError:
        session.rollback()
        return _groups_page(409, form=form, errors={"id": _("A group with this id exists already.")})
    flash(_("Group %(name)s was created.", name=view.name), "success")
    return redirect(url_for("admin.groups"))


@bp.route("/groups/<group_id>/name", methods=["POST"])
@role_required("admin")
def rename_group(group_id: str) -> Any:
    session = get_session()
    try:
        view = people.rename_group(session, group_id, request.form.get("name", ""), current_user.name)
        session.commit()
    except InvalidInputError as exc:
        session.rollback()
        return _groups_page(422, rename_errors={group_id: _errors(exc, {"name": "group_name"})["group_name"]})
    flash(_("The group is now called %(name)s.", name=view.name), "success")
    return redirect(url_for("admin.groups"))
