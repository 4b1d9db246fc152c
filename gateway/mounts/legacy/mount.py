"""The legacy WSGI app as an ASGI app: the bridge, plus what a2wsgi leaves to its caller.

- A request enters the app complete: its body is read first, in the event loop
  (:mod:`gateway.mounts.legacy.buffering`), so a stalled upload never holds a thread or a
  turn, and a client that leaves mid-body is never handed to the app (a2wsgi's input would
  have shown Flask a truncated body as a complete one).
- The app runs on threads of the gateway's process (:mod:`gateway.mounts.legacy.bridge`), or
  with ``processes``, in worker processes of its own (:mod:`gateway.mounts.legacy.pool`),
  which keeps its Python work off the interpreter lock that the event loop serving v2 needs.
- At most ``workers`` requests run in the app at once (fewer while its views compute, see
  :mod:`gateway.mounts.legacy.cpu_share`), a bounded number wait, with a deadline, and the rest
  get a 503 at once (:mod:`gateway.mounts.legacy.admission`). A waiting request whose client
  has gone is dropped before it runs.
- The environ is corrected for Werkzeug (:mod:`gateway.mounts.legacy.environ`).
- If the WSGI app raises instead of answering (Flask normally answers its own errors), the
  client still gets a 500 from the gateway's error renderer; once a response has started,
  the connection is dropped so that a truncated body never looks complete.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from http import HTTPStatus
from typing import TYPE_CHECKING

from starlette.types import Message, Receive, Scope, Send

from gateway.config.options import LEGACY_QUEUE, LEGACY_QUEUE_SECONDS, LEGACY_TIMEOUT_SECONDS
from gateway.edge.problems import SERVED_BY, ErrorRenderer, problem, send_error
from gateway.mounts.legacy.admission import Admission, ClientGone, Overloaded
from gateway.mounts.legacy.bridge import WSGIBridge
from gateway.mounts.legacy.buffering import BufferedBody
from gateway.mounts.legacy.cpu_share import CPUShareController
from gateway.mounts.legacy.environ import LegacyEnviron
from gateway.mounts.legacy.pool import LegacyProcesses
from gateway.mounts.legacy.remote import ProcessBridge, Unanswered

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

logger = logging.getLogger(__name__)

# Seconds a client refused for want of a turn in the legacy app is asked to wait.
OVERLOADED_RETRY_AFTER = 1


class LegacyMount:
    """ASGI app serving a WSGI app on ``workers`` threads, or from ``processes``.

    ``max_body_bytes`` caps a body sent without Content-Length (Flask enforces its own
    ``MAX_CONTENT_LENGTH`` on the others); the gateway passes the Flask app's own limit when
    it has one. ``queue`` requests may wait ``queue_seconds`` for a free thread. With a
    ``cpu_share`` (of a core), the number of requests in the app adapts to what its views do
    while :meth:`running`; without one, it is ``workers``. ``errors`` renders the 500 for an
    app that raised and the 503 for one that has no turn free.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        workers: int,
        max_body_bytes: int,
        queue: int = LEGACY_QUEUE,
        queue_seconds: float = LEGACY_QUEUE_SECONDS,
        cpu_share: float | None = None,
        errors: ErrorRenderer = problem,
        processes: int = 0,
        process_timeout: float = LEGACY_TIMEOUT_SECONDS,
        process_socket: str | None = None,
        watch_turns: Callable[[int, int], None] | None = None,
    ) -> None:
        self.wsgi_app = app
        self.errors = errors
        fixed = LegacyEnviron(app, max_body_bytes=max_body_bytes)
        self.processes: LegacyProcesses | None = None
        self._bridge: WSGIBridge | ProcessBridge
        if processes:
            self.processes = LegacyProcesses(
                fixed, count=processes, timeout=process_timeout, socket_path=process_socket
            )
            workers, cpu_share = processes, None
            self._bridge = ProcessBridge(self.processes, wait_seconds=queue_seconds)
        else:
            self._bridge = WSGIBridge(fixed, threads=workers)
        # Adapting, it starts from one request at a time and grows while the views wait.
        self.admission = Admission(
            ceiling=workers,
            queue=queue,
            wait_seconds=queue_seconds,
            limit=1 if cpu_share else workers,
            watch=watch_turns,
        )
        self.controller = CPUShareController(self.admission, share=cpu_share) if cpu_share else None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For as long as the server runs: the legacy processes, or the adapting number of
        requests in the app; then let its threads or processes go."""
        processes = self.processes
        if processes is not None:
            await asyncio.to_thread(processes.start)
        task = None
        if self.controller is not None:
            task = asyncio.create_task(self.controller.run(), name="legacy-cpu-share")
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            if isinstance(self._bridge, WSGIBridge):
                self._bridge.shutdown()
            if processes is not None:
                await asyncio.to_thread(processes.stop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # the legacy app speaks HTTP only; a websocket is refused by not accepting it
        body = await BufferedBody.read(receive)
        if body is None:
            return  # the client left before its request was complete: nobody to answer
        try:
            # Once the body is read, the connection's next message is its end.
            async with self.admission.turn(gone=receive):
                await self._answer(scope, body.receive, send)
        except ClientGone:
            return
        except Overloaded as refusal:
            response = self.errors(
                HTTPStatus.SERVICE_UNAVAILABLE, f"the legacy app is at capacity ({refusal})"
            )
            response.headers["retry-after"] = str(OVERLOADED_RETRY_AFTER)
            response.headers[SERVED_BY] = "gateway"
            await response(scope, body.receive, send)
        finally:
            body.close()

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:

        response_started = False

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self._bridge(scope, receive, tracked_send)
        except (Overloaded, ClientGone):
            raise  # no turn after all (a process bridge's wait): the caller answers
        except Unanswered as failure:
            if response_started:
                raise
            logger.error("legacy %s: %s", scope["path"], failure)
            await send_error(self.errors, failure.status, str(failure), scope, receive, send)
        except Exception:
            if response_started:
                raise  # the server drops the connection: the client sees the truncation
            logger.exception("the legacy app raised instead of answering %s", scope["path"])
            await send_error(
                self.errors,
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "internal error",
                scope,
                receive,
                send,
            )
