"""A PostgreSQL that stops answering: every wait ends at its deadline in a 503, the workers are
freed, and both sides recover when it answers again."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import httpx
import pytest

import legacy_flask
import v2
from gateway.app import create_app
from gateway.records.drivers import sync_url
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.freezable_proxy import FreezableProxy
from tests.gateways import conduit_config
from tests.inprocess import in_process

SERVER = os.environ.get("GATEWAY_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not SERVER.startswith("postgres"), reason="a frozen server is PostgreSQL's failure"
)
UNAVAILABLE = {"errors": {"database": ["unavailable, try again shortly"]}}


@pytest.fixture
def frozen_setup(
    settings: Settings, database: Database
) -> Iterator[tuple[httpx.Client, FreezableProxy]]:
    real = sync_url(SERVER)
    proxy = FreezableProxy((real.host or "127.0.0.1", real.port or 5432))
    with proxy.running():
        host, port = proxy.address
        url = real.set(host=host, port=port).render_as_string(hide_password=False)
        database_settings = settings.database.model_copy(
            update={
                "url": url,
                "connect_timeout_seconds": 1,
                "pool_timeout_seconds": 1.0,
                "statement_timeout_seconds": 1.0,
                "client_timeout_seconds": 2.0,
            }
        )
        frail = Database(database_settings)
        frail_settings = settings.model_copy(update={"database": database_settings})
        store = RecordStore(url)
        app = create_app(
            conduit_config(),
            legacy=legacy_flask.create_app(frail_settings, database=frail),
            v2=v2.create_app(frail_settings, database=frail),
            store=store,
        )
        try:
            with in_process(app, timeout=60) as http:
                yield http, proxy
        finally:
            asyncio.run(frail.dispose_async())
            asyncio.run(store.dispose())


def _answers(http: httpx.Client) -> list[httpx.Response]:
    return [http.get(f"{side}/api/tags") for side in ("/legacy", "/v2")]


def test_a_frozen_database_is_a_prompt_503_and_recovery_follows(
    frozen_setup: tuple[httpx.Client, FreezableProxy],
) -> None:
    http, proxy = frozen_setup
    warm = _answers(http)  # both sides now hold pooled connections

    proxy.frozen.set()
    frozen = _answers(http)
    health = http.get("/health")
    proxy.frozen.clear()
    thawed = _answers(http)

    assert [r.status_code for r in warm] == [200, 200]
    assert [r.status_code for r in frozen] == [503, 503]
    assert [r.json() for r in frozen] == [UNAVAILABLE, UNAVAILABLE]
    assert all(r.headers["retry-after"] == "5" for r in frozen)
    assert health.status_code == 503
    assert [r.status_code for r in thawed] == [200, 200]
