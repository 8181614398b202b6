"""Manage users, groups and roles; check passwords."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError, PermissionDeniedError
from engine.models import Membership, User
from engine.repositories import people as repo
from engine.views import GroupView, UserView

# A worker is another system: it correlates messages and works external tasks over /engine-rest.
ROLES = ("staff", "manager", "owner", "admin", "worker")
SYSTEM = "system"


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
    )


def create_user(
    session: Session,
    name: str,
    password: str,
    groups: Sequence[str] = (),
    roles: Sequence[str] = ("staff",),
    display_name: str | None = None,
    email: str | None = None,
) -> UserView:
    """Create a user with a hashed password.

    :raises InvalidInputError: bad name, short password, unknown role or group.
    :raises ConflictError: the name is taken.
    """
    name = (name or "").strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise InvalidInputError("invalid user name", [FieldProblem("name", "a user name without spaces is required")])
    _check_password(password)
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles:
        raise InvalidInputError("unknown role", [FieldProblem("role", f"unknown role {bad_roles[0]!r}; use {ROLES}")])
    known = repo.groups(session)
    bad_groups = [g for g in groups if g not in known]
    if bad_groups:
        raise InvalidInputError("unknown group", [FieldProblem("group", f"unknown group {bad_groups[0]!r}")])
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
    return to_view(user)


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


def _check_password(password: str) -> None:
    if len(password or "") < 4:
        raise InvalidInputError("password too short", [FieldProblem("password", "at least 4 characters")])


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


def add_group(session: Session, group_id: str, name: str) -> GroupView:
    """Create a group.

    :raises ConflictError: the id is taken.
    """
    if repo.get_group(session, group_id) is not None:
        raise ConflictError(f"group {group_id!r} exists already")
    group = repo.add_group(session, group_id, name)
    return GroupView(group.id, group.name)


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
