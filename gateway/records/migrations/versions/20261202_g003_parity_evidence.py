"""What ``gateway parity learn`` found (where two legacy answers to one request differ), and
legacy's answer kept with each mismatch (what ``gateway parity export`` expects of v2).

Revision ID: g003
Revises: g002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "g003"
down_revision: str | None = "g002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shadow_comparisons", sa.Column("legacy_body", sa.JSON(), nullable=True))
    op.create_table(
        "noise_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=64), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("paths", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_noise_runs")),
    )
    op.create_index("ix_noise_runs_module", "noise_runs", ["module"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_noise_runs_module", table_name="noise_runs")
    op.drop_table("noise_runs")
    op.drop_column("shadow_comparisons", "legacy_body")
