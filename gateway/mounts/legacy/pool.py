"""The legacy app in processes of its own: gunicorn's arbiter and sync workers on a local socket.

In the gateway's process, the legacy app's Python work shares the interpreter lock with the
event loop that serves v2, and a busy legacy app slows every v2 request (``make bench``: on
PostgreSQL, v2's probe p99 went from 9 ms idle to 287 ms with legacy saturated). Served from
processes of its own, it competes with v2 only for the machine's cores, as two services would.

:class:`LegacyProcesses` forks gunicorn's arbiter from the process that holds the app
(:mod:`gateway.mounts.legacy.arbiter`). It forks ``count`` sync workers in turn, restarts any
that dies, kills one stuck past ``timeout`` and stops them gracefully; the workers take
complete requests on a Unix socket in a directory only this user may enter
(:mod:`gateway.mounts.legacy.worker`). The gateway starts the arbiter again if it dies, and
the arbiter stops when the gateway does. ``gateway serve`` starts one set before its workers
and hands its socket to them (``LEGACY_SOCKET_VARIABLE``); an app made by ``create_app()``
elsewhere starts its own when it starts.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import signal
import socket
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.mounts.legacy.arbiter import fork_arbiter
from gateway.mounts.legacy.forking import release

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

logger = logging.getLogger(__name__)

# Set by ``gateway serve`` for its workers: the socket of the legacy processes it started.
LEGACY_SOCKET_VARIABLE = "GATEWAY_LEGACY_SOCKET"
# From start to the first accepted connection: the app is imported and loaded in that time.
START_SECONDS = 60.0
# From SIGTERM to exit: gunicorn lets running requests finish for most of it.
STOP_SECONDS = 15.0
# How long the gateway waits before starting an arbiter again that died.
RESTART_SECONDS = 1.0
# Connections that may wait for a free worker (gunicorn's own default).
BACKLOG = 2048
# How far below the gateway's CPU priority the legacy processes run (a nice increment):
# when the cores are all taken, the event loop serving v2 is scheduled before legacy work.
NICENESS = 5


class LegacyProcesses:
    """``count`` legacy worker processes behind one Unix socket, for as long as it runs.

    Given the ``socket_path`` of processes another gateway process started (``gateway
    serve`` for its workers), it only names them: starting and stopping are that process's.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        count: int,
        timeout: float,
        socket_path: str | None = None,
    ) -> None:
        self.count = count
        self.timeout = timeout
        self.owned = socket_path is None
        # An owned socket is made by start(), in a directory only this user may enter.
        self.socket_path = socket_path or ""
        self._directory: Path | None = None
        self._settings: dict[str, Any] = {
            "workers": count,
            "worker_class": "gateway.mounts.legacy.worker.LegacyWorker",
            "preload_app": True,
            "timeout": max(1, round(timeout)),
            "graceful_timeout": max(1, round(STOP_SECONDS) - 2),
            "backlog": BACKLOG,
            "accesslog": None,
            "loglevel": "warning",
            "proc_name": "gateway-legacy",
            "control_socket_disable": True,
        }
        self._app = app
        self._pid = 0
        self._lifeline = -1
        self._stopping = threading.Event()
        self._exited = threading.Event()
        self._lock = threading.Lock()  # between a restart and a stop
        self._watcher: threading.Thread | None = None
        self._served = False  # once it has, a dying arbiter is started again
        self.exit_code: int | None = None

    def start(self) -> None:
        """Start the arbiter and wait until a worker takes a connection."""
        if not self.owned:
            return
        self._directory = Path(tempfile.mkdtemp(prefix="gateway-legacy-"))  # mode 0700
        self.socket_path = str(self._directory / "legacy.sock")
        self._settings["bind"] = [f"unix:{self.socket_path}"]
        self._stopping.clear()
        self._exited.clear()
        self._served = False
        self._fork()
        self._watcher = threading.Thread(target=self._watch, name="legacy-arbiter", daemon=True)
        self._watcher.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if not self.owned or self._directory is None:
            return  # not ours, or not started
        with self._lock:
            self._stopping.set()
            self._signal(signal.SIGTERM)  # gunicorn's graceful stop
        if not self._exited.wait(STOP_SECONDS):
            self._signal(signal.SIGKILL)
            self._exited.wait(STOP_SECONDS)
        if self._watcher is not None:
            self._watcher.join(STOP_SECONDS)
            self._watcher = None
        shutil.rmtree(self._directory, ignore_errors=True)
        self._directory = None

    def _fork(self) -> None:
        self._pid, self._lifeline = fork_arbiter(self._app, self._settings, niceness=NICENESS)

    def _signal(self, number: int) -> None:
        with suppress(ProcessLookupError):
            os.kill(self._pid, number)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._exited.is_set():
                raise RuntimeError(
                    f"the legacy processes exited ({self.exit_code}) before serving; "
                    "their error is above"
                )
            if self._answers():
                self._served = True
                return
            self._exited.wait(0.05)  # polled: the arbiter reports nothing when it is up
        raise RuntimeError(f"the legacy processes did not serve within {START_SECONDS:g} s")

    def _answers(self) -> bool:
        """Whether a worker accepts a connection (it is then closed unused)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(START_SECONDS)
            try:
                probe.connect(self.socket_path)
                return probe.recv(1) != b""
            except OSError:
                return False

    def _watch(self) -> None:
        """Wait for the arbiter to end; start it again whenever it dies after it served, until
        the gateway stops."""
        while True:
            self.exit_code = _wait_exit(self._pid)
            release(self._lifeline)
            if self._stopping.is_set() or not self._served:
                break
            logger.error("the legacy arbiter exited (%s); starting it again", self.exit_code)
            if self._stopping.wait(RESTART_SECONDS):
                break
            with self._lock:
                if self._stopping.is_set():
                    break
                self._fork()
        self._exited.set()


def _wait_exit(pid: int) -> int | None:
    """Wait for child ``pid`` to end: its exit code, or None when another waiter reaped it.

    Under ``gateway serve --workers N``, gunicorn's arbiter shares this process and reaps
    every child it has (``waitpid(-1)``); a pidfd still tells this thread when it ended.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:  # already reaped
        return None
    try:
        select.select([pidfd], [], [])  # readable once the process has ended
        try:
            ended = os.waitid(os.P_PIDFD, pidfd, os.WEXITED)
        except ChildProcessError:
            return None
        return None if ended is None else _exit_code(ended)
    finally:
        os.close(pidfd)


def _exit_code(ended: os.waitid_result) -> int:
    """As :func:`os.waitstatus_to_exitcode` gives it: a signal's number negated."""
    return ended.si_status if ended.si_code == os.CLD_EXITED else -ended.si_status
