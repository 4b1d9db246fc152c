"""The answers the gateway gives itself (not the legacy app's, not v2's): one renderer.

By default an RFC 9457 problem document (``application/problem+json``). An application
whose clients expect its own error shape names a function ``(status, detail) -> Response``
in the ``errors`` option, and every error the gateway answers takes that shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

ErrorRenderer = Callable[[int, str], Response]

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Every answer names who served it; these are the gateway's own.
SERVED_BY = "x-served-by"


def problem(status: int, detail: str) -> Response:
    """An RFC 9457 problem: the status' phrase as title, ``detail`` for this occurrence."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
    )


async def send_error(
    render: ErrorRenderer,
    status: int,
    detail: str,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    served_by: str | None = "gateway",
) -> None:
    response = render(status, detail)
    if served_by is not None:
        response.headers[SERVED_BY] = served_by
    await response(scope, receive, send)
