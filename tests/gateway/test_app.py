"""The app factory: shared engines, who disposes of them, the legacy mount, the ASGI module."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from gateway.app import create_app
from gateway.legacy_mount import LegacyMount
from shared.db import Database
from shared.settings import Settings
from tests.conftest import TEST_JWT_SECRET
from tests.serving import first_answer, free_port, running_server


def _legacy_mount(app: FastAPI) -> LegacyMount:
    [mount] = [r for r in app.routes if isinstance(r, Mount) and r.path == "/legacy"]
    assert isinstance(mount.app, LegacyMount)
    return mount.app


def test_state_and_the_legacy_app_share_one_database(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings, database=database)

    flask_app = _legacy_mount(app).wsgi_app

    assert app.state.settings is settings
    assert app.state.database is database
    assert flask_app.extensions["conduit"]["database"] is database  # type: ignore[attr-defined]


def test_an_app_disposes_of_the_engines_it_created(settings: Settings) -> None:
    app = create_app(settings)
    database: Database = app.state.database

    with running_server(app) as base:
        assert httpx.get(f"{base}/health").status_code == 200
        pooled_while_serving = database.async_engine.pool.checkedin()  # type: ignore[attr-defined]

    assert pooled_while_serving == 1
    assert database.async_engine.pool.checkedin() == 0  # type: ignore[attr-defined]


def test_an_app_leaves_a_database_it_was_given_open(settings: Settings) -> None:
    database = Database(settings.database)
    app = create_app(settings, database=database)

    try:
        with running_server(app) as base:
            assert httpx.get(f"{base}/health").status_code == 200
        pooled_after_shutdown = database.async_engine.pool.checkedin()  # type: ignore[attr-defined]
    finally:
        asyncio.run(database.dispose_async())

    assert pooled_after_shutdown == 1


def test_legacy_api_is_served_under_legacy(client: httpx.Client) -> None:
    tags = client.get("/legacy/api/tags")
    unknown = client.get("/legacy/api/nope")

    assert tags.status_code == 200
    assert tags.json() == {"tags": []}
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/json; charset=utf-8"
    assert unknown.json() == {"errors": {"request": ["not found"]}}


def test_uvicorn_serves_the_asgi_module(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "uvicorn.log"
    env = {
        **os.environ,
        "GATEWAY_DATABASE__URL": f"sqlite:///{tmp_path / 'asgi.db'}",
        "GATEWAY_JWT__SECRET": TEST_JWT_SECRET,
        "GATEWAY_VAR_DIR": str(tmp_path),
    }
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gateway.asgi:app", "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        health = first_answer(f"{base}/health", proc, output=log.read_text)
        legacy = httpx.get(f"{base}/legacy/api/nope")

        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok"}
        assert legacy.status_code == 404
        assert legacy.json() == {"errors": {"request": ["not found"]}}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
