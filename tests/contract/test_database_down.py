"""A database that is down: both sides (and /health) answer 503 with Retry-After, promptly."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import legacy_flask
import v2
from gateway.app import create_app
from gateway.records.store import RecordStore
from shared.settings import Settings
from tests.conduit import PASSWORD
from tests.gateways import conduit_config
from tests.inprocess import in_process
from tests.serving import free_port

UNAVAILABLE = {"errors": {"database": ["unavailable, try again shortly"]}}
REGISTER = {"user": {"username": "u", "email": "u@example.com", "password": PASSWORD}}


@pytest.fixture(scope="module")
def down(settings: Settings) -> Iterator[httpx.Client]:
    """Both sides (and the gateway's records) on a PostgreSQL address nothing listens on."""
    url = f"postgresql://conduit:conduit@127.0.0.1:{free_port()}/conduit"
    database = settings.database.model_copy(update={"url": url})
    unreachable = settings.model_copy(update={"database": database})
    app = create_app(
        conduit_config(),
        legacy=legacy_flask.create_app(unreachable),
        v2=v2.create_app(unreachable),
        store=RecordStore(url),
    )
    with in_process(app) as http:
        yield http


@pytest.mark.parametrize("side", ["/legacy", "/v2"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/tags", None),
        ("GET", "/api/articles", None),
        (
            "POST",
            "/api/users",
            {"user": {"username": "u", "email": "u@x.io", "password": PASSWORD}},
        ),
    ],
)
def test_every_call_is_a_503_with_retry_after(
    down: httpx.Client, side: str, method: str, path: str, body: object
) -> None:
    response = down.request(method, f"{side}{path}", json=body)

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response.headers["retry-after"] == "5"


def test_health_says_so_too(down: httpx.Client) -> None:
    response = down.get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "unreachable"}
