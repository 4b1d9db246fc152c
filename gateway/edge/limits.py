"""Request body limit at the gateway's edge: one limit, one 413, whichever side would answer.

A body that declares a larger ``Content-Length`` is refused before the app is called. A body
of unknown length (chunked) is counted as it arrives; the moment it passes the limit the
gateway answers 413 itself, and the app, still reading, sees the client disconnect (so a
legacy view never gets a truncated body, and v2 never stores one). Whatever the app sends
after that is dropped.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge.problems import ErrorRenderer, problem, send_error

TOO_LARGE = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
# The limit already enforced further out, so an app with a limit of its own (v2 mounted by
# the gateway) does not count the same body twice.
ENFORCED = "gateway.body_limit"


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        errors: ErrorRenderer = problem,
        served_by: str | None = "gateway",
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.errors = errors
        # Who the 413 says answered: the gateway at its edge; None inside an app of its own.
        self.served_by = served_by

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"request body larger than {self.max_body_bytes} bytes"
        await send_error(
            self.errors, TOO_LARGE, detail, scope, receive, send, served_by=self.served_by
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        enforced = scope.get(ENFORCED)
        if enforced is not None and enforced <= self.max_body_bytes:
            await self.app(scope, receive, send)  # nothing larger can get this far
            return
        scope[ENFORCED] = self.max_body_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            # The server has already refused a malformed Content-Length.
            if int(declared) > self.max_body_bytes:
                await self.refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server stops at the declared length
            return
        await _CountedRequest(self, scope, receive, send).run()


class _CountedRequest:
    def __init__(self, limit: BodyLimit, scope: Scope, receive: Receive, send: Send) -> None:
        self.limit = limit
        self.scope = scope
        self._receive = receive
        self._send = send
        self.seen = 0
        self.started = False  # the app began its answer
        self.refused = False  # the gateway answered 413 instead

    async def run(self) -> None:
        await self.limit.app(self.scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit.max_body_bytes and not self.started:
                self.refused = True
                await self.limit.refuse(self.scope, self._receive, self._send)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
