"""What a process forked from the gateway's lets go of first, to share its pages and nothing else.

Two kinds of process are forked from the one that built the gateway: the legacy processes'
arbiter (:mod:`gateway.mounts.legacy.arbiter`) and, with ``gateway serve --workers N``, the
uvicorn workers (:mod:`gateway.cli.prefork`). Forked, they share its loaded code and
start-up objects page for page; what they must not share is dropped here:

- the parent's event loop's wakeup descriptor: signals meant for the child must not wake it;
- the connections SQLAlchemy pooled before the fork, dropped unclosed (SQLAlchemy's advice for
  ``os.fork``): they stay the parent's, and the child connects afresh;
- descriptors the parent holds for one child alone (a lifeline's writing end, whose closing
  tells that child its parent died): a copy in a sibling would keep the lifeline open.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
from contextlib import suppress

from sqlalchemy.engine import Engine

# Descriptors this process holds for its own use: closed in every process forked from it.
_HELD: set[int] = set()


def hold(descriptor: int) -> None:
    """Keep ``descriptor`` out of every process forked from this one from now on."""
    _HELD.add(descriptor)


def release(descriptor: int) -> None:
    """Close a descriptor given to :func:`hold`."""
    _HELD.discard(descriptor)
    os.close(descriptor)


def _close_held() -> None:
    for descriptor in _HELD:
        with suppress(OSError):
            os.close(descriptor)
    _HELD.clear()


# In every fork, whoever makes it (gunicorn's arbiter, multiprocessing, a team's own code).
os.register_at_fork(after_in_child=_close_held)


def lifeline() -> tuple[int, int]:
    """A pipe for children to learn that this process died: their reading end and its
    writing end, which only this process holds (closed when it ends, however it ends)."""
    reading, writing = os.pipe()
    hold(writing)
    return reading, writing


def stop_when_orphaned(reading: int) -> None:
    """SIGTERM to this process once the writing end of its ``lifeline`` closes: a child whose
    parent was killed (SIGKILL leaves no time to stop it) stops gracefully by itself."""

    def watch() -> None:
        while os.read(reading, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def forget_parent_state() -> None:
    """Run first in a forked child: drop what belongs to the parent alone."""
    signal.set_wakeup_fd(-1)
    for thing in gc.get_objects():
        if isinstance(thing, Engine):
            thing.dispose(close=False)
    # What the child inherits stays out of its collector's sight: a collection writes to every
    # object it walks, which would copy each page the child could have shared.
    gc.collect()
    gc.freeze()
