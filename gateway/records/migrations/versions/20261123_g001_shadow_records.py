"""The gateway's shadow records: one row per comparison, and dropped samples per module.

Revision ID: g001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "g001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shadow_comparisons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("legacy_status", sa.Integer(), nullable=False),
        sa.Column("v2_status", sa.Integer(), nullable=True),
        sa.Column("diff", sa.JSON(), nullable=True),
        sa.Column("signature", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_comparisons")),
    )
    op.create_index(
        "ix_shadow_comparisons_module_created_at",
        "shadow_comparisons",
        ["module", "created_at"],
        unique=False,
    )
    op.create_table(
        "shadow_drops",
        sa.Column("module", sa.String(length=64), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("module", name=op.f("pk_shadow_drops")),
    )


def downgrade() -> None:
    op.drop_table("shadow_drops")
    op.drop_index("ix_shadow_comparisons_module_created_at", table_name="shadow_comparisons")
    op.drop_table("shadow_comparisons")
