"""The gateway application: one ASGI app serving the legacy Flask app under ``/legacy``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from flask import Flask

import legacy_flask
import v2
from gateway import health
from gateway.docs import install_docs
from gateway.legacy_mount import LegacyMount
from gateway.legacy_openapi import install_merged_openapi
from gateway.manifest import DEFAULT_MANIFEST, Manifest, load_manifest
from gateway.routing import MigrationRouter
from gateway.shadow import ShadowRunner
from shared.db import Database
from shared.settings import Settings, get_settings
from shared.tokens import TokenCore

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication as WSGIApp

LEGACY_PREFIX = "/legacy"


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    legacy_app: WSGIApp | None = None,
    manifest: Manifest | None = None,
) -> FastAPI:
    """Build the gateway.

    Without ``database`` the app creates one and disposes of its engines on shutdown; a
    database passed in belongs to the caller. Without ``legacy_app`` the legacy Flask app is
    built on the same database, so both sides share one pair of engines. Without
    ``manifest`` the one the settings name is loaded; a bad one stops start-up here.
    """
    settings = settings or get_settings()
    manifest = manifest or load_manifest(settings.manifest or DEFAULT_MANIFEST)
    owns_database = database is None
    db = database if database is not None else Database(settings.database)
    if legacy_app is None:
        legacy_app = legacy_flask.create_app(settings, database=db)

    shadow = ShadowRunner(db, settings.shadow)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await shadow.start(app)
        try:
            yield
        finally:
            await shadow.stop()
            if owns_database:
                await db.dispose_async()

    app = FastAPI(
        title="Conduit migration gateway", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    install_docs(app)
    app.state.settings = settings
    app.state.database = db
    app.state.tokens = TokenCore(settings.jwt)
    app.state.manifest = manifest
    app.state.shadow = shadow
    app.add_middleware(MigrationRouter, manifest=manifest, tokens=app.state.tokens, shadow=shadow)
    app.include_router(health.router)
    v2.install(app)
    if isinstance(legacy_app, Flask):
        install_merged_openapi(app, legacy_app, manifest)
    app.mount(
        LEGACY_PREFIX,
        LegacyMount(
            legacy_app,
            workers=settings.legacy.threads,
            max_body_bytes=settings.legacy.max_body_bytes,
        ),
    )
    return app
