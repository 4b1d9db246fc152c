"""The legacy processes' own side: gunicorn's arbiter, forked from the gateway's process.

Forked, not spawned, so that it serves the very app object the gateway was given (built by a
team's factory, with whatever arguments; imported once) and its workers share that loaded
code. What the fork copies but must not share is let go first
(:mod:`gateway.mounts.legacy.forking`).

The child ends with ``os._exit``, however gunicorn ends it (its workers end by raising
``SystemExit`` up the arbiter's stack): nothing the parent registered to run at exit (its
pytest, its thread pools, its multiprocessing children) runs in a copy of it.
"""

from __future__ import annotations

import os
import traceback
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from gateway.mounts.legacy.forking import forget_parent_state, lifeline, stop_when_orphaned

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class ConfiguredGunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn serving ``app``, configured in code: no config file, no command line."""

    def __init__(self, app: Any, settings: dict[str, Any]) -> None:
        self._app = app
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._settings.items():
            if name in self.cfg.settings:  # control_socket_disable is gunicorn >= 25.1's
                self.cfg.set(name, value)

    def load(self) -> Any:
        return self._app


def fork_arbiter(
    app: WSGIApplication, settings: dict[str, Any], *, niceness: int = 0
) -> tuple[int, int]:
    """The arbiter's pid, and the gateway's end of its lifeline (close it to stop it).

    The arbiter and its workers run ``niceness`` below the gateway's CPU priority.
    """
    reading, held = lifeline()
    pid = os.fork()
    if pid:
        os.close(reading)
        return pid, held
    code = 1
    try:
        forget_parent_state()
        os.nice(niceness)  # the workers inherit it
        stop_when_orphaned(reading)
        ConfiguredGunicorn(app, settings).run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)
