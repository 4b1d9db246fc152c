"""Headers that may appear once, and ``Cookie``: each side reads a request's headers alike.

Two ``Authorization`` headers are read differently by different stacks (a2wsgi joins them
with a comma for Flask, Starlette takes the first), so the same request would be a 401 on
one side and a 200 on the other. Ambiguity in who is asking, or in how long or what kind the
body is, is refused at the edge with a 400 before any side reads it.

``Cookie`` is different: a client sends one (RFC 6265, section 5.4), but an HTTP/2 client or
proxy may split it into several, which must be joined with ``"; "`` before they are handed to
HTTP/1.1 (RFC 9113, section 8.2.3), and not every proxy does. Left several, they are read
differently too: a2wsgi joins them with a comma into Flask's ``HTTP_COOKIE``, and Werkzeug,
which splits cookies at ``;`` only, sees the first header's last cookie swallow the rest,
while Starlette reads each header's cookies. So they are joined here, as RFC 9113 says, and
both sides read one ``Cookie`` header.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge.problems import ErrorRenderer, problem, send_error

SINGLETONS = frozenset(
    {b"authorization", b"proxy-authorization", b"host", b"content-type", b"content-length"}
)
COOKIE = b"cookie"
WATCHED = SINGLETONS | {COOKIE}
# What joins the cookies of several Cookie headers (RFC 9113, section 8.2.3).
COOKIE_SEPARATOR = b"; "


def _one_cookie_header(scope: Scope) -> Scope:
    """``scope`` with its Cookie headers joined, in their order, into one."""
    headers = scope["headers"]
    cookies = COOKIE_SEPARATOR.join(v for name, v in headers if name.lower() == COOKIE)
    others = [(name, v) for name, v in headers if name.lower() != COOKIE]
    return {**scope, "headers": [*others, (COOKIE, cookies)]}


class SingletonHeaders:
    def __init__(self, app: ASGIApp, *, errors: ErrorRenderer = problem) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Every request passes here: one pass over the names, and more only when one of
            # those watched comes twice.
            watched = [n for name, _ in scope["headers"] if (n := name.lower()) in WATCHED]
            if len(watched) != len(set(watched)):
                repeated = sorted(
                    {n.decode() for n in watched if n != COOKIE and watched.count(n) > 1}
                )
                if repeated:
                    detail = f"header(s) sent more than once: {', '.join(repeated)}"
                    await send_error(
                        self.errors, HTTPStatus.BAD_REQUEST, detail, scope, receive, send
                    )
                    return
                scope = _one_cookie_header(scope)
        await self.app(scope, receive, send)
