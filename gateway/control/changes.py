"""The runtime changes in the records: one versioned row each, and the version workers poll.

A change takes its version by incrementing the single ``control_version`` row in the same
transaction that inserts it, so writers queue on that row's lock: versions are gapless and
become visible in order, and a worker that has read version N can read every change up to N.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from gateway.config.manifest import Manifest
from gateway.control.settings import Setting, Snapshot, applied
from gateway.records.tables import ControlVersion, ModuleChange, WorkerVersion

# A worker that has not reported for this long is no longer listed as live.
LIVE_SECONDS = 15.0

_VERSION = select(ControlVersion.version).where(ControlVersion.id == 1)


def worker_name() -> str:
    """This process as ``gateway status`` lists it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def take_version(session: Session) -> int:
    """The next version, this transaction's: its row stays locked until the transaction ends,
    so a change reads the state it replaces with no other change in between."""
    return session.execute(
        update(ControlVersion)
        .where(ControlVersion.id == 1)
        .values(version=ControlVersion.version + 1)
        .returning(ControlVersion.version)
    ).scalar_one()


def newest_change(session: Session, module: str) -> ModuleChange | None:
    query = select(ModuleChange).where(ModuleChange.module == module)
    return session.execute(query.order_by(ModuleChange.version.desc()).limit(1)).scalar()


def add_change(
    session: Session,
    version: int,
    *,
    module: str,
    previous: Setting,
    new: Setting,
    declared: Setting,
    kind: str,
    by: str,
    reason: str,
) -> ModuleChange:
    """One change under ``version`` (from :func:`take_version`, in the same transaction)."""
    change = ModuleChange(
        version=version,
        module=module,
        kind=kind,
        previous=previous.stored(),
        new=new.stored(),
        declared=declared.stored(),
        by=by,
        reason=reason,
    )
    session.add(change)
    return change


def _newest_per_module(version: int) -> Select[ModuleChange]:
    newest = (
        select(func.max(ModuleChange.version))
        .where(ModuleChange.version <= version)
        .group_by(ModuleChange.module)
    )
    return select(ModuleChange).where(ModuleChange.version.in_(newest))


def current_changes(session: Session) -> tuple[int, dict[str, ModuleChange]]:
    """The version, and each module's newest change up to it."""
    version = read_version(session)
    return version, changes_up_to(session, version)


def read_version(session: Session) -> int:
    return session.execute(_VERSION).scalar_one()


def changes_up_to(session: Session, version: int) -> dict[str, ModuleChange]:
    rows = session.execute(_newest_per_module(version)).scalars()
    return {row.module: row for row in rows}


def change_counts(session: Session, version: int) -> dict[tuple[str, str], int]:
    """How many changes each module has had up to ``version``, by kind."""
    query = (
        select(ModuleChange.module, ModuleChange.kind, func.count())
        .where(ModuleChange.version <= version)
        .group_by(ModuleChange.module, ModuleChange.kind)
    )
    return {(module, kind): count for module, kind, count in session.execute(query).all()}


def history(session: Session, module: str | None = None) -> Sequence[ModuleChange]:
    """Every change, newest first; only ``module``'s when named."""
    query = select(ModuleChange).order_by(ModuleChange.version.desc())
    if module is not None:
        query = query.where(ModuleChange.module == module)
    return session.execute(query).scalars().all()


def report_worker(session: Session, worker: str, version: int) -> None:
    """Say which version ``worker`` runs (its own row: only it writes there)."""
    row = session.get(WorkerVersion, worker)
    now = datetime.now(UTC)
    if row is None:
        session.add(WorkerVersion(worker=worker, version=version, started_at=now, seen_at=now))
    else:
        row.version, row.seen_at = version, now


def live_workers(session: Session) -> Sequence[WorkerVersion]:
    since = datetime.now(UTC) - timedelta(seconds=LIVE_SECONDS)
    query = select(WorkerVersion).where(WorkerVersion.seen_at >= since)
    return session.execute(query.order_by(WorkerVersion.worker)).scalars().all()


def settings_of(changes: dict[str, ModuleChange]) -> dict[str, Setting]:
    return {name: Setting.read(change.new) for name, change in changes.items()}


def snapshot_of(manifest: Manifest, changes: dict[str, ModuleChange], version: int) -> Snapshot:
    since = {name: change.version for name, change in changes.items()}
    return applied(manifest, settings_of(changes), version, since)


def conflicts(manifest: Manifest, changes: dict[str, ModuleChange]) -> list[str]:
    """Where the manifest was edited after a runtime change it no longer agrees with: the
    runtime state holds (a restart never undoes an operator's change), and this says so."""
    found = []
    for name, change in sorted(changes.items()):
        if not any(module.name == name for module in manifest.modules):
            found.append(f"module {name} has runtime changes but is not in {manifest.source}")
            continue
        module = manifest.module(name)
        now, kept = Setting.of(module), Setting.read(change.new)
        if now != Setting.read(change.declared) and now != kept:
            found.append(
                f"{manifest.source}:{module.line}: module {name} now declares {now.describe()}, "
                f"but runtime version {change.version} keeps {kept.describe()} "
                f"({change.kind}, by {change.by}: {change.reason}); "
                f"`gateway set {name} {now.state} --reason ...` follows the manifest"
            )
    return found
