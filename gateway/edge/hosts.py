"""Only the hosts the gateway serves: a request naming another ``Host`` is a 400.

A legacy app writes the ``Host`` header into what it sends back (Flask's redirect
``Location``, ``url_for(..., _external=True)``), so a client choosing the header chooses where
those point. Which hosts are accepted is Starlette's ``TrustedHostMiddleware``, used as it is
(``*.example.com`` patterns, the redirect from ``example.com`` to an allowed
``www.example.com``); only its refusal takes the gateway's configured error shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge.problems import ErrorRenderer, problem, send_error

# Set in the scope once Starlette's check let the request through: any answer begun
# without it is the check's own refusal.
_PASSED = "gateway.host_allowed"


class AllowedHosts:
    def __init__(
        self, app: ASGIApp, *, allowed_hosts: Sequence[str], errors: ErrorRenderer = problem
    ) -> None:
        self.app = app
        self.errors = errors
        self.check = TrustedHostMiddleware(self._allowed, allowed_hosts=list(allowed_hosts))

    async def _allowed(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_PASSED] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.check.allow_any or scope["type"] != "http":
            # A WebSocket handshake is Starlette's to refuse (a 403 from the server).
            check = self.check if scope["type"] == "websocket" else self.app
            await check(scope, receive, send)
            return
        refused = False

        async def shaped(message: Message) -> None:
            nonlocal refused
            if refused:
                return
            started = message["type"] == "http.response.start"
            if started and not scope.get(_PASSED) and message["status"] == HTTPStatus.BAD_REQUEST:
                refused = True
                detail = "the Host header names a host this gateway does not serve"
                await send_error(self.errors, HTTPStatus.BAD_REQUEST, detail, scope, receive, send)
                return
            await send(message)

        await self.check(scope, receive, shaped)
