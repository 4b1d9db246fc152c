"""The API views' docstrings are apispec YAML naming the registered marshmallow schemas."""

from __future__ import annotations

import inspect
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_operations_from_docstring
from flask import Flask
from openapi_spec_validator import validate

_AUTOMATIC = {"HEAD", "OPTIONS"}


def _api_spec(app: Flask) -> dict[str, Any]:
    """What an OpenAPI tool reads from the app: the docstrings, plus path parameters."""
    spec = APISpec(
        title="notes", version="1", openapi_version="3.1.0", plugins=[MarshmallowPlugin()]
    )
    components = app.config["API_SPEC_OPTIONS"]["components"]
    for name, scheme in components["securitySchemes"].items():
        spec.components.security_scheme(name, scheme)
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        docstring = app.view_functions[rule.endpoint].__doc__ or ""
        operations = load_operations_from_docstring(docstring)
        assert set(operations) == {m.lower() for m in rule.methods or ()} - {
            m.lower() for m in _AUTOMATIC
        }, rule.endpoint
        summary = inspect.cleandoc(docstring).split("---")[0].strip()
        assert summary, f"{rule.endpoint} has no summary line"
        parameters = [
            {"in": "path", "name": name, "required": True, "schema": {"type": "integer"}}
            for name in re.findall(r"<int:(\w+)>", rule.rule)
        ]
        for operation in operations.values():
            operation["summary"] = summary.splitlines()[0]
            operation["parameters"] = parameters
        spec.path(path=re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), operations=operations)
    return spec.to_dict()


def test_every_api_view_documents_its_methods_with_the_schemas(notes_app: Flask) -> None:
    document = _api_spec(notes_app)

    validate(document)
    paths = document["paths"]
    assert sorted(paths) == [
        "/api/notes",
        "/api/notes/{note_id}",
        "/api/token",
        "/api/token/refresh",
    ]
    assert sorted(document["components"]["schemas"]) == [
        "Message",
        "NewNote",
        "Note",
        "Token",
        "TokenRequest",
    ]
    json = "application/json"
    assert paths["/api/notes"]["post"]["requestBody"]["content"][json]["schema"] == {
        "$ref": "#/components/schemas/NewNote"
    }
    listed = paths["/api/notes"]["get"]["responses"]["200"]["content"][json]["schema"]
    assert listed["properties"]["notes"]["items"] == {"$ref": "#/components/schemas/Note"}
    assert paths["/api/token"]["post"]["requestBody"]["content"][json]["schema"] == {
        "$ref": "#/components/schemas/TokenRequest"
    }
    assert sorted(paths["/api/notes/{note_id}"]) == ["delete", "get"]
    assert paths["/api/notes/{note_id}"]["get"]["responses"]["404"]["content"][json] == {
        "schema": {"$ref": "#/components/schemas/Message"}
    }
    assert paths["/api/notes/{note_id}"]["delete"]["summary"] == (
        "Delete one of the caller's notes; only with a fresh token (one from signing in)."
    )
    note = document["components"]["schemas"]["Note"]["properties"]
    assert note["id"] == {"type": "integer", "readOnly": True}
    assert note["created_at"] == {"type": "string", "format": "date-time", "readOnly": True}
