"""Automatic rollback: what each side answered per module, in a window every worker shares.

Each worker counts the answers of modules that set ``[module.rollback]`` while they are in
``canary`` or ``v2`` (in memory, where a request ends: no waiting, no I/O) and adds them to
the records in buckets of ``BUCKET_SECONDS`` with each poll. Then it sums the module's window
over every worker and, past a limit with enough requests, rolls the module back one state
(:func:`roll_back`): the change is versioned like any other, so every worker follows it. Only
one worker acts for a window: the change is made under the version lock and only if the
module is still in the state that was judged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.config.gates import AutoRollback
from gateway.config.manifest import Manifest, Module, State
from gateway.control.changes import add_change, newest_change, take_version
from gateway.control.settings import Setting, Snapshot, neighbour
from gateway.records.store import RecordStore
from gateway.records.tables import ModuleChange, ModuleWindow

logger = logging.getLogger(__name__)

BUCKET_SECONDS = 5
WATCHED = frozenset({State.canary, State.v2})
SERVER_ERROR = 500


@dataclass(slots=True)
class Count:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0


# (module, since, side, bucket) -> what was counted there
Pending = dict[tuple[str, int, str, int], Count]


@dataclass(slots=True)
class Tally:
    """Answers counted since the last flush."""

    pending: Pending = field(default_factory=dict)

    def observe(self, module: str, since: int, side: str, status: int, seconds: float) -> None:
        bucket = int(time.time()) // BUCKET_SECONDS * BUCKET_SECONDS
        count = self.pending.setdefault((module, since, side, bucket), Count())
        count.requests += 1
        count.errors += status >= SERVER_ERROR
        count.seconds += seconds

    def take(self) -> Pending:
        pending, self.pending = self.pending, {}
        return pending


def flush(session: Session, pending: Pending) -> None:
    """Add each counted bucket to its row (made by whichever worker comes first)."""
    for (module, since, side, bucket), count in pending.items():
        key = (
            (ModuleWindow.module == module)
            & (ModuleWindow.since == since)
            & (ModuleWindow.side == side)
            & (ModuleWindow.bucket == bucket)
        )
        increment = (
            update(ModuleWindow)
            .where(key)
            .values(
                requests=ModuleWindow.requests + count.requests,
                errors=ModuleWindow.errors + count.errors,
                seconds=ModuleWindow.seconds + count.seconds,
            )
        )
        if session.execute(increment).rowcount:  # type: ignore[attr-defined]
            continue
        row = {"module": module, "since": since, "side": side, "bucket": bucket}
        try:
            with session.begin_nested():
                values = {**row, "requests": count.requests, "errors": count.errors}
                session.execute(insert(ModuleWindow).values(**values, seconds=count.seconds))
        except IntegrityError:  # another worker made the row first
            session.execute(increment)


def window(session: Session, module: str, since: int, seconds: float) -> dict[str, Count]:
    """Each side's answers for ``module`` in its current state over the last ``seconds``."""
    start = int(time.time() - seconds)
    query = (
        select(
            ModuleWindow.side,
            func.sum(ModuleWindow.requests),
            func.sum(ModuleWindow.errors),
            func.sum(ModuleWindow.seconds),
        )
        .where(
            (ModuleWindow.module == module)
            & (ModuleWindow.since == since)
            & (ModuleWindow.bucket >= start)
        )
        .group_by(ModuleWindow.side)
    )
    rows = session.execute(query)
    return {side: Count(int(n), int(e), float(s)) for side, n, e, s in rows}


def breach(limits: AutoRollback, state: State, counts: dict[str, Count]) -> str | None:
    """Why the module must go back, or None while it holds (or too few requests tell)."""
    v2 = counts.get("v2", Count())
    if v2.requests < limits.min_requests:
        return None
    span = f"over {limits.window_seconds:g} s"
    rate = v2.errors / v2.requests
    if rate > limits.max_v2_error_rate:
        return (
            f"v2 error rate {rate:.4f} {span} ({v2.errors} of {v2.requests} requests) "
            f"> {limits.max_v2_error_rate:g}"
        )
    legacy = counts.get("legacy", Count())
    if state is State.canary and limits.max_latency_ratio is not None and legacy.requests:
        ratio = (v2.seconds / v2.requests) / max(legacy.seconds / legacy.requests, 1e-9)
        if ratio > limits.max_latency_ratio:
            return f"v2 / legacy mean latency {ratio:.2f} {span} > {limits.max_latency_ratio:g}"
    return None


def lower(setting: Setting) -> Setting:
    """One state back, or further until the setting can serve (a shadow with no sample rate
    cannot: the module then goes to legacy)."""
    state = neighbour(setting.state, -1)
    while state is not None:
        candidate = Setting(state, setting.canary_percent, setting.shadow_sample_rate)
        if candidate.problem() is None:
            return candidate
        state = neighbour(state, -1)
    return Setting(State.legacy, setting.canary_percent, setting.shadow_sample_rate)


class StateMoved(Exception):
    """The module changed since it was judged: another worker rolled it back, or an operator
    changed it. Raised inside the transaction so that it writes nothing."""


def roll_back(
    session: Session, module: Module, since: int, declared: Setting, reason: str
) -> ModuleChange:
    """Move ``module`` one state back, unless it changed since version ``since``
    (:class:`StateMoved`; the transaction must then be rolled back)."""
    version = take_version(session)  # the lock: whoever judged the window next waits here
    newest = newest_change(session, module.name)
    if (0 if newest is None else newest.version) != since:
        raise StateMoved(module.name)  # the version taken goes back too: versions stay gapless
    previous = Setting.of(module)
    return add_change(
        session,
        version,
        module=module.name,
        previous=previous,
        new=lower(previous),
        declared=declared,
        kind="automatic",
        by="gateway",
        reason=reason,
    )


class Watchdog:
    """One worker's share of automatic rollback: its tally, flushed and judged at each poll."""

    def __init__(self, declared: Manifest) -> None:
        self.declared = declared
        self.tally = Tally()

    def check(self, store: RecordStore, snapshot: Snapshot, pending: Pending) -> None:
        """Add ``pending`` (taken from :attr:`tally` on the event loop) to the windows, then
        judge each watched module's window."""
        if pending:
            with store.session() as session, session.begin():
                flush(session, pending)
        for module in snapshot.manifest.modules:
            if module.rollback is None or module.state not in WATCHED:
                continue
            since = snapshot.since.get(module.name, 0)
            with store.session() as session:
                counts = window(session, module.name, since, module.rollback.window_seconds)
            if reason := breach(module.rollback, module.state, counts):
                self._roll_back(store, module, since, reason)

    def _roll_back(self, store: RecordStore, module: Module, since: int, reason: str) -> None:
        declared = Setting.of(self.declared.module(module.name))
        try:
            with store.session() as session, session.begin():
                change = roll_back(session, module, since, declared, reason)
        except StateMoved:
            return  # another worker acted on this window first
        logger.warning(
            "module %s rolled back to %s by the gateway (version %s): %s",
            module.name,
            Setting.read(change.new).describe(),
            change.version,
            reason,
        )
