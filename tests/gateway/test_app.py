"""The app factory: apps by configuration, who disposes of the store, the ASGI module."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.config.configuration import configure
from gateway.config.manifest import Manifest
from gateway.records.store import RecordStore
from tests.conftest import TEST_JWT_SECRET
from tests.gateways import CONDUIT_MANIFEST
from tests.inprocess import in_process
from tests.serving import first_answer, free_port


def _hello(environ: object, start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"hello\n"]


def test_an_app_disposes_of_the_store_it_created(tmp_path: Path) -> None:
    config = configure(Manifest(), flags={"database": f"sqlite:///{tmp_path / 'g.db'}"}, environ={})
    app = create_app(config, legacy=_hello)
    store: RecordStore = app.state.store

    with in_process(app) as http:
        assert http.get("/health").status_code == 200
        pooled_while_serving = store.async_engine.pool.checkedin()  # type: ignore[attr-defined]

    assert pooled_while_serving == 1
    assert store.async_engine.pool.checkedin() == 0  # type: ignore[attr-defined]


def test_an_app_leaves_a_store_it_was_given_open(tmp_path: Path) -> None:
    store = RecordStore(f"sqlite:///{tmp_path / 'g.db'}")
    app = create_app(configure(Manifest(), environ={}), legacy=_hello, store=store)

    try:
        with in_process(app) as http:
            assert http.get("/health").status_code == 200
        pooled_after_shutdown = store.async_engine.pool.checkedin()  # type: ignore[attr-defined]
    finally:
        asyncio.run(store.dispose())

    assert pooled_after_shutdown == 1


def test_legacy_api_is_served_under_legacy(client: httpx.Client) -> None:
    tags = client.get("/legacy/api/tags")
    unknown = client.get("/legacy/api/nope")

    assert tags.status_code == 200
    assert tags.json() == {"tags": []}
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/json; charset=utf-8"
    assert unknown.json() == {"errors": {"request": ["not found"]}}


def test_errors_the_gateway_answers_itself_take_the_configured_shape(
    client: httpx.Client, tmp_path: Path
) -> None:
    conduit = client.get("/nowhere")
    app = create_app(
        configure(Manifest(), flags={"database": f"sqlite:///{tmp_path / 'g.db'}"}, environ={}),
        legacy=_hello,
    )
    with in_process(app) as http:
        default = http.get("/nowhere")

    assert conduit.status_code == 404
    assert conduit.json() == {"errors": {"request": ["not found"]}}
    assert default.status_code == 404
    assert default.headers["content-type"] == "application/problem+json"
    assert default.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "not found",
    }


def test_uvicorn_serves_the_asgi_module_configured_by_the_manifest(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "uvicorn.log"
    env = {
        **os.environ,
        "GATEWAY_MANIFEST": str(CONDUIT_MANIFEST),
        "CONDUIT_DATABASE__URL": f"sqlite:///{tmp_path / 'asgi.db'}",
        "CONDUIT_JWT__SECRET": TEST_JWT_SECRET,
        "CONDUIT_VAR_DIR": str(tmp_path),
    }
    subprocess.run([sys.executable, "-m", "shared.cli", "db", "upgrade"], env=env, check=True)
    subprocess.run([sys.executable, "-m", "gateway.cli", "db", "upgrade"], env=env, check=True)
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gateway.asgi:app", "--port", str(port)],
            env=env,
            cwd=tmp_path,  # nothing is found by being next to the working directory
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        health = first_answer(f"{base}/health", proc, output=log.read_text)
        legacy = httpx.get(f"{base}/legacy/api/tags")
        v2 = httpx.get(f"{base}/v2/api/tags")

        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok"}
        assert (legacy.status_code, legacy.headers["x-served-by"]) == (200, "legacy")
        assert (v2.status_code, v2.headers["x-served-by"]) == (200, "v2")
        assert legacy.json() == v2.json() == {"tags": []}
        assert (tmp_path / "asgi.gateway.db").is_file()  # the records beside the app's data
    finally:
        proc.terminate()
        proc.wait(timeout=10)
