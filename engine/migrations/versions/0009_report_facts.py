"""report facts and monitoring indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import engine.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instance_fact",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=True),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("updated_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_instance_fact_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", "name", name=op.f("pk_instance_fact")),
    )
    with op.batch_alter_table("instance_fact", schema=None) as batch_op:
        batch_op.create_index("ix_instance_fact_process_key_name", ["process_key", "name", "value"], unique=False)

    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_human_task_process_key_element_id", ["process_key", "element_id"], unique=False)
        batch_op.create_index("ix_human_task_status_due_at", ["status", "due_at"], unique=False)

    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_event_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("end_event_name", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("cycle_seconds", sa.Double(), nullable=True))
        batch_op.create_index("ix_process_instance_ended_at", ["ended_at"], unique=False)
        batch_op.create_index("ix_process_instance_process_key_status", ["process_key", "status"], unique=False)
        batch_op.create_index("ix_process_instance_started_at", ["started_at"], unique=False)

    # Instances that ended before: their cycle time from the start and end times.
    if op.get_bind().dialect.name == "postgresql":
        seconds = "EXTRACT(EPOCH FROM ended_at - started_at)"
    else:
        seconds = "(julianday(ended_at) - julianday(started_at)) * 86400.0"
    op.execute(
        f"UPDATE process_instance SET cycle_seconds = {seconds} WHERE status = 'completed' AND ended_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instance_started_at")
        batch_op.drop_index("ix_process_instance_process_key_status")
        batch_op.drop_index("ix_process_instance_ended_at")
        batch_op.drop_column("cycle_seconds")
        batch_op.drop_column("end_event_name")
        batch_op.drop_column("end_event_id")

    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index("ix_human_task_status_due_at")
        batch_op.drop_index("ix_human_task_process_key_element_id")
        batch_op.drop_column("outcome")

    with op.batch_alter_table("instance_fact", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_fact_process_key_name")

    op.drop_table("instance_fact")
