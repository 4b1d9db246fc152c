"""Resolve the import strings the gateway is configured with, with one clear error each.

The grammar is Flask's ``--app`` one (and uvicorn's): ``module``, ``module:attr`` (dotted
attributes allowed) or ``module:factory(args)`` with literal arguments. A target that is a
factory rather than the wanted object (``legacy = "app:create_app"``) is called with no
arguments, as ``flask --app`` does. Nothing here knows any application.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any


class ImportStringError(ValueError):
    """An import string that does not give what its option needs; ``reason`` says why."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target!r}: {reason}")
        self.target = target
        self.reason = reason


def _parse(target: str) -> tuple[str, str | None, ast.Call | None]:
    module, sep, rest = target.strip().partition(":")
    if not module or (sep and not rest.strip()):
        raise ImportStringError(target, "expected 'module:attribute' or 'module:factory(...)'")
    if not sep:
        return module, None, None
    try:
        expr = ast.parse(rest.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ImportStringError(target, f"cannot parse {rest!r} as an attribute or a call") from exc
    if isinstance(expr, ast.Call):
        return module, _dotted(target, expr.func), expr
    return module, _dotted(target, expr), None


def _dotted(target: str, node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(target, node.value)}.{node.attr}"
    raise ImportStringError(target, "expected an attribute name or a call of one")


def _call_arguments(target: str, call: ast.Call) -> tuple[list[Any], dict[str, Any]]:
    try:
        args = [ast.literal_eval(arg) for arg in call.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    except ValueError as exc:
        raise ImportStringError(target, "factory arguments must be Python literals") from exc
    if len(kwargs) != len(call.keywords):
        raise ImportStringError(target, "factory arguments must not use **")
    return args, kwargs


def _import(target: str, name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(f"{exc.name}.")):
            raise ImportStringError(target, f"no module named {exc.name!r}") from exc
        raise ImportStringError(target, f"importing {name!r} failed: {exc}") from exc
    except Exception as exc:
        raise ImportStringError(
            target, f"importing {name!r} raised {type(exc).__name__}: {exc}"
        ) from exc


def _attribute(target: str, module: Any, path: str) -> Any:
    found = module
    for part in path.split("."):
        try:
            found = getattr(found, part)
        except AttributeError as exc:
            owner = module.__name__ if found is module else path.rsplit(".", 1)[0]
            raise ImportStringError(target, f"{owner!r} has no attribute {part!r}") from exc
    return found


def _call(target: str, factory: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    if not callable(factory):
        raise ImportStringError(target, f"{type(factory).__name__} object is not callable")
    try:
        return factory(*args, **kwargs)
    except Exception as exc:
        raise ImportStringError(
            target, f"calling the factory raised {type(exc).__name__}: {exc}"
        ) from exc


def is_factory(obj: Any) -> bool:
    """A function (or method) callable with no arguments: a factory, not the object itself."""
    if not (inspect.isfunction(obj) or inspect.ismethod(obj)):
        return False
    try:
        inspect.signature(obj).bind()
    except (TypeError, ValueError):
        return False
    return True


def load(
    target: str,
    *,
    accept: Callable[[Any], bool],
    kind: str,
    default_names: Sequence[str] = (),
) -> Any:
    """Import ``target`` and return the object it names, which ``accept`` must approve.

    ``kind`` names what is wanted in the error ("a WSGI application"). With a bare module,
    the first of ``default_names`` it defines is used (Flask looks for ``app`` and
    ``create_app`` the same way).
    """
    module_name, attr, call = _parse(target)
    module = _import(target, module_name)
    if attr is None:
        attr = next((name for name in default_names if hasattr(module, name)), None)
        if attr is None:
            wanted = " or ".join(repr(name) for name in default_names) or "an attribute"
            raise ImportStringError(target, f"module defines none of {wanted}; name one")
    found = _attribute(target, module, attr)
    if call is not None:
        found = _call(target, found, *_call_arguments(target, call))
    elif not accept(found) and is_factory(found):
        found = _call(target, found, (), {})
    if not accept(found):
        raise ImportStringError(target, f"gave {_describe(found)}, not {kind}")
    return found


def _describe(obj: Any) -> str:
    if obj is None:
        return "None"
    name = type(obj).__qualname__
    return f"an object of type {type(obj).__module__}.{name}"
