"""The legacy WSGI app run for the ASGI server: a2wsgi's environ and input, fewer hand-overs.

a2wsgi's ``WSGIMiddleware`` runs the app on a worker thread and hands every message of the
answer (the start, each chunk, the end) to the event loop with a blocking round trip: four
hand-overs between threads for a one-chunk answer, about 315 us a request on this machine
before the app does any work. Here the worker returns the start and the first chunk as the
result of the call itself; the loop sends them and only then asks the worker for the next
chunk (PEP 3333: a chunk is transmitted before the next one is requested). When the first
chunk already holds the whole ``Content-Length`` the app declared (Flask's usual answer),
nothing more is asked for: the iterable is closed on the same hand-over, and the answer
costs one; a streamed one still streams, a chunk per hand-over, and stops (its iterable
closed) once the client has gone, instead of running on for nobody and holding a legacy turn.
The environ and ``wsgi.input`` are a2wsgi's own.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any

from a2wsgi.wsgi import Body, build_environ
from starlette.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def response_start(status: int, headers: Iterable[tuple[str, str]]) -> Message:
    """The ASGI start of an answer from a WSGI status code and header list."""
    encoded = [
        (name.strip().lower().encode("latin-1"), value.strip().encode("latin-1"))
        for name, value in headers
    ]
    return {"type": "http.response.start", "status": status, "headers": encoded}


class _Answer:
    """One request's run of the WSGI app; its methods run on a worker thread."""

    def __init__(
        self,
        app: WSGIApplication,
        loop: asyncio.AbstractEventLoop,
        send: Send,
    ) -> None:
        self.app = app
        self.loop = loop
        self.send = send
        self.start: Message | None = None
        self.started = False  # the start message has gone to the client
        self.iterable: Iterable[bytes] | None = None
        self.chunks: Iterator[bytes] | None = None
        self.complete = False  # the first chunk was the whole declared body

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], object]:
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.start = response_start(int(status.split(" ", 1)[0]), headers)
        return self.write

    def write(self, chunk: bytes) -> None:
        """PEP 3333's legacy ``write()``: sent at once, the worker waiting for it."""
        future = asyncio.run_coroutine_threadsafe(self._write(chunk), self.loop)
        future.result()

    async def _write(self, chunk: bytes) -> None:
        await self.send_start()
        await self.send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def send_start(self) -> None:
        if not self.started:
            if self.start is None:
                raise RuntimeError("the WSGI app returned without calling start_response")
            self.started = True
            await self.send(self.start)

    def first(self, environ: dict[str, Any]) -> bytes | None:
        self.iterable = self.app(environ, self.start_response)  # type: ignore[arg-type]
        self.chunks = iter(self.iterable)
        chunk = self.next()
        if chunk is not None and len(chunk) == self._declared_length():
            self.complete = True  # PEP 3333 lets a server stop there: close, ask no more
            self.close()
        return chunk

    def _declared_length(self) -> int | None:
        if self.start is None:
            return None
        for name, value in self.start["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else None
        return None

    def next(self) -> bytes | None:
        """The next chunk, or None (and the iterable closed) once there is none."""
        assert self.chunks is not None
        try:
            return next(self.chunks)
        except StopIteration:
            self.close()
            return None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        iterable, self.iterable = self.iterable, None
        close = getattr(iterable, "close", None)
        if close is not None:
            close()


def _bodiless(scope: Scope) -> bool:
    """Whether the request carries no body (nothing the app could still want to read)."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return False
    return True


async def client_gone(receive: Receive) -> None:
    """Returns once the client has disconnected (the only message left to receive)."""
    while True:
        try:
            message = await receive()
        except ConnectionError:  # the mount's guard says so for a body never finished
            return
        if message["type"] == "http.disconnect":
            return


class WSGIBridge:
    """An ASGI app serving ``app`` on ``threads`` worker threads."""

    def __init__(self, app: WSGIApplication, *, threads: int) -> None:
        self.app = app
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        # Made on first use, so an app served again after a shutdown gets threads again.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.threads, thread_name_prefix="legacy"
            )
        return self._executor

    def shutdown(self) -> None:
        """Let the threads go once the server stops; a view still running finishes first."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        body = Body(loop, receive)  # type: ignore[arg-type]
        environ: Any = build_environ(scope, body)  # type: ignore[arg-type]
        answer = _Answer(self.app, loop, send)
        context = contextvars.copy_context()
        gone: asyncio.Task[None] | None = None
        try:
            chunk = await loop.run_in_executor(self.executor, context.run, answer.first, environ)
            await answer.send_start()
            while chunk is not None:
                if answer.complete:
                    await send({"type": "http.response.body", "body": chunk, "more_body": False})
                    return
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                # Streaming: once the app has read the request body (nobody else may read
                # from the client), watch for the client leaving.
                if gone is None and (not body.has_more or _bodiless(scope)):
                    gone = loop.create_task(client_gone(receive))
                if gone is not None and gone.done():
                    return  # nobody to stream to: the iterable is closed below
                chunk = await loop.run_in_executor(self.executor, context.run, answer.next)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if gone is not None:
                gone.cancel()
            if answer.iterable is not None:  # abandoned midway (an error, the client gone)
                self.executor.submit(answer.close)
