"""Query and write users, groups, memberships and API tokens."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from engine.models import ApiToken, Group, User


def get_user(session: Session, name: str) -> User | None:
    stmt = select(User).where(User.name == name).options(joinedload(User.memberships))
    return session.scalars(stmt).unique().one_or_none()


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


def add_token(session: Session, token: ApiToken) -> ApiToken:
    session.add(token)
    session.flush()
    return token


def tokens_of(session: Session, user_id: int) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())).all()


def token_by_digest(session: Session, digest: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.digest == digest)).one_or_none()


def get_token(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def delete_token(session: Session, token: ApiToken) -> None:
    session.delete(token)
    session.flush()
