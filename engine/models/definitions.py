"""Map deployed, immutable process versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime, utcnow


class ProcessVersion(Base):
    """One numbered version of a process: its files, parsed spec and task metadata."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    documentation: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    bpmn_file: Mapped[str] = mapped_column(String(300))
    files: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    task_meta: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployed_by: Mapped[str | None] = mapped_column(String(100))
    deploy_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The group chosen at deploy for human tasks that name no known group; None: there were none allowed.
    fallback_group: Mapped[str | None] = mapped_column(String(64))
