"""GET /health reports whether the gateway can reach its records' database, never cached."""

from __future__ import annotations

from gateway.app import create_app
from gateway.config.configuration import configure
from gateway.config.manifest import Manifest
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.gateways import conduit_gateway
from tests.inprocess import in_process
from tests.serving import free_port


def test_health_is_ok_with_a_reachable_database(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = conduit_gateway(settings, database, records)

    with in_process(app) as http:
        response = http.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["cache-control"] == "no-store"


def _hello(environ: object, start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"hello\n"]


def test_health_is_degraded_when_the_database_is_unreachable() -> None:
    url = f"postgresql://gateway:gateway@127.0.0.1:{free_port()}/gateway"
    config = configure(Manifest(), flags={"database": url}, environ={})
    # The gateway creates (and on shutdown disposes of) its own store, as in production.
    app = create_app(config, legacy=_hello)

    with in_process(app) as http:
        response = http.get("/health")
        legacy = http.get("/legacy/anything")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "unreachable"}
    assert response.headers["cache-control"] == "no-store"
    # The gateway itself stays up: what needs no database still answers.
    assert legacy.status_code == 200
    assert legacy.text == "hello\n"
