"""Query and write process versions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import ProcessVersion


def latest(session: Session, key: str) -> ProcessVersion | None:
    stmt = select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc())
    return session.scalars(stmt.limit(1)).first()


def get(session: Session, key: str, version: int) -> ProcessVersion | None:
    stmt = select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == version)
    return session.scalars(stmt).one_or_none()


def get_by_id(session: Session, version_id: int) -> ProcessVersion | None:
    return session.get(ProcessVersion, version_id)


def list_latest(session: Session) -> Sequence[ProcessVersion]:
    newest = (
        select(ProcessVersion.key, func.max(ProcessVersion.version).label("version"))
        .group_by(ProcessVersion.key)
        .subquery()
    )
    stmt = select(ProcessVersion).join(
        newest, (ProcessVersion.key == newest.c.key) & (ProcessVersion.version == newest.c.version)
    )
    return session.scalars(stmt.order_by(ProcessVersion.key)).all()


def list_versions(session: Session, key: str) -> Sequence[ProcessVersion]:
    stmt = select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version)
    return session.scalars(stmt).all()


def add(session: Session, version: ProcessVersion) -> ProcessVersion:
    session.add(version)
    session.flush()
    return version
