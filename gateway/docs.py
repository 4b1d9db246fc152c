"""Swagger UI at ``/docs`` and ReDoc at ``/redoc`` that work with no internet.

FastAPI's own pages load their JavaScript and CSS from a CDN, so a gateway on a closed
network would show blank pages. The pages here are FastAPI's, pointed at copies the gateway
serves itself under ``/docs-static``: the fastapi-offline package is used only as the source
of those files (Swagger UI 5, which reads the OpenAPI 3.1 FastAPI emits, and ReDoc 2).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-static"


def asset_dir() -> Path:
    """The directory of fastapi-offline's copies of the Swagger UI and ReDoc files."""
    assets = files("fastapi_offline") / "static"
    # StaticFiles needs a real directory, not a file inside a zip.
    if not isinstance(assets, Path) or not (assets / "swagger-ui-bundle.js").is_file():
        raise RuntimeError(f"fastapi-offline's static files are not a directory: {assets}")
    return assets


def _root_path(request: Request) -> str:
    # Behind a proxy that strips a prefix, the browser must ask for the prefixed URLs.
    root_path: str = request.scope.get("root_path", "")
    return root_path.rstrip("/")


def install_docs(app: FastAPI) -> None:
    """Serve the docs pages and their assets from ``app``, built with no ``docs_url``.

    An app without an OpenAPI schema (``openapi_url=None``) gets no docs, as in FastAPI.
    """
    openapi_url = app.openapi_url
    if openapi_url is None:
        return
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url
    app.mount(ASSETS_URL, StaticFiles(directory=asset_dir()), name="docs-static")

    async def swagger_ui_html(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=root + oauth2_redirect_url if oauth2_redirect_url else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    async def swagger_ui_redirect(_request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc_html(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route(DOCS_URL, swagger_ui_html, include_in_schema=False)
    if oauth2_redirect_url:
        app.add_route(oauth2_redirect_url, swagger_ui_redirect, include_in_schema=False)
    app.add_route(REDOC_URL, redoc_html, include_in_schema=False)
