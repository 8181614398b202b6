"""Manage users, groups and roles; check passwords."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError, PermissionDeniedError
from engine.models import Membership, User
from engine.repositories import audit
from engine.repositories import people as repo
from engine.views import GroupView, UserView

# A worker is another system: it correlates messages and works external tasks over /engine-rest.
ROLES = ("staff", "manager", "owner", "admin", "worker")
SYSTEM = "system"
GROUP_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MIN_PASSWORD = 4


def to_view(user: User) -> UserView:
    """Build the view of a user row."""
    return UserView(
        id=user.id,
        name=user.name,
        display_name=user.display_name or user.name,
        groups=tuple(user.group_ids),
        roles=tuple(user.roles or ()),
        email=user.email,
        stamp=user.credential_stamp,
        active=user.active,
    )


def create_user(
    session: Session,
    name: str,
    password: str,
    groups: Sequence[str] = (),
    roles: Sequence[str] = ("staff",),
    display_name: str | None = None,
    email: str | None = None,
    actor: str | None = None,
) -> UserView:
    """Create a user with a hashed password; with an ``actor`` (who must be an admin), audited.

    :raises InvalidInputError: bad name, display name or email, short password, unknown role or group.
    :raises ConflictError: the name is taken.
    :raises PermissionDeniedError: the actor is not an admin.
    """
    if actor is not None:
        _admin(session, actor)
        if not roles:
            raise InvalidInputError("no role", [FieldProblem("roles", "choose at least one role")])
    name = (name or "").strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise InvalidInputError("invalid user name", [FieldProblem("name", "a user name without spaces is required")])
    _check_password(password)
    display_name = _text("display_name", display_name, 200)
    email = _text("email", email, 200)
    if email and ("@" not in email or any(c.isspace() for c in email)):
        raise InvalidInputError("invalid email", [FieldProblem("email", "an email address like name@example.com")])
    _check_access(session, groups, roles)
    if repo.get_user(session, name) is not None:
        raise ConflictError(f"user {name!r} exists already")
    user = User(
        name=name,
        display_name=display_name or name,
        email=email,
        password_hash=generate_password_hash(password),
        roles=list(dict.fromkeys(roles)),
    )
    user.memberships = [Membership(group_id=g) for g in dict.fromkeys(groups)]
    repo.add_user(session, user)
    view = to_view(user)
    if actor is not None:
        _record(session, "user_created", actor, user=name, groups=list(view.groups), roles=list(view.roles))
    return view


def authenticate(session: Session, name: str, password: str) -> UserView | None:
    """Return the user when the password matches, else None.

    An unknown name costs a hash check too, so that timing does not tell which names exist.
    """
    user = repo.get_user(session, name or "")
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return to_view(user)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(generate_password_hash("not a password"))
    return _DUMMY[0]


def set_password(session: Session, name: str, password: str) -> UserView:
    """Give a user a new password; their sessions and cached API credentials stop working.

    :raises NotFoundError: no such user.
    :raises InvalidInputError: the password is too short.
    """
    user = repo.get_user(session, name)
    if user is None:
        raise NotFoundError(f"user {name!r} not found")
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    session.flush()
    return to_view(user)


def get_user(session: Session, name: str) -> UserView:
    """Return a user by name.

    :raises NotFoundError: no such user.
    """
    user = repo.get_user(session, name)
    if user is None:
        raise NotFoundError(f"user {name!r} not found")
    return to_view(user)


def find_user(session: Session, name: str) -> UserView | None:
    """Return a user by name, or None."""
    user = repo.get_user(session, name)
    return to_view(user) if user else None


def get_user_by_id(session: Session, user_id: int) -> UserView | None:
    """Return a user by id, or None (the login session stores the id)."""
    user = repo.get_user_by_id(session, user_id)
    return to_view(user) if user else None


def list_users(session: Session) -> list[UserView]:
    """Return every user, by name."""
    return [to_view(u) for u in repo.list_users(session)]


def list_groups(session: Session) -> list[GroupView]:
    """Return every group, by id."""
    return [GroupView(gid, name) for gid, name in repo.groups(session).items()]


def group_names(session: Session) -> dict[str, str]:
    """Map every group id to its name."""
    return repo.groups(session)


def add_group(session: Session, group_id: str, name: str, actor: str | None = None) -> GroupView:
    """Create a group; with an ``actor`` (who must be an admin), audited.

    :raises InvalidInputError: an id other than lower-case letters, digits, - and _, or no name.
    :raises ConflictError: the id is taken.
    :raises PermissionDeniedError: the actor is not an admin.
    """
    if actor is not None:
        _admin(session, actor)
    group_id = (group_id or "").strip()
    if not GROUP_ID.fullmatch(group_id):
        problem = "1 to 64 lower-case letters, digits, - or _"
        raise InvalidInputError(f"id: {problem}", [FieldProblem("id", problem)])
    name = _text("name", name, 200, required=True) or group_id
    if repo.get_group(session, group_id) is not None:
        raise ConflictError(f"group {group_id!r} exists already")
    group = repo.add_group(session, group_id, name)
    if actor is not None:
        _record(session, "group_created", actor, group=group_id, name=group.name)
    return GroupView(group.id, group.name)


def rename_group(session: Session, group_id: str, name: str, actor: str) -> GroupView:
    """Give a group a new display name (its id, which lanes name, stays).

    :raises PermissionDeniedError: the actor is not an admin.
    :raises NotFoundError: no such group.
    :raises InvalidInputError: no name, or one longer than 200 characters.
    """
    _admin(session, actor)
    group = repo.get_group(session, group_id)
    if group is None:
        raise NotFoundError(f"group {group_id!r} not found")
    new_name = _text("name", name, 200, required=True) or group.name
    previous, group.name = group.name, new_name
    _record(session, "group_renamed", actor, group=group_id, name=new_name, previous=previous)
    session.flush()
    return GroupView(group.id, group.name)


def set_active(session: Session, user_id: int, active: bool, actor: str) -> UserView:
    """Enable or disable a user; a disabled user can neither log in nor use the API.

    :raises PermissionDeniedError: the actor is not an admin.
    :raises NotFoundError: no such user.
    :raises ConflictError: an admin disabling themselves.
    """
    admin = _admin(session, actor)
    user = _user(session, user_id)
    if not active and user.name == admin.name:
        raise ConflictError("you cannot disable your own account")
    if user.active != active:
        user.active = active
        _record(session, "user_enabled" if active else "user_disabled", actor, user=user.name)
        session.flush()
    return to_view(user)


def reset_password(session: Session, user_id: int, password: str, actor: str) -> UserView:
    """Give a user a new password (the audit entry never holds it).

    :raises PermissionDeniedError: the actor is not an admin.
    :raises NotFoundError: no such user.
    :raises InvalidInputError: the password is too short.
    """
    _admin(session, actor)
    user = _user(session, user_id)
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    _record(session, "password_reset", actor, user=user.name)
    session.flush()
    return to_view(user)


def set_access(
    session: Session,
    user_id: int,
    groups: Sequence[str],
    roles: Sequence[str],
    actor: str,
    display_name: str | None = None,
) -> UserView:
    """Set a user's groups and roles (and display name, when given) at once.

    :raises PermissionDeniedError: the actor is not an admin.
    :raises NotFoundError: no such user.
    :raises InvalidInputError: unknown group or role, no role, or a bad display name.
    :raises ConflictError: an admin taking the admin role from themselves.
    """
    admin = _admin(session, actor)
    user = _user(session, user_id)
    _check_access(session, groups, roles)
    if not roles:
        raise InvalidInputError("no role", [FieldProblem("roles", "choose at least one role")])
    if user.name == admin.name and "admin" not in roles:
        raise ConflictError("you cannot take the admin role from yourself")
    before = to_view(user)
    if display_name is not None:
        user.display_name = _text("display_name", display_name, 200, required=True) or user.display_name
    wanted = list(dict.fromkeys(groups))
    user.memberships = [m for m in user.memberships if m.group_id in wanted] + [
        Membership(group_id=g) for g in wanted if g not in before.groups
    ]
    user.roles = list(dict.fromkeys(roles))
    session.flush()
    after = to_view(user)
    if after != before:
        _record(
            session,
            "user_changed",
            actor,
            user=user.name,
            groups=list(after.groups),
            roles=list(after.roles),
            previous={"groups": list(before.groups), "roles": list(before.roles)},
        )
    return after


def _admin(session: Session, actor_name: str) -> UserView:
    user = actor(session, actor_name)
    if "admin" not in user.roles:
        raise PermissionDeniedError(f"{actor_name} needs the role admin")
    return user


def _user(session: Session, user_id: int) -> User:
    user = repo.get_user_by_id(session, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user


def _record(session: Session, type_: str, actor_name: str, **data: object) -> None:
    audit.record(session, type_, actor_name, data=data)


def _text(field: str, value: str | None, limit: int, required: bool = False) -> str | None:
    text = (value or "").strip()
    if (required and not text) or len(text) > limit or any(ord(c) < 32 for c in text):
        message = f"1 to {limit} characters" if required else f"at most {limit} characters"
        raise InvalidInputError(f"{field}: {message}", [FieldProblem(field, message)])
    return text or None


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 1000:
        message = f"{MIN_PASSWORD} to 1000 characters"
        raise InvalidInputError("password too short", [FieldProblem("password", message)])


def _check_access(session: Session, groups: Sequence[str], roles: Sequence[str]) -> None:
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles:
        raise InvalidInputError("unknown role", [FieldProblem("role", f"unknown role {bad_roles[0]!r}; use {ROLES}")])
    known = repo.groups(session)
    bad_groups = [g for g in groups if g not in known]
    if bad_groups:
        raise InvalidInputError("unknown group", [FieldProblem("group", f"unknown group {bad_groups[0]!r}")])


def actor(session: Session, name: str) -> UserView:
    """Return the acting user; the timer runner acts as a built-in system user.

    :raises PermissionDeniedError: unknown or inactive user.
    """
    if name == SYSTEM:
        return UserView(id=0, name=SYSTEM, display_name=SYSTEM, groups=(), roles=("admin",))
    user = repo.get_user(session, name)
    if user is None or not user.active:
        raise PermissionDeniedError(f"unknown user {name!r}")
    return to_view(user)


def require_role(user: UserView, *roles: str) -> None:
    """Raise PermissionDeniedError unless the user holds one of the roles (admin holds all)."""
    if not user.has_role(*roles):
        raise PermissionDeniedError(f"{user.name} needs the role {' or '.join(roles)}")
