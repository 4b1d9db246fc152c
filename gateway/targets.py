"""Turn the configured import strings into the objects the gateway serves and calls.

Each failure (no such module, no such attribute, a factory that raises, an object of the
wrong kind) becomes one :class:`ConfigError` line naming where the option was set, the
option, the string and the reason.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from flask import Flask
from sqlalchemy.engine import URL

from gateway import sticky
from gateway.config import Config
from gateway.dburl import records_url
from gateway.errors import ConfigError
from gateway.importing import ImportStringError, load
from gateway.problems import ErrorRenderer, problem

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

logger = logging.getLogger(__name__)

# Where the records go when neither the option nor the legacy app names a database.
FALLBACK_RECORDS_URL = "sqlite:///var/gateway.db"


def _accepts_no_arguments(obj: Any) -> bool:
    try:
        inspect.signature(obj).bind()
    except (TypeError, ValueError):
        return False
    return True


def is_asgi(obj: Any) -> bool:
    call = obj if inspect.isfunction(obj) else getattr(obj, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


def is_wsgi(obj: Any) -> bool:
    if isinstance(obj, Flask):
        return True
    if isinstance(obj, type) or not callable(obj) or is_asgi(obj):
        return False
    # A function callable with no arguments is a factory (Flask's rule), not a WSGI app.
    return not (inspect.isfunction(obj) and _accepts_no_arguments(obj))


def is_v2(obj: Any) -> bool:
    return isinstance(obj, APIRouter) or (is_asgi(obj) and not isinstance(obj, type))


def _resolve(config: Config, option: str, accept: Callable[[Any], bool], kind: str) -> Any:
    target = getattr(config.options, option)
    if target is None:
        raise ConfigError([f"{config.place(option)}: not set"])
    prepend_python_path(config.base_directory, config.options.python_path)
    try:
        names = LEGACY_NAMES if option == "legacy" else ()
        return load(target, accept=accept, kind=kind, default_names=names)
    except ImportStringError as exc:
        raise ConfigError([f"{config.place(option)}: {option} = {target!r}: {exc.reason}"]) from exc


# A bare module name finds the app the way `flask --app module` does.
LEGACY_NAMES = ("app", "application", "create_app", "make_app")


def prepend_python_path(base: Path, entries: Sequence[str]) -> None:
    """Make the apps importable as uvicorn and ``flask --app`` do: the configured folders,
    the manifest's folder and the working directory come first on ``sys.path``."""
    folders = [base / entry for entry in entries] + [base, Path.cwd()]
    for folder in reversed(folders):
        name = str(folder.resolve())
        if name not in sys.path:
            sys.path.insert(0, name)


def load_legacy(config: Config) -> WSGIApplication:
    app: WSGIApplication = _resolve(config, "legacy", is_wsgi, "a WSGI application")
    return app


def load_v2(config: Config) -> Any | None:
    """The v2 ASGI app or APIRouter, or None when no v2 is configured yet."""
    if config.options.v2 is None:
        return None
    return _resolve(config, "v2", is_v2, "an ASGI application or a FastAPI APIRouter")


def load_errors(config: Config) -> ErrorRenderer:
    if config.options.errors == "problem":
        return problem
    renderer: ErrorRenderer = _resolve(config, "errors", callable, "a function (status, detail)")
    return renderer


def load_sticky(config: Config) -> sticky.StickyKey:
    options = config.options
    strategy = options.sticky
    if strategy == "address":
        return sticky.client_address
    if strategy == "bearer-sub":
        key = options.sticky_jwt_key.get_secret_value() if options.sticky_jwt_key else None
        return sticky.bearer_subject(key, options.sticky_jwt_algorithms)
    kind, _, name = strategy.partition(":")
    if kind in ("header", "cookie") and name.strip():
        return sticky.header(name.strip()) if kind == "header" else sticky.cookie(name.strip())
    if ":" not in strategy:
        raise ConfigError(
            [
                f"{config.place('sticky')}: sticky = {strategy!r}: expected address, bearer-sub, "
                "header:<name>, cookie:<name> or 'module:function'"
            ]
        )
    function = _resolve(config, "sticky", callable, "a function of the request")
    return sticky.from_function(function)


def records_database(config: Config, legacy: Any) -> URL:
    """The gateway's records: the ``database`` option, else beside the legacy app's data."""
    if config.options.database is not None:
        url = config.options.database
    else:
        found = application_database(legacy)
        if found is None:
            logger.warning(
                "the legacy app names no database; gateway records go to %s",
                FALLBACK_RECORDS_URL,
            )
            url = FALLBACK_RECORDS_URL
        else:
            url = found
    try:
        return records_url(url)
    except ValueError as exc:
        raise ConfigError([f"{config.place('database')}: {exc}"]) from exc


def application_database(legacy: Any) -> str | None:
    """The database URL a Flask app declares: Flask-SQLAlchemy's engine, else its config."""
    if not isinstance(legacy, Flask):
        return None
    extension = legacy.extensions.get("sqlalchemy")
    if extension is not None:
        # Flask-SQLAlchemy resolves a relative SQLite path into the instance folder; its
        # engines exist only inside an app context.
        with legacy.app_context():
            engine = getattr(extension, "engine", None)
            if engine is not None:
                return str(engine.url.render_as_string(hide_password=False))
    for key in ("SQLALCHEMY_DATABASE_URI", "DATABASE_URL"):
        value = legacy.config.get(key)
        if isinstance(value, str) and value:
            return value
    return None
