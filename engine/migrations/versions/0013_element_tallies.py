"""element tallies

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "element_tally",
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("instances", sa.Integer(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("with_due", sa.Integer(), nullable=False),
        sa.Column("in_time", sa.Integer(), nullable=False),
        sa.Column("total_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("process_key", "element_id", name=op.f("pk_element_tally")),
    )
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_process_instance_process_key_end_event_id", ["process_key", "end_event_id"], unique=False
        )

    # Count the user tasks that exist already, as the engine counts new ones.
    if op.get_bind().dialect.name == "postgresql":
        seconds = "EXTRACT(EPOCH FROM completed_at - created_at)"
    else:
        seconds = "(julianday(completed_at) - julianday(created_at)) * 86400.0"
    op.execute(
        "INSERT INTO element_tally (process_key, element_id, instances, tasks, completed, passed, failed,"
        " with_due, in_time, total_seconds)"
        " SELECT process_key, element_id, COUNT(DISTINCT instance_id), COUNT(*),"
        " SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN outcome = 'fail' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'completed' AND due_at IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'completed' AND completed_at <= due_at THEN 1 ELSE 0 END),"
        f" COALESCE(SUM(CASE WHEN status = 'completed' THEN {seconds} END), 0)"
        " FROM human_task GROUP BY process_key, element_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instance_process_key_end_event_id")

    op.drop_table("element_tally")
