"""Query and write users, groups and memberships."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Group, User


def get_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def get_user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.name)).all()


def add_user(session: Session, user: User) -> User:
    session.add(user)
    session.flush()
    return user


def groups(session: Session) -> dict[str, str]:
    return {g.id: g.name for g in session.scalars(select(Group).order_by(Group.id))}


def get_group(session: Session, group_id: str) -> Group | None:
    return session.get(Group, group_id)


def add_group(session: Session, group_id: str, name: str) -> Group:
    group = Group(id=group_id, name=name)
    session.add(group)
    session.flush()
    return group
