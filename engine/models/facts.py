"""Map the key data of instances that the reports read: one row per instance and name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime, utcnow


class InstanceFact(Base):
    """The latest value of one key data item of an instance (a category, a grade, an amount)."""

    __tablename__ = "instance_fact"
    __table_args__ = (Index("ix_instance_fact_process_key_name", "process_key", "name", "value"),)

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(String(300))
    number: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
