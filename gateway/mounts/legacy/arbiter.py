"""The legacy processes' own side: gunicorn's arbiter, forked from the gateway's process.

Forked, not spawned, so that it serves the very app object the gateway was given (built by a
team's factory, with whatever arguments; imported once) and its workers share that loaded
code. What the fork copies but must not share is let go first: the parent's event loop's
wakeup descriptor, and the connections SQLAlchemy pooled before the fork (dropped unclosed,
SQLAlchemy's advice for ``os.fork``: they stay the parent's; the child connects afresh).

The child ends with ``os._exit``, however gunicorn ends it (its workers end by raising
``SystemExit`` up the arbiter's stack): nothing the parent registered to run at exit (its
pytest, its thread pools, its multiprocessing children) runs in a copy of it.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import traceback
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class _Arbiter(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured in code: no config file, no command line."""

    def __init__(self, app: WSGIApplication, settings: dict[str, Any]) -> None:
        self._app = app
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._settings.items():
            if name in self.cfg.settings:  # control_socket_disable is gunicorn >= 25.1's
                self.cfg.set(name, value)

    def load(self) -> WSGIApplication:
        return self._app


def _forget_parent_state() -> None:
    signal.set_wakeup_fd(-1)  # signals meant for the arbiter must not wake the parent's loop
    for thing in gc.get_objects():
        if isinstance(thing, Engine):
            thing.dispose(close=False)
    # What the workers inherit stays out of their collector's sight: a collection writes to
    # every object it walks, which would copy each page the workers could have shared.
    gc.collect()
    gc.freeze()


def _stop_when_orphaned(lifeline: int) -> None:
    """SIGTERM to the arbiter once the gateway's end of ``lifeline`` closes (it died)."""

    def watch() -> None:
        while os.read(lifeline, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="legacy-lifeline", daemon=True).start()


def fork_arbiter(app: WSGIApplication, settings: dict[str, Any]) -> tuple[int, int]:
    """The arbiter's pid, and the gateway's end of its lifeline (close it to stop it)."""
    lifeline, held = os.pipe()
    pid = os.fork()
    if pid:
        os.close(lifeline)
        return pid, held
    code = 1
    try:
        os.close(held)
        _forget_parent_state()
        _stop_when_orphaned(lifeline)
        _Arbiter(app, settings).run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)
