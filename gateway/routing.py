"""Pure ASGI middleware that sends each legacy request to the code the manifest names.

For a path under ``/legacy`` it finds the owning module; in state ``v2`` (and for the canary
share of state ``canary``) the request is answered by the v2 routes with the path the client
sent left as it was: only the scope handed inward says ``/v2``. Every answer names who served
it in ``X-Served-By``; legacy answers of a module whose successor is announced (``deprecated``
in the manifest) carry ``Deprecation``, ``Link: rel="successor-version"`` and ``Sunset``.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime, time
from email.utils import format_datetime

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.manifest import Manifest, Module, State
from gateway.shadow import SAFE_METHODS, Sample, ShadowRunner, replay_scope, request_summary
from shared.errors import Unauthorized
from shared.tokens import TokenCore, token_from_header

LEGACY_PREFIX = "/legacy"
V2_PREFIX = "/v2"
SERVED_BY = b"x-served-by"


def canary_bucket(module: str, key: str) -> int:
    """A stable bucket in 0..9999 for ``key`` within ``module``: the same user, the same side."""
    digest = hashlib.blake2b(f"{module}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10_000


class MigrationRouter:
    def __init__(
        self,
        app: ASGIApp,
        *,
        manifest: Manifest,
        tokens: TokenCore,
        shadow: ShadowRunner | None = None,
    ) -> None:
        self.app = app
        self.manifest = manifest
        self.tokens = tokens
        self.shadow = shadow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = [(SERVED_BY, b"gateway")]
        if path.startswith(V2_PREFIX + "/"):
            headers = [(SERVED_BY, b"v2")]
        elif path == LEGACY_PREFIX or path.startswith(LEGACY_PREFIX + "/"):
            rest = path.removeprefix(LEGACY_PREFIX)
            module = self.manifest.module_for(rest)
            if module is not None and self._to_v2(module, scope):
                headers = [(SERVED_BY, b"v2")]
                scope = _rewritten(scope, rest)
            else:
                headers = [(SERVED_BY, b"legacy"), *deprecation_headers(module, rest)]
                if module is not None and self._sampled(module, scope):
                    send = self._recording(send, module, scope, rest)
        await self.app(scope, receive, _with_headers(send, headers))

    def _sampled(self, module: Module, scope: Scope) -> bool:
        return (
            self.shadow is not None
            and module.state is State.shadow
            and scope["method"] in SAFE_METHODS  # unsafe methods are never replayed
            and random.random() < module.shadow_sample_rate
        )

    def _recording(self, send: Send, module: Module, scope: Scope, rest: str) -> Send:
        """Pass legacy's answer through untouched; once it is all sent, offer it to the shadow."""
        assert self.shadow is not None
        shadow, limit = self.shadow, self.shadow.settings.max_body_bytes
        status = 0
        chunks: list[bytes] = []
        size = 0

        async def recording(message: Message) -> None:
            nonlocal status, size
            await send(message)  # the client first, always
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and size <= limit:
                body = message.get("body", b"")
                size += len(body)
                chunks.append(body)
                if not message.get("more_body", False) and size <= limit:
                    shadow.offer(
                        Sample(
                            module=module,
                            scope=replay_scope(scope, V2_PREFIX + rest),
                            summary=request_summary(scope),
                            legacy_status=status,
                            legacy_body=b"".join(chunks),
                        )
                    )

        return recording

    def _to_v2(self, module: Module, scope: Scope) -> bool:
        if module.state is State.v2:
            return True
        if module.state is not State.canary:
            return False
        return canary_bucket(module.name, self._sticky_key(scope)) < module.canary_percent * 100

    def _sticky_key(self, scope: Scope) -> str:
        """The token's subject when it has a valid one, else the client's address."""
        authorization = Headers(scope=scope).get("authorization")
        try:
            token = token_from_header(authorization)
            if token is not None:
                return f"user:{self.tokens.verify(token).user_id}"
        except Unauthorized:
            pass  # a bad token is the answering side's business; bucket by address
        client = scope.get("client")
        return f"addr:{client[0]}" if client else "addr:unknown"


def deprecation_headers(module: Module | None, rest: str) -> list[tuple[bytes, bytes]]:
    """RFC 9745 ``Deprecation``, RFC 8594 ``Sunset`` and the successor link, once announced."""
    if module is None or module.deprecated is None:
        return []
    headers = [
        (b"deprecation", f"@{_epoch(module.deprecated)}".encode()),
        (b"link", f'<{V2_PREFIX}{rest}>; rel="successor-version"'.encode()),
    ]
    if module.sunset is not None:
        moment = datetime.combine(module.sunset, time(), tzinfo=UTC)
        headers.append((b"sunset", format_datetime(moment, usegmt=True).encode()))
    return headers


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


def _rewritten(scope: Scope, rest: str) -> Scope:
    path = V2_PREFIX + rest
    return {**scope, "path": path, "raw_path": path.encode()}


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    names = {name for name, _ in extra}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
            message = {**message, "headers": [*kept, *extra]}
        await send(message)

    return wrapped
