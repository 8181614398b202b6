"""dashboard indexes: open tasks per group, cycle-time order, end events and completions read from indexes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_human_task_status_process_key_group_due", ["status", "process_key", "group_id", "due_at"], unique=False
        )

    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_instance_process_key_end_event_id"))
        batch_op.create_index(
            "ix_process_instance_process_key_end_event", ["process_key", "end_event_id", "end_event_name"], unique=False
        )
        batch_op.create_index("ix_process_instance_status_ended_at", ["status", "ended_at"], unique=False)
        batch_op.create_index(
            "ix_process_instance_status_process_key_cycle", ["status", "process_key", "cycle_seconds"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instance_status_process_key_cycle")
        batch_op.drop_index("ix_process_instance_status_ended_at")
        batch_op.drop_index("ix_process_instance_process_key_end_event")
        batch_op.create_index(
            batch_op.f("ix_process_instance_process_key_end_event_id"), ["process_key", "end_event_id"], unique=False
        )

    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index("ix_human_task_status_process_key_group_due")
