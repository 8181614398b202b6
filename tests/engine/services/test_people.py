"""Users, groups and roles: hashed passwords, authentication and the checks on names, groups and roles."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from engine import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError, people
from engine.repositories import people as repo


def test_passwords_are_stored_hashed_and_checked(session: Session) -> None:
    view = people.create_user(session, "amy", "s3cret!", ["sales", "hr"], ["staff", "manager"], "Amy")
    assert (view.groups, view.roles, view.display_name) == (("hr", "sales"), ("staff", "manager"), "Amy")
    stored = repo.get_user(session, "amy")
    assert stored is not None and "s3cret!" not in stored.password_hash and stored.password_hash.count("$") >= 2
    assert people.authenticate(session, "amy", "s3cret!") == view
    assert people.authenticate(session, "amy", "wrong") is None
    assert people.authenticate(session, "nobody", "s3cret!") is None
    stored.active = False
    assert people.authenticate(session, "amy", "s3cret!") is None
    with pytest.raises(PermissionDeniedError):
        people.actor(session, "amy")


@pytest.mark.parametrize(
    ("name", "password", "groups", "roles", "field"),
    [
        ("", "secret", [], ["staff"], "name"),
        ("two words", "secret", [], ["staff"], "name"),
        ("bob", "abc", [], ["staff"], "password"),
        ("bob", "secret", ["nope"], ["staff"], "group"),
        ("bob", "secret", [], ["king"], "role"),
    ],
)
def test_bad_users_are_refused_by_field(
    session: Session, name: str, password: str, groups: list[str], roles: list[str], field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        people.create_user(session, name, password, groups, roles)
    assert [p.field for p in info.value.problems] == [field]


def test_names_and_groups_are_unique(session: Session) -> None:
    people.create_user(session, "amy", "secret")
    with pytest.raises(ConflictError):
        people.create_user(session, "amy", "secret")
    with pytest.raises(ConflictError):
        people.add_group(session, "sales", "again")
    assert people.add_group(session, "legal", "法务").id == "legal"
    assert "legal" in people.group_names(session)
    with pytest.raises(NotFoundError):
        people.get_user(session, "nobody")


def test_roles_and_the_system_actor(session: Session) -> None:
    staff = people.create_user(session, "amy", "secret", roles=["staff"])
    admin = people.create_user(session, "root", "secret", roles=["admin"])
    with pytest.raises(PermissionDeniedError):
        people.require_role(staff, "manager")
    people.require_role(admin, "manager")  # admins hold every role
    system = people.actor(session, people.SYSTEM)
    assert system.has_role("manager", "owner")
