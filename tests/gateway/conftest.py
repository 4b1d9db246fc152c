"""A gateway whose legacy app is the real one plus the test-only probe blueprint."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import legacy_flask
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.gateway.probe import ProbeState, probe_blueprint
from tests.gateways import conduit_gateway
from tests.serving import running_server

PROBE_MAX_BODY = 2 * 1024 * 1024


@pytest.fixture(scope="session")
def probe_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": PROBE_MAX_BODY})


@pytest.fixture(scope="session")
def probe_state() -> ProbeState:
    return ProbeState()


@pytest.fixture(scope="session")
def probe_url(
    probe_settings: Settings, database: Database, records: RecordStore, probe_state: ProbeState
) -> Iterator[str]:
    flask_app = legacy_flask.create_app(probe_settings, database=database)
    flask_app.register_blueprint(probe_blueprint(probe_state))
    app = conduit_gateway(probe_settings, database, records, legacy=flask_app)
    with running_server(app) as url:
        yield url


@pytest.fixture
def probe(probe_url: str) -> Iterator[httpx.Client]:
    """A client of the probe gateway, with its own cookie jar."""
    with httpx.Client(base_url=probe_url, timeout=30) as http:
        yield http
