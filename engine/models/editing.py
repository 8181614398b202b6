"""Map what process owners keep while they edit: drafts per process and user, and named scenarios."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime, utcnow


class ProcessDraft(Base):
    """One user's unsaved-to-deploy edit of a process: its BPMN and DMN files by name. Never run."""

    __tablename__ = "process_draft"
    __table_args__ = (UniqueConstraint("key", "owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    owner: Mapped[str] = mapped_column(String(100))
    bpmn_file: Mapped[str] = mapped_column(String(300))
    files: Mapped[dict[str, Any]] = mapped_column(JSONType)
    base_version: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessScenario(Base):
    """A named test run of a process: task data in order, the end event and data it must reach."""

    __tablename__ = "process_scenario"
    __table_args__ = (UniqueConstraint("key", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    steps: Mapped[list[Any]] = mapped_column(JSONType)
    expected_end: Mapped[str | None] = mapped_column(String(200))
    expected_data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
