"""One OpenAPI document: v2 natively, legacy from the Flask url map and marshmallow schemas."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.gateways import conduit_gateway
from tests.inprocess import in_process

MANIFEST = """\
[[module]]
name = "profiles"
paths = ["/api/profiles/**"]
deprecated = 2026-11-01

[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/**"]
"""


@pytest.fixture(scope="module")
def spec(settings: Settings, database: Database, records: RecordStore) -> dict[str, Any]:
    app = conduit_gateway(settings, database, records, manifest=MANIFEST)
    with in_process(app) as http:
        document: dict[str, Any] = http.get("/openapi.json").json()
    return document


def _operations(spec: dict[str, Any], prefix: str) -> set[tuple[str, str]]:
    return {
        (method.upper(), path.removeprefix(prefix))
        for path, item in spec["paths"].items()
        if path.startswith(prefix)
        for method in item
    }


def test_the_merged_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)  # raises with the first problem it finds

    assert spec["openapi"].startswith("3.1")


def test_both_sides_list_the_same_conduit_operations(spec: dict[str, Any]) -> None:
    legacy = _operations(spec, "/legacy/api")
    v2 = _operations(spec, "/v2/api")

    assert len(legacy) == 19
    assert legacy == v2


def test_legacy_operations_carry_their_schemas_and_security(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/legacy/api/articles"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    new_article = spec["components"]["schemas"]["LegacyNewArticle"]

    assert body["properties"]["article"]["$ref"] == "#/components/schemas/LegacyNewArticle"
    assert set(new_article["required"]) == {"title", "description", "body"}
    assert create["security"] == [{"Token": []}]
    assert "201" in create["responses"]
    listing = spec["paths"]["/legacy/api/articles"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "tag",
        "author",
        "favorited",
        "limit",
        "offset",
    }
    assert "security" not in spec["paths"]["/legacy/api/tags"]["get"]


def test_operations_with_an_announced_successor_are_deprecated(spec: dict[str, Any]) -> None:
    profile = spec["paths"]["/legacy/api/profiles/{username}"]["get"]
    article = spec["paths"]["/legacy/api/articles/{slug}"]["get"]

    assert profile["deprecated"] is True
    assert "deprecated" not in article
    assert "deprecated" not in spec["paths"]["/v2/api/profiles/{username}"]["get"]
