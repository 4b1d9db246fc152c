"""How many requests the legacy app takes at once, and how long the others may wait.

The legacy app runs on threads that share one interpreter lock with the event loop serving
v2: more requests in the app than it can use only make everyone wait longer. So at most
``limit`` requests are in the app at once (``gateway.mounts.legacy.cpu_share`` moves the limit
between 1 and ``ceiling``), at most ``queue`` more wait for a turn, in order, for at most
``wait_seconds``, and the rest are refused at once with a 503: a fast refusal costs the loop
almost nothing, a queue without end makes every client wait. A waiting request whose client
has gone is dropped from the queue, never run.

The deadline may be generous, so that a burst is served rather than shed: a request that
would wait past it anyway, at the rate turns have been ending lately, is refused at once
instead of after waiting it out. Without a recent rate (too few turns ended, or none for a
whole deadline: the app was idle or stuck) a request waits for its deadline as before.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any


class Overloaded(Exception):
    """No turn in the legacy app: the queue is full, or the wait ran out."""


class ClientGone(Exception):
    """The client left while its request waited for a turn."""


# The turns that ended lately, whose pace predicts a wait; fewer than RATE_SAMPLES predict
# nothing (one slow request after an idle spell says little about the next).
RECENT_TURNS = 64
RATE_SAMPLES = 8


class Admission:
    def __init__(
        self,
        *,
        ceiling: int,
        queue: int,
        wait_seconds: float,
        limit: int,
        clock: Callable[[], float] = time.monotonic,
        watch: Callable[[int, int], None] | None = None,
    ) -> None:
        self.ceiling = ceiling
        self.queue = queue
        self.wait_seconds = wait_seconds
        self.active = 0
        # Whether every request since it was last set found the app at its limit (the CPU
        # share controller sets it at the start of each window).
        self.full_throughout = False
        self._limit = limit
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._clock = clock
        self._ended: deque[float] = deque(maxlen=RECENT_TURNS)
        # Told the requests in the app and those waiting, each time either moves (/metrics).
        self._watch = watch

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = max(1, min(self.ceiling, value))
        self._admit_waiters()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def turns_per_second(self) -> float | None:
        """How fast turns have been ending lately; None without enough recent ones."""
        ended = self._ended
        if len(ended) < RATE_SAMPLES or self._clock() - ended[-1] > self.wait_seconds:
            return None
        span = ended[-1] - ended[0]
        return (len(ended) - 1) / span if span > 0 else None

    @asynccontextmanager
    async def turn(self, gone: Callable[[], Awaitable[Any]] | None = None) -> AsyncIterator[None]:
        """A turn in the app, for the block. ``gone()``, awaited only while the request
        waits, returns when its client has left: the request then leaves the queue
        (:class:`ClientGone`)."""
        if self.active < self._limit and not self._waiters:
            self.full_throughout = False  # a turn was free: the app was not full
            self.active += 1
            self._moved()
        else:
            await self._wait(gone)
        try:
            yield
        finally:
            self._leave()

    async def _wait(self, gone: Callable[[], Awaitable[Any]] | None) -> None:
        if len(self._waiters) >= self.queue:
            raise Overloaded(f"{self.queue} requests already wait for the legacy app")
        rate = self.turns_per_second()
        if rate is not None and (expected := (len(self._waiters) + 1) / rate) > self.wait_seconds:
            raise Overloaded(
                f"a turn in about {expected:.0f} s at {rate:.1f} a second, past the "
                f"{self.wait_seconds:g} s a request may wait"
            )
        turn = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        self._moved()
        watcher = asyncio.ensure_future(gone()) if gone is not None else None
        try:
            async with asyncio.timeout(self.wait_seconds):
                if watcher is None:
                    await turn
                else:
                    await asyncio.wait({turn, watcher}, return_when=asyncio.FIRST_COMPLETED)
                    if not turn.done():
                        raise ClientGone("the client left while it waited for a turn")
        except BaseException as exc:
            if turn.done() and not turn.cancelled():
                self._leave()  # the turn came just as the wait ended: hand it on
            else:
                turn.cancel()
                with suppress(ValueError):
                    self._waiters.remove(turn)
                self._moved()
            if isinstance(exc, TimeoutError):
                waited = f"no turn in the legacy app within {self.wait_seconds} s"
                raise Overloaded(waited) from None
            raise
        finally:
            if watcher is not None:
                watcher.cancel()
                if watcher.done() and not watcher.cancelled():
                    watcher.exception()  # retrieved: whatever it raised, the client is gone

    def _leave(self) -> None:
        self.active -= 1
        self._ended.append(self._clock())
        self._admit_waiters()

    def _admit_waiters(self) -> None:
        while self._waiters and self.active < self._limit:
            turn = self._waiters.popleft()
            if not turn.done():
                self.active += 1
                turn.set_result(None)
        self._moved()

    def _moved(self) -> None:
        if self._watch is not None:
            self._watch(self.active, len(self._waiters))
