"""The Conduit API in FastAPI, on the shared models, engines and token core.

``create_app()`` serves it alone (``uvicorn --factory v2:create_app``) at ``/api/...``, the
same paths as the legacy app; the gateway mounts it under its v2 prefix by configuration.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from gateway.edge.limits import BodyLimit
from shared.db import Database
from shared.settings import Settings, get_settings
from shared.tokens import TokenCore
from v2.deps import storable_path
from v2.errors import gateway_error, install_error_handlers
from v2.responses import ConduitJSONResponse
from v2.routers import articles, comments, profiles, tags, users
from v2.schemas import error_responses

PREFIX = "/api"


def _operation_id(route: APIRoute) -> str:
    return f"v2_{route.name}"


# Matched in this order, so the routers most requests hit come first (no two share a path).
ROUTERS = (tags.router, articles.router, comments.router, profiles.router, users.router)


def include_routes(app: FastAPI | APIRouter) -> None:
    """Conduit's routes under ``/api``. Each module's router is included directly (not through
    one ``/api`` router included in turn): FastAPI matches an included router once to pick it
    and again inside it, so every level of nesting repeats the route matching per request."""
    for router in ROUTERS:
        takes_path_values = any("{" in getattr(route, "path", "") for route in router.routes)
        app.include_router(
            router,
            prefix=PREFIX,
            default_response_class=ConduitJSONResponse,
            # Documents the real 422 body; it also stops FastAPI advertising its own {"detail"}.
            responses=error_responses(422),
            generate_unique_id_function=_operation_id,
            # A dependency costs every request of its routes: only where there are path values.
            dependencies=[Depends(storable_path)] if takes_path_values else [],
        )


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build v2. A ``database`` passed in belongs to the caller; one made here is disposed
    of when the app shuts down."""
    settings = settings or get_settings()
    owns_database = database is None
    db = database if database is not None else Database(settings.database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owns_database:
                await db.dispose_async()

    # The gateway serves the docs for both sides; v2 alone still serves /openapi.json.
    app = FastAPI(
        title="Conduit v2",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # As the legacy app's rules: "/api/tags/" is not "/api/tags" (404, no redirect).
        redirect_slashes=False,
        # Legacy clients may send JSON with no Content-Type; the legacy app reads it, so must v2.
        strict_content_type=False,
    )
    # The legacy app's MAX_CONTENT_LENGTH, with its 413, also when v2 runs alone. (FastAPI's
    # own max_body_size answers some oversized requests in plain text, not Conduit's shape.)
    app.add_middleware(
        BodyLimit, max_body_bytes=settings.max_body_bytes, errors=gateway_error, served_by=None
    )
    app.state.settings = settings
    app.state.database = db
    app.state.tokens = TokenCore(settings.jwt)
    include_routes(app)
    install_error_handlers(app)
    return app
