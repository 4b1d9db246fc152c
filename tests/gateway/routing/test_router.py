"""The manifest moves legacy traffic: states legacy, v2 and canary through real requests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from gateway.records.store import RecordStore
from gateway.routing.canary import canary_bucket
from shared.db import Database
from shared.settings import Settings
from shared.tokens import TokenCore
from tests.conduit import Api
from tests.gateways import conduit_gateway
from tests.serving import running_server

MANIFEST = """\
[[module]]
name = "users"
paths = ["/api/users", "/api/users/login", "/api/user"]
state = "v2"

[[module]]
name = "tags"
paths = ["/api/tags"]
state = "canary"
canary_percent = 30

[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/**"]
state = "legacy"

[[module]]
name = "profiles"
paths = ["/api/profiles/**"]
state = "shadow"
shadow_sample_rate = 0.001
deprecated = 2026-11-01
sunset = 2027-06-30
"""


@pytest.fixture(scope="module")
def migrating_url(settings: Settings, database: Database, records: RecordStore) -> Iterator[str]:
    app = conduit_gateway(settings, database, records, manifest=MANIFEST)
    with running_server(app) as url:
        yield url


@pytest.fixture
def http(migrating_url: str, database: Database) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=migrating_url, timeout=30) as client:
        yield client


def test_every_answer_names_who_served_it(client: httpx.Client) -> None:
    # The suite's default gateway runs the shipped manifest: everything in state legacy.
    assert client.get("/legacy/api/tags").headers["x-served-by"] == "legacy"
    assert client.get("/legacy/api/nope").headers["x-served-by"] == "legacy"
    assert client.get("/v2/api/tags").headers["x-served-by"] == "v2"
    assert client.get("/health").headers["x-served-by"] == "gateway"


def test_a_module_in_state_v2_is_answered_by_v2_on_its_legacy_path(http: httpx.Client) -> None:
    account = Api(http=http, prefix="/legacy/api").register("moved")
    bearer = {"Authorization": f"Bearer {account.token}"}

    # Only v2 accepts Bearer: a 200 on the legacy path proves which code answered.
    me = http.get("/legacy/api/user", headers=bearer)

    assert me.status_code == 200
    assert me.headers["x-served-by"] == "v2"
    assert me.json()["user"]["username"] == "moved"
    assert str(me.url).endswith("/legacy/api/user")  # the client's URL is unchanged


def test_a_module_in_state_legacy_is_untouched(http: httpx.Client) -> None:
    account = Api(http=http, prefix="/v2/api").register("stays")

    listed = http.get("/legacy/api/articles", headers={"Authorization": f"Bearer {account.token}"})

    assert listed.status_code == 401  # legacy's own rule: Token only
    assert listed.headers["x-served-by"] == "legacy"


def test_canary_share_is_sticky_per_user(http: httpx.Client, settings: Settings) -> None:
    tokens = TokenCore(settings.jwt)
    sides: dict[int, set[str]] = {}
    for user_id in range(1, 401):
        header = {"Authorization": f"Token {tokens.issue(user_id)}"}
        for _ in range(2):
            response = http.get("/legacy/api/tags", headers=header)
            assert response.status_code == 200
            sides.setdefault(user_id, set()).add(response.headers["x-served-by"])

    assert all(len(seen) == 1 for seen in sides.values())  # sticky
    share = Counter(next(iter(seen)) for seen in sides.values())["v2"] / len(sides)
    assert 0.22 <= share <= 0.38, share  # 30 % asked; 400 users keep it within ~4 sd


def test_anonymous_canary_requests_stick_to_the_client_address(http: httpx.Client) -> None:
    seen = {http.get("/legacy/api/tags").headers["x-served-by"] for _ in range(20)}

    assert len(seen) == 1


@pytest.mark.parametrize("percent", [1, 30, 75])
def test_canary_buckets_spread_evenly(percent: int) -> None:
    keys = [f"user:{n}" for n in range(20_000)]

    share = sum(canary_bucket("tags", key) < percent * 100 for key in keys) / len(keys)

    assert abs(share - percent / 100) < 0.015
    assert canary_bucket("tags", "user:7") == canary_bucket("tags", "user:7")


def test_announced_successors_are_named_in_legacy_answers(http: httpx.Client) -> None:
    response = http.get("/legacy/api/profiles/nobody")

    assert response.status_code == 404
    assert response.headers["x-served-by"] == "legacy"
    assert response.headers["deprecation"] == "@1793491200"  # 2026-11-01T00:00:00Z
    assert response.headers["sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert response.headers["link"] == '</v2/api/profiles/nobody>; rel="successor-version"'


def test_without_an_announcement_legacy_answers_carry_no_deprecation(http: httpx.Client) -> None:
    response = http.get("/legacy/api/articles")

    assert response.status_code == 200
    assert {"deprecation", "sunset", "link"}.isdisjoint(response.headers)


def test_head_and_options_on_a_moved_module_answer_as_legacy_did(http: httpx.Client) -> None:
    account = Api(http=http, prefix="/legacy/api").register("header")
    token = {"Authorization": f"Token {account.token}"}

    head = http.head("/legacy/api/user", headers=token)
    options = http.options("/legacy/api/user")

    assert (head.status_code, head.headers["x-served-by"], head.content) == (200, "v2", b"")
    assert int(head.headers["content-length"]) > 0
    assert options.status_code == 200
    assert set(options.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PUT"}
