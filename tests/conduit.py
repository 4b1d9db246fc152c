"""A small typed client for the Conduit API, used by the contract tests on either side."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@dataclass(frozen=True)
class Account:
    username: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


@dataclass(frozen=True)
class Api:
    """Speaks to one side: ``prefix`` is ``/legacy/api`` or ``/v2/api``."""

    http: httpx.Client
    prefix: str

    def request(
        self, method: str, path: str, *, user: Account | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers.update(user.headers)
        return self.http.request(method, self.prefix + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def register(self, username: str | None = None, **overrides: Any) -> Account:
        username = username or f"user{next(_counter)}"
        body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        body.update(overrides)
        response = self.post("/users", json={"user": body})
        assert response.status_code == 201, response.text
        user = response.json()["user"]
        return Account(username=user["username"], email=user["email"], token=user["token"])

    def create_article(self, by: Account, /, **fields: Any) -> dict[str, Any]:
        n = next(_counter)
        article = {"title": f"Title {n}", "description": f"About {n}", "body": f"Body {n}"}
        article.update(fields)
        response = self.post("/articles", user=by, json={"article": article})
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()["article"]
        return result

    def comment(self, author: Account, slug: str, body: str = "Nice!") -> dict[str, Any]:
        response = self.post(
            f"/articles/{slug}/comments", user=author, json={"comment": {"body": body}}
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()["comment"]
        return result


def assert_error(response: httpx.Response, status: int, field: str) -> list[str]:
    """Assert Conduit's error shape and return the messages for ``field``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    errors = response.json()["errors"]
    assert isinstance(errors, dict)
    assert field in errors, errors
    messages: list[str] = errors[field]
    assert messages
    assert all(isinstance(m, str) for m in messages)
    return messages
