"""HEAD, OPTIONS and trailing slashes: the same answer whichever side serves the path."""

from __future__ import annotations

import pytest

from tests.conduit import Account, Api


def _allow(header: str) -> set[str]:
    return {method.strip() for method in header.split(",")}


@pytest.mark.parametrize("path", ["/tags", "/articles", "/profiles/alice"])
def test_head_answers_like_get_without_a_body(api: Api, alice: Account, path: str) -> None:
    got = api.get(path)

    head = api.request("HEAD", path)

    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/tags", {"GET", "HEAD", "OPTIONS"}),
        ("/articles", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("/articles/a-slug", {"DELETE", "GET", "HEAD", "OPTIONS", "PUT"}),
        ("/user", {"GET", "HEAD", "OPTIONS", "PUT"}),
        ("/users/login", {"OPTIONS", "POST"}),
    ],
)
def test_options_names_every_method_of_the_path(api: Api, path: str, methods: set[str]) -> None:
    response = api.request("OPTIONS", path)

    assert response.status_code == 200
    assert response.content == b""
    assert _allow(response.headers["allow"]) == methods


def test_head_where_get_is_not_allowed_is_a_405(api: Api) -> None:
    response = api.request("HEAD", "/users/login")

    assert response.status_code == 405
    assert response.content == b""
    assert "POST" in _allow(response.headers["allow"])


def test_a_trailing_slash_is_another_path(api: Api) -> None:
    response = api.get("/tags/")

    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.json() == {"errors": {"request": ["not found"]}}
