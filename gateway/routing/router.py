"""Pure ASGI middleware that sends each legacy request to the code the manifest names.

A path is v2's under its prefix, the gateway's own under ``own_prefix`` (when the legacy app
has the root), and otherwise the legacy app's: under its prefix, or anywhere with the legacy
app at the root (``legacy_prefix`` ''). For a legacy path it finds the owning module; in
state ``v2`` (and for the canary share of state ``canary``) the request is answered by v2
with the path the client sent left as it was: only the scope handed inward names the v2
path. Every answer names who served it in ``X-Served-By``; legacy answers of a module
whose successor is announced (``deprecated`` in the manifest) carry ``Deprecation``,
``Link: rel="successor-version"`` and ``Sunset``. Safe requests of a module in state
``shadow`` are offered to the shadow; so are its writes when it opts in (``shadow_writes``:
v2 answers them first, in a transaction that is rolled back). A route the module keeps on legacy
(``keep_on_legacy``) is legacy's in every state, for every canary user, and is neither
shadowed nor announced as replaced. A WebSocket reaches v2 under its prefix; on a legacy
path it is refused, since a WSGI app cannot take one.

Each answer is counted for ``/metrics`` (by module, side and status class) and, for a module
whose state is judged, for its rollback window. A request that carries the operator's token
(``admin_token``) is no client's: it is never shadowed, never sent to a canary and never
counted, and neither side sees the token.

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
from gateway.control.rollback import SERVER_ERROR, WATCHED, Tally
from gateway.control.settings import Snapshot
from gateway.edge.admin import AdminToken
from gateway.edge.problems import SERVED_BY as SERVED_BY_HEADER
from gateway.metrics.instruments import NO_MODULE, Metrics
from gateway.routing.canary import in_canary
from gateway.routing.sticky import StickyKey, client_address
from gateway.shadow.capture import Shadow, capturing, replay_scope
from gateway.shadow.written import ShadowedWrite, sampled_write

SERVED_BY = SERVED_BY_HEADER.encode()
SERVED = {side: side.encode() for side in ("gateway", "legacy", "v2")}
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
        metrics: Metrics | None = None,
        admin: AdminToken | None = None,
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
        self.metrics = metrics
        self.admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return
        path: str = scope["path"]
        side = self.side(path)
        client = True  # an operator's request (the admin token) is no client's: see below
        if self.admin is not None and (stripped := self.admin.without_token(scope)) is not None:
            client = False
            if side != "gateway":  # the token is the gateway's: neither side sees it
                scope = stripped
        served: str = "gateway"
        module: Module | None = None
        watched: Snapshot | None = None  # the snapshot of a module whose answers are judged
        app = self.app
        extra: list[tuple[bytes, bytes]] = []
        if side == "v2":
            served = "v2"
            app, scope = self._mounted(self.v2_app, self.v2_prefix, scope)
        elif side == "legacy":
            rest = path.removeprefix(self.legacy_prefix)
            snapshot = self.live.snapshot  # read once: the whole request is served by it
            module = snapshot.manifest.module_for(rest)
            moving = module if module and not module.keeps(scope["method"], rest) else None
            if moving and client and moving.rollback is not None and moving.state in WATCHED:
                watched = snapshot
            if moving is not None and self._to_v2(moving, scope, client):
                served = "v2"
                app, scope, send = self._to_module_v2(moving, rest, scope, send)
            else:
                served = "legacy"
                if moving is not None:
                    extra = self.deprecation_headers(moving, rest)
                if rest.startswith("/"):
                    app, scope = self._mounted(self.legacy_app, self.legacy_prefix, scope)
                if moving is not None and client and self.shadow is not None:
                    v2_path = self.v2_prefix + moving.v2_path(rest)
                    if sampled_write(moving, scope):
                        v2_app, v2_scope = self._mounted(
                            self.v2_app, self.v2_prefix, replay_scope(scope, v2_path)
                        )
                        app = ShadowedWrite(self.shadow, moving, app, v2_app, v2_scope)
                    else:
                        send = capturing(self.shadow, moving, scope, v2_path, send)
        answer = Answer(send, served, extra)
        if not client or (self.metrics is None and watched is None):
            await app(scope, receive, answer)
            return
        started = time_counter()
        try:
            await app(scope, receive, answer)
        except BaseException:
            answer.status = answer.status or SERVER_ERROR  # the server answers it so
            raise
        finally:
            self._count(module, served, answer.status, time_counter() - started, watched)

    def _count(
        self,
        module: Module | None,
        served: str,
        status: int,
        seconds: float,
        watched: Snapshot | None,
    ) -> None:
        """An answer's figures: for ``/metrics``, and for the rollback window of a watched
        module (one whose state is judged: canary or v2, with ``[module.rollback]``)."""
        name = module.name if module is not None else NO_MODULE
        if self.metrics is not None:
            self.metrics.answered(name, served, status, seconds)
        if watched is not None and status and self.tally is not None:
            self.tally.observe(name, watched.since.get(name, 0), served, status, seconds)

    def _to_module_v2(
        self, module: Module, rest: str, scope: Scope, send: Send
    ) -> tuple[ASGIApp, Scope, Send]:
        """A module's legacy path answered by v2: the scope handed inward names the v2 path."""
        scope = _rewritten(scope, self.v2_prefix + module.v2_path(rest))
        app, scope = self._mounted(self.v2_app, self.v2_prefix, scope)
        if not module.v2_paths:
            send = self._relocating(send)
        return app, scope, send

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

    def _to_v2(self, module: Module, scope: Scope, client: bool) -> bool:
        """Whether v2 answers: in state v2, and for a canary user; never for an operator in
        canary, whose requests would tilt the canary's figures."""
        if module.state is State.v2:
            return True
        if module.state is not State.canary or not client:
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


class Answer:
    """The ``send`` every answer goes through: it names who served it (and adds the other
    headers given), and keeps the status for the figures."""

    __slots__ = ("extra", "names", "send", "status")

    def __init__(self, send: Send, served: str, extra: list[tuple[bytes, bytes]]) -> None:
        self.send = send
        self.extra = [(SERVED_BY, SERVED[served]), *extra]
        self.names = {name for name, _ in self.extra}
        self.status = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            names = self.names
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
            message = {**message, "headers": [*kept, *self.extra]}
        await self.send(message)
