"""The Conduit API in FastAPI, on the shared models, engines and token core."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from v2.errors import install_error_handlers
from v2.responses import ConduitJSONResponse
from v2.routers import articles, comments, profiles, tags, users
from v2.schemas import error_responses

PREFIX = "/v2/api"


def _operation_id(route: APIRoute) -> str:
    return f"v2_{route.name}"


def build_router() -> APIRouter:
    router = APIRouter(
        prefix=PREFIX,
        default_response_class=ConduitJSONResponse,
        # Documents the real 422 body; it also stops FastAPI advertising its own {"detail"}.
        responses=error_responses(422),
        generate_unique_id_function=_operation_id,
        # Legacy clients may send JSON with no Content-Type; the legacy app reads it, so must v2.
        strict_content_type=False,
    )
    for module in (users, profiles, articles, comments, tags):
        router.include_router(module.router)
    return router


def operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every v2 operation, as its OpenAPI document lists them."""
    app = FastAPI()
    app.include_router(build_router())
    paths = app.openapi()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


def install(app: FastAPI) -> None:
    """Serve v2 from ``app``, which must carry ``state.database`` and ``state.tokens``."""
    app.include_router(build_router())
    install_error_handlers(app)
