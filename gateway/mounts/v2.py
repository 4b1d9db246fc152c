"""The v2 app as the gateway serves it: its own lifespan run, its lifespan state delivered.

Starlette runs no lifespan for a mounted app, so the gateway runs v2's (any ASGI app's,
through asgi-lifespan) inside its own, with deadlines, and routes requests through the
manager so that state v2's lifespan yields reaches v2's requests. HEAD and OPTIONS are
answered as the legacy app would (:mod:`gateway.methods`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_lifespan import LifespanManager, LifespanNotSupported
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.mounts.methods import MethodFallbacks

# Deadlines for v2's start-up (it may open pools, warm caches) and shutdown.
STARTUP_TIMEOUT_SECONDS = 30.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


class V2Mount:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._serving: ASGIApp = MethodFallbacks(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._serving(scope, receive, send)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run v2's lifespan around the gateway's; an app without one is served as it is."""
        manager = LifespanManager(
            self.app,
            startup_timeout=STARTUP_TIMEOUT_SECONDS,
            shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
        )
        try:
            await manager.__aenter__()
        except LifespanNotSupported:
            yield
            return
        self._serving = MethodFallbacks(manager.app, routes_of=self.app)
        try:
            yield
        finally:
            self._serving = MethodFallbacks(self.app)
            await manager.__aexit__(None, None, None)
