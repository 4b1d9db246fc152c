"""GET /health reports whether the gateway can reach its database, and is never cached."""

from __future__ import annotations

import httpx

from gateway.app import create_app
from shared.settings import Settings
from tests.serving import free_port, running_server


def test_health_is_ok_with_a_reachable_database(settings: Settings) -> None:
    # The app creates (and on shutdown disposes of) its own engines, as in production.
    app = create_app(settings)

    with running_server(app) as base:
        response = httpx.get(f"{base}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_health_is_degraded_when_the_database_is_unreachable(settings: Settings) -> None:
    url = f"postgresql://conduit:conduit@127.0.0.1:{free_port()}/conduit"
    unreachable = settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": url})}
    )
    app = create_app(unreachable)

    with running_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        response = http.get("/health")
        legacy = http.get("/legacy/api/nope")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "unreachable"}
    assert response.headers["cache-control"] == "no-store"
    # The gateway itself stays up: routes that need no database still answer.
    assert legacy.status_code == 404
