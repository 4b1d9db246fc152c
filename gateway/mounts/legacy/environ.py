"""What a2wsgi's WSGI environ gets wrong for Flask, corrected before the legacy app sees it.

A body without ``Content-Length`` (``Transfer-Encoding: chunked``) reaches Werkzeug as empty:
Werkzeug only reads such a body when the server promises, through ``wsgi.input_terminated``,
that ``wsgi.input`` ends where the body ends. a2wsgi's input does end there (it reads ASGI
messages until ``more_body`` is false) but a2wsgi never sets the flag.

Setting the flag alone is not enough: Werkzeug (3.1) then applies ``MAX_CONTENT_LENGTH`` by
reading at most that many bytes and silently dropping the rest, so ``request.get_data()``
returns the first N bytes of a longer body. :class:`TerminatedInput` refuses such a body
itself, with Werkzeug's own 413 that Flask's error handlers render.

a2wsgi also hands the app ``sys.stdout`` as ``wsgi.errors``, where Flask's default log
handler writes; errors belong on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from werkzeug.exceptions import RequestEntityTooLarge

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class _Input(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...
    def readline(self, size: int = ..., /) -> bytes: ...


class TerminatedInput:
    """``wsgi.input`` for a body of unknown length: ends with the body, at most ``limit`` bytes.

    A caller that stops at exactly ``limit`` bytes (as Werkzeug does) would never learn of a
    longer body, so reaching the limit probes for one more byte.
    """

    def __init__(self, stream: _Input, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._seen = 0

    def _budget(self, size: int | None) -> int:
        # One byte past the limit is enough to prove the body too long.
        budget = self._limit - self._seen + 1
        return budget if size is None or size < 0 else min(size, budget)

    def _count(self, data: bytes) -> bytes:
        self._seen += len(data)
        if data and self._seen == self._limit and self._stream.read(1):
            self._seen += 1
        if self._seen > self._limit:
            raise RequestEntityTooLarge(
                f"The request body is larger than the limit of {self._limit} bytes."
            )
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self._stream.read(self._budget(size)))

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self._stream.readline(self._budget(size)))

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class LegacyEnviron:
    """WSGI middleware: give the wrapped app an environ that Werkzeug reads correctly."""

    def __init__(self, app: WSGIApplication, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.errors"] = sys.stderr
        if not environ.get("CONTENT_LENGTH"):
            environ["wsgi.input"] = TerminatedInput(environ["wsgi.input"], self.max_body_bytes)
            environ["wsgi.input_terminated"] = True
        return self.app(environ, start_response)
