"""uvicorn as ``gateway serve`` runs it: deadlines and size limits on what clients send.

uvicorn has a keep-alive timeout but no deadline for a request's headers or for a body that
stops arriving, and its httptools parser takes headers of any size. Left so, 50 clients
sending a header byte now and then (slowloris), or a dozen bodies that stall, hold
connections and the legacy app's threads forever. :class:`GuardedHttpToolsProtocol` is
uvicorn's own httptools protocol with those limits added:

- headers must be complete within ``header_timeout_seconds`` of a connection opening (or of
  a request's first byte): else 408;
- a body may not fall silent for ``body_timeout_seconds``: else 408 (the app sees the client
  disconnect);
- the request line and headers may not pass ``max_header_bytes`` or ``max_headers``: else 431.
  Only the bytes up to the blank line that ends them count, not a body that shares a read
  with them (a POST sent in one write, as most clients send it) nor requests pipelined after.

These answers come from the gateway's error renderer (the ``errors`` option), with
``Connection: close``. The limits and the renderer are the worker's own configuration, handed
over by its entry point (:mod:`gateway.asgi`) with :func:`configure_protocol` before the
server accepts a connection.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from gateway.config.options import ServerOptions
from gateway.edge.problems import SERVED_BY, ErrorRenderer, problem

logger = logging.getLogger(__name__)

# How long a refused connection is drained before it is closed regardless.
LINGER_SECONDS = 2.0
TIMEOUT = HTTPStatus.REQUEST_TIMEOUT
HEADERS_TOO_LARGE = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
# What ends a header section, and a chunked body (its last chunk, or its trailers): llhttp
# takes no other spelling (a bare LF is a 400).
BLANK_LINE = b"\r\n\r\n"
# The bytes of a blank line that one read can end with, and the next complete.
SEAM = len(BLANK_LINE) - 1
# ``_body_left`` of a chunked body: its length is known only once its last chunk is read.
CHUNKED = -1


def error_bytes(render: ErrorRenderer, status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 answer, from the renderer, that closes the connection."""
    response = render(status, detail)
    headers = [
        (name, value)
        for name, value in response.raw_headers
        if name.lower() not in (b"connection", SERVED_BY.encode())
    ]
    lines = [STATUS_LINE[status]]
    for name, value in [*headers, (SERVED_BY.encode(), b"gateway"), (b"connection", b"close")]:
        lines += [name, b": ", value, b"\r\n"]
    return b"".join([*lines, b"\r\n", response.body])


