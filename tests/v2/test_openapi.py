"""The OpenAPI document describes v2's real models, errors and token scheme."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.inprocess import BASE_URL, InProcessTransport


@pytest.fixture(scope="module")
def spec(gateway_transport: InProcessTransport) -> dict[str, Any]:
    with httpx.Client(transport=gateway_transport, base_url=BASE_URL) as http:
        response = http.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _schema_ref(content: dict[str, Any]) -> str:
    (media,) = content.values()
    ref: str = media["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def test_every_conduit_operation_is_described(spec: dict[str, Any]) -> None:
    operations = {
        (method.upper(), path.removeprefix("/v2/api"))
        for path, item in spec["paths"].items()
        if path.startswith("/v2/api")
        for method in item
    }

    assert operations == {
        ("POST", "/users/login"),
        ("POST", "/users"),
        ("GET", "/user"),
        ("PUT", "/user"),
        ("GET", "/profiles/{username}"),
        ("POST", "/profiles/{username}/follow"),
        ("DELETE", "/profiles/{username}/follow"),
        ("GET", "/articles/feed"),
        ("GET", "/articles"),
        ("POST", "/articles"),
        ("GET", "/articles/{slug}"),
        ("PUT", "/articles/{slug}"),
        ("DELETE", "/articles/{slug}"),
        ("GET", "/articles/{slug}/comments"),
        ("POST", "/articles/{slug}/comments"),
        ("DELETE", "/articles/{slug}/comments/{comment_id}"),
        ("POST", "/articles/{slug}/favorite"),
        ("DELETE", "/articles/{slug}/favorite"),
        ("GET", "/tags"),
    }


def test_request_and_response_models_are_the_real_ones(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/v2/api/articles"]["post"]
    body_schema = spec["components"]["schemas"][_schema_ref(create["requestBody"]["content"])]
    new_article = spec["components"]["schemas"]["NewArticle"]
    listed = spec["components"]["schemas"]["ArticleListItem"]

    assert body_schema["properties"]["article"]["$ref"].endswith("/NewArticle")
    assert set(new_article["required"]) == {"title", "description", "body"}
    assert "tagList" in new_article["properties"]
    assert _schema_ref(create["responses"]["201"]["content"]) == "ArticleEnvelope"
    assert "body" not in listed["properties"]
    assert {"tagList", "favoritesCount", "createdAt"} <= set(listed["properties"])


def test_errors_are_documented_in_conduit_shape(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        if not path.startswith("/v2/api"):
            continue
        for method, operation in item.items():
            for status in ("401", "403", "404", "409", "422"):
                if status in operation["responses"]:
                    content = operation["responses"][status]["content"]
                    assert _schema_ref(content) == "ErrorBody", (method, path, status)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_the_token_scheme_guards_the_protected_operations(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["Token"]
    paths = spec["paths"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert paths["/v2/api/user"]["get"]["security"] == [{"Token": []}]
    assert paths["/v2/api/articles"]["post"]["security"] == [{"Token": []}]
    # Optional auth is still documented: the answer depends on who asks.
    assert paths["/v2/api/articles"]["get"]["security"] == [{"Token": []}]
    assert "security" not in paths["/v2/api/tags"]["get"]
