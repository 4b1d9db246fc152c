"""OpenAPI for any Flask app, read from its url map and what its views already say.

Every rule of the url map is listed, with its methods and typed path parameters. Detail
comes from where Flask teams already keep it: apispec's YAML after ``---`` in a view's
docstring (per method, referring to marshmallow schemas by class name), and shared
components from ``API_SPEC_OPTIONS["components"]`` in the app's config (flask-smorest's
key: security schemes, schemas and responses). A view that says nothing is still listed.
The app is read, never changed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from apispec.yaml_utils import load_operations_from_docstring
from flask import Flask
from werkzeug.routing import Rule

from gateway.openapi.urlmap import (
    api_rules,
    blueprint_of,
    documented_methods,
    openapi_path,
    path_parameters,
    sample_path,
)

_UNDOCUMENTED = {"default": {"description": "The legacy view's answer (not documented)"}}


def _docstrings(view: Callable[..., Any], method: str) -> str | None:
    """The docstring that documents ``method``: a MethodView's method's, else the view's."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is not None and handler.__doc__:
            return str(handler.__doc__)
        return str(view_class.__doc__) if view_class.__doc__ else None
    return view.__doc__


def _summary(docstring: str | None) -> str | None:
    if not docstring:
        return None
    text = inspect.cleandoc(docstring).split("---", 1)[0].strip()
    return text.splitlines()[0] if text else None


# What the gateway adds to a legacy operation: {"deprecated": True}, a description...
Notes = Callable[[str, str], dict[str, Any]]


def no_notes(_path: str, _method: str) -> dict[str, Any]:
    return {}


def _operation(app: Flask, rule: Rule, method: str, notes: dict[str, Any]) -> dict[str, Any]:
    view = app.view_functions[rule.endpoint]
    docstring = _docstrings(view, method)
    documented: dict[str, Any] = {}
    if docstring:
        documented = dict(load_operations_from_docstring(docstring).get(method.lower()) or {})
    parameters = {(p["in"], p["name"]): p for p in path_parameters(rule.rule)}
    for parameter in documented.pop("parameters", []):
        key = (parameter.get("in"), parameter.get("name"))
        parameters[key] = parameter  # what the view says wins over what the rule implies
    operation: dict[str, Any] = {
        "tags": [f"legacy {blueprint_of(rule)}"],
        "summary": _summary(docstring) or rule.endpoint.rsplit(".", 1)[-1].replace("_", " "),
        "parameters": list(parameters.values()),
        "responses": _UNDOCUMENTED,
        **documented,
    }
    for name, note in notes.items():
        if name == "description" and operation.get("description"):
            note = f"{note}\n\n{operation['description']}"
        operation[name] = note
    return operation


def _operation_id(endpoint: str, method: str, methods: list[str], taken: set[str]) -> str:
    base = f"legacy_{endpoint.replace('.', '_')}"
    if len(methods) > 1:
        base += f"_{method.lower()}"
    candidate, n = base, 2
    while candidate in taken:  # one endpoint may serve several rules
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _schema_name(schema: Any) -> str:
    # Prefixed so legacy components never collide with v2's models of the same name.
    resolved = resolve_schema_cls(schema)
    cls = resolved[0] if isinstance(resolved, list) else resolved
    return "Legacy" + cls.__name__.removesuffix("Schema")


def legacy_openapi(app: Flask, *, prefix: str, notes: Notes = no_notes) -> dict[str, Any]:
    """``paths`` (under ``prefix``) and ``components`` for every view rule of ``app``.

    ``notes(path, method)`` gives, for a concrete path relative to the app, what to add to
    that operation (that it is deprecated, that it stays on legacy).
    """
    spec = APISpec(
        title="legacy",
        version="1",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
    )
    components = app.config.get("API_SPEC_OPTIONS", {}).get("components", {})
    for name, scheme in components.get("securitySchemes", {}).items():
        spec.components.security_scheme(name, scheme)
    for name, schema in components.get("schemas", {}).items():
        spec.components.schema(name, schema)
    # Shared answers (``401: Unauthorized`` in a docstring refers to one), resolved through
    # the marshmallow plugin like the views' own.
    for name, response in components.get("responses", {}).items():
        spec.components.response(name, response)
    taken: set[str] = set()
    for rule in api_rules(app):
        methods = documented_methods(rule)
        sample = sample_path(rule.rule)
        operations = {}
        for method in methods:
            operation = _operation(app, rule, method, notes(sample, method))
            operation.setdefault(
                "operationId", _operation_id(rule.endpoint, method, methods, taken)
            )
            operations[method.lower()] = operation
        if operations:
            spec.path(path=prefix + openapi_path(rule.rule), operations=operations)
    document = spec.to_dict()
    return {"paths": document.get("paths", {}), "components": document.get("components", {})}
