"""Capture: choose the sampled requests and hand legacy's answer to the shadow, after the client.

The client's answer passes through untouched and first; only once its last byte is sent is
a sample offered to the runner, and only for safe methods (a replay must change nothing).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from starlette.types import Message, Scope, Send

from gateway.config.manifest import Module, State
from gateway.config.options import ShadowOptions

if TYPE_CHECKING:
    from gateway.shadow.written import Turn

SAFE_METHODS = frozenset({"GET", "HEAD"})
# In canary, the requests legacy still answers keep the paired evidence coming for the gates.
SHADOWED = frozenset({State.shadow, State.canary})
# Never stored: whatever authenticates the client or tracks it.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-csrf-token"}
)


@dataclass(frozen=True, slots=True)
class Sample:
    module: Module
    scope: Scope  # the request as v2 will see it (path under /v2)
    summary: dict[str, Any]
    legacy_status: int
    legacy_body: bytes
    legacy_seconds: float  # from the request's arrival to its answer's last byte
    v2_turn: Turn | None = None  # a shadowed write: v2 answered first, in its sandbox
    legacy_writes: tuple[str, ...] = ()  # the write set legacy's answer made


class Shadow(Protocol):
    """Where samples go: replayed in this process (ShadowRunner) or another (ProcessShadow)."""

    settings: ShadowOptions

    def offer(self, sample: Sample) -> None: ...


def request_summary(scope: Scope) -> dict[str, Any]:
    """What a person needs to reproduce the request, without credentials or cookies."""
    headers = {}
    authenticated = False
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name in _SECRET_HEADERS:
            authenticated = authenticated or name == "authorization"
            continue
        headers[name] = raw_value.decode("latin-1")
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1"),
        "headers": headers,
        "authenticated": authenticated,
    }


def replay_scope(scope: Scope, v2_path: str) -> Scope:
    """A fresh HTTP scope for v2: nothing the first pass stored in it leaks into the replay."""
    return {
        "type": "http",
        "asgi": scope.get("asgi", {"version": "3.0"}),
        "http_version": scope.get("http_version", "1.1"),
        "method": scope["method"],
        "scheme": scope.get("scheme", "http"),
        "server": scope.get("server"),
        "client": scope.get("client"),
        "root_path": "",
        "path": v2_path,
        "raw_path": v2_path.encode(),
        "query_string": scope.get("query_string", b""),
        "headers": [*scope["headers"], (b"x-shadow-replay", b"1")],
        "state": dict(scope.get("state", {})),
    }


def capturing(shadow: Shadow, module: Module, scope: Scope, v2_path: str, send: Send) -> Send:
    """``send``, recording legacy's answer for a replay when this request is sampled."""
    if (
        module.state not in SHADOWED
        or scope["method"] not in SAFE_METHODS  # unsafe methods are never replayed
        or random.random() >= module.shadow_sample_rate
    ):
        return send
    limit = shadow.settings.max_body_bytes
    started = time.perf_counter()
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
                        scope=replay_scope(scope, v2_path),
                        summary=request_summary(scope),
                        legacy_status=status,
                        legacy_body=b"".join(chunks),
                        legacy_seconds=time.perf_counter() - started,
                    )
                )

    return recording
