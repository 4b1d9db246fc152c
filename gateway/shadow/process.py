"""Shadow replays in a process of their own, at a lower priority than the gateway's.

Replayed in the gateway's own process, a sample costs the interpreter lock that the
clients' requests need: at 100 % sampling the replays double the work of the process that
answers them (``make bench`` measured a client p99 of 2.5 times shadow off). Here the
gateway only hands each sample to a bounded queue between processes (a full queue drops it,
and the drop is counted); a child process, started with the first sample (``spawn``, so it
holds nothing of the parent's state), builds v2 from the same configuration, replays,
compares and records at the kernel's idle priority, so that the machine serves clients
first and replays with what is left. It starts with the first sample, not with the gateway:
a module may start sampling at any time (a runtime change to shadow or canary), and a
gateway whose modules never sample never pays for the process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config.configuration import Config
from gateway.config.loading import load_v2
from gateway.config.options import ShadowOptions
from gateway.metrics import multiprocess
from gateway.metrics.instruments import DROPPED, Metrics
from gateway.mounts.sides import V2Side
from gateway.records.drops import DropCounter
from gateway.records.store import RecordStore
from gateway.shadow.runner import ShadowRunner

if TYPE_CHECKING:
    from gateway.shadow.capture import Sample

logger = logging.getLogger(__name__)

# The replay process's niceness where it cannot be idle-only: clients come first.
NICENESS = 10
# How long a stopping gateway waits for its replay process to finish and go.
STOP_SECONDS = 10.0
# How often the gateway writes the drops it counted (samples the queue had no room for).
DROP_FLUSH_SECONDS = 1.0


class ProcessShadow:
    """What the gateway holds of the shadow: ``offer`` puts a sample on the queue to the
    replay process, never waiting; the drops it counts are written every second."""

    def __init__(
        self,
        config: Config,
        records_url: URL,
        settings: ShadowOptions,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.store = RecordStore(records_url)
        self.drops = DropCounter(self.store)
        self._flusher: asyncio.Task[None] | None = None
        # The queue and the process are made with the first sample, in the worker that has
        # it: nothing of them is shared by workers forked after the gateway was built.
        self._replay_args = (config, records_url)
        self.queue: Any = None
        self.process: Any = None

    def offer(self, sample: Sample) -> None:
        if self.process is None:
            self._start_process()
        # Lifespan state (v2's engines, clients...) stays here; the child has its own.
        portable = replace(sample, scope={k: v for k, v in sample.scope.items() if k != "state"})
        try:
            self.queue.put_nowait(portable)
        except queue.Full:
            self.drops.count(sample.module.name)
            if self.metrics is not None:
                self.metrics.shadowed(sample.module.name, DROPPED)

    async def start(self, _app: ASGIApp) -> None:
        self._flusher = asyncio.create_task(self._flush_drops_often(), name="shadow-drops")

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.drops.flush()
        await asyncio.to_thread(self._stop_process)
        await self.store.dispose()

    def _start_process(self) -> None:
        """On the first sample: a gateway whose modules never sample (none in shadow or
        canary, at start or after a runtime change) never pays for the process."""
        context = multiprocessing.get_context("spawn")
        self.queue = context.Queue(maxsize=self.settings.queue_size)
        self.process = context.Process(
            target=_replay_main,
            # The replay process counts outcomes only where a scrape can read them.
            args=(*self._replay_args, self.queue, self.metrics is not None),
            name="gateway-shadow",
            daemon=True,
        )
        self.process.start()

    def _stop_process(self) -> None:
        if self.process is None:
            return
        with suppress(queue.Full):
            self.queue.put(None, timeout=STOP_SECONDS)  # finish what is queued, then go
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_SECONDS)
        self.queue.close()
        if (path := multiprocess.folder()) is not None:
            multiprocess.fold_dead(path)  # the replay process's counts outlive it

    async def _flush_drops_often(self) -> None:
        while True:
            await asyncio.sleep(DROP_FLUSH_SECONDS)
            try:
                await self.drops.flush()
            except Exception:  # the records' database may be away; the drops wait
                logger.exception("recording shadow drops failed")


def _lower_priority() -> None:
    """Run only on CPU time nobody else wants (Linux's SCHED_IDLE), else at a high niceness."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux, or not allowed
        os.nice(NICENESS)


def _replay_main(config: Config, records_url: URL, samples: Any, counted: bool) -> None:
    """The replay process: v2 built from the configuration, samples replayed until None."""
    _lower_priority()
    logging.basicConfig(level=logging.INFO)
    metrics = Metrics() if counted and multiprocess.folder() is not None else None
    asyncio.run(_replay(config, records_url, samples, metrics))


async def _replay(config: Config, records_url: URL, samples: Any, metrics: Metrics | None) -> None:
    v2 = load_v2(config)
    if v2 is None:
        raise RuntimeError("the configuration names no v2 to replay samples to")
    side = V2Side(v2)  # the same app, fallbacks and lifespan that the clients get
    store = RecordStore(records_url)
    runner = ShadowRunner(store, config.options.shadow, metrics=metrics)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def read() -> None:  # a thread: the queue between processes only blocks
        while (sample := samples.get()) is not None:
            loop.call_soon_threadsafe(runner.offer, sample)
        loop.call_soon_threadsafe(done.set)

    try:
        async with side.running():
            await runner.start(_under_prefix(side.asgi, config.options.v2_prefix))
            await _run_until_done(runner, read, done)
    finally:
        await runner.stop()
        await store.dispose()


async def _run_until_done(
    runner: ShadowRunner, read: Callable[[], None], done: asyncio.Event
) -> None:
    threading.Thread(target=read, name="shadow-samples", daemon=True).start()
    await done.wait()
    await runner.drain()


def _under_prefix(app: ASGIApp, prefix: str) -> ASGIApp:
    """``app`` as mounted at ``prefix``: replay paths carry the v2 prefix."""

    async def mounted(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "root_path": prefix}, receive, send)

    return mounted
