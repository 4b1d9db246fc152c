"""A v2 given as an ``APIRouter`` is served like any v2 app: the bridges' refusals exactly as
the legacy app words them, its own ``HTTPException``s as FastAPI answers them, HEAD and
OPTIONS as Flask does."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, HTTPException
from flask import Flask, jsonify
from flask_jwt_extended import JWTManager, create_access_token, jwt_required

from gateway.app import create_app
from gateway.bridges.flask_jwt import FlaskJWTBridge
from gateway.config.configuration import configure
from gateway.config.manifest import parse_manifest
from gateway.records.store import RecordStore

JWT_KEY = "router-v2-jwt-key-that-is-long-enough-for-hs256"
# Both paths are the module's: one stays on legacy (the reference), one moved to v2.
MANIFEST = """\
[[module]]
name = "moved"
paths = ["/moved/**"]
state = "v2"
"""


def _legacy() -> Flask:
    app = Flask("router_v2_legacy")
    app.config.update(JWT_SECRET_KEY=JWT_KEY)
    JWTManager(app)

    @app.get("/kept/me")
    @jwt_required()
    def me() -> Any:
        return jsonify(me=True)

    return app


def _router(legacy: Flask) -> APIRouter:
    auth = FlaskJWTBridge(legacy)
    router = APIRouter()

    # A default, not an Annotated alias: a local alias is a string here to FastAPI.
    @router.get("/moved/me")
    async def me(_claims: dict[str, Any] = Depends(auth.required())) -> dict[str, bool]:
        return {"me": True}

    @router.get("/moved/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "Short And Stout", headers={"X-Kettle": "on"})

    return router


def _answers(
    records: RecordStore, requests: list[tuple[str, str, dict[str, str]]]
) -> list[httpx.Response]:
    legacy = _legacy()
    config = configure(parse_manifest(MANIFEST), flags={"v2": "given"}, environ={})
    app = create_app(config, legacy=legacy, v2=_router(legacy), store=records)

    async def run() -> list[httpx.Response]:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                return [
                    await http.request(method, path, headers=headers)
                    for method, path, headers in requests
                ]

    return asyncio.run(run())


def _token(valid: bool) -> dict[str, str]:
    legacy = _legacy()
    with legacy.app_context():
        token = create_access_token("ann")
    return {"Authorization": f"Bearer {token if valid else token[:-4] + 'AAAA'}"}


def _exact(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    # Who served it is the one header meant to differ.
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-served-by"]
    return response.status_code, response.content, headers


def test_the_bridges_refusals_are_the_legacy_apps_byte_for_byte(records: RecordStore) -> None:
    cases = [{}, _token(valid=False), {"Authorization": "Token nonsense"}]
    requests = [
        (m, f"/legacy/{side}/me", h) for h in cases for side in ("kept", "moved") for m in ["GET"]
    ]

    answers = _answers(records, requests)

    for kept, moved in zip(answers[::2], answers[1::2], strict=True):
        assert kept.headers["x-served-by"] == "legacy"
        assert moved.headers["x-served-by"] == "v2"
        assert kept.status_code in (401, 422)
        assert _exact(moved) == _exact(kept)


def test_a_valid_token_passes_on_both(records: RecordStore) -> None:
    kept, moved = _answers(
        records, [("GET", f"/legacy/{side}/me", _token(valid=True)) for side in ("kept", "moved")]
    )

    assert (kept.status_code, kept.json()) == (200, {"me": True})
    assert (moved.status_code, moved.json()) == (200, {"me": True})


def test_its_own_http_exceptions_are_answered_as_raised(records: RecordStore) -> None:
    (teapot,) = _answers(records, [("GET", "/v2/moved/teapot", {})])

    assert teapot.status_code == 418
    assert teapot.json() == {"detail": "Short And Stout"}
    assert teapot.headers["x-kettle"] == "on"


def test_head_and_options_are_answered_as_flask_does(records: RecordStore) -> None:
    head, options = _answers(
        records,
        [("HEAD", "/legacy/moved/teapot", {}), ("OPTIONS", "/legacy/moved/teapot", {})],
    )

    assert (head.status_code, head.content) == (418, b"")
    assert options.status_code == 200
    assert options.headers["allow"] == "GET, HEAD, OPTIONS"
