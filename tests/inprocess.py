"""Speak HTTP to an ASGI app in-process: no socket, no server, the app's lifespan run once.

``in_process(app)`` gives a plain sync ``httpx.Client`` (cookies, redirects, auth and all)
whose transport hands each request to the app on an event loop of its own, in a background
thread, where ``asgi_lifespan.LifespanManager`` holds the app's lifespan open. For tests whose
subject is the app's answers; what only a server does (the wire protocol, streaming to a
client, disconnects, signals) still needs a real one (``tests.serving.running_server``).

Like uvicorn on loopback, the app sees the client as ``127.0.0.1``; an exception the app lets
out is logged and answered 500 (Starlette has already sent it), not raised in the test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Receive, Scope, Send

BASE_URL = "http://testserver"
CLIENT_ADDRESS = ("127.0.0.1", 123)
# For a request whose timeout is None, and for the lifespan's startup and shutdown.
DEFAULT_TIMEOUT = 30.0
LIFESPAN_TIMEOUT = 10.0

logger = logging.getLogger(__name__)


class _Chunks(httpx.AsyncByteStream):
    """A request body already read, replayed chunk by chunk (a chunked upload stays one)."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


def _as_served(app: ASGIApp) -> ASGIApp:
    """``app`` with the scope details a server fills in, and its escaping errors logged."""

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host, port = scope.get("server") or ("testserver", None)
            if port is None:  # httpx leaves out a scheme's default port
                scope["server"] = (host, 443 if scope["scheme"] == "https" else 80)
        try:
            await app(scope, receive, send)
        except Exception:
            logger.exception("the app raised while answering %s", scope.get("path"))
            raise

    return served


class InProcessTransport(httpx.BaseTransport):
    """A sync httpx transport that answers from an ASGI app running on ``loop``.

    Safe to share between clients and threads: each request is its own task on the loop,
    so requests sent from several threads at once are served concurrently, as a server
    would. Closing a client leaves the app alone; its lifetime is ``app_transport``'s.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, app: ASGIApp, *, client: tuple[str, int]
    ) -> None:
        self._loop = loop
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        chunks = [chunk for chunk in request.stream if chunk]
        timeout = request.extensions.get("timeout", {}).get("read") or DEFAULT_TIMEOUT
        future = asyncio.run_coroutine_threadsafe(self._answer(request, chunks), self._loop)
        try:
            status, headers, body = future.result(timeout=timeout)
        except TimeoutError:
            if future.done():
                raise  # the app's own TimeoutError, not our deadline
            future.cancel()  # the app sees its task cancelled, as on a dropped connection
            raise httpx.ReadTimeout(
                f"the app did not answer within {timeout} s", request=request
            ) from None
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))

    async def _answer(
        self, request: httpx.Request, chunks: list[bytes]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,  # as sent: Content-Length or chunked, never both
            stream=_Chunks(chunks),
            extensions=request.extensions,
        )
        response = await self._asgi.handle_async_request(forwarded)
        body = await response.aread()
        return response.status_code, response.headers.raw, body

    def close(self) -> None:
        pass


class _LoopThread:
    """One event loop in a daemon thread, holding ``app``'s lifespan open until ``stop``."""

    def __init__(self, app: ASGIApp, *, timeout: float) -> None:
        self._app = app
        self._timeout = timeout
        self._ready: concurrent.futures.Future[ASGIApp] = concurrent.futures.Future()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="in-process-asgi", daemon=True)

    def start(self) -> tuple[asyncio.AbstractEventLoop, ASGIApp]:
        """Start the loop and the app's lifespan; the loop and the app to send requests to."""
        self._thread.start()
        try:
            app = self._ready.result(timeout=self._timeout + 5)
        except TimeoutError:
            self.stop()
            raise RuntimeError(
                f"the app's lifespan did not start within {self._timeout} s"
            ) from None
        assert self._loop is not None
        return self._loop, app

    def stop(self) -> None:
        """End the lifespan, then the loop (asyncio.run's own clean-up, as uvicorn's)."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=self._timeout + 5)
        if self._thread.is_alive():
            raise RuntimeError(f"the app's lifespan did not end within {self._timeout} s")
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                self._error = exc

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with LifespanManager(
            self._app, startup_timeout=self._timeout, shutdown_timeout=self._timeout
        ) as manager:
            self._ready.set_result(manager.app)
            await self._stopping.wait()


@contextmanager
def app_transport(
    app: ASGIApp,
    *,
    client: tuple[str, int] = CLIENT_ADDRESS,
    lifespan_timeout: float = LIFESPAN_TIMEOUT,
) -> Iterator[InProcessTransport]:
    """``app`` started (its lifespan entered) for as long as the block runs, as a transport
    any number of ``httpx.Client(transport=..., base_url=BASE_URL)`` may share."""
    runner = _LoopThread(app, timeout=lifespan_timeout)
    loop, served = runner.start()
    try:
        yield InProcessTransport(loop, _as_served(served), client=client)
    finally:
        runner.stop()


@contextmanager
def in_process(
    app: ASGIApp, *, timeout: float = DEFAULT_TIMEOUT, **options: Any
) -> Iterator[httpx.Client]:
    """A sync client of ``app``, started for the block; ``options`` go to ``httpx.Client``."""
    with (
        app_transport(app) as transport,
        httpx.Client(transport=transport, base_url=BASE_URL, timeout=timeout, **options) as http,
    ):
        yield http
