"""Text no database can store (NUL, unpaired surrogates) is refused with a 422 naming the field,
on both sides and both databases, before it reaches a query."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shared.rules import INVALID_CHARACTERS
from tests.conduit import PASSWORD, Account, Api

BAD = ["\x00", "\ud800", "a\udfffb"]


def _post(api: Api, method: str, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    # json.dumps escapes the surrogates (\\ud800), as a client's JSON encoder would.
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return api.request(method, path, content=content, headers=headers, **kwargs)


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json() == {"errors": {field: [INVALID_CHARACTERS]}}


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_register(api: Api, field: str, bad: str) -> None:
    user = {"username": "texty", "email": "texty@example.com", "password": PASSWORD}
    user[field] = f"x{bad}y" if field != "email" else f"te{bad}xt@example.com"

    _refused(_post(api, "POST", "/users", {"user": user}), field)


@pytest.mark.parametrize("bad", BAD)
def test_login(api: Api, alice: Account, bad: str) -> None:
    body = {"user": {"email": alice.email, "password": f"pw{bad}"}}

    _refused(_post(api, "POST", "/users/login", body), "password")


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("field", ["bio", "image", "username"])
def test_update_user(api: Api, alice: Account, field: str, bad: str) -> None:
    _refused(_post(api, "PUT", "/user", {"user": {field: f"v{bad}"}}, user=alice), field)


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("field", ["title", "description", "body", "tagList"])
def test_create_article(api: Api, alice: Account, field: str, bad: str) -> None:
    article: dict[str, Any] = {"title": "T", "description": "D", "body": "B"}
    article[field] = [f"tag{bad}"] if field == "tagList" else f"text{bad}"

    _refused(_post(api, "POST", "/articles", {"article": article}, user=alice), field)


@pytest.mark.parametrize("bad", BAD)
def test_comment(api: Api, alice: Account, bad: str) -> None:
    slug = api.create_article(alice)["slug"]

    response = _post(api, "POST", f"/articles/{slug}/comments", {"comment": {"body": bad}})
    signed = _post(
        api, "POST", f"/articles/{slug}/comments", {"comment": {"body": f"c{bad}"}}, user=alice
    )

    assert response.status_code == 401  # who asks is checked first
    _refused(signed, "body")


@pytest.mark.parametrize("param", ["tag", "author", "favorited"])
def test_a_listing_filter(api: Api, param: str) -> None:
    _refused(api.get("/articles", params={param: "x\x00y"}), param)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/profiles/a%00b", "request"),
        ("/articles/a%00b", "request"),
        # Not UTF-8 at all: the server decodes it to replacement characters, a plain miss.
        ("/articles/%ED%A0%80", "article"),
    ],
)
def test_a_path_no_row_can_match_is_not_found(api: Api, path: str, field: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert response.json() == {"errors": {field: ["not found"]}}
