"""``/metrics`` and the operator's token, through a real server.

Without an ``admin_token``, ``/metrics`` is not there; with one, it answers only that token. A
request carrying the token is the operator's: legacy answers it even in a full canary, the
shadow never replays it, nothing counts it, and neither side sees the token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask, request
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.config.configuration import configure
from gateway.config.manifest import Manifest, parse_manifest
from gateway.records import migrate
from gateway.records.store import RecordStore
from tests.serving import running_server
from tests.waiting import wait_until

TOKEN = "operators-token-0123456789"
DEADLINE = 30.0
MANIFEST = """
[[module]]
name = "echo"
paths = ["/echo"]
state = "canary"
canary_percent = 100
shadow_sample_rate = 1.0

[[module]]
name = "mirror"
paths = ["/mirror"]
state = "shadow"
shadow_sample_rate = 1.0
"""


def _legacy() -> Flask:
    app = Flask("operators")

    @app.get("/echo")
    @app.get("/mirror")
    def echo() -> Any:
        return {
            "authorization": request.headers.get("Authorization"),
            "admin": request.headers.get("X-Gateway-Admin-Token"),
        }

    return app


def _v2() -> FastAPI:
    app = FastAPI()

    @app.get("/echo")
    @app.get("/mirror")
    def echo(request: Request) -> dict[str, Any]:
        return {
            "authorization": request.headers.get("authorization"),
            "admin": request.headers.get("x-gateway-admin-token"),
        }

    return app


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture(scope="module")
def own_records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordStore]:
    """Records of these tests' own: their shadow's comparisons are nobody else's to count."""
    url = f"sqlite:///{tmp_path_factory.mktemp('operators') / 'records.db'}"
    migrate.upgrade(url)
    store = RecordStore(url)
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def gateway(own_records: RecordStore) -> Iterator[str]:
    config = configure(
        parse_manifest(MANIFEST, source="test-manifest.toml"),
        flags={"admin_token": TOKEN, "v2": f"{__name__}:_v2()"},
        environ={},
    )
    app = create_app(config, legacy=_legacy(), v2=_v2(), store=own_records)
    with running_server(app) as url:
        yield url


def _scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return _samples(answer.text)


def test_metrics_are_off_without_an_admin_token(own_records: RecordStore) -> None:
    config = configure(Manifest(), flags={}, environ={})
    with running_server(create_app(config, legacy=_legacy(), v2=_v2(), store=own_records)) as url:
        answer = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-token-at-all"}, {"X-Gateway-Admin-Token": "nope"}],
    ids=["none", "wrong bearer", "wrong header"],
)
def test_metrics_refuse_a_missing_or_wrong_token(gateway: str, headers: dict[str, str]) -> None:
    answer = httpx.get(f"{gateway}/metrics", headers=headers)

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in answer.text


def test_an_operators_request_goes_to_legacy_and_neither_side_sees_the_token(
    gateway: str,
) -> None:
    client = httpx.get(f"{gateway}/legacy/echo")
    operator = httpx.get(f"{gateway}/legacy/echo", headers={"Authorization": f"Bearer {TOKEN}"})
    beside = httpx.get(
        f"{gateway}/legacy/echo",
        headers={"Authorization": "Token the-apps-own", "X-Gateway-Admin-Token": TOKEN},
    )
    v2_direct = httpx.get(f"{gateway}/v2/echo", headers={"X-Gateway-Admin-Token": TOKEN})

    assert client.headers["x-served-by"] == "v2"  # the canary takes every client
    assert operator.headers["x-served-by"] == "legacy"
    assert operator.json() == {"authorization": None, "admin": None}
    assert beside.headers["x-served-by"] == "legacy"
    assert beside.json() == {"authorization": "Token the-apps-own", "admin": None}
    assert v2_direct.json() == {"authorization": None, "admin": None}


def test_the_counts_are_the_clients_requests_and_never_the_operators(gateway: str) -> None:
    before = _scrape(gateway)
    answered = (
        "gateway_requests_total",
        (("module", "mirror"), ("side", "legacy"), ("status_class", "2xx")),
    )
    matched = ("gateway_shadow_total", (("module", "mirror"), ("outcome", "match")))
    # The operator's first: the shadow's queue is first in, first out, so once the clients'
    # samples are all counted, one of the operator's would have been counted before them.
    for _ in range(3):
        httpx.get(f"{gateway}/legacy/mirror", headers={"Authorization": f"Bearer {TOKEN}"})
    for _ in range(5):
        assert httpx.get(f"{gateway}/legacy/mirror").status_code == 200
    httpx.get(f"{gateway}/legacy/mirror/nowhere")  # a 404 of legacy's, outside every module

    def compared() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        now = _scrape(gateway)
        return now if now.get(matched, 0) >= before.get(matched, 0) + 5 else None

    after = wait_until(compared, timeout=DEADLINE, message="the clients' samples compared")

    assert after[answered] - before.get(answered, 0) == 5
    assert after[matched] - before.get(matched, 0) == 5
    duration_count = (
        "gateway_request_duration_seconds_count",
        (("module", "mirror"), ("side", "legacy")),
    )
    assert after[duration_count] - before.get(duration_count, 0) == 5
    outside = (
        "gateway_requests_total",
        (("module", ""), ("side", "legacy"), ("status_class", "4xx")),
    )
    assert after[outside] - before.get(outside, 0) == 1
    assert after[("gateway_module_state", (("module", "echo"),))] == 2  # canary
    assert after[("gateway_module_state", (("module", "mirror"),))] == 1  # shadow
