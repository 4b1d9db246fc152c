"""The legacy app at its own URLs (``legacy_prefix = "/"``) and under ``/legacy``, side by side.

Through a real server, in both prefix modes: every state of the manifest answers the legacy
URLs, the gateway's own endpoints sit under ``/_gateway`` when the legacy app owns the root,
a WebSocket meets a clear refusal on a legacy path and reaches v2 under its prefix, and only
the allowed hosts are answered.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, WebSocket
from flask import Flask, redirect, url_for
from sqlalchemy import delete, select

from gateway.app import create_app
from gateway.config.configuration import configure
from gateway.config.manifest import parse_manifest
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from shared.db import Database
from shared.settings import Settings
from tests.conduit import PASSWORD, Api
from tests.gateways import conduit_gateway
from tests.serving import running_server
from tests.waiting import wait_until

# What it tests does not depend on the database: the SQLite pass runs it.
pytestmark = pytest.mark.any_database

MANIFEST = """\
[[module]]
name = "users"
paths = ["/api/users", "/api/users/login", "/api/user"]
state = "v2"

[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/**"]
state = "legacy"

[[module]]
name = "tags"
paths = ["/api/tags"]
state = "canary"
canary_percent = 100

[[module]]
name = "profiles"
paths = ["/api/profiles/**"]
state = "shadow"
shadow_sample_rate = 1.0
deprecated = 2026-11-01
"""
# (legacy_prefix, where the legacy URLs are, where the gateway's own endpoints are)
MODES = [("/", "", "/_gateway"), ("/legacy", "/legacy", "")]
READ_SECONDS = 15.0


@pytest.fixture(scope="module", params=MODES, ids=["root", "prefix"])
def conduit(
    request: pytest.FixtureRequest, settings: Settings, database: Database, records: RecordStore
) -> Iterator[tuple[str, str, str]]:
    legacy_prefix, base, own = request.param
    app = conduit_gateway(
        settings, database, records, manifest=MANIFEST, legacy_prefix=legacy_prefix
    )
    try:
        with running_server(app) as url:
            yield url, base, own
    finally:  # the suite's other shadow tests count the comparisons they find
        with records.session() as session, session.begin():
            session.execute(delete(ShadowComparison))


def _compared(records: RecordStore, path: str) -> ShadowComparison:
    def found() -> ShadowComparison | None:
        with records.session() as session:
            rows = session.scalars(
                select(ShadowComparison).where(ShadowComparison.module == "profiles")
            )
            return next((row for row in rows if row.request["path"] == path), None)

    return wait_until(found, timeout=READ_SECONDS, message=f"a comparison of {path}")


def test_every_state_answers_the_legacy_urls(
    conduit: tuple[str, str, str], records: RecordStore
) -> None:
    url, base, _own = conduit
    with httpx.Client(base_url=url + base, timeout=READ_SECONDS) as http:
        api = Api(http, "/api")
        account = api.register()
        login = api.post(
            "/users/login", json={"user": {"email": account.email, "password": PASSWORD}}
        )
        articles = api.get("/articles")
        tags = api.get("/tags")
        profile = api.get(f"/profiles/{account.username}")

    assert (login.status_code, login.headers["x-served-by"]) == (200, "v2")
    assert (articles.status_code, articles.headers["x-served-by"]) == (200, "legacy")
    assert (tags.status_code, tags.headers["x-served-by"]) == (200, "v2")
    assert (profile.status_code, profile.headers["x-served-by"]) == (200, "legacy")
    # The successor a deprecated legacy URL names is under /v2, whatever the legacy prefix.
    successor = f"/v2/api/profiles/{account.username}"
    assert profile.headers["link"] == f'<{successor}>; rel="successor-version"'
    # The shadowed request was replayed to v2 and matched, at the URL the client used.
    compared = _compared(records, f"{base}/api/profiles/{account.username}")
    assert compared.outcome == "matched"


def test_the_gateway_answers_under_its_own_prefix(conduit: tuple[str, str, str]) -> None:
    url, base, own = conduit
    with httpx.Client(base_url=url, timeout=READ_SECONDS) as http:
        health = http.get(f"{own}/health")
        spec = http.get(f"{own}/openapi.json").json()
        docs = http.get(f"{own}/docs")
        asset = http.get(f"{own}/docs-static/swagger-ui.css")
        root_health = http.get("/health")

    assert (health.json(), health.headers["x-served-by"]) == (
        {"status": "ok", "database": "ok"},
        "gateway",
    )
    assert f"{base}/api/articles" in spec["paths"]
    assert "/v2/api/articles" in spec["paths"]
    assert f"{own}/docs-static/swagger-ui-bundle.js" in docs.text
    assert f"{own}/openapi.json" in docs.text
    assert asset.status_code == 200
    if own:  # the legacy app owns the root: /health is its own (a Conduit 404)
        assert (root_health.status_code, root_health.headers["x-served-by"]) == (404, "legacy")
    else:
        assert root_health.json()["status"] == "ok"


def _flask_app() -> Flask:
    app = Flask("rooted")

    @app.get("/hello")
    def hello() -> Any:
        return redirect(url_for("world"))

    @app.get("/world")
    def world() -> str:
        return "world"

    return app


def _v2_app() -> FastAPI:
    app = FastAPI()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return app


@pytest.fixture(scope="module", params=MODES, ids=["root", "prefix"])
def small(request: pytest.FixtureRequest, records: RecordStore) -> Iterator[tuple[str, str, str]]:
    legacy_prefix, base, own = request.param
    manifest = parse_manifest(
        f'[gateway]\nlegacy_prefix = "{legacy_prefix}"\n'
        '[gateway.server]\nallowed_hosts = ["127.0.0.1", "*.example.com"]\n',
        source="small.toml",
    )
    config = configure(manifest, environ={})
    app = create_app(config, legacy=_flask_app(), v2=_v2_app(), store=records)
    with running_server(app) as url:
        yield url, base, own


def _handshake(url: str, path: str, host: str = "127.0.0.1") -> bytes:
    """The status line a WebSocket opening handshake gets, sent as any browser sends it."""
    address = url.removeprefix("http://").split(":")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((address[0], int(address[1])), timeout=READ_SECONDS) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def test_a_websocket_is_refused_on_legacy_paths_and_reaches_v2(
    small: tuple[str, str, str],
) -> None:
    url, base, own = small

    assert _handshake(url, f"{base}/hello") == b"HTTP/1.1 403 Forbidden"
    assert _handshake(url, f"{base}/echo") == b"HTTP/1.1 403 Forbidden"
    assert _handshake(url, f"{own}/health") == b"HTTP/1.1 403 Forbidden"
    assert _handshake(url, "/v2/echo") == b"HTTP/1.1 101 Switching Protocols"
    # Starlette's host check refuses the handshake as it refuses a request.
    assert _handshake(url, "/v2/echo", host="evil.test") == b"HTTP/1.1 400 Bad Request"


def test_only_allowed_hosts_are_answered(small: tuple[str, str, str]) -> None:
    url, base, own = small
    with httpx.Client(base_url=url, timeout=READ_SECONDS) as http:
        allowed = http.get(f"{base}/hello")
        wildcard = http.get(f"{base}/hello", headers={"Host": "api.example.com"})
        other = http.get(f"{base}/hello", headers={"Host": "evil.test"})
        health = http.get(f"{own}/health", headers={"Host": "evil.test"})

    assert (allowed.status_code, allowed.headers["location"]) == (302, f"{base}/world")
    assert wildcard.status_code == 302
    for refused in (other, health):
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["x-served-by"] == "gateway"
        assert "Host" in refused.json()["detail"]
