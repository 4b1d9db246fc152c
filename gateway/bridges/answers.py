"""Refusals that must reach the client exactly as the legacy app words them.

A bridge that refuses a request (a bad token, say) raises :class:`ExactAnswer` with the
legacy app's own response for it: status, body and headers, repeated ones included. FastAPI's
default handler would wrap the body in ``{"detail": ...}``; :func:`answer_exactly` registers
the handler that sends it as it is. The gateway registers it on the app it builds around a v2
given as an ``APIRouter``; a v2 FastAPI app calls it (or its bridge's ``install``) itself.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

# Left out of HTTPException.headers, which FastAPI's default handler sends with its own body.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class ExactAnswer(HTTPException):
    """An HTTPException that carries the whole answer to give.

    Without :func:`answer_exactly` FastAPI's default handler still answers ``status_code``
    (with its own ``{"detail": ...}`` body and the headers but the body's own).
    """

    def __init__(self, status_code: int, body: bytes, raw_headers: list[tuple[str, str]]) -> None:
        headers = {k: v for k, v in raw_headers if k.lower() not in _BODY_HEADERS}
        super().__init__(status_code, body.decode("utf-8", "replace"), headers or None)
        self.body = body
        self.raw_headers = raw_headers

    def response(self) -> Response:
        response = Response(self.body, status_code=self.status_code)
        # The headers as they are: repeated ones included, their own Content-Length too.
        response.raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.raw_headers
        ]
        return response


async def _exact(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ExactAnswer):  # pragma: no cover - registered for it only
        raise exc
    return exc.response()


def answer_exactly(app: FastAPI) -> None:
    """Answer every :class:`ExactAnswer` raised in ``app`` with the response it carries."""
    app.add_exception_handler(ExactAnswer, _exact)
