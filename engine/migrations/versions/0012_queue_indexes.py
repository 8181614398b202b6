"""queue indexes: unclaimed open tasks in queue order, tasks by who completed them, instances by starter

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCLAIMED = sa.text("status = 'open' AND assignee IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.create_index("ix_human_task_completed_by", ["completed_by", "completed_at"], unique=False)
        batch_op.create_index(
            "ix_human_task_unclaimed_due",
            ["due_at", "priority", "created_at"],
            unique=False,
            sqlite_where=UNCLAIMED,
            postgresql_where=UNCLAIMED,
        )
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_instance_started_by"), ["started_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_instance_started_by"))
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index("ix_human_task_unclaimed_due")
        batch_op.drop_index("ix_human_task_completed_by")
