"""Helpers for the example app's tests: where it lives, and signing in as a browser or a client."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI

NOTES_DIR = Path(__file__).resolve().parents[2] / "examples" / "notes"

# The make_user fixture: (username, password) -> the new user's id.
MakeUser = Callable[[str, str], int]

_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a page's form carries, as a browser would submit it."""
    match = _CSRF_INPUT.search(html)
    assert match is not None, f"no csrf_token input in:\n{html}"
    return match[1]


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """Sign in through the HTML form, with the token scraped from it."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(page.text), "username": username, "password": password},
    )


def api_tokens(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    """Tokens from POST /api/token, for use in the Authorization header only."""
    response = client.post("/api/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    # The endpoint also sets the tokens as cookies; without them, a missing or wrong
    # Authorization header cannot be masked by a cookie.
    client.cookies.clear()
    tokens: dict[str, str] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dispose_legacy_engines(app: FastAPI) -> None:
    """The Flask app a gateway built has no shutdown of its own: return its connections."""
    flask_app = app.state.legacy.wsgi_app
    with flask_app.app_context():
        for engine in flask_app.extensions["sqlalchemy"].engines.values():
            engine.dispose()
