"""Query and write drafts and scenarios; count running instances per version."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import ProcessDraft, ProcessInstance, ProcessScenario


def get_draft(session: Session, key: str, owner: str) -> ProcessDraft | None:
    stmt = select(ProcessDraft).where(ProcessDraft.key == key, ProcessDraft.owner == owner)
    return session.scalars(stmt).one_or_none()


def drafts_of(session: Session, owner: str) -> Sequence[ProcessDraft]:
    return session.scalars(select(ProcessDraft).where(ProcessDraft.owner == owner).order_by(ProcessDraft.key)).all()


def add(session: Session, row: ProcessDraft | ProcessScenario) -> None:
    session.add(row)
    session.flush()


def delete(session: Session, row: ProcessDraft | ProcessScenario) -> None:
    session.delete(row)
    session.flush()


def scenarios(session: Session, key: str) -> Sequence[ProcessScenario]:
    stmt = select(ProcessScenario).where(ProcessScenario.key == key).order_by(ProcessScenario.name)
    return session.scalars(stmt).all()


def get_scenario(session: Session, key: str, name: str) -> ProcessScenario | None:
    stmt = select(ProcessScenario).where(ProcessScenario.key == key, ProcessScenario.name == name)
    return session.scalars(stmt).one_or_none()


def running_counts(session: Session) -> dict[tuple[str, int], int]:
    """Running instances by (process key, version)."""
    stmt = (
        select(ProcessInstance.process_key, ProcessInstance.version, func.count())
        .where(ProcessInstance.status == "running")
        .group_by(ProcessInstance.process_key, ProcessInstance.version)
    )
    return {(key, version): count for key, version, count in session.execute(stmt)}
