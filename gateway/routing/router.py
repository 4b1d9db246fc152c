"""Pure ASGI middleware that sends each legacy request to the code the manifest names.

A path is v2's under its prefix, the gateway's own under ``own_prefix`` (when the legacy app
has the root), and otherwise the legacy app's: under its prefix, or anywhere with the legacy
app at the root (``legacy_prefix`` ''). For a legacy path it finds the owning module; in
state ``v2`` (and for the canary share of state ``canary``) the request is answered by v2
with the path the client sent left as it was: only the scope handed inward names the v2
path. Every answer names who served it in ``X-Served-By``; legacy answers of a module
whose successor is announced (``deprecated`` in the manifest) carry ``Deprecation``,
``Link: rel="successor-version"`` and ``Sunset``. Safe requests of a module in state
``shadow`` are offered to the shadow. A route the module keeps on legacy
(``keep_on_legacy``) is legacy's in every state, for every canary user, and is neither
shadowed nor announced as replaced. A WebSocket reaches v2 under its prefix; on a legacy
path it is refused, since a WSGI app cannot take one.

Given the apps mounted under the two prefixes, it hands requests for them straight to the
app, with the scope a Starlette ``Mount`` would build: the gateway's own routing and
exception layers sit on every request's path otherwise, and on a small legacy view they
cost a measurable share of its throughput (``make bench``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from time import perf_counter as time_counter
from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config.manifest import Module, State
from gateway.config.prefixes import Prefixes
from gateway.control.live import Live
from gateway.control.rollback import WATCHED, Tally
from gateway.control.settings import Snapshot
from gateway.edge.problems import SERVED_BY as SERVED_BY_HEADER
from gateway.routing.canary import in_canary
from gateway.routing.sticky import StickyKey, client_address
from gateway.shadow.capture import Shadow, capturing

SERVED_BY = SERVED_BY_HEADER.encode()
# RFC 6455's close code for a request the endpoint will not serve.
WS_POLICY_VIOLATION = 1008


class MigrationRouter:
    def __init__(
        self,
        app: ASGIApp,
        *,
        live: Live,
        prefixes: Prefixes,
        sticky: StickyKey = client_address,
        shadow: Shadow | None = None,
        legacy_app: ASGIApp | None = None,
        v2_app: ASGIApp | None = None,
        tally: Tally | None = None,
    ) -> None:
        self.app = app
        self.legacy_app = legacy_app
        self.v2_app = v2_app
        self.live = live  # its snapshot is replaced whole when the runtime state changes
        self.side = prefixes.side
        self.legacy_prefix = prefixes.legacy
        self.v2_prefix = prefixes.v2
        self.sticky = sticky
        self.shadow = shadow
        self.tally = tally  # answers counted for automatic rollback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return
        path: str = scope["path"]
        side = self.side(path)
        headers = [(SERVED_BY, b"gateway")]
        app = self.app
        if side == "v2":
            headers = [(SERVED_BY, b"v2")]
            app, scope = self._mounted(self.v2_app, self.v2_prefix, scope)
        elif side == "legacy":
            rest = path.removeprefix(self.legacy_prefix)
            snapshot = self.live.snapshot  # read once: the whole request is served by it
            module = snapshot.manifest.module_for(rest)
            kept = module is not None and module.keeps(scope["method"], rest)
            watched = module is not None and not kept and module.rollback is not None
            if module is not None and not kept and self._to_v2(module, scope):
                headers = [(SERVED_BY, b"v2")]
                if watched and self.tally is not None:
                    send = observing(self.tally, module, snapshot, "v2", send)
                scope = _rewritten(scope, self.v2_prefix + module.v2_path(rest))
                app, scope = self._mounted(self.v2_app, self.v2_prefix, scope)
                if not module.v2_paths:
                    send = self._relocating(send)
            else:
                headers = [(SERVED_BY, b"legacy")]
                if watched and self.tally is not None and module is not None:
                    send = observing(self.tally, module, snapshot, "legacy", send)
                if not kept:
                    headers += self.deprecation_headers(module, rest)
                if module is not None and not kept and self.shadow is not None:
                    v2_path = self.v2_prefix + module.v2_path(rest)
                    send = capturing(self.shadow, module, scope, v2_path, send)
                if rest.startswith("/"):
                    app, scope = self._mounted(self.legacy_app, self.legacy_prefix, scope)
        await app(scope, receive, _with_headers(send, headers))

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket goes to v2 under its prefix; a WSGI app has none to accept, so one on
        a legacy path is refused before the handshake (uvicorn answers it 403, as Starlette
        refuses a WebSocket no route takes). The lifespan is the gateway's."""
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        side = self.side(scope["path"])
        if side == "v2" and self.v2_app is not None:
            app, scope = self._mounted(self.v2_app, self.v2_prefix, scope)
            await app(scope, receive, send)
        elif side == "legacy":
            await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION})
        else:
            await self.app(scope, receive, send)

    def _mounted(self, app: ASGIApp | None, prefix: str, scope: Scope) -> tuple[ASGIApp, Scope]:
        """``app`` with the scope ``Mount(prefix, app)`` would give it; without one, the
        gateway's own app (an APIRouter given as v2 is served by the gateway's router)."""
        if app is None:
            return self.app, scope
        root_path = scope.get("root_path", "")
        mounted = {
            **scope,
            "app_root_path": scope.get("app_root_path", root_path),
            "root_path": root_path + prefix,
            "path_params": {},
        }
        return app, mounted

    def _to_v2(self, module: Module, scope: Scope) -> bool:
        if module.state is State.v2:
            return True
        if module.state is not State.canary:
            return False
        return in_canary(module.name, self.sticky(scope), module.canary_percent)

    def deprecation_headers(self, module: Module | None, rest: str) -> list[tuple[bytes, bytes]]:
        """RFC 9745 ``Deprecation``, RFC 8594 ``Sunset`` and the successor link, once announced."""
        if module is None or module.deprecated is None:
            return []
        successor = self.v2_prefix + module.v2_path(rest)
        headers = [
            (b"deprecation", f"@{_epoch(module.deprecated)}".encode()),
            (b"link", f'<{successor}>; rel="successor-version"'.encode()),
        ]
        if module.sunset is not None:
            moment = datetime.combine(module.sunset, time(), tzinfo=UTC)
            headers.append((b"sunset", format_datetime(moment, usegmt=True).encode()))
        return headers

    def _relocating(self, send: Send) -> Send:
        """A redirect v2 answers on a legacy URL points back under the legacy prefix: a
        legacy client never sees a v2 URL (module paths swapped by prefix only)."""
        v2_prefix, legacy_prefix = self.v2_prefix, self.legacy_prefix

        async def relocated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                location = headers.get("location")
                if location is not None:
                    parts = urlsplit(location)
                    if parts.path.startswith(v2_prefix + "/"):
                        path = legacy_prefix + parts.path.removeprefix(v2_prefix)
                        headers["location"] = urlunsplit(parts._replace(path=path))
            await send(message)

        return relocated


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


def _rewritten(scope: Scope, path: str) -> Scope:
    return {**scope, "path": path, "raw_path": path.encode()}


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    names = {name for name, _ in extra}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
            message = {**message, "headers": [*kept, *extra]}
        await send(message)

    return wrapped


def observing(tally: Tally, module: Module, snapshot: Snapshot, side: str, send: Send) -> Send:
    """``send``, counting the answer's status and time for the module's rollback window."""
    if module.state not in WATCHED:
        return send
    since = snapshot.since.get(module.name, 0)
    started = time_counter()
    status = 0

    async def observed(message: Message) -> None:
        nonlocal status
        await send(message)
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            tally.observe(module.name, since, side, status, time_counter() - started)

    return observed
