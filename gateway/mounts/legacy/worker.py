"""A legacy process's side of a connection: one complete request in, the WSGI app's answer out.

Runs in gunicorn's sync worker (:class:`LegacyWorker`), one request at a time, as the team's
app ran on gunicorn before: gunicorn forks, supervises, times out and restarts the workers;
only what travels on the connection (:mod:`gateway.mounts.legacy.wire`) differs from HTTP.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import Callable, Iterable
from tempfile import SpooledTemporaryFile
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

from gateway.mounts.legacy.buffering import SPOOL_BYTES
from gateway.mounts.legacy.wire import (
    BODY,
    END,
    FAILED,
    HEADER,
    LAST,
    READY,
    REQUEST,
    START,
    frame,
    json_frame,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

logger = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class Hangup(Exception):
    """The gateway closed the connection before the request was complete."""


def _read_frame(stream: IO[bytes]) -> tuple[bytes, bytes]:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise Hangup
    kind, length = HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        raise Hangup
    return kind, payload


def read_request(stream: IO[bytes], body: IO[bytes]) -> dict[str, Any]:
    """The environ the gateway built, with the body (written to ``body``) as ``wsgi.input``."""
    kind, payload = _read_frame(stream)
    if kind != REQUEST:
        raise Hangup
    environ: dict[str, Any] = json.loads(payload)
    while (part := _read_frame(stream))[0] == BODY:
        body.write(part[1])
    if part[0] != END:
        raise Hangup
    body.seek(0)
    environ.update(
        {
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
    )
    return environ


class _Answer:
    """One request's answer, sent as the app produces it."""

    def __init__(self, client: socket.socket) -> None:
        self.client = client
        self.start: dict[str, Any] | None = None
        self.started = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.start = {"status": int(status.split(" ", 1)[0]), "headers": headers}
        return self.write

    def write(self, chunk: bytes, kind: bytes = BODY) -> None:
        if not self.started:
            if self.start is None:
                raise RuntimeError("the WSGI app returned without calling start_response")
            self.started = True
            self.client.sendall(json_frame(START, self.start) + frame(kind, chunk))
        elif chunk or kind != BODY:  # an empty chunk says nothing
            self.client.sendall(frame(kind, chunk))

    def declared_length(self) -> int | None:
        for name, value in self.start["headers"] if self.start else ():
            if name.lower() == "content-length":
                return int(value) if value.strip().isdigit() else None
        return None


def serve_connection(app: WSGIApplication, client: socket.socket) -> None:
    """Answer the one request on ``client``; the caller closes it."""
    client.sendall(READY)
    with SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
        try:
            environ = read_request(client.makefile("rb"), body)
        except (Hangup, ConnectionError):
            return  # the gateway gave up its turn (its client left, or it only checked we run)
        _run_app(app, environ, client)


def _run_app(app: WSGIApplication, environ: dict[str, Any], client: socket.socket) -> None:
    answer = _Answer(client)
    iterable: Iterable[bytes] | None = None
    try:
        iterable = app(environ, answer.start_response)  # type: ignore[arg-type]
        _send_body(answer, iterable)
    except ConnectionError:
        pass  # the gateway's client left: stop producing for nobody
    except Exception as exc:
        if answer.started:
            raise  # the connection is cut: the client sees the answer was not finished
        logger.exception("the legacy app raised instead of answering %s", environ["PATH_INFO"])
        client.sendall(json_frame(FAILED, {"error": type(exc).__name__}))
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()


def _send_body(answer: _Answer, iterable: Iterable[bytes]) -> None:
    chunks = iter(iterable)
    first = next(chunks, None)
    if first is not None and len(first) == answer.declared_length():
        answer.write(first, LAST)  # PEP 3333 lets a server stop at the declared length
        return
    if first is not None:
        answer.write(first)
    for chunk in chunks:
        answer.write(chunk)
    answer.write(b"", END)


class LegacyWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, speaking the gateway's framing instead of HTTP."""

    def handle(self, listener: socket.socket, client: socket.socket, addr: Any) -> None:
        try:
            serve_connection(self.wsgi, client)
        except ConnectionError:
            pass  # the gateway went away mid-answer; it shows the client the cut
        except Exception:
            logger.exception("a legacy worker failed on a connection")
        finally:
            client.close()
        self.nr += 1
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
