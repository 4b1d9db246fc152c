"""One OpenAPI document for the gateway: its own endpoints, v2's document and the legacy app's.

v2's operations keep their paths under the v2 prefix; the legacy operations, read from the
legacy app's url map, appear under the legacy prefix (or at the root), marked deprecated
where the manifest announces a successor, and marked as staying on legacy where a module
keeps a route there (``keep_on_legacy``). Each side gives its own document; here they are
only merged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.config.configuration import Config
from gateway.config.manifest import Manifest
from gateway.openapi.legacy import Notes

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
    legacy: Callable[[Notes], Document],
    v2: Callable[[], Document] | None,
) -> None:
    """Make ``app.openapi()`` (``/openapi.json``, ``/docs``) describe both sides.

    ``legacy(notes)`` gives the legacy document, with what the manifest says of each
    operation (:func:`manifest_notes`); ``v2()`` gives v2's. Built once, on first use.
    """
    options = config.options

    def openapi() -> Document:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=(
                    f"v2 under {options.v2_prefix}; the legacy operations, read from the "
                    f"legacy app, {_where(options.legacy_base)}."
                ),
                routes=app.routes,
            )
            if v2 is not None:
                merge(document, v2(), prefix=options.v2_prefix)
            merge(document, legacy(manifest_notes(config.manifest)))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _where(base: str) -> str:
    return f"under {base}" if base else "at the root"


# Marks a legacy operation that stays on legacy whatever its module's state.
KEPT_EXTENSION = "x-gateway-kept-on-legacy"


def manifest_notes(manifest: Manifest) -> Notes:
    """What the manifest says of a legacy operation: kept on legacy, or deprecated."""

    def notes(path: str, method: str) -> dict[str, Any]:
        module = manifest.module_for(path)
        if module is None:
            return {}
        if module.keeps(method, path):
            return {
                KEPT_EXTENSION: module.name,
                "description": f"Kept on legacy by module {module.name} (keep_on_legacy): "
                "v2 does not serve it, and the legacy app answers it in every state.",
            }
        return {"deprecated": True} if module.deprecated is not None else {}

    return notes
