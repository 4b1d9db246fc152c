"""OpenAPI for the legacy operations, generated from the Flask url map and marshmallow schemas.

The gateway documents what it serves: v2 natively (FastAPI) and the mounted Flask app under
``/legacy``, in one document. Operations of a module whose successor is announced in the
manifest are marked ``deprecated``. The legacy app is read, never changed, to build this.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from flask import Flask
from marshmallow import Schema

from gateway.manifest import Manifest
from legacy_flask import schemas

PREFIX = "/legacy"
_VARIABLE = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")
_ERROR = {"$ref": "#/components/schemas/LegacyError"}

# endpoint -> (envelope key, input schema) of its request body
_REQUESTS: dict[str, tuple[str, type[Schema]]] = {
    "users.register": ("user", schemas.NewUserSchema),
    "users.login": ("user", schemas.LoginSchema),
    "users.update_current_user": ("user", schemas.UpdateUserSchema),
    "articles.create_article": ("article", schemas.NewArticleSchema),
    "articles.update_article": ("article", schemas.UpdateArticleSchema),
    "comments.add_comment": ("comment", schemas.NewCommentSchema),
}
# blueprint or endpoint -> (success status, component of the answer or None)
_ANSWERS: dict[str, tuple[int, str | None]] = {
    "users": (200, "LegacyUserEnvelope"),
    "users.register": (201, "LegacyUserEnvelope"),
    "profiles": (200, "LegacyProfileEnvelope"),
    "articles": (200, "LegacyArticleEnvelope"),
    "articles.create_article": (201, "LegacyArticleEnvelope"),
    "articles.list_articles": (200, "LegacyArticlesEnvelope"),
    "articles.feed": (200, "LegacyArticlesEnvelope"),
    "articles.delete_article": (204, None),
    "comments.list_comments": (200, "LegacyCommentsEnvelope"),
    "comments.add_comment": (201, "LegacyCommentEnvelope"),
    "comments.delete_comment": (204, None),
    "tags": (200, "LegacyTags"),
}


def _envelope(key: str, component: str, *, many: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"$ref": f"#/components/schemas/{component}"}
    inner = {"type": "array", "items": ref} if many else ref
    return {"type": "object", "required": [key], "properties": {key: inner}}


def _components(spec: APISpec) -> None:
    for name, schema in [
        ("LegacyProfile", schemas.ProfileSchema),
        ("LegacyUser", schemas.UserSchema),
        ("LegacyArticle", schemas.ArticleSchema),
        ("LegacyComment", schemas.CommentSchema),
    ]:
        spec.components.schema(name, schema=schema)
    listed = spec.to_dict()["components"]["schemas"]["LegacyArticle"]
    spec.components.schema(
        "LegacyArticleListItem",
        {**listed, "properties": {k: v for k, v in listed["properties"].items() if k != "body"}},
    )
    for name, key, component, many in [
        ("LegacyUserEnvelope", "user", "LegacyUser", False),
        ("LegacyProfileEnvelope", "profile", "LegacyProfile", False),
        ("LegacyArticleEnvelope", "article", "LegacyArticle", False),
        ("LegacyCommentEnvelope", "comment", "LegacyComment", False),
        ("LegacyCommentsEnvelope", "comments", "LegacyComment", True),
    ]:
        spec.components.schema(name, _envelope(key, component, many=many))
    articles = _envelope("articles", "LegacyArticleListItem", many=True)
    articles["properties"]["articlesCount"] = {"type": "integer"}
    articles["required"].append("articlesCount")
    spec.components.schema("LegacyArticlesEnvelope", articles)
    spec.components.schema(
        "LegacyTags",
        {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
    )
    spec.components.schema(
        "LegacyError",
        {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                }
            },
        },
    )


def openapi_path(rule: str) -> str:
    """A Flask rule (``/articles/<slug>``) in OpenAPI's spelling (``/articles/{slug}``)."""
    return _VARIABLE.sub(lambda m: "{" + m["name"] + "}", rule)


def sample_path(rule: str) -> str:
    """A concrete path the rule matches, to find the manifest module that owns it."""
    return _VARIABLE.sub("x", rule)


def _parameters(rule: str) -> list[dict[str, Any]]:
    params = []
    for match in _VARIABLE.finditer(rule):
        kind = "integer" if match["converter"] == "int" else "string"
        params.append(
            {"in": "path", "name": match["name"], "required": True, "schema": {"type": kind}}
        )
    return params


def _operation(
    app: Flask, endpoint: str, method: str, rule: str, deprecated: bool
) -> dict[str, Any]:
    view = app.view_functions[endpoint]
    blueprint = endpoint.split(".", 1)[0]
    status, answer = _ANSWERS.get(endpoint) or _ANSWERS[blueprint]
    content = "application/json"
    responses: dict[str, Any] = {
        str(status): {"description": "OK"}
        if answer is None
        else {
            "description": "OK",
            "content": {content: {"schema": {"$ref": f"#/components/schemas/{answer}"}}},
        },
        "422": {"description": "Invalid input", "content": {content: {"schema": _ERROR}}},
    }
    operation: dict[str, Any] = {
        "operationId": f"legacy_{endpoint.replace('.', '_')}",
        "summary": endpoint.split(".")[-1].replace("_", " ").capitalize(),
        "tags": [f"legacy {blueprint}"],
        "parameters": _parameters(rule),
        "responses": responses,
    }
    auth = getattr(view, "auth", None)
    if auth is not None:
        operation["security"] = [{"Token": []}]
        responses["401"] = {"description": "Bad token", "content": {content: {"schema": _ERROR}}}
    if endpoint in _REQUESTS:
        key, schema = _REQUESTS[endpoint]
        body = {"type": "object", "required": [key], "properties": {key: schema}}
        operation["requestBody"] = {"required": True, "content": {content: {"schema": body}}}
    if endpoint == "articles.list_articles" or endpoint == "articles.feed":
        query_schema = schemas.ArticleListArgs
        if endpoint == "articles.feed":
            query_schema = schemas.ArticleListArgs(only=("limit", "offset"))  # type: ignore[assignment]
        operation["parameters"].append({"in": "query", "schema": query_schema})
    if deprecated:
        operation["deprecated"] = True
    return operation


def _schema_name(schema: Any) -> str:
    # Prefixed so legacy components never collide with v2's models of the same name.
    resolved = resolve_schema_cls(schema)
    cls = resolved[0] if isinstance(resolved, list) else resolved
    return "Legacy" + cls.__name__.removesuffix("Schema")


def legacy_openapi(app: Flask, manifest: Manifest) -> dict[str, Any]:
    """``paths`` and ``components`` for every API route of the legacy app, under /legacy."""
    spec = APISpec(
        title="legacy",
        version="1",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
    )
    _components(spec)
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint not in app.view_functions:
            continue
        path = openapi_path(rule.rule)
        module = manifest.module_for(sample_path(rule.rule))
        deprecated = module is not None and module.deprecated is not None
        operations = {
            method.lower(): _operation(app, rule.endpoint, method, rule.rule, deprecated)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        }
        spec.path(path=PREFIX + path, operations=operations)
    document = spec.to_dict()
    return {"paths": document["paths"], "schemas": document["components"]["schemas"]}


def install_merged_openapi(app: FastAPI, legacy: Flask, manifest: Manifest) -> None:
    """Make ``app.openapi()`` (``/openapi.json``, ``/docs``) describe both sides."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description="v2 natively; the legacy Flask operations under /legacy.",
                routes=app.routes,
            )
            generated = legacy_openapi(legacy, manifest)
            document["paths"].update(generated["paths"])
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                generated["schemas"]
            )
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
