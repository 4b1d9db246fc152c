"""How many legacy requests may run at once, chosen from the CPU the legacy app uses.

A legacy view that waits (on its database, on another service) leaves the interpreter to
others: many can run at once, and v2 hardly notices. A view that computes holds the
interpreter lock, which the event loop serving v2 needs for every step of every request:
two such views at once are no faster than one, and the loop waits behind both.

So every ``WINDOW_SECONDS`` the controller reads the CPU time the process used outside the
event loop's own thread: the legacy threads, and the threads their libraries start (argon2
hashes a password on threads of its own, one per lane; counting the legacy threads alone
missed them and let ten logins run at once). v2's own database threads count too, so a v2
busy on SQLite leaves legacy fewer turns, never more. The limit on requests in the app moves
by one: down while that CPU is more than ``share`` of a core, up while requests are waiting
and one more, using what each uses now, would keep it within ``share``; between 1 and the
configured ceiling. It grows only after a window the app spent full from end to end, so that
what each request uses is known (a load starting after an idle window is no sign that its
requests wait). Views that wait end up with every thread, views that compute with one,
leaving the rest of the machine to v2 and the loop.
"""

from __future__ import annotations

import asyncio
import time

from gateway.mounts.legacy.admission import Admission

# How often the limit is reconsidered: a step per window, so a ceiling of 10 is reached
# (or left) within two seconds of a change in what the legacy views do.
WINDOW_SECONDS = 0.2


def next_limit(
    limit: int, *, used: float, share: float, waiting: int, ceiling: int, full: bool = True
) -> int:
    """The limit for the next window, from the cores the legacy threads ``used`` in this one
    (``full``: whether the app ran at its limit all through it).

    One computing request alone does not reach a whole core (the event loop takes its turns),
    so growth is judged by prediction, not by a margin under ``share``: one more request,
    using what each uses now, must still fit.
    """
    if used > share:
        return max(1, limit - 1)
    if full and waiting and used * (limit + 1) / limit <= share:
        return min(ceiling, limit + 1)
    return limit


def cpu_outside_this_thread() -> float:
    """CPU seconds the process has used, less those of the calling thread (the event loop's)."""
    return time.process_time() - time.thread_time()


class CPUShareController:
    """Runs on the event loop's thread, which it leaves out of the count."""

    def __init__(self, admission: Admission, *, share: float) -> None:
        self.admission = admission
        self.share = share
        self.used = 0.0  # cores, over the last window

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        admission = self.admission
        before, then = cpu_outside_this_thread(), loop.time()
        full_since = admission.active >= admission.limit
        while True:
            admission.full_throughout = full_since
            await asyncio.sleep(WINDOW_SECONDS)
            after, now = cpu_outside_this_thread(), loop.time()
            self.used = max(0.0, after - before) / (now - then)
            before, then = after, now
            admission.limit = next_limit(
                admission.limit,
                used=self.used,
                share=self.share,
                waiting=admission.waiting,
                ceiling=admission.ceiling,
                full=admission.full_throughout and admission.active >= admission.limit,
            )
            full_since = admission.active >= admission.limit
