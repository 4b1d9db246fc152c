"""How many requests the legacy app takes at once, and how long the others may wait.

The legacy app runs on a few threads that share one interpreter lock with the event loop
serving v2. More threads than that buy no throughput for views that compute (they only
take turns), and every extra thread is one more contender the loop waits behind. So at
most ``running`` requests are in the app at once, at most ``waiting`` more wait for a turn
for at most ``wait_seconds``, and the rest are refused at once with a 503: a fast refusal
costs the loop almost nothing, a queue without end makes every client wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Overloaded(Exception):
    """No turn in the legacy app: the queue is full, or the wait ran out."""


class Admission:
    def __init__(self, *, running: int, waiting: int, wait_seconds: float) -> None:
        self.running = running
        self.waiting = waiting
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(running)
        self._waiters = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._slots.locked():
            if self._waiters >= self.waiting:
                raise Overloaded(f"{self.waiting} requests already wait for the legacy app")
            self._waiters += 1
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await self._slots.acquire()
            except TimeoutError:
                raise Overloaded(
                    f"no turn in the legacy app within {self.wait_seconds} s"
                ) from None
            finally:
                self._waiters -= 1
        else:
            await self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()
