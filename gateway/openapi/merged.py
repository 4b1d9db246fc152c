"""One OpenAPI document for the gateway: its own endpoints, v2's document and the legacy app's.

v2's operations keep their paths under the v2 prefix; the legacy operations, read from the
legacy app's url map, appear under the legacy prefix, marked deprecated where the manifest
announces a successor. Each side gives its own document; here they are only merged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.config.configuration import Config

Document = dict[str, Any]


def merge(document: Document, part: Document, *, prefix: str = "") -> None:
    """Add ``part``'s paths (under ``prefix``) and components; a name already taken stays."""
    for path, item in part.get("paths", {}).items():
        document.setdefault("paths", {})[prefix + path] = item
    for section, entries in part.get("components", {}).items():
        target = document.setdefault("components", {}).setdefault(section, {})
        for name, value in entries.items():
            target.setdefault(name, value)


def install_openapi(
    app: FastAPI,
    *,
    config: Config,
    legacy: Callable[[Callable[[str], bool]], Document],
    v2: Callable[[], Document] | None,
) -> None:
    """Make ``app.openapi()`` (``/openapi.json``, ``/docs``) describe both sides.

    ``legacy(deprecated)`` gives the legacy document, ``deprecated(path)`` saying whether a
    path's module announced its successor; ``v2()`` gives v2's. Built once, on first use.
    """
    options, manifest = config.options, config.manifest

    def deprecated(path: str) -> bool:
        module = manifest.module_for(path)
        return module is not None and module.deprecated is not None

    def openapi() -> Document:
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
            if v2 is not None:
                merge(document, v2(), prefix=options.v2_prefix)
            merge(document, legacy(deprecated))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
