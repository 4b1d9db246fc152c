"""Headers that may appear once: a request sending two of one is refused, for both sides.

Two ``Authorization`` headers are read differently by different stacks (a2wsgi joins them
with a comma for Flask, Starlette takes the first), so the same request would be a 401 on
one side and a 200 on the other. Ambiguity in who is asking, or in how long or what kind the
body is, is refused at the edge with a 400 before any side reads it.
"""

from __future__ import annotations

from collections import Counter
from http import HTTPStatus

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge.problems import ErrorRenderer, problem, send_error

SINGLETONS = frozenset(
    {b"authorization", b"proxy-authorization", b"host", b"content-type", b"content-length"}
)


class SingletonHeaders:
    def __init__(self, app: ASGIApp, *, errors: ErrorRenderer = problem) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            counts = Counter(
                name.lower() for name, _ in scope["headers"] if name.lower() in SINGLETONS
            )
            repeated = sorted(name.decode() for name, n in counts.items() if n > 1)
            if repeated:
                detail = f"header(s) sent more than once: {', '.join(repeated)}"
                await send_error(self.errors, HTTPStatus.BAD_REQUEST, detail, scope, receive, send)
                return
        await self.app(scope, receive, send)
