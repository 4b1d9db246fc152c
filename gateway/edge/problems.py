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

from gateway.config.configuration import Config
from gateway.config.loading import resolve_option

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


def error_renderer(config: Config) -> ErrorRenderer:
    """The configured renderer: ``problem``, or the function the ``errors`` option names."""
    if config.options.errors == "problem":
        return problem
    renderer: ErrorRenderer = resolve_option(
        config, "errors", callable, "a function (status, detail)"
    )
    return renderer


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
