"""Both apps of a configuration answering in this process, for checks run before any traffic.

The apps run on an event loop of their own thread, their lifespans running, and answer the
requests sent from this (synchronous) one: Hypothesis calls its tests synchronously. A
write is answered by each side in a sandbox of its own (:mod:`gateway.bridges.sandbox`),
one after the other, so that both see the database as it was and neither changes it; the
rows each wrote are recorded and compared as the shadow compares them.

Legacy's writes are rolled back only where its sessions join the sandbox: Flask-SQLAlchemy's
``db.session`` is made to (``join_sandbox``), and an app with a session factory of its own
adopts ``current_sandbox()``. A commit elsewhere is reported in ``escapes``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.bridges.flask_sqlalchemy import join_sandbox
from gateway.bridges.sandbox import sandboxed
from gateway.config.configuration import Config
from gateway.mounts.sides import Sides
from gateway.shadow.capture import SAFE_METHODS
from gateway.shadow.write_sets import recording

# How long one generated request may take on either side.
ANSWER_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Asked:
    legacy: httpx.Response
    v2: httpx.Response
    legacy_writes: tuple[str, ...] = ()
    v2_writes: tuple[str, ...] = ()
    escapes: tuple[str, ...] = ()  # what either side did outside its sandbox


class BothSides:
    def __init__(
        self, config: Config, sides: Sides, headers: Mapping[str, str], *, write_ignore: Any = ()
    ) -> None:
        assert sides.v2 is not None
        options = config.options
        self.legacy = _client(sides.legacy.asgi, options.legacy_base)
        self.v2 = _client(sides.v2.asgi, options.v2_prefix)
        if sides.legacy.flask is not None and "sqlalchemy" in sides.legacy.flask.extensions:
            join_sandbox(sides.legacy.flask)
        self.sides = sides
        self.options = options
        self.headers = dict(headers)
        self.write_ignore = tuple(write_ignore)
        self.loop = asyncio.new_event_loop()
        self._stack = AsyncExitStack()

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(ANSWER_SECONDS * 3)

    @contextmanager
    def running(self) -> Iterator[BothSides]:
        thread = threading.Thread(target=self.loop.run_forever, name="parity-check", daemon=True)
        thread.start()
        try:
            self._run(self._start())
            yield self
        finally:
            self._run(self._stack.aclose())
            self.loop.call_soon_threadsafe(self.loop.stop)
            thread.join(ANSWER_SECONDS)
            self.loop.close()

    async def _start(self) -> None:
        await self._stack.enter_async_context(self.sides.legacy.running())
        assert self.sides.v2 is not None
        await self._stack.enter_async_context(self.sides.v2.running())
        await self._stack.enter_async_context(self.legacy)
        await self._stack.enter_async_context(self.v2)

    def ask(
        self, method: str, legacy: str, v2: str, query: Any, headers: Any, body: Any = None
    ) -> Asked:
        """Both answers to one request (``body``: JSON, or None for none)."""
        # The headers given on the command line replace the generated ones of the same name
        # (an Authorization drawn from the schema), whatever their case.
        given = {name.lower() for name in self.headers}
        generated = {k: str(v) for k, v in (headers or {}).items() if k.lower() not in given}
        sent = {**generated, **self.headers}
        request: dict[str, Any] = {"params": query, "headers": sent}
        if body is not None:
            request["json"] = body

        async def both() -> Asked:
            async with asyncio.timeout(ANSWER_SECONDS * 2):
                if method in SAFE_METHODS:
                    old = await self.legacy.request(method, legacy, **request)
                    new = await self.v2.request(method, v2, **request)
                    return Asked(old, new)
                old, old_writes, old_escapes = await self._sandboxed(
                    self.legacy, method, legacy, request
                )
                new, new_writes, new_escapes = await self._sandboxed(self.v2, method, v2, request)
                escapes = tuple(f"legacy {e}" for e in old_escapes) + tuple(
                    f"v2 {e}" for e in new_escapes
                )
                return Asked(old, new, old_writes, new_writes, escapes)

        asked: Asked = self._run(both())
        return asked

    async def _sandboxed(
        self, client: httpx.AsyncClient, method: str, url: str, request: dict[str, Any]
    ) -> tuple[httpx.Response, tuple[str, ...], list[str]]:
        async with sandboxed() as sandbox:
            with recording() as writes:
                answer = await client.request(method, url, **request)
        return answer, tuple(writes.comparable(self.write_ignore)), sandbox.escapes


def _client(app: Any, root_path: str) -> httpx.AsyncClient:
    # An app that raises is answered 500, as a server answers it: a difference to report,
    # not an error of the check.
    transport = httpx.ASGITransport(app=app, root_path=root_path, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")
