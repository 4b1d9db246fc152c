"""The gateway's own tables, in their own metadata: never part of an application's models.

On PostgreSQL they live in the ``gateway`` schema (set as the search path of the gateway's
connections), so an application's Alembic autogenerate, which looks at the default schema,
never sees them; the migrations in ``gateway/records/migrations`` keep their own version table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, MetaData, String, Text
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
    # Each side's time to its answer's last byte: the latency gate's per-request ratio.
    legacy_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    v2_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    # Legacy's answer (JSON, or its text), kept for a mismatch only: what an exported test
    # expects of v2 (`gateway parity export`).
    legacy_body: Mapped[Any] = mapped_column(JSON, default=None)


class ShadowDrop(GatewayBase):
    """Samples a module's shadow could not take because its queue was full."""

    __tablename__ = "shadow_drops"

    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    dropped: Mapped[int] = mapped_column(Integer, default=0)


class ControlVersion(GatewayBase):
    """The one number every worker polls: the version of the newest runtime change.

    A change takes its version by updating this single row, which serialises writers: the
    versions of changes are gapless and commit in order, so a worker that has seen version N
    has seen every change up to N.
    """

    __tablename__ = "control_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    version: Mapped[int] = mapped_column(Integer, default=0)


class ModuleChange(GatewayBase):
    """One runtime change of a module's state, canary percent or sample rate."""

    __tablename__ = "module_changes"
    __table_args__ = (Index("ix_module_changes_module_version", "module", "version"),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    module: Mapped[str] = mapped_column(String(64))
    # "manual", "forced" (past a failing gate) or "automatic" (the gateway's own rollback)
    kind: Mapped[str] = mapped_column(String(16))
    # {"state": ..., "canary_percent": ..., "shadow_sample_rate": ...} before and after
    previous: Mapped[dict[str, Any]] = mapped_column(JSON)
    new: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the manifest declared when the change was made: a later edit of it is a conflict.
    declared: Mapped[dict[str, Any]] = mapped_column(JSON)
    by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WorkerVersion(GatewayBase):
    """The runtime version a live worker has applied, as it last said (``seen_at``)."""

    __tablename__ = "worker_versions"

    worker: Mapped[str] = mapped_column(String(255), primary_key=True)  # host:pid
    version: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ModuleWindow(GatewayBase):
    """What each side answered for a module in one short bucket of time, summed over every
    worker: the sliding window automatic rollback reads. ``since`` is the version of the
    module's newest change, so a window never mixes two of its states."""

    __tablename__ = "module_windows"

    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    side: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class NoiseRun(GatewayBase):
    """One ``gateway parity learn``: safe requests of a module answered twice by legacy, and
    where the two answers differed (``paths``: each JSON path, how many pairs differed there,
    and the narrowest kind that covers every difference seen, or none)."""

    __tablename__ = "noise_runs"
    __table_args__ = (Index("ix_noise_runs_module", "module"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module: Mapped[str] = mapped_column(String(64))
    pairs: Mapped[int] = mapped_column(Integer)
    # {path: {"count": n, "kind": "timestamp" | ... | None, "tolerance": float | None}}
    paths: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
