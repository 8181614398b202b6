"""Map what instances wait for from other systems: message subscriptions and external tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime, utcnow


class MessageSubscription(Base):
    """A message that an instance waits for at one element, or that starts a process version.

    Rows with an instance belong to a waiting catch event, receive task, boundary event or the events
    after an event-based gateway; rows with only a process version are message start events of the
    latest version of a process.
    """

    __tablename__ = "message_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_name: Mapped[str] = mapped_column(String(300), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id", ondelete="CASCADE"))
    process_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    spiff_task_id: Mapped[str | None] = mapped_column(String(36))


class ExternalTask(Base):
    """A service task that waits for an outside worker to fetch, lock and complete it by topic.

    An open task with no retries left is an incident: it waits for a manager to retry it.
    """

    __tablename__ = "external_task"
    __table_args__ = (Index("ix_external_task_status_topic", "status", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    process_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, completed, cancelled
    worker_id: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retries: Mapped[int | None]
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text, deferred=True)
    # The task's own data when it started (a multi-instance task sees its own item here).
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(255))
