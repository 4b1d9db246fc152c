"""A PostgreSQL that stops answering: every wait ends at its deadline in a 503, the workers are
freed, and both sides (and /health) recover when it answers again.

The database's deadlines are the defaults a user has, but for the one that bounds a request's
whole wait on the database (``client_timeout_seconds``), set small so that the file is quick.
Each request's own read timeout is that deadline plus ``ROOM``, which stays below every other
default wait (connecting, a pooled connection): a request that waited on anything the
deadline does not bound fails the test, by construction, with nothing timed. /health is held
to its own ``WAIT_SECONDS`` the same way.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import legacy_flask
import v2
from gateway.app import create_app
from gateway.config.options import GatewayOptions
from gateway.records.drivers import sync_url
from gateway.records.store import WAIT_SECONDS, RecordStore
from shared.db import Database
from shared.settings import DatabaseSettings, Settings
from tests.freezable_proxy import FreezableProxy
from tests.gateways import LEGACY_PROCESSES, conduit_config
from tests.serving import running_server

SERVER = os.environ.get("GATEWAY_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not SERVER.startswith("postgres"), reason="a frozen server is PostgreSQL's failure"
)
UNAVAILABLE = {"errors": {"database": ["unavailable, try again shortly"]}}
DEGRADED = {"status": "degraded", "database": "unreachable"}
# Paths as templates: {legacy} is where the legacy app is (/legacy, or '' at the root), and
# {own} where the gateway's own endpoints are ('' under a prefix, /_gateway at the root).
PATHS = ["{legacy}/api/articles", "{legacy}/api/tags", "/v2/api/articles", "/v2/api/tags"]
HEALTH = "{own}/health"
# Where the legacy app is mounted is the router's business, not how it is served: the
# process-mode pass checks the prefix only.
MODES = pytest.mark.parametrize(
    "legacy_prefix",
    ["/legacy"] if LEGACY_PROCESSES else ["/legacy", "/"],
    ids=["prefix"] if LEGACY_PROCESSES else ["prefix", "root"],
)

# A request's whole wait on the database (client_timeout_seconds).
DEADLINE = 1.0
# How much later than its deadline an answer may come on a busy machine.
ROOM = 2.0
_DEFAULTS = DatabaseSettings()
# The waits the deadline must cut short; each would outlast a request's read timeout alone.
_OTHER_WAITS = min(_DEFAULTS.connect_timeout_seconds, _DEFAULTS.pool_timeout_seconds)
assert DEADLINE + ROOM < _OTHER_WAITS
# SQLAlchemy's default: a pool of N holds N + 10 connections before a request waits for one.
POOL_OVERFLOW = 10


@dataclass
class Frozen:
    """The gateway serving both sides, its records included, through a freezable relay."""

    http: httpx.Client
    proxy: FreezableProxy
    app: FastAPI
    options: GatewayOptions

    def get(self, template: str) -> httpx.Response:
        timeout = WAIT_SECONDS + ROOM if template == HEALTH else DEADLINE + ROOM
        path = template.format(legacy=self.options.legacy_base, own=self.options.own_prefix)
        return self.http.get(path, timeout=timeout)

    def get_all(self, paths: list[str]) -> list[httpx.Response]:
        """``paths`` requested all at once, each from a thread of its own."""
        with ThreadPoolExecutor(max_workers=len(paths)) as threads:
            return list(threads.map(self.get, paths))


@pytest.fixture
def frozen(
    request: pytest.FixtureRequest, settings: Settings, database: Database, legacy_prefix: str
) -> Iterator[Frozen]:
    """Every deadline the default but ``DEADLINE``; a test may name more settings. Each test
    runs with the legacy app under /legacy and at the root (``legacy_prefix``)."""
    update: dict[str, Any] = getattr(request, "param", {})
    real = sync_url(SERVER)
    proxy = FreezableProxy((real.host or "127.0.0.1", real.port or 5432))
    with proxy.running():
        host, port = proxy.address
        url = real.set(host=host, port=port).render_as_string(hide_password=False)
        database_settings = DatabaseSettings(url=url, client_timeout_seconds=DEADLINE, **update)
        frail = Database(database_settings)
        frail_settings = settings.model_copy(update={"database": database_settings})
        store = RecordStore(url)
        # As many legacy threads as requests sent at once, all running from the start: the
        # requests wait on the database, never for a turn in the legacy app. In processes,
        # one each for the legacy requests a test sends at once (each has a pool of its own).
        threads = 2 * (database_settings.pool_size + POOL_OVERFLOW)
        slots = (
            {"legacy_processes": database_settings.pool_size + POOL_OVERFLOW}
            if LEGACY_PROCESSES
            else {"legacy_threads": threads, "legacy_cpu_share": 0}
        )
        config = conduit_config(legacy_prefix=legacy_prefix, **slots)
        app = create_app(
            config,
            legacy=legacy_flask.create_app(frail_settings, database=frail),
            v2=v2.create_app(frail_settings, database=frail),
            store=store,
        )
        try:
            with running_server(app) as url, httpx.Client(base_url=url) as http:
                yield Frozen(http, proxy, app, config.options)
        finally:
            asyncio.run(frail.dispose_async())
            asyncio.run(store.dispose())


def _statuses(responses: list[httpx.Response]) -> list[int]:
    return [r.status_code for r in responses]


@MODES
@pytest.mark.parametrize("path", PATHS)
def test_a_pooled_connection_to_a_frozen_server_is_a_503_within_the_deadline(
    frozen: Frozen, path: str
) -> None:
    warm = frozen.get(path)  # the side's pool now holds a connection, pre-pinged on checkout

    frozen.proxy.freeze()
    response = frozen.get(path)

    assert warm.status_code == 200
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response.headers["retry-after"] == "5"


@MODES
def test_health_is_degraded_within_its_own_wait(frozen: Frozen) -> None:
    warm = frozen.get(HEALTH)

    frozen.proxy.freeze()
    response = frozen.get(HEALTH)

    assert warm.status_code == 200
    assert response.status_code == 503
    assert response.json() == DEGRADED


@MODES
@pytest.mark.parametrize("frozen", [{"pool_size": 1}], indirect=True)
def test_more_requests_at_once_than_the_pools_hold_are_all_503s_and_free_every_thread(
    frozen: Frozen,
) -> None:
    # One more than a pool holds, on each side: the last of each waits for a connection.
    many = 1 + POOL_OVERFLOW + 1
    paths = ["{legacy}/api/articles"] * many + ["/v2/api/articles"] * many
    # One after the other: each leaves its connection pooled, and none waits for another's
    # (at once, the last would wait for a connection on the deadline meant for the freeze).
    warm = [frozen.get(path) for path in paths]

    frozen.proxy.freeze()
    answers = frozen.get_all([*paths, HEALTH, HEALTH])

    assert set(_statuses(warm)) == {200}
    assert _statuses(answers) == [503] * len(answers)
    assert all(r.json() == UNAVAILABLE for r in answers[: len(paths)])
    # Every legacy request has left the app: the frozen server holds no Flask thread.
    assert frozen.app.state.legacy.admission.active == 0


@MODES
def test_after_a_thaw_both_sides_and_health_answer_200(frozen: Frozen) -> None:
    paths = ["{legacy}/api/tags", "/v2/api/tags", HEALTH]
    warm = frozen.get_all(paths)  # every pool, the gateway's own included, holds a connection

    frozen.proxy.freeze()
    stuck = frozen.get_all(paths)  # leaves those connections unanswered, then closed
    frozen.proxy.thaw()
    thawed = [frozen.get(path) for path in paths]

    assert _statuses(warm) == [200, 200, 200]
    assert _statuses(stuck) == [503, 503, 503]
    assert _statuses(thawed) == [200, 200, 200]
