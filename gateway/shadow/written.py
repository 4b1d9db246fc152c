"""Shadowed writes: v2 answers a sampled write first, in a sandbox, then legacy serves it.

For a module with ``shadow_writes``, a sampled unsafe request is read whole (up to the
shadow's ``max_body_bytes``, of a declared length: chunked bodies are not sampled), then:

1. v2 answers it inside ``sandboxed()``: its sessions commit to savepoints of a transaction
   that is rolled back when its turn ends, its writes are recorded, and the turn is bounded
   by the shadow's ``timeout_seconds``;
2. the legacy app serves the client, for real, its writes recorded too.

v2 goes first so that both sides see the database as it was: after legacy's commit, v2 would
find the username taken, the article already favourited. The client waits for v2's turn;
that is the price of the evidence (``bench/``), paid only for the sampled share of the
modules that opt in. The comparison (answers, then write sets) is the runner's, after the
client's answer, as for a replayed read.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.bridges.sandbox import sandboxed
from gateway.config.manifest import Module
from gateway.shadow.capture import SAFE_METHODS, SHADOWED, Sample, Shadow, request_summary
from gateway.shadow.write_sets import recording


@dataclass(frozen=True, slots=True)
class Turn:
    """v2's turn at a shadowed write, as the runner compares it."""

    status: int
    body: bytes
    seconds: float
    writes: tuple[str, ...]
    escapes: tuple[str, ...]  # what v2 did outside its sandbox: a commit, a connection
    error: str | None = None


def sampled_write(module: Module, scope: Scope) -> bool:
    return (
        module.shadow_writes
        and module.state in SHADOWED
        and scope["method"] not in SAFE_METHODS
        and random.random() < module.shadow_sample_rate
    )


async def answered(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, bytes]:
    """Call ``app`` with ``body`` as the whole request; its status and body."""
    status = 0
    chunks: list[bytes] = []
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


class ShadowedWrite:
    """The legacy app for one sampled write, with v2's sandboxed turn before it."""

    def __init__(
        self, shadow: Shadow, module: Module, legacy: ASGIApp, v2: ASGIApp, v2_scope: Scope
    ) -> None:
        self.shadow = shadow
        self.module = module
        self.legacy = legacy
        self.v2 = v2
        self.v2_scope = v2_scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.shadow.settings.max_body_bytes
        headers = Headers(scope=scope)
        # Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 6.3).
        declared = headers.get("content-length", "" if "transfer-encoding" in headers else "0")
        if not declared.isdigit() or int(declared) > limit:
            await self.legacy(scope, receive, send)  # a body of unknown or large size
            return
        read, body = await self._body(receive, int(declared))
        receive = _replaying(read, receive)
        if body is None:  # it did not arrive in time, or the client left: legacy's to judge
            await self.legacy(scope, receive, send)
            return
        turn = await self._v2_turn(body)
        started = time.perf_counter()
        status, answer, whole = 0, bytearray(), False

        async def kept(message: Message) -> None:
            nonlocal status, whole
            await send(message)  # the client first, always
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                whole = not message.get("more_body", False)
                if len(answer) <= limit:
                    answer.extend(message.get("body", b""))

        with recording() as writes:
            await self.legacy(scope, receive, kept)
        # An answer cut short (the client left) is not legacy's answer: nothing to compare.
        if whole and len(answer) <= limit:
            self.shadow.offer(
                Sample(
                    module=self.module,
                    scope=self.v2_scope,
                    summary=request_summary(scope),
                    legacy_status=status,
                    legacy_body=bytes(answer),
                    legacy_seconds=time.perf_counter() - started,
                    v2_turn=turn,
                    legacy_writes=tuple(writes.comparable(self.module.write_ignore)),
                )
            )

    async def _body(self, receive: Receive, size: int) -> tuple[list[Message], bytes | None]:
        """The messages read, and the whole body if it came within the shadow's timeout."""
        read: list[Message] = []
        try:
            async with asyncio.timeout(self.shadow.settings.timeout_seconds):
                while True:
                    message = await receive()
                    read.append(message)
                    if message["type"] != "http.request":
                        return read, None
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return read, None
        body = b"".join(message.get("body", b"") for message in read)
        return read, body if len(body) <= size else None

    async def _v2_turn(self, body: bytes) -> Turn:
        # A task of its own: what v2 sets in its context stays there, and a timeout cancels
        # it; it is awaited to its end either way, so the sandbox is closed before legacy
        # writes (on SQLite it holds the write lock).
        started = time.perf_counter()
        task = asyncio.create_task(self._run_v2(body, started))
        timeout = self.shadow.settings.timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            error = f"v2 did not answer within {timeout:g} s"
        except Exception as exc:
            error = f"v2 raised {exc!r}"[:2000]
        return Turn(0, b"", time.perf_counter() - started, (), (), error)

    async def _run_v2(self, body: bytes, started: float) -> Turn:
        async with sandboxed() as sandbox:
            with recording() as writes:
                # A copy: the app writes into the scope it is given (its router, the
                # endpoint...), and the sample's goes to the replay process, pickled.
                status, answer = await answered(self.v2, dict(self.v2_scope), body)
        return Turn(
            status,
            answer,
            time.perf_counter() - started,
            tuple(writes.comparable(self.module.write_ignore)),
            tuple(sandbox.escapes),
        )


def _replaying(read: list[Message], receive: Receive) -> Receive:
    """``receive``, giving the messages already read first."""
    pending = list(read)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
