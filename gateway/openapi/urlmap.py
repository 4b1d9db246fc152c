"""A Flask app's url map as the gateway reads it: its view rules, their methods and paths.

One reading of Werkzeug's rule syntax (``/articles/<slug>``, ``/files/<path:name>``,
``/n/<int(min=1):id>``) serves the OpenAPI document, the manifest a team starts from and the
route table: each turns a rule into what it needs here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

from gateway.config.patterns import SEGMENT

VARIABLE = re.compile(r"<(?:(?P<converter>[^:<>()]+)(?:\([^<>]*\))?:)?(?P<name>[^<>:]+)>")
# Methods Flask (and Werkzeug) answer on their own for every rule.
AUTOMATIC_METHODS = frozenset({"HEAD", "OPTIONS"})


def openapi_path(rule: str) -> str:
    """A Flask rule (``/articles/<slug>``) in OpenAPI's spelling (``/articles/{slug}``)."""
    return VARIABLE.sub(lambda m: "{" + m["name"] + "}", rule)


# A value each of Werkzeug's converters accepts, so that a sample path also matches a v2
# route typed the same way (Starlette's ``{id:int}``); any other converter gets "x".
_SAMPLE_VALUES = {"int": "1", "float": "1.5", "uuid": "00000000-0000-4000-8000-000000000000"}


def sample_path(rule: str) -> str:
    """A concrete path the rule matches: what finds the manifest module that owns it, and
    the route that serves it on v2."""
    return VARIABLE.sub(lambda m: _SAMPLE_VALUES.get(m["converter"] or "", "x"), rule)


def manifest_pattern(rule: str) -> str:
    """A manifest pattern for a Flask rule: a variable is ``*``; a ``path`` one and all
    after it ``**``."""
    segments: list[str] = []
    for segment in filter(None, rule.strip("/").split("/")):
        match = VARIABLE.search(segment)
        if match and match["converter"] == "path":
            segments.append("**")
            break
        # A literal the manifest cannot spell (say "@me") is matched as any segment.
        segments.append("*" if match or not SEGMENT.fullmatch(segment) else segment)
    return "/" + "/".join(segments)


def path_parameters(rule: str) -> list[dict[str, Any]]:
    """The OpenAPI path parameters a rule implies, typed by their converters."""
    types: dict[str, dict[str, Any]] = {
        "int": {"type": "integer"},
        "float": {"type": "number"},
        "uuid": {"type": "string", "format": "uuid"},
    }
    return [
        {
            "in": "path",
            "name": match["name"],
            "required": True,
            "schema": dict(types.get(match["converter"] or "", {"type": "string"})),
        }
        for match in VARIABLE.finditer(rule)
    ]


def api_rules(app: Flask) -> Iterator[Rule]:
    """The rules that serve views: the app's and its blueprints' static files left out."""
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint == "static" or endpoint.endswith(".static"):
            continue
        if endpoint in app.view_functions:
            yield rule


def documented_methods(rule: Rule) -> list[str]:
    """The methods a rule's view was written for (Flask adds HEAD and OPTIONS itself)."""
    return sorted((rule.methods or set()) - AUTOMATIC_METHODS)


def blueprint_of(rule: Rule) -> str:
    """The blueprint a rule's endpoint belongs to; ``app`` for the app's own views."""
    return rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else "app"
