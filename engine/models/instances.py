"""Map process instances, their human tasks, waiting timers and task comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime, utcnow


class ProcessInstance(Base):
    """A running (or ended) instance of one process version; its workflow is stored without its spec."""

    __tablename__ = "process_instance"
    __table_args__ = (
        # One unfinished instance per process and business key; ended instances may share theirs.
        Index(
            "uq_process_instance_active_business_key",
            "process_key",
            "business_key",
            unique=True,
            sqlite_where=text("status IN ('running', 'error', 'suspended')"),
            postgresql_where=text("status IN ('running', 'error', 'suspended')"),
        ),
        Index("ix_process_instance_process_key_status", "process_key", "status"),
        Index("ix_process_instance_started_at", "started_at"),
        Index("ix_process_instance_ended_at", "ended_at"),
        # End-event counts read from the index alone.
        Index("ix_process_instance_process_key_end_event", "process_key", "end_event_id", "end_event_name"),
        Index("ix_process_instance_status_ended_at", "status", "ended_at"),
        # Cycle-time percentiles read the completed instances of a process in cycle-time order.
        Index("ix_process_instance_status_process_key_cycle", "status", "process_key", "cycle_seconds"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    # The caller's own identifier of what the instance is about (an order or customer number).
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    workflow: Mapped[str] = mapped_column(Text)
    completed_elements: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element_id: Mapped[str | None] = mapped_column(String(200))
    started_by: Mapped[str | None] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(default=1)
    # Kept for the reports when the instance ends: where it ended and how long it took.
    end_event_id: Mapped[str | None] = mapped_column(String(200))
    end_event_name: Mapped[str | None] = mapped_column(String(300))
    cycle_seconds: Mapped[float | None]

    __mapper_args__ = {"version_id_col": row_version}


UNCLAIMED = text("status = 'open' AND assignee IS NULL")


class HumanTask(Base):
    """A user task projected out of a workflow so that queues never load one."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_status_group", "status", "group_id"),
        Index("ix_human_task_status_assignee", "status", "assignee"),
        Index("ix_human_task_status_due_at", "status", "due_at"),
        Index("ix_human_task_process_key_element_id", "process_key", "element_id"),
        # Open tasks per process and group, and how many are overdue, from the index alone.
        Index("ix_human_task_status_process_key_group_due", "status", "process_key", "group_id", "due_at"),
        # The group queues: unclaimed open tasks in queue order, so a page reads its rows off the index.
        Index(
            "ix_human_task_unclaimed_due",
            "due_at",
            "priority",
            "created_at",
            sqlite_where=UNCLAIMED,
            postgresql_where=UNCLAIMED,
        ),
        Index("ix_human_task_completed_by", "completed_by", "completed_at"),
        # "My tasks": equality on both leading columns, so no planner prefers scanning every open task by due date.
        Index("ix_human_task_assignee_status_due", "assignee", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36), index=True)
    process_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    group_id: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="open")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(default=50)
    # Large columns that queues never read are loaded only when a task page asks for them.
    form: Mapped[list[Any]] = mapped_column(JSONType, default=list, deferred=True)
    documentation: Mapped[str] = mapped_column(Text, default="", deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(100))
    submitted: Mapped[dict[str, Any] | None] = mapped_column(JSONType, deferred=True)
    # When the people of this task were told about it (the notification outbox).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The task's own data when it became ready (a multi-instance task sees its own item here).
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType, deferred=True)
    # What the task is about when its step runs once per item (an applicant's name), from the diagram's itemField.
    subject: Mapped[str | None] = mapped_column(String(300))
    # Why the task came back (a send-back's reason), from the variable the diagram names in returnReason.
    reason: Mapped[str | None] = mapped_column(Text, deferred=True)
    # "pass" or "fail" when the task decides a stage (see engine/services/facts.py), for pass rates.
    outcome: Mapped[str | None] = mapped_column(String(20))


class TaskCandidate(Base):
    """A group whose members may work on a task (one row per candidate group)."""

    __tablename__ = "task_candidate"

    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Timer(Base):
    """A timer waiting to fire: in an instance, or a timer start event of a process version."""

    __tablename__ = "timer"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id", ondelete="CASCADE"))
    spiff_task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # For a timer start event with a cycle: firings left (-1: no end) and the time between them.
    repeat_left: Mapped[int | None]
    interval_seconds: Mapped[float | None]


class TaskComment(Base):
    """A remark someone left on a task."""

    __tablename__ = "task_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
