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

from starlette.types import ASGIApp, Message, Scope

from gateway.config.options import ShadowOptions
from gateway.metrics.instruments import DROPPED, Metrics
from gateway.records.drops import DropCounter
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from gateway.shadow.compare import as_json, compare

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
        try:
            started = time.perf_counter()
            async with asyncio.timeout(self.settings.timeout_seconds):
                status, body = await self._replay(sample.scope)
            record.v2_seconds = time.perf_counter() - started
        except TimeoutError:
            record.outcome = "error"
            record.error = f"v2 did not answer within {self.settings.timeout_seconds:g} s"
        except Exception as exc:
            record.outcome = "error"
            record.error = f"v2 raised {exc!r}"[:2000]
        else:
            verdict = compare(
                legacy_status=sample.legacy_status,
                legacy_body=sample.legacy_body,
                v2_status=status,
                v2_body=body,
                ignore=sample.module.ignore,
                noise=sample.module.noise,
            )
            record.v2_status = status
            record.outcome = "matched" if verdict.matched else "mismatched"
            record.diff = verdict.diff
            record.signature = verdict.signature
            if not verdict.matched:
                record.legacy_body = as_json(sample.legacy_body)
        async with self.store.transaction() as session:
            session.add(record)
        if self.metrics is not None:
            self.metrics.shadowed(record.module, record.outcome)

    async def _replay(self, scope: Scope) -> tuple[int, bytes]:
        assert self._app is not None, "ShadowRunner.start() was not awaited"
        status = 0
        chunks: list[bytes] = []
        sent_request = False

        async def receive() -> Message:
            nonlocal sent_request
            if sent_request:
                return {"type": "http.disconnect"}
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, send)
        return status, b"".join(chunks)
