"""The gateway's own tables, in their own metadata: never part of an application's models.

On PostgreSQL they live in the ``gateway`` schema (set as the search path of the gateway's
connections), so an application's Alembic autogenerate, which looks at the default schema,
never sees them; the migrations in ``gateway/records/migrations`` keep their own version table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy_utc import UtcDateTime

SCHEMA = "gateway"
VERSION_TABLE = "gateway_alembic_version"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class GatewayBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ShadowComparison(GatewayBase):
    """One shadowed request: legacy's answer against v2's for the same request."""

    __tablename__ = "shadow_comparisons"
    __table_args__ = (Index("ix_shadow_comparisons_module_created_at", "module", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module: Mapped[str] = mapped_column(String(64))
    # "matched", "mismatched" or "error" (v2 raised or timed out)
    outcome: Mapped[str] = mapped_column(String(16))
    # method, path, query and headers, with credentials and cookies removed
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    legacy_status: Mapped[int] = mapped_column(Integer)
    v2_status: Mapped[int | None] = mapped_column(Integer, default=None)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # A stable summary of what differed, so equal mismatches group together.
    signature: Mapped[str | None] = mapped_column(String(255), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ShadowDrop(GatewayBase):
    """Samples a module's shadow could not take because its queue was full."""

    __tablename__ = "shadow_drops"

    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    dropped: Mapped[int] = mapped_column(Integer, default=0)
