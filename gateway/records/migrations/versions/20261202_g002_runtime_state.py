"""The runtime state (the polled version, one row per module change, the workers' versions,
the windows automatic rollback reads) and each shadowed request's latency on both sides.

Revision ID: g002
Revises: g001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "g002"
down_revision: str | None = "g001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shadow_comparisons", sa.Column("legacy_seconds", sa.Float(), nullable=True))
    op.add_column("shadow_comparisons", sa.Column("v2_seconds", sa.Float(), nullable=True))
    version = op.create_table(
        "control_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_version")),
    )
    op.bulk_insert(version, [{"id": 1, "version": 0}])
    op.create_table(
        "module_changes",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("module", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("new", sa.JSON(), nullable=False),
        sa.Column("declared", sa.JSON(), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_module_changes")),
    )
    op.create_index(
        "ix_module_changes_module_version", "module_changes", ["module", "version"], unique=False
    )
    op.create_table(
        "worker_versions",
        sa.Column("worker", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_versions")),
    )
    op.create_table(
        "module_windows",
        sa.Column("module", sa.String(length=64), nullable=False),
        sa.Column("since", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "module", "since", "side", "bucket", name=op.f("pk_module_windows")
        ),
    )


def downgrade() -> None:
    op.drop_table("module_windows")
    op.drop_table("worker_versions")
    op.drop_index("ix_module_changes_module_version", table_name="module_changes")
    op.drop_table("module_changes")
    op.drop_table("control_version")
    with op.batch_alter_table("shadow_comparisons") as table:  # SQLite rebuilds the table
        table.drop_column("v2_seconds")
        table.drop_column("legacy_seconds")
