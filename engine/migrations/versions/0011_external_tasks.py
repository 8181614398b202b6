"""external tasks

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import engine.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "external_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("spiff_task_id", sa.String(length=36), nullable=False),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("worker_id", sa.String(length=255), nullable=True),
        sa.Column("lock_expires_at", engine.db.UTCDateTime(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=True),
        sa.Column("retry_at", engine.db.UTCDateTime(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_details", sa.Text(), nullable=True),
        sa.Column("context", engine.db.JSONType, nullable=True),
        sa.Column("created_at", engine.db.UTCDateTime(), nullable=False),
        sa.Column("completed_at", engine.db.UTCDateTime(), nullable=True),
        sa.Column("completed_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_external_task_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_task")),
    )
    with op.batch_alter_table("external_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_external_task_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index("ix_external_task_status_topic", ["status", "topic"], unique=False)


def downgrade() -> None:
    op.drop_table("external_task")
