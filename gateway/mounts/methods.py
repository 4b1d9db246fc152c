"""HEAD and OPTIONS on v2 as Flask answers them, so moving a module changes neither.

Flask (Werkzeug) answers ``HEAD`` on every ``GET`` rule and ``OPTIONS`` on every rule by
itself; FastAPI routes answer only the methods they declare, so a client's ``HEAD`` would
turn into a 405 the day its module moves to v2. Wrapped around the v2 app, this middleware
lets v2 answer first and steps in only when v2 refuses the method with a 405:

- ``HEAD``: the request is answered as ``GET``, with the same status and headers (the
  ``Content-Length`` of the body a ``GET`` would have sent) and no body;
- ``OPTIONS``: 200 with an empty body and ``Allow`` naming every method the path accepts
  (from the app's routes when it is a Starlette/FastAPI app, else v2's own ``Allow``),
  plus ``HEAD`` and ``OPTIONS``.
"""

from __future__ import annotations

import functools
import re
from http import HTTPStatus
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_AUTOMATIC = ("HEAD", "OPTIONS")


class _RefusalGuard:
    """Passes v2's answer on, except a 405, which it holds back and remembers."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.allow: str | None = None  # set when v2 refused the method

    async def __call__(self, message: Message) -> None:
        if (
            message["type"] == "http.response.start"
            and message["status"] == HTTPStatus.METHOD_NOT_ALLOWED
        ):
            self.allow = Headers(raw=message.get("headers", [])).get("allow", "")
        if self.allow is None:
            await self.send(message)


def _without_body(send: Send) -> Send:
    async def headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send(message)

    return headers_only


def route_methods(app: Any, scope: Scope) -> set[str]:
    """Every method ``app`` documents or routes at ``scope``'s path: from its OpenAPI document
    (FastAPI's public ``openapi()``), else from a Starlette router's routes."""
    path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
    openapi = getattr(app, "openapi", None)
    if callable(openapi):
        return {
            method.upper()
            for template, item in openapi().get("paths", {}).items()
            if _template(template).fullmatch(path)
            for method in item
        }
    methods: set[str] = set()
    for route in getattr(getattr(app, "router", None), "routes", ()):
        match, _child = route.matches(scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return methods


@functools.lru_cache(maxsize=1024)
def _template(template: str) -> re.Pattern[str]:
    """An OpenAPI path template (``/articles/{slug}``) as a regex of the paths it names."""
    parts = re.split(r"(\{[^{}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


class MethodFallbacks:
    def __init__(self, app: ASGIApp, *, routes_of: Any = None) -> None:
        self.app = app
        # The app whose routes list the methods (the v2 app itself, behind any wrapper).
        self.routes_of = routes_of if routes_of is not None else app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _AUTOMATIC:
            await self.app(scope, receive, send)
            return
        guard = _RefusalGuard(send)
        await self.app(scope, receive, guard)
        if guard.allow is None:
            return
        if scope["method"] == "OPTIONS":
            await self._options(scope, guard.allow, send)
        elif "GET" in _methods(guard.allow) or "GET" in route_methods(self.routes_of, scope):
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        else:
            await self._refuse(guard.allow, send)

    async def _options(self, scope: Scope, allow: str, send: Send) -> None:
        methods = route_methods(self.routes_of, scope) | _methods(allow)
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
        await send(
            {
                "type": "http.response.start",
                "status": HTTPStatus.OK,
                "headers": [
                    (b"allow", ", ".join(sorted(methods)).encode()),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, allow: str, send: Send) -> None:
        # A HEAD where not even GET is allowed: the 405 v2 meant, without its body.
        await send(
            {
                "type": "http.response.start",
                "status": HTTPStatus.METHOD_NOT_ALLOWED,
                "headers": [(b"allow", allow.encode()), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _methods(allow: str) -> set[str]:
    return {method.strip().upper() for method in allow.split(",") if method.strip()}