@dataclass(frozen=True, slots=True)
class EdgeSettings:
    limits: ServerOptions
    errors: ErrorRenderer


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    # uvicorn builds one protocol per connection from the class alone, so what every
    # connection of this process shares is set on the class (configure_protocol).
    edge: ClassVar[EdgeSettings]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = self.edge.limits
        self._deadline: asyncio.TimerHandle | None = None
        self._awaiting_headers = True
        self._header_bytes = 0
        # The end of the last read, when it may hold the start of a blank line.
        self._seam = b""
        # What is left of the body being read; None until its first piece.
        self._body_left: int | None = None
        self._reading_body = False
        self._refused = False

    # Deadlines -------------------------------------------------------------------------

    def _arm(self, seconds: float, status: int, detail: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, status, detail)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, status: int, detail: str) -> None:
        self._deadline = None
        self.refuse(status, detail)

    def refuse(self, status: int, detail: str) -> None:
        """Answer ``status`` (unless the app already began its answer) and close."""
        if self._refused or self.transport is None or self.transport.is_closing():
            return
        self._refused = True
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app, if it is still reading, sees the client gone; its answer is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:
                self.transport.close()
                return
        logger.info("%s from %s: %s", status, self.client, detail)
        self.transport.write(error_bytes(self.edge.errors, status, detail))
        self._linger()

    def _linger(self) -> None:
        """Close gently: end our side, drain what the client still sends, then close.

        Closing with unread input makes the kernel reset the connection, and a reset may
        destroy the answer before the client reads it (RFC 9112, section 9.6).
        """
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.transport.resume_reading()  # keep draining; data_received drops it
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def send_400_response(self, msg: str) -> None:
        """A request the parser refuses: the 400 in the configured shape, like every other."""
        logger.info("400 from %s: %s", self.client, msg)
        self.transport.write(
            error_bytes(self.edge.errors, HTTPStatus.BAD_REQUEST, msg.lower().rstrip("."))
        )
        self.transport.close()

    # Protocol and parser callbacks -------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout_seconds, TIMEOUT, "request headers too slow")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser ``data`` in pieces, each within one header section or one body.

        One read may hold the end of a header section, a body and requests pipelined after
        it, and only header bytes count against ``max_header_bytes``. httptools tells where
        headers end only by calling ``on_headers_complete`` from inside ``feed_data``, once
        it has taken the whole read: too late to count, and to refuse before the app starts.
        Its ``on_header`` comes too late as well (a header is buffered until it ends). So
        the read is cut where a part of a request can end, found without parsing: a header
        section at its first blank line, a chunked body at a blank line (one inside its
        data cuts the body in two, no harm), a body of known length after that length.
        Whatever the parser is awaiting when a piece starts is what the whole piece is, and
        a piece of header bytes is counted, and refused if too many, before it is fed. Most
        reads are one piece; only header sections and chunked bodies are searched.
        """
        if self._refused:
            return
        if self._reading_body:
            self._arm(self.limits.body_timeout_seconds, TIMEOUT, "request body too slow")
        start = 0
        while True:
            end = self._piece_end(data, start)
            headers = self._awaiting_headers
            if headers:
                self._header_bytes += end - start
                if self._header_bytes > self.limits.max_header_bytes:
                    self.refuse(HEADERS_TOO_LARGE, "request headers too large")
                    return
            if end - start == len(data):  # most reads: one piece
                super().data_received(data)
                return
            # httptools reads any buffer: a piece is a view of the read, not a copy.
            super().data_received(memoryview(data)[start:end])  # type: ignore[arg-type]
            if end == len(data) or self._refused or self.transport.is_closing():
                return
            # Headers completed in this piece (on_headers_complete zeroed the count) asked
            # for an upgrade: as uvicorn does, the rest of the read is not parsed as HTTP.
            if headers and not self._header_bytes and self.parser.should_upgrade():
                return
            start = end

    def _piece_end(self, data: bytes, start: int) -> int:
        """Where the piece of ``data`` from ``start`` ends (see :meth:`data_received`)."""
        if not self._awaiting_headers:
            if self._body_left is None:
                self._body_left = self._content_length()
            if self._body_left != CHUNKED:
                end = min(len(data), start + self._body_left)
                self._body_left -= end - start
                return end
        # Else just past the first blank line from ``start``, also one the last read began.
        seam = self._seam
        if seam:
            self._seam = b""
            found = (seam + data[start : start + SEAM]).find(BLANK_LINE)
            if found >= 0:
                return start + found + len(BLANK_LINE) - len(seam)
        found = data.find(BLANK_LINE, start)
        if found >= 0:
            return found + len(BLANK_LINE)
        self._seam = (seam + data[max(start, len(data) - SEAM) :])[-SEAM:]
        return len(data)

    def _content_length(self) -> int:
        """The declared length of the body being read; CHUNKED without one.

        llhttp gives a request no body without Content-Length or chunked Transfer-Encoding,
        and refuses both at once, two lengths, or any other coding.
        """
        for name, value in self.headers:
            if name == b"content-length":
                return int(value)
        return CHUNKED

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_headers = True
        if self._deadline is None:
            self._arm(self.limits.header_timeout_seconds, TIMEOUT, "request headers too slow")

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._disarm()
        if len(self.headers) > self.limits.max_headers:
            self.refuse(HEADERS_TOO_LARGE, f"more than {self.limits.max_headers} headers")
            return
        super().on_headers_complete()
        self._reading_body = True
        self._arm(self.limits.body_timeout_seconds, TIMEOUT, "request body too slow")

    def on_message_complete(self) -> None:
        self._reading_body = False
        self._body_left = None
        self._awaiting_headers = True  # the next request on this connection
        self._disarm()
        if self._refused and self.cycle is None:
            return  # refused at its headers: no request cycle was started to complete
        super().on_message_complete()


def configure_protocol(limits: ServerOptions, errors: ErrorRenderer) -> None:
    """The limits and the error renderer of every connection this process accepts."""
    GuardedHttpToolsProtocol.edge = EdgeSettings(limits, errors)


configure_protocol(ServerOptions(), problem)  # until the entry point configures its own


def uvicorn_settings(options: ServerOptions) -> dict[str, Any]:
    """The keyword arguments ``gateway serve`` gives ``uvicorn.run`` for these options."""
    return {
        "http": GuardedHttpToolsProtocol,
        "timeout_keep_alive": options.keep_alive_seconds,
        "limit_concurrency": options.max_connections,
        # X-Forwarded-For moves a client between canary buckets and into logs: believed
        # only from proxies named here.
        "proxy_headers": bool(options.trusted_proxies),
        "forwarded_allow_ips": ",".join(options.trusted_proxies) or None,
    }
