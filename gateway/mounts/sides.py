"""Each side decided once: what kind of app it is, and everything the gateway asks of it.

The legacy app may be a Flask app or any WSGI callable; v2 a FastAPI app, any ASGI app or an
``APIRouter``. That is settled here, when the configuration is loaded: a v2 router becomes a
FastAPI app of its own (answering its bridges' refusals exactly, like a v2 app that installed
them), and everything else in the gateway asks the side objects below (their ASGI app, their
OpenAPI, their routes, their database URL and body limit) without looking at types again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from flask import Flask
from starlette.routing import Match, Mount

from gateway.bridges.answers import answer_exactly
from gateway.config.configuration import Config
from gateway.config.loading import load_legacy, load_v2
from gateway.config.options import GatewayOptions
from gateway.edge.problems import ErrorRenderer
from gateway.mounts.legacy.mount import LegacyMount
from gateway.mounts.legacy.pool import LEGACY_SOCKET_VARIABLE
from gateway.mounts.v2 import V2Mount
from gateway.openapi.legacy import Notes, legacy_openapi
from gateway.openapi.urlmap import (
    api_rules,
    documented_methods,
    manifest_pattern,
    openapi_path,
    sample_path,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


_TEMPLATE_VARIABLE = re.compile(r"\{[^{}]+\}")


@dataclass(frozen=True, slots=True)
class Route:
    """One route of a side: its path in OpenAPI's spelling, relative to the side's prefix."""

    path: str
    methods: frozenset[str]
    # A concrete path the route matches: what finds the manifest module that owns it.
    sample: str
    # The route as a manifest path pattern (``/api/articles/*``).
    pattern: str = ""


class LegacySide:
    def __init__(
        self,
        app: WSGIApplication,
        *,
        options: GatewayOptions,
        errors: ErrorRenderer,
        watch_turns: Callable[[int, int], None] | None = None,
    ) -> None:
        self.wsgi = app
        # Only a Flask app has a url map, a config and extensions to read.
        self.flask: Flask | None = app if isinstance(app, Flask) else None
        self.body_limit = _flask_body_limit(self.flask) or options.max_body_bytes
        self.database_url = _flask_database(self.flask)
        self.routes = _flask_routes(self.flask)
        self.asgi = LegacyMount(
            app,
            workers=options.legacy_threads,
            queue=options.legacy_queue,
            queue_seconds=options.legacy_queue_seconds,
            cpu_share=options.legacy_cpu_share or None,
            max_body_bytes=self.body_limit,
            errors=errors,
            processes=options.legacy_processes,
            process_timeout=options.legacy_timeout_seconds,
            # Started by `gateway serve` for all its workers, else by this app itself.
            process_socket=os.environ.get(LEGACY_SOCKET_VARIABLE),
            watch_turns=watch_turns,
        )

    def openapi(self, *, prefix: str, notes: Notes) -> dict[str, Any]:
        """The operations read from the url map, under ``prefix``; none for a bare WSGI app."""
        if self.flask is None:
            return {}
        return legacy_openapi(self.flask, prefix=prefix, notes=notes)

    def running(self) -> AbstractAsyncContextManager[None]:
        return self.asgi.running()


class V2Side:
    def __init__(self, app: Any) -> None:
        self.app = _as_app(app)
        self.asgi = V2Mount(self.app)
        # v2 declares no database or body limit the gateway could read; the edge's apply.
        self.database_url: str | None = None
        self.body_limit: int | None = None

    def openapi(self) -> dict[str, Any]:
        """v2's own document (FastAPI's ``openapi()``), relative to its prefix."""
        openapi = getattr(self.app, "openapi", None)
        document: dict[str, Any] = openapi() if callable(openapi) else {}
        return document

    def serves(self, method: str, path: str) -> bool | None:
        """Whether a route of v2 takes ``method path`` (relative to its prefix), as Starlette
        matches it; None for an app with no route table to read."""
        routes = getattr(self.app, "routes", None)
        if routes is None:
            return None
        return _routed(routes, {"type": "http", "method": method, "path": path, "root_path": ""})

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every operation v2 documents, else every route a Starlette router lists."""
        paths = self.openapi().get("paths")
        if paths:
            return tuple(
                Route(path, frozenset(method.upper() for method in item), _sample(path))
                for path, item in sorted(paths.items())
            )
        return tuple(
            Route(route.path, frozenset(getattr(route, "methods", None) or ()), _sample(route.path))
            for route in getattr(self.app, "routes", ())
            if isinstance(getattr(route, "path", None), str)
        )

    def running(self) -> AbstractAsyncContextManager[None]:
        return self.asgi.running()


def _routed(routes: Any, scope: dict[str, Any]) -> bool:
    for route in routes:
        match, child = route.matches(scope)
        if match is not Match.FULL:
            continue
        inner = getattr(route.app, "routes", None) if isinstance(route, Mount) else None
        if inner is None or _routed(inner, {**scope, **child}):
            return True
    return False


def _as_app(v2: Any) -> Any:
    """A router served as an app of its own: no docs of its own (the gateway's show it)."""
    if not isinstance(v2, APIRouter):
        return v2
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    answer_exactly(app)
    app.include_router(v2)
    return app


def _flask_body_limit(app: Flask | None) -> int | None:
    """The Flask app's own MAX_CONTENT_LENGTH, so the gateway's limit and Flask's agree."""
    limit = app.config.get("MAX_CONTENT_LENGTH") if app is not None else None
    return limit if isinstance(limit, int) and limit > 0 else None


def _flask_database(app: Flask | None) -> str | None:
    """The database a Flask app declares: Flask-SQLAlchemy's engine, else its config."""
    if app is None:
        return None
    extension = app.extensions.get("sqlalchemy")
    if extension is not None:
        # Flask-SQLAlchemy resolves a relative SQLite path into the instance folder; its
        # engines exist only inside an app context.
        with app.app_context():
            engine = getattr(extension, "engine", None)
            if engine is not None:
                return str(engine.url.render_as_string(hide_password=False))
    for key in ("SQLALCHEMY_DATABASE_URI", "DATABASE_URL"):
        value = app.config.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _flask_routes(app: Flask | None) -> tuple[Route, ...]:
    if app is None:
        return ()
    rules = sorted(api_rules(app), key=lambda r: (r.rule, sorted(r.methods or [])))
    return tuple(
        Route(
            openapi_path(rule.rule),
            frozenset(documented_methods(rule)),
            sample_path(rule.rule),
            manifest_pattern(rule.rule),
        )
        for rule in rules
    )


def _sample(template: str) -> str:
    return _TEMPLATE_VARIABLE.sub("x", template)


@dataclass(frozen=True, slots=True)
class Sides:
    legacy: LegacySide
    v2: V2Side | None


def load_sides(
    config: Config,
    *,
    errors: ErrorRenderer,
    legacy: Any = None,
    v2: Any = None,
    watch_turns: Callable[[int, int], None] | None = None,
) -> Sides:
    """Both sides, from the apps given or else from the configured import strings;
    ``watch_turns`` is told the legacy requests running and waiting as they move."""
    legacy_app = legacy if legacy is not None else load_legacy(config)
    v2_app = v2 if v2 is not None else load_v2(config)
    return Sides(
        legacy=LegacySide(
            legacy_app, options=config.options, errors=errors, watch_turns=watch_turns
        ),
        v2=V2Side(v2_app) if v2_app is not None else None,
    )
