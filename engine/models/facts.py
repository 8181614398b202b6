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


class ElementTally(Base):
    """Running counts of one user task of a process, kept as tasks open and complete, for the team figures."""

    __tablename__ = "element_tally"

    process_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    instances: Mapped[int] = mapped_column(default=0)  # instances that reached the task at least once
    tasks: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    passed: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    with_due: Mapped[int] = mapped_column(default=0)  # completed tasks that had a due time
    in_time: Mapped[int] = mapped_column(default=0)  # ... and were completed by it
    total_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # time from opening to completion, summed
