"""Notes v2: the notes API in FastAPI, on the legacy app's database, models and logins.

It is built from the legacy Flask app object (the same factory, the same configuration), and
reuses what that app owns through the gateway's bridges: Flask-SQLAlchemy's engines and
``db.Model`` classes, Flask's signed session cookie (who is logged in with Flask-Login), and
flask-jwt-extended's tokens. The JSON answers are the legacy API's, field for field, so a
module can move between the two sides without a client noticing.

Alone: ``uvicorn --factory notes_v2:create_app``; in the gateway: ``v2 = "notes_v2:create_app"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from flask import Flask
from notes_app import create_app as create_legacy_app

from gateway.bridges.flask_jwt import FlaskJWTBridge
from gateway.bridges.flask_session import FlaskSessionBridge
from gateway.bridges.flask_sqlalchemy import FlaskSQLAlchemyBridge
from notes_v2.errors import install_error_handlers
from notes_v2.routes import Bridges, build_router


def create_app(legacy: Flask | None = None) -> FastAPI:
    """Build v2 on ``legacy`` (the legacy app object), or on one made with its factory, which
    v2 then owns: its engines are disposed of when v2 shuts down."""
    owns_legacy = legacy is None
    legacy = legacy if legacy is not None else create_legacy_app()
    bridges = Bridges(
        database=FlaskSQLAlchemyBridge(legacy),
        sessions=FlaskSessionBridge(legacy),
        tokens=FlaskJWTBridge(legacy),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await bridges.database.dispose()
            if owns_legacy:
                for engine in bridges.database.engines.values():
                    engine.dispose()

    app = FastAPI(title="Notes v2", lifespan=lifespan, docs_url=None, redoc_url=None)
    bridges.tokens.install(app)  # a refused token answers as the legacy API does
    install_error_handlers(app)
    app.include_router(build_router(bridges))
    return app
