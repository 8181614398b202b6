"""timer repeats and task context

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "context", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
            )
        )

    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat_left", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("interval_seconds", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.drop_column("interval_seconds")
        batch_op.drop_column("repeat_left")

    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_column("context")
