"""The gateway application: the legacy WSGI app and the v2 app, composed by configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from flask import Flask
from starlette.exceptions import HTTPException
from starlette.responses import Response

from gateway import health
from gateway.config import Config, load_config
from gateway.docs import install_docs
from gateway.headers import SingletonHeaders
from gateway.legacy.mount import LegacyMount
from gateway.limits import BodyLimit
from gateway.manifest import State
from gateway.openapi import install_openapi
from gateway.routing import MigrationRouter
from gateway.shadow.process import ProcessShadow
from gateway.shadow.runner import ShadowRunner
from gateway.store import RecordStore
from gateway.targets import load_errors, load_legacy, load_sticky, load_v2, records_database
from gateway.v2_mount import V2Mount

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

TITLE = "Flask-to-FastAPI migration gateway"


def create_app(
    config: Config | None = None,
    *,
    legacy: WSGIApplication | None = None,
    v2: Any = None,
    store: RecordStore | None = None,
    replay_process: bool = False,
) -> FastAPI:
    """Build the gateway from ``config`` (read from the manifest and ``GATEWAY_*`` without).

    ``legacy`` and ``v2`` are the apps to serve, loaded from the configured import strings
    when not given. The records ``store`` is created (and disposed of on shutdown) unless one
    is given. With ``replay_process`` (as ``gateway serve`` runs it), shadow samples are
    replayed by a process of their own, which builds v2 from the configuration: only for a
    v2 loaded from it, and only when a module is in state shadow. Any configuration problem
    raises :class:`gateway.errors.ConfigError` here.
    """
    config = config or load_config()
    options = config.options
    legacy = legacy if legacy is not None else load_legacy(config)
    v2_configured = v2 is None
    v2 = v2 if v2 is not None else load_v2(config)
    errors = load_errors(config)
    sticky = load_sticky(config)
    owns_store = store is None
    records = store if store is not None else RecordStore(records_database(config, legacy))
    shadow: ShadowRunner | ProcessShadow | None = None
    if v2 is not None:
        shadowed = any(module.state is State.shadow for module in config.manifest.modules)
        if replay_process and v2_configured and shadowed:
            shadow = ProcessShadow(config, records.url, options.shadow)
        else:
            shadow = ShadowRunner(records, options.shadow)
    body_limit = _body_limit(legacy, options.max_body_bytes)
    v2_mount = V2Mount(v2) if v2 is not None and not isinstance(v2, APIRouter) else None
    legacy_mount = LegacyMount(
        legacy,
        workers=options.legacy_threads,
        queue=options.legacy_queue,
        queue_seconds=options.legacy_queue_seconds,
        cpu_share=options.legacy_cpu_share or None,
        max_body_bytes=body_limit,
        errors=errors,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if owns_store:
                stack.push_async_callback(records.dispose)
            await stack.enter_async_context(legacy_mount.running())
            if v2_mount is not None:
                await stack.enter_async_context(v2_mount.running())
            if shadow is not None:
                await shadow.start(app)
                stack.push_async_callback(shadow.stop)
            yield

    app = FastAPI(title=TITLE, lifespan=lifespan, docs_url=None, redoc_url=None)
    install_docs(app)
    app.state.config = config
    app.state.store = records
    app.state.shadow = shadow
    app.state.legacy = legacy_mount
    app.add_middleware(
        MigrationRouter,
        manifest=config.manifest,
        legacy_prefix=options.legacy_prefix,
        v2_prefix=options.v2_prefix,
        sticky=sticky,
        shadow=shadow,
        legacy_app=legacy_mount,
        v2_app=v2_mount,
    )
    # Outside the router: what no side may receive is refused before one is chosen.
    app.add_middleware(BodyLimit, max_body_bytes=body_limit, errors=errors)
    app.add_middleware(SingletonHeaders, errors=errors)

    async def gateway_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = errors(exc.status_code, str(exc.detail).lower())
        response.headers.update(exc.headers or {})
        return response

    app.add_exception_handler(HTTPException, gateway_error)
    app.include_router(health.router)
    if isinstance(v2, APIRouter):
        app.include_router(v2, prefix=options.v2_prefix)
    elif v2_mount is not None:
        app.mount(options.v2_prefix, v2_mount)
    install_openapi(app, config=config, legacy=legacy, v2=v2)
    # Also mounted, though the router hands them their requests itself: the mounts keep
    # the app's route table whole (url_for, the docs, anything that walks the routes).
    app.mount(options.legacy_prefix, legacy_mount)
    return app


def _body_limit(legacy: Any, default: int) -> int:
    """The Flask app's own MAX_CONTENT_LENGTH when it sets one, so both limits agree."""
    if isinstance(legacy, Flask):
        limit = legacy.config.get("MAX_CONTENT_LENGTH")
        if isinstance(limit, int) and limit > 0:
            return limit
    return default
