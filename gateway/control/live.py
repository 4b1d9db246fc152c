"""Each worker follows the runtime changes: it polls one number and swaps in a new snapshot.

Every ``POLL_SECONDS`` a worker reads the control version (one row by primary key). When it
moves, the worker reads each module's newest change up to it, builds the new snapshot aside
and replaces the old one in one assignment: a request reads the snapshot once, when it
arrives, and is served by it whole; no request is failed or split by a change. Every
``REPORT_SECONDS`` (and at each change) the worker records the version it runs, for
``gateway status``. A records database that is down or slow delays changes, never requests:
each poll has a deadline, and the worker keeps serving the snapshot it has.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from gateway.config.manifest import Manifest
from gateway.control.changes import (
    change_counts,
    changes_up_to,
    conflicts,
    current_changes,
    read_version,
    report_worker,
    snapshot_of,
    worker_name,
)
from gateway.control.rollback import Pending, Watchdog
from gateway.control.settings import Snapshot
from gateway.records.deadlines import within
from gateway.records.store import WAIT_SECONDS, RecordStore
from gateway.records.tables import ModuleChange

logger = logging.getLogger(__name__)

# Polls per second bound how soon a change is served: within 2 s, with room for a slow poll.
POLL_SECONDS = 0.5
REPORT_SECONDS = 5.0


class Live:
    """The snapshot requests are served by: replaced whole, never changed."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot


def starting_snapshot(store: RecordStore, declared: Manifest) -> Snapshot:
    """The runtime state as a gateway starts with it: the manifest and every change kept.

    Records that cannot be read (not upgraded yet, or down) start it on the manifest alone,
    with a warning; its follower applies the changes once it can read them.
    """
    try:
        with within(WAIT_SECONDS), store.session() as session:
            version, changes = current_changes(session)
    except SQLAlchemyError as exc:
        logger.warning("runtime state unreadable, serving the manifest as declared: %s", exc)
        return Snapshot(0, declared)
    for conflict in conflicts(declared, changes):
        logger.warning("%s", conflict)
    return snapshot_of(declared, changes, version)


class Follower:
    """Polls the records and keeps ``live`` at their version, for as long as it runs.

    ``problems`` names what would stop a snapshot from serving (v2 lacking a route a module
    in canary or v2 would take); such a snapshot is refused and logged, the old one kept.
    """

    def __init__(
        self,
        live: Live,
        store: RecordStore,
        declared: Manifest,
        problems: Callable[[Manifest], list[str]],
    ) -> None:
        self.live = live
        self.store = store
        self.declared = declared
        self.problems = problems
        self.watchdog = Watchdog(declared)
        self._refused = -1
        # The changes up to the version applied, by (module, kind), for /metrics.
        self.change_counts: dict[tuple[str, str], int] = {}
        self._counted = -1
        self._reported_at = 0.0
        self._failing = False

    async def follow(self) -> None:
        """Poll until cancelled."""
        while True:
            await self.poll()
            await asyncio.sleep(POLL_SECONDS)

    async def poll(self) -> None:
        """One poll, on a thread: the records' synchronous engine belongs to no event loop,
        so an app started on any loop (a test client's, an embedding app's) can follow."""
        pending = self.watchdog.tally.take()  # on the loop, which counts into it
        try:
            await asyncio.to_thread(self._poll, pending)
        except Exception as exc:  # the follower outlives any failure: it is polled again
            if not self._failing:  # once per outage, not twice a second
                kept = self.live.snapshot.version
                logger.warning("runtime state unreadable, keeping version %s: %s", kept, exc)
            self._failing = True
            return
        self._failing = False

    def _poll(self, pending: Pending) -> None:
        with within(WAIT_SECONDS):
            with self.store.session() as session, session.begin():
                version = read_version(session)
                changed = version not in (self.live.snapshot.version, self._refused)
                if changed:
                    self._apply(version, changes_up_to(session, version))
                if (applied := self.live.snapshot.version) != self._counted:
                    self.change_counts = change_counts(session, applied)
                    self._counted = applied
                now = time.monotonic()
                if changed or now - self._reported_at >= REPORT_SECONDS:
                    # Named when it reports: a worker forked after this was built is its own.
                    report_worker(session, worker_name(), self.live.snapshot.version)
                    self._reported_at = now
            self.watchdog.check(self.store, self.live.snapshot, pending)

    def _apply(self, version: int, changes: dict[str, ModuleChange]) -> None:
        snapshot = snapshot_of(self.declared, changes, version)
        if problems := self.problems(snapshot.manifest):
            logger.error("runtime version %s refused: %s", version, "; ".join(problems))
            self._refused = version
            return
        self.live.snapshot = snapshot
        logger.info("runtime version %s applied", version)
