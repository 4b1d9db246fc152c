"""The gateway application: the legacy WSGI app and the v2 app, composed by configuration.

Read from the outside in, a request meets the edge (allowed hosts, singleton headers, the
body limit), then the migration router, which hands it to the side that answers its path;
only the paths of neither side reach the gateway's own endpoints (health, the docs and the
merged OpenAPI), which move under ``gateway_prefix`` (``/_gateway``) when the legacy app is
served at the root.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import Response

from gateway.config.configuration import Config, load_config
from gateway.config.errors import ConfigError
from gateway.config.manifest import Manifest
from gateway.control.live import Follower, Live, starting_snapshot
from gateway.edge.admin import AdminToken
from gateway.edge.headers import SingletonHeaders
from gateway.edge.hosts import AllowedHosts
from gateway.edge.limits import BodyLimit
from gateway.edge.problems import ErrorRenderer, error_renderer
from gateway.health import health_router
from gateway.metrics.exposition import metrics_router
from gateway.metrics.instruments import Metrics
from gateway.mounts.coverage import coverage_problems
from gateway.mounts.sides import Sides, load_sides
from gateway.openapi.merged import install_openapi
from gateway.records.store import RecordStore
from gateway.records.urls import records_database
from gateway.routing.router import MigrationRouter
from gateway.routing.sticky import sticky_key
from gateway.shadow.capture import Shadow
from gateway.shadow.process import ProcessShadow
from gateway.shadow.runner import ShadowRunner

TITLE = "Flask-to-FastAPI migration gateway"
# The Swagger UI and ReDoc files, served by the gateway itself (no CDN on a closed network).
ASSETS_URL = "/docs-static"


def create_app(
    config: Config | None = None,
    *,
    legacy: Any = None,
    v2: Any = None,
    store: RecordStore | None = None,
    replay_process: bool = False,
) -> FastAPI:
    """Build the gateway from ``config`` (read from the manifest and ``GATEWAY_*`` without).

    ``legacy`` and ``v2`` are the apps to serve, loaded from the configured import strings
    when not given. The records ``store`` is created (and disposed of on shutdown) unless one
    is given. With ``replay_process`` (as ``gateway serve`` runs it), shadow samples are
    replayed by a process of their own, which builds v2 from the configuration: only for a
    v2 loaded from it, and started with the first sample. Any configuration problem
    raises :class:`gateway.config.errors.ConfigError` here.
    """
    config = config or load_config()
    errors = error_renderer(config)
    admin, metrics = _admin(config)
    turns = metrics.legacy_turns if metrics is not None else None
    sides = load_sides(config, errors=errors, legacy=legacy, v2=v2, watch_turns=turns)
    records = (
        store
        if store is not None
        else RecordStore(records_database(config, sides.legacy.database_url))
    )
    try:
        config, follower = _runtime(config, sides, records)
    except BaseException:
        if store is None:  # made here: its connection goes with the refusal
            records.engine.dispose()
        raise
    own_process = replay_process and v2 is None
    shadow = _shadow(config, sides, records, metrics, own_process=own_process)
    own = config.options.own_prefix
    app = FastAPIOffline(
        title=TITLE,
        docs_url=f"{own}/docs",
        redoc_url=f"{own}/redoc",
        openapi_url=f"{own}/openapi.json",
        swagger_ui_oauth2_redirect_url=f"{own}/docs/oauth2-redirect",
        static_url=own + ASSETS_URL,
        lifespan=_lifespan(sides, shadow, follower, records if store is None else None),
        middleware=_edge_and_router(config, sides, shadow, errors, follower, metrics, admin),
    )
    app.state.store = records
    app.state.legacy = sides.legacy.asgi
    app.add_exception_handler(HTTPException, _own_errors(errors))
    app.include_router(health_router(records), prefix=own)
    app.include_router(_metrics_endpoint(metrics, admin, follower), prefix=own)
    install_openapi(
        app,
        config=config,
        legacy=lambda notes: sides.legacy.openapi(prefix=config.options.legacy_base, notes=notes),
        v2=sides.v2.openapi if sides.v2 is not None else None,
    )
    return app


def _admin(config: Config) -> tuple[AdminToken | None, Metrics | None]:
    """The operator's token, and the instruments: counted only where they can be read, since
    /metrics is off without a token."""
    token = config.options.admin_token
    if token is None:
        return None, None
    return AdminToken(token.get_secret_value()), Metrics()


def _metrics_endpoint(
    metrics: Metrics | None, admin: AdminToken | None, follower: Follower
) -> APIRouter:
    return metrics_router(
        metrics, admin, lambda: (follower.live.snapshot.manifest, follower.change_counts)
    )


def _runtime(config: Config, sides: Sides, records: RecordStore) -> tuple[Config, Follower]:
    """The configuration as it serves (the manifest with the runtime state kept in the
    records applied), checked, and the follower that keeps it current."""
    declared = config.manifest
    live = Live(starting_snapshot(records, declared))
    config = dataclasses.replace(config, manifest=live.snapshot.manifest)
    if problems := coverage_problems(sides, config):
        raise ConfigError(problems)

    def problems_of(manifest: Manifest) -> list[str]:
        return coverage_problems(sides, dataclasses.replace(config, manifest=manifest))

    return config, Follower(live, records, declared, problems_of)


def _edge_and_router(
    config: Config,
    sides: Sides,
    shadow: Shadow | None,
    errors: ErrorRenderer,
    follower: Follower,
    metrics: Metrics | None,
    admin: AdminToken | None,
) -> list[Middleware]:
    """The middleware, outermost first: what no side may receive is refused before one is
    chosen, then the router hands each prefix to its side."""
    options = config.options
    return [
        Middleware(AllowedHosts, allowed_hosts=options.server.allowed_hosts, errors=errors),
        Middleware(SingletonHeaders, errors=errors),
        Middleware(BodyLimit, max_body_bytes=sides.legacy.body_limit, errors=errors),
        Middleware(
            MigrationRouter,
            live=follower.live,
            prefixes=options.prefixes,
            sticky=sticky_key(config),
            shadow=shadow,
            legacy_app=sides.legacy.asgi,
            v2_app=sides.v2.asgi if sides.v2 is not None else None,
            tally=follower.watchdog.tally,
            metrics=metrics,
            admin=admin,
        ),
    ]


def _shadow(
    config: Config,
    sides: Sides,
    records: RecordStore,
    metrics: Metrics | None,
    *,
    own_process: bool,
) -> ShadowRunner | ProcessShadow | None:
    if sides.v2 is None:
        return None
    if own_process:  # whatever the states now: its process starts with the first sample
        return ProcessShadow(config, records.url, config.options.shadow, metrics=metrics)
    return ShadowRunner(records, config.options.shadow, metrics=metrics)


def _lifespan(
    sides: Sides,
    shadow: ShadowRunner | ProcessShadow | None,
    follower: Follower,
    owned_store: RecordStore | None,
) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if owned_store is not None:
                stack.push_async_callback(owned_store.dispose)
            await stack.enter_async_context(sides.legacy.running())
            if sides.v2 is not None:
                await stack.enter_async_context(sides.v2.running())
            if shadow is not None:
                await shadow.start(app)  # replays go through the router, as requests do
                stack.push_async_callback(shadow.stop)
            await follower.poll()  # whatever changed since the app was built, before serving
            following = asyncio.create_task(follower.follow(), name="runtime-state")
            stack.callback(following.cancel)
            yield

    return lifespan


def _own_errors(errors: ErrorRenderer) -> Any:
    """The gateway's own 404s and 405s (paths of neither side) in the configured shape."""

    async def gateway_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = errors(exc.status_code, str(exc.detail).lower())
        response.headers.update(exc.headers or {})
        return response

    return gateway_error
