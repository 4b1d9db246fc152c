"""The Conduit API in FastAPI, on the shared models, engines and token core."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from v2.errors import install_error_handlers
from v2.responses import ConduitJSONResponse
from v2.routers import articles, comments, profiles, tags, users

PREFIX = "/v2/api"


def build_router() -> APIRouter:
    router = APIRouter(
        prefix=PREFIX,
        default_response_class=ConduitJSONResponse,
        # Legacy clients may send JSON with no Content-Type; the legacy app reads it, so must v2.
        strict_content_type=False,
    )
    for module in (users, profiles, articles, comments, tags):
        router.include_router(module.router)
    return router


def install(app: FastAPI) -> None:
    """Serve v2 from ``app``, which must carry ``state.database`` and ``state.tokens``."""
    app.include_router(build_router())
    install_error_handlers(app)
