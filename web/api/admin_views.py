"""Routes of the JSON API for admins: users (create, disable, reset password, groups and roles) and groups."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from flask_login import current_user

from engine import FieldProblem, InvalidInputError, NotFoundError, people
from engine.views import GroupView, UserView
from web.api import bp
from web.api.inputs import ID, json_body, string_field
from web.api.openapi import operation
from web.api.schemas import SCHEMAS, _integer, _object, _string
from web.auth import role_required
from web.db import get_session

ADMIN_ONLY = "Admins only; every change is recorded in the audit log."
NAMES = {"type": "array", "items": _string()}
SCHEMAS.update(
    {
        "User": _object(
            {
                "id": _integer(),
                "name": _string(),
                "display_name": _string(),
                "email": _string(nullable=True),
                "groups": NAMES,
                "roles": {"type": "array", "items": _string(enum=list(people.ROLES))},
                "active": {"type": "boolean"},
            }
        ),
        "Group": _object({"id": _string(), "name": _string()}),
        "NewUser": {
            "type": "object",
            "required": ["name", "password"],
            "properties": {
                "name": _string(maxLength=100, description="the login name, no spaces"),
                "password": _string(minLength=people.MIN_PASSWORD),
                "display_name": _string(nullable=True, maxLength=200),
                "email": _string(nullable=True, maxLength=200),
                "groups": {**NAMES, "description": "group ids"},
                "roles": {"type": "array", "items": _string(enum=list(people.ROLES)), "default": ["staff"]},
            },
        },
        "UserChange": {
            "type": "object",
            "description": "only the members given change",
            "properties": {
                "display_name": _string(maxLength=200),
                "groups": {**NAMES, "description": "group ids; replaces the user's groups"},
                "roles": {"type": "array", "items": _string(enum=list(people.ROLES)), "minItems": 1},
                "active": {"type": "boolean", "description": "false: the user can no longer log in"},
                "password": _string(minLength=people.MIN_PASSWORD, description="a new password"),
            },
        },
        "NewGroup": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": _string(pattern=people.GROUP_ID.pattern), "name": _string(maxLength=200)},
        },
        "GroupChange": {"type": "object", "required": ["name"], "properties": {"name": _string(maxLength=200)}},
    }
)


def user_json(user: UserView) -> dict[str, Any]:
    """Shape a user for the API (never their password)."""
    return {
        "id": user.id,
        "name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "groups": list(user.groups),
        "roles": list(user.roles),
        "active": user.active,
    }


def group_json(group: GroupView) -> dict[str, Any]:
    """Shape a group for the API."""
    return {"id": group.id, "name": group.name}


def _names(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{name}: a list of names", [FieldProblem(name, "must be a list of strings")])
    return value


def _user(user_id: int) -> UserView:
    view = people.get_user_by_id(get_session(), user_id)
    if view is None:
        raise NotFoundError(f"user {user_id} not found")
    return view


def _created(payload: dict[str, Any], location: str) -> Response:
    response = jsonify(payload)
    response.status_code = 201
    response.headers["Location"] = location
    return response


@bp.get("/admin/users")
@operation("Every user, by name", tag="admin", response="[User]", errors=(403,), description=ADMIN_ONLY)
@role_required("admin")
def admin_list_users() -> Any:
    """List every user."""
    return jsonify([user_json(u) for u in people.list_users(get_session())])


@bp.post("/admin/users")
@operation(
    "Create a user",
    tag="admin",
    response="User",
    status=201,
    body="NewUser",
    body_required=True,
    errors=(403, 409, 422),
    description=ADMIN_ONLY,
)
@role_required("admin")
def admin_create_user() -> Any:
    """Create a user with a password, groups and roles."""
    body = json_body(required=True)
    session = get_session()
    view = people.create_user(
        session,
        string_field(body, "name", required=True) or "",
        string_field(body, "password", required=True) or "",
        _names(body, "groups") or [],
        _names(body, "roles") if "roles" in body else ["staff"],
        string_field(body, "display_name"),
        string_field(body, "email"),
        actor=current_user.name,
    )
    session.commit()
    return _created(user_json(view), url_for("api.admin_get_user", user_id=view.id))


@bp.get(f"/admin/users/<{ID}:user_id>")
@operation("A user", tag="admin", response="User", errors=(403, 404), description=ADMIN_ONLY)
@role_required("admin")
def admin_get_user(user_id: int) -> Any:
    """Return one user."""
    return jsonify(user_json(_user(user_id)))


@bp.post(f"/admin/users/<{ID}:user_id>/change")
@operation(
    "Change a user: display name, groups, roles, enabled, password",
    tag="admin",
    response="User",
    body="UserChange",
    body_required=True,
    errors=(403, 404, 409, 422),
    description=ADMIN_ONLY + " An admin can neither disable themselves nor drop their own admin role.",
)
@role_required("admin")
def admin_change_user(user_id: int) -> Any:
    """Apply the given changes to a user, all or none."""
    body = json_body(required=True)
    session = get_session()
    view = _user(user_id)
    groups, roles = _names(body, "groups"), _names(body, "roles")
    display_name = string_field(body, "display_name")
    if groups is not None or roles is not None or display_name is not None:
        view = people.set_access(
            session,
            user_id,
            view.groups if groups is None else groups,
            view.roles if roles is None else roles,
            current_user.name,
            display_name,
        )
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise InvalidInputError("active: true or false", [FieldProblem("active", "must be true or false")])
        view = people.set_active(session, user_id, body["active"], current_user.name)
    password = string_field(body, "password")
    if password is not None:
        view = people.reset_password(session, user_id, password, current_user.name)
    session.commit()
    return jsonify(user_json(view))


@bp.get("/admin/groups")
@operation("Every group, by id", tag="admin", response="[Group]", errors=(403,), description=ADMIN_ONLY)
@role_required("admin")
def admin_list_groups() -> Any:
    """List every group."""
    return jsonify([group_json(g) for g in people.list_groups(get_session())])


@bp.post("/admin/groups")
@operation(
    "Create a group",
    tag="admin",
    response="Group",
    status=201,
    body="NewGroup",
    body_required=True,
    errors=(403, 409, 422),
    description=ADMIN_ONLY,
)
@role_required("admin")
def admin_create_group() -> Any:
    """Create a group with an id (as lanes name it) and a display name."""
    body = json_body(required=True)
    session = get_session()
    view = people.add_group(
        session,
        string_field(body, "id", required=True) or "",
        string_field(body, "name", required=True) or "",
        actor=current_user.name,
    )
    session.commit()
    return _created(group_json(view), url_for("api.admin_rename_group", group_id=view.id))


@bp.patch("/admin/groups/<group_id>")
@operation(
    "Rename a group",
    tag="admin",
    response="Group",
    body="GroupChange",
    body_required=True,
    errors=(403, 404, 422),
    description=ADMIN_ONLY,
)
@role_required("admin")
def admin_rename_group(group_id: str) -> Any:
    """Give a group a new display name."""
    body = json_body(required=True)
    session = get_session()
    view = people.rename_group(session, group_id, string_field(body, "name", required=True) or "", current_user.name)
    session.commit()
    return jsonify(group_json(view))
