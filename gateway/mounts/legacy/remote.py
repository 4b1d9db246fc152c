"""The gateway's side of a legacy process: an ASGI app that hands each request to a worker.

The environ is built here, from the ASGI scope, by a2wsgi's own ``build_environ``, exactly as
the in-process bridge builds it; the worker adds only its own input, error stream and WSGI
flags. A request takes its turn when a worker accepts its connection (``READY``), waiting for
at most ``wait_seconds`` and leaving the queue if its client goes; then it is sent complete,
and the answer is relayed as it comes. A client that leaves mid-answer closes the connection,
which stops the worker's view at its next chunk, as on gunicorn. A worker that dies or never
starts its answer (gunicorn kills one stuck past its timeout) is the gateway's to report.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any

from a2wsgi.wsgi import build_environ
from starlette.types import Receive, Scope, Send

from gateway.mounts.legacy.admission import ClientGone, Overloaded
from gateway.mounts.legacy.bridge import client_gone, response_start
from gateway.mounts.legacy.pool import LegacyProcesses
from gateway.mounts.legacy.wire import (
    BODY,
    END,
    FAILED,
    HEADER,
    LAST,
    REQUEST,
    START,
    frame,
    json_frame,
    portable_environ,
)

# Past the worker's own timeout (after which gunicorn kills it), the answer is given up on.
ANSWER_MARGIN_SECONDS = 5.0


class Unanswered(Exception):
    """The legacy process failed to answer; ``status`` is what the client gets instead."""

    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status


async def _read_frame(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    kind, length = HEADER.unpack(await reader.readexactly(HEADER.size))
    return kind, await reader.readexactly(length) if length else b""


async def _request_frames(scope: Scope, receive: Receive) -> bytes:
    """The request as the worker reads it; the body is already whole (it was buffered)."""
    environ = portable_environ(build_environ(scope, None))  # type: ignore[arg-type]
    parts = [json_frame(REQUEST, environ)]
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone("the client left before its request was sent on")
        if body := message.get("body", b""):
            parts.append(frame(BODY, body))
        if not message.get("more_body", False):
            break
    parts.append(frame(END))
    return b"".join(parts)


class ProcessBridge:
    """An ASGI app serving HTTP requests from the legacy ``processes``."""

    def __init__(self, processes: LegacyProcesses, *, wait_seconds: float) -> None:
        self.processes = processes
        self.wait_seconds = wait_seconds
        self.answer_seconds = processes.timeout + ANSWER_MARGIN_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = await _request_frames(scope, receive)
        try:
            reader, writer = await asyncio.open_unix_connection(self.processes.socket_path)
        except OSError as exc:
            raise Overloaded("the legacy processes are not taking requests") from exc
        # One watcher for the whole exchange: once the client has gone the connection is cut,
        # so whatever waits on it (a turn, the answer) ends at once, and the worker stops.
        gone = asyncio.ensure_future(client_gone(receive))
        gone.add_done_callback(lambda _: writer.transport.abort())
        try:
            await self._turn(reader, gone)
            writer.write(request)
            await writer.drain()
            await self._relay(reader, gone, send)
        finally:
            gone.cancel()
            writer.transport.abort()  # the worker has sent all it will; nothing to linger for

    async def _turn(self, reader: asyncio.StreamReader, gone: asyncio.Future[None]) -> None:
        try:
            async with asyncio.timeout(self.wait_seconds):
                await reader.readexactly(1)  # READY: a worker took the connection
        except TimeoutError:
            raise Overloaded(f"no legacy process free within {self.wait_seconds:g} s") from None
        except (asyncio.IncompleteReadError, ConnectionError):
            if gone.done():
                raise ClientGone("the client left while it waited for a legacy process") from None
            raise Overloaded("the legacy process closed the connection unused") from None

    async def _relay(
        self, reader: asyncio.StreamReader, gone: asyncio.Future[None], send: Send
    ) -> None:
        started = False
        loop = asyncio.get_running_loop()
        sent = loop.time()
        try:
            async with asyncio.timeout(self.answer_seconds):
                kind, payload = await _read_frame(reader)
            await _send_start(kind, payload, send)
            started = True
            while True:
                kind, payload = await _read_frame(reader)
                if kind not in (BODY, LAST, END):
                    raise Unanswered(HTTPStatus.BAD_GATEWAY, f"unexpected frame {kind!r}")
                more = kind == BODY
                await send({"type": "http.response.body", "body": payload, "more_body": more})
                if not more:
                    return
        except TimeoutError:
            raise Unanswered(
                HTTPStatus.GATEWAY_TIMEOUT,
                f"the legacy app did not answer within {self.answer_seconds:g} s",
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError):
            if gone.done() and not gone.cancelled():
                return  # the client left: nobody to answer
            if started:
                raise  # the server drops the connection: the client sees the truncation
            if loop.time() - sent >= self.processes.timeout:  # gunicorn stopped it for that
                raise Unanswered(
                    HTTPStatus.GATEWAY_TIMEOUT,
                    f"the legacy app did not answer within {self.processes.timeout:g} s",
                ) from None
            raise Unanswered(
                HTTPStatus.BAD_GATEWAY, "the legacy process ended without answering"
            ) from None


async def _send_start(kind: bytes, payload: bytes, send: Send) -> None:
    if kind == FAILED:
        raise Unanswered(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
    if kind != START:
        raise Unanswered(HTTPStatus.BAD_GATEWAY, f"unexpected frame {kind!r}")
    start: dict[str, Any] = json.loads(payload)
    await send(response_start(start["status"], start["headers"]))
