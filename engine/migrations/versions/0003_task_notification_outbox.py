"""task notification outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import engine.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notified_at", engine.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_human_task_notified_at"), ["notified_at"], unique=False)
    # Tasks that exist before the outbox were announced already (or never will be): do not mail them now.
    op.execute("UPDATE human_task SET notified_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_human_task_notified_at"))
        batch_op.drop_column("notified_at")
