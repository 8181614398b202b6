"""process drafts, scenarios and the deploy note

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "process_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("bpmn_file", sa.String(length=300), nullable=False),
        sa.Column("files", JSON, nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("updated_at", engine.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_draft")),
        sa.UniqueConstraint("key", "owner", name=op.f("uq_process_draft_key")),
    )
    with op.batch_alter_table("process_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_draft_key"), ["key"], unique=False)
    op.create_table(
        "process_scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("expected_end", sa.String(length=200), nullable=True),
        sa.Column("expected_data", JSON, nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", engine.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_scenario")),
        sa.UniqueConstraint("key", "name", name=op.f("uq_process_scenario_key")),
    )
    with op.batch_alter_table("process_scenario", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_scenario_key"), ["key"], unique=False)
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deploy_note", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.drop_column("deploy_note")
    with op.batch_alter_table("process_scenario", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_scenario_key"))
    op.drop_table("process_scenario")
    with op.batch_alter_table("process_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_draft_key"))
    op.drop_table("process_draft")
