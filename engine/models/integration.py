"""Map what instances wait for from other systems: message subscriptions."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


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
