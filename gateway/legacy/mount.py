"""The legacy WSGI app as an ASGI app: a2wsgi, plus what a2wsgi leaves to its caller.

- The environ is corrected for Werkzeug (:mod:`gateway.wsgi_environ`).
- A client that disconnects mid-body looks to a2wsgi's input like the end of the body, so
  Flask would accept a truncated body of unknown length as complete. Here the disconnect
  becomes a ``ConnectionError`` on read, which Werkzeug turns into a 400 (ClientDisconnected).
- If the WSGI app raises instead of answering (Flask normally answers its own errors), the
  client still gets a 500 from the gateway's error renderer; once a response has started,
  the connection is dropped so that a truncated body never looks complete.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from a2wsgi import WSGIMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.legacy.environ import LegacyEnviron
from gateway.problems import ErrorRenderer, problem, send_error

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

logger = logging.getLogger(__name__)


class BodyInterrupted(ConnectionError):
    """The client went away before sending the whole request body."""


def _guard_body(receive: Receive) -> Receive:
    complete = False

    async def guarded() -> Message:
        nonlocal complete
        message = await receive()
        if message["type"] == "http.request":
            complete = not message.get("more_body", False)
        elif message["type"] == "http.disconnect" and not complete:
            raise BodyInterrupted("client disconnected before the request body was complete")
        return message

    return guarded


class LegacyMount:
    """ASGI app serving a WSGI app on ``workers`` threads.

    ``max_body_bytes`` caps a body sent without Content-Length (Flask enforces its own
    ``MAX_CONTENT_LENGTH`` on the others); the gateway passes the Flask app's own limit when
    it has one. ``errors`` renders the 500 for an app that raised.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        workers: int,
        max_body_bytes: int,
        errors: ErrorRenderer = problem,
    ) -> None:
        self.wsgi_app = app
        self.errors = errors
        # a2wsgi types the environ as its own TypedDict and the ASGI messages likewise;
        # the app follows typeshed's WSGI types and this class Starlette's ASGI ones.
        environ_fixed: Any = LegacyEnviron(app, max_body_bytes=max_body_bytes)
        self._asgi = cast(ASGIApp, WSGIMiddleware(environ_fixed, workers=workers))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._asgi(scope, receive, send)
            return

        response_started = False

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self._asgi(scope, _guard_body(receive), tracked_send)
        except Exception:
            if response_started:
                raise  # the server drops the connection: the client sees the truncation
            logger.exception("the legacy app raised instead of answering %s", scope["path"])
            await send_error(self.errors, 500, "internal error", scope, receive, send)
