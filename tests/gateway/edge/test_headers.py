"""Headers each side would read differently, through a real server: refused, or made one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask, request

from gateway.app import create_app
from gateway.config.configuration import configure
from gateway.config.manifest import Manifest
from gateway.config.options import ServerOptions
from gateway.edge.protocol import uvicorn_settings
from gateway.records.store import RecordStore
from tests.serving import running_server

READ_DEADLINE = 15.0


def _flask_cookies() -> Flask:
    app = Flask("cookies")

    @app.get("/cookies")
    def cookies() -> Any:
        return {"cookies": dict(request.cookies), "headers": request.headers.getlist("Cookie")}

    return app


def _fastapi_cookies() -> FastAPI:
    app = FastAPI()

    @app.get("/cookies")
    def cookies(request: Request) -> dict[str, Any]:
        return {"cookies": request.cookies, "headers": request.headers.getlist("cookie")}

    return app


@pytest.fixture(scope="module", params=["/legacy", "/"], ids=["prefix", "root"])
def gateway(request: pytest.FixtureRequest, records: RecordStore) -> Iterator[dict[str, str]]:
    """Where each side's paths are: the legacy app under /legacy or at the root, v2 under /v2."""
    config = configure(Manifest(), flags={"legacy_prefix": request.param}, environ={})
    app = create_app(config, legacy=_flask_cookies(), v2=_fastapi_cookies(), store=records)
    with running_server(app, **uvicorn_settings(ServerOptions())) as url:
        yield {"legacy": url + request.param.rstrip("/"), "v2": f"{url}/v2"}


def _cookies_seen(url: str, headers: list[tuple[str, str]]) -> Any:
    answer = httpx.get(url, headers=headers, timeout=READ_DEADLINE)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_cookies_sent_in_several_headers_are_one_header_on_both_sides(
    gateway: dict[str, str],
) -> None:
    # As an HTTP/2 client may split them, and a proxy pass them on without joining them.
    headers = [("Cookie", "session=abc; theme=dark"), ("Cookie", "lang=en"), ("Cookie", "x=1")]

    legacy = _cookies_seen(f"{gateway['legacy']}/cookies", headers)
    v2 = _cookies_seen(f"{gateway['v2']}/cookies", headers)

    assert legacy == v2
    assert v2 == {
        "cookies": {"session": "abc", "theme": "dark", "lang": "en", "x": "1"},
        "headers": ["session=abc; theme=dark; lang=en; x=1"],
    }


@pytest.mark.parametrize("side", ["legacy", "v2"])
def test_one_cookie_header_is_read_as_it_was_sent(gateway: dict[str, str], side: str) -> None:
    seen = _cookies_seen(f"{gateway[side]}/cookies", [("Cookie", "session=abc; theme=dark")])

    assert seen == {
        "cookies": {"session": "abc", "theme": "dark"},
        "headers": ["session=abc; theme=dark"],
    }


def test_a_repeated_cookie_header_does_not_excuse_a_repeated_authorization(
    gateway: dict[str, str],
) -> None:
    headers = [("Cookie", "a=1"), ("Cookie", "b=2"), ("Authorization", "x"), ("Authorization", "y")]

    answer = httpx.get(f"{gateway['v2']}/cookies", headers=headers, timeout=READ_DEADLINE)

    assert answer.status_code == 400
    assert answer.headers["x-served-by"] == "gateway"
