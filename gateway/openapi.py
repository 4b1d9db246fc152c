"""One OpenAPI document for the gateway: v2's own, and the legacy app's read from Flask.

v2's operations keep their paths under the v2 prefix; the legacy operations appear under
the legacy prefix, marked deprecated where the manifest announces a successor.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from flask import Flask

from gateway.config import Config
from gateway.legacy.openapi import legacy_openapi


def _merge(document: dict[str, Any], part: dict[str, Any], *, prefix: str = "") -> None:
    for path, item in part.get("paths", {}).items():
        document.setdefault("paths", {})[prefix + path] = item
    for section, entries in part.get("components", {}).items():
        target = document.setdefault("components", {}).setdefault(section, {})
        for name, value in entries.items():
            target.setdefault(name, value)  # first come keeps the name


def install_openapi(app: FastAPI, *, config: Config, legacy: Any, v2: Any) -> None:
    """Make ``app.openapi()`` (``/openapi.json``, ``/docs``) describe both sides."""
    options, manifest = config.options, config.manifest

    def deprecated(path: str) -> bool:
        module = manifest.module_for(path)
        return module is not None and module.deprecated is not None

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=(
                    f"v2 under {options.v2_prefix}; the legacy operations, read from the "
                    f"legacy app, under {options.legacy_prefix}."
                ),
                routes=app.routes,
            )
            if isinstance(v2, FastAPI):
                _merge(document, v2.openapi(), prefix=options.v2_prefix)
            if isinstance(legacy, Flask):
                _merge(
                    document,
                    legacy_openapi(legacy, prefix=options.legacy_prefix, deprecated=deprecated),
                )
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
