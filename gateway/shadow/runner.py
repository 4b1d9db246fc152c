"""Shadow traffic: sampled safe legacy requests are replayed to v2 after the client's answer.

The client never waits for, sees or suffers the shadow: a sample is queued only once the
legacy answer has been sent, the queue is bounded (a full queue drops the sample and counts
it), and the replay runs on a background task with a timeout. Every comparison is stored in
the database, so any number of workers report into one record (``gateway parity``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp

from gateway.config.options import ShadowOptions
from gateway.metrics.instruments import DROPPED, Metrics
from gateway.records.drops import DropCounter
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from gateway.shadow import write_sets
from gateway.shadow.compare import Verdict, as_json, compare
from gateway.shadow.written import Turn, answered

if TYPE_CHECKING:
    from gateway.shadow.capture import Sample

logger = logging.getLogger(__name__)


class ShadowRunner:
    def __init__(
        self, store: RecordStore, settings: ShadowOptions, *, metrics: Metrics | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.queue: asyncio.Queue[Sample] = asyncio.Queue(maxsize=settings.queue_size)
        self.drops = DropCounter(store)
        self._app: ASGIApp | None = None
        self._task: asyncio.Task[None] | None = None

    def offer(self, sample: Sample) -> None:
        try:
            self.queue.put_nowait(sample)
        except asyncio.QueueFull:
            self.drops.count(sample.module.name)
            if self.metrics is not None:
                self.metrics.shadowed(sample.module.name, DROPPED)

    async def start(self, app: ASGIApp) -> None:
        self._app = app
        self._task = asyncio.create_task(self._work(), name="shadow-replay")

    async def drain(self) -> None:
        """Wait until every queued sample is recorded (tests, and a graceful stop)."""
        await self.queue.join()
        await self.drops.flush()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.drops.flush()

    async def _work(self) -> None:
        while True:
            sample = await self.queue.get()
            try:
                await self._handle(sample)
                await self.drops.flush()
            except Exception:  # the shadow must never stop: log and go on
                logger.exception("recording a shadow comparison failed")
            finally:
                self.queue.task_done()

    async def _handle(self, sample: Sample) -> None:
        record = ShadowComparison(
            module=sample.module.name,
            request=sample.summary,
            legacy_status=sample.legacy_status,
            legacy_seconds=sample.legacy_seconds,
        )
        turn = sample.v2_turn if sample.v2_turn is not None else await self._replayed(sample)
        record.v2_seconds = turn.seconds
        if turn.error is not None:
            record.outcome = "error"
            record.error = turn.error
        else:
            verdict = _judged(sample, turn)
            record.v2_status = turn.status
            record.outcome = "matched" if verdict.matched else "mismatched"
            record.diff = verdict.diff
            record.signature = verdict.signature
            if not verdict.matched:
                record.legacy_body = as_json(sample.legacy_body)
            if turn.escapes:  # what v2 did outside the sandbox is reported, not trusted
                record.outcome = "error"
                record.error = "v2 escaped its sandbox: " + "; ".join(turn.escapes)[:1900]
        async with self.store.transaction() as session:
            session.add(record)
        if self.metrics is not None:
            self.metrics.shadowed(record.module, record.outcome)

    async def _replayed(self, sample: Sample) -> Turn:
        """A read replayed to v2 now, bounded by the shadow's timeout."""
        assert self._app is not None, "ShadowRunner.start() was not awaited"
        timeout = self.settings.timeout_seconds
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                status, body = await answered(self._app, sample.scope, b"")
        except TimeoutError:
            error = f"v2 did not answer within {timeout:g} s"
        except Exception as exc:
            error = f"v2 raised {exc!r}"[:2000]
        else:
            return Turn(status, body, time.perf_counter() - started, (), ())
        return Turn(0, b"", time.perf_counter() - started, (), (), error)


def _judged(sample: Sample, turn: Turn) -> Verdict:
    """The answers compared, then (for a shadowed write) the write sets."""
    verdict = compare(
        legacy_status=sample.legacy_status,
        legacy_body=sample.legacy_body,
        v2_status=turn.status,
        v2_body=turn.body,
        ignore=sample.module.ignore,
        noise=sample.module.noise,
    )
    if sample.v2_turn is None:
        return verdict
    return write_sets.with_writes(verdict, sample.legacy_writes, turn.writes)
