"""message subscriptions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_name", sa.String(length=300), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("process_version_id", sa.Integer(), nullable=True),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("spiff_task_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_message_subscription_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["process_version_id"],
            ["process_version.id"],
            name=op.f("fk_message_subscription_process_version_id_process_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_subscription")),
    )
    with op.batch_alter_table("message_subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_subscription_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_subscription_message_name"), ["message_name"], unique=False)


def downgrade() -> None:
    op.drop_table("message_subscription")
