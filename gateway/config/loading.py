"""Turn the configured import strings into the objects they name, each loaded once.

Each failure (no such module, no such attribute, a factory that raises, an object of the
wrong kind) becomes one :class:`ConfigError` line naming where the option was set, the
option, the string and the reason. What kind of app a loaded object is, is decided once,
by :mod:`gateway.mounts.sides`; here only whether it can be one.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from flask import Flask

from gateway.config.configuration import Config
from gateway.config.errors import ConfigError
from gateway.config.importing import ImportStringError, is_factory, load

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

# A bare module name finds the app the way `flask --app module` does.
LEGACY_NAMES = ("app", "application", "create_app", "make_app")


def is_asgi(obj: Any) -> bool:
    call = obj if inspect.isfunction(obj) else getattr(obj, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


def is_wsgi(obj: Any) -> bool:
    if isinstance(obj, Flask):
        return True
    if isinstance(obj, type) or not callable(obj) or is_asgi(obj):
        return False
    # A function callable with no arguments is a factory (Flask's rule), not a WSGI app.
    return not is_factory(obj)


def is_v2(obj: Any) -> bool:
    return isinstance(obj, APIRouter) or (is_asgi(obj) and not isinstance(obj, type))


def prepend_python_path(base: Path, entries: Sequence[str]) -> None:
    """Make the apps importable as uvicorn and ``flask --app`` do: the configured folders,
    the manifest's folder and the working directory come first on ``sys.path``."""
    folders = [base / entry for entry in entries] + [base, Path.cwd()]
    for folder in reversed(folders):
        name = str(folder.resolve())
        if name not in sys.path:
            sys.path.insert(0, name)


def resolve_option(config: Config, option: str, accept: Callable[[Any], bool], kind: str) -> Any:
    """The object the import string of ``option`` names, which ``accept`` approves."""
    target = getattr(config.options, option)
    if target is None:
        raise ConfigError([f"{config.place(option)}: not set"])
    prepend_python_path(config.base_directory, config.options.python_path)
    try:
        names = LEGACY_NAMES if option == "legacy" else ()
        return load(target, accept=accept, kind=kind, default_names=names)
    except ImportStringError as exc:
        raise ConfigError([f"{config.place(option)}: {option} = {target!r}: {exc.reason}"]) from exc


def load_legacy(config: Config) -> WSGIApplication:
    app: WSGIApplication = resolve_option(config, "legacy", is_wsgi, "a WSGI application")
    return app


def load_v2(config: Config) -> Any | None:
    """The v2 ASGI app or APIRouter, or None when no v2 is configured yet."""
    if config.options.v2 is None:
        return None
    return resolve_option(config, "v2", is_v2, "an ASGI application or a FastAPI APIRouter")


def load_legacy_target(target: str) -> WSGIApplication:
    """A legacy app named on its own (``gateway init --legacy``), from the working directory."""
    prepend_python_path(Path.cwd(), [])
    app: WSGIApplication = load(
        target, accept=is_wsgi, kind="a WSGI application", default_names=LEGACY_NAMES
    )
    return app
