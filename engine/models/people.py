"""Map users, groups, group memberships and personal API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, JSONType, UTCDateTime, utcnow

STAMPED = ("password_hash", "roles", "active")


def new_stamp() -> str:
    """Return a fresh random credential stamp."""
    return secrets.token_hex(8)


class Group(Base):
    """A team whose members share a task queue."""

    __tablename__ = "user_group"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    """A person who logs in; roles are a list of staff/manager/owner/admin."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Changes whenever the password, the roles or the active flag change: sessions and cached Basic
    # credentials carry the stamp they were made with and are refused once it differs.
    credential_stamp: Mapped[str] = mapped_column(String(32), default=new_stamp)
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def group_ids(self) -> list[str]:
        return sorted(m.group_id for m in self.memberships)


class Membership(Base):
    """A user's membership of a group."""

    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("user_group.id", ondelete="CASCADE"), primary_key=True)
    user: Mapped[User] = relationship(back_populates="memberships")


@event.listens_for(User, "before_update")
def _restamp(_mapper: Any, _connection: Any, user: User) -> None:
    """Give the user a new credential stamp when the password, the roles or the active flag change."""
    state = inspect(user)
    if any(state.attrs[name].history.has_changes() for name in STAMPED):
        user.credential_stamp = new_stamp()


class ApiToken(Base):
    """A personal API token; only the SHA-256 digest of the secret is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
